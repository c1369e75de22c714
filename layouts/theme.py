"""One Plotly template for every chart, registered as the default, with a colour-blind-safe
palette (Okabe-Ito) shared by charts and score chips."""

from __future__ import annotations

from functools import cache
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

TEMPLATE_NAME = "client360"
# Registered already merged with plotly_white: naming "plotly_white+client360" would make Plotly
# merge the two templates again for every figure, most of a chart's build time.
TEMPLATE = TEMPLATE_NAME
# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
OKABE_ITO = {"blue": "#0072B2", "orange": "#E69F00", "green": "#009E73", "vermillion": "#D55E00",
             "purple": "#CC79A7", "sky": "#56B4E9", "yellow": "#F0E442", "black": "#000000"}
PALETTE = [OKABE_ITO[name] for name in ("blue", "orange", "green", "vermillion", "purple", "sky", "yellow", "black")]
PRIMARY = OKABE_ITO["blue"]
MUTED = "#cbd5e1"
# The one severity code of the product (score chips, RAG dots): colour plus a text label.
SEVERITY_COLOURS = {"severe": OKABE_ITO["vermillion"], "watch": OKABE_ITO["orange"], "good": OKABE_ITO["green"],
                    "unknown": "#6b7280"}
FONT_FAMILY = "Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif"


def register() -> None:
    """Register the Client360 template and make it the default for new figures."""
    template = go.layout.Template()
    template.layout = go.Layout(
        font=dict(family=FONT_FAMILY, size=12, color="#1f2937"),
        colorway=PALETTE,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        margin=dict(l=48, r=16, t=24, b=36),
        xaxis=dict(showgrid=False, zeroline=False, linecolor="#d1d5db", ticks="outside", tickcolor="#d1d5db",
                   automargin=True),
        yaxis=dict(gridcolor="#eef0f3", zeroline=False, automargin=True),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
        hoverlabel=dict(font_size=12, font_family=FONT_FAMILY),
        separators=".,",
    )
    pio.templates[TEMPLATE_NAME] = pio.templates.merge_templates(pio.templates["plotly_white"], template)
    pio.templates.default = TEMPLATE


def figure(**layout: object) -> go.Figure:
    """An empty figure drawn with the Client360 template (registering it if needed)."""
    if TEMPLATE_NAME not in pio.templates:
        register()
    if pio.templates.default != TEMPLATE:
        pio.templates.default = TEMPLATE
    # The default template is applied (and copied) once, at creation; naming it again in the
    # layout would validate and copy it a second time.
    return go.Figure(layout=layout)


@cache
def _template_json() -> dict[str, Any]:
    if TEMPLATE_NAME not in pio.templates:
        register()
    return pio.templates[TEMPLATE_NAME].to_plotly_json()


def figure_dict(data: list[dict[str, Any]], **layout: Any) -> dict[str, Any]:
    """A figure as the plain dict dcc.Graph takes, drawn with the Client360 template. For charts of
    many traces: Plotly's validation of each trace costs a millisecond or more, a plain dict none
    (the traces must then be written as plotly.js expects them)."""
    return {"data": data, "layout": {"template": _template_json(), **layout}}
