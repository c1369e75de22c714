"""Score chips: churn risk, health and engagement in one colour code (colour-blind-safe, with a
text label and a shape so colour is never the only cue), and their explanation in plain words."""

from __future__ import annotations

from dash import html

from dashboard.formatting import format_day
from dashboard.queries.scores import SCORE_NAMES, SEVERITY, ScoreExplanation, level_label, severity

# A shape per severity, for readers who cannot tell the colours apart.
SEVERITY_SHAPES = {"severe": "\u25b2", "watch": "\u25c6", "good": "\u25cf", "unknown": "\u25cb"}


def score_chip(score: str, level: str | None, *, chip_id: str | dict | None = None) -> html.Span:
    """A chip such as '▲ High' for churn HIGH; click it for its explanation where the page wires one."""
    tone = severity(score, level)
    props = {"id": chip_id} if chip_id is not None else {}
    return html.Span([html.Span(SEVERITY_SHAPES[tone], className="c360-chip-shape", **{"aria-hidden": "true"}),
                      level_label(score, level)],
                     className=f"c360-chip c360-chip-{tone}", title=f"{SCORE_NAMES.get(score, score)}: "
                     f"{level_label(score, level)}. Click for why.", role="button", tabIndex=0, **props)


def chip_renderer_params(score: str) -> dict:
    """What the grid's chip renderer (assets/dashAgGridComponentFunctions.js) needs to draw the
    same chip as `score_chip`: severity, label and shape per level."""
    levels = SEVERITY.get(score, {})
    return {"score": SCORE_NAMES.get(score, score),
            "levels": {level: {"tone": tone, "label": level_label(score, level), "shape": SEVERITY_SHAPES[tone]}
                       for level, tone in levels.items()},
            "unknown": {"tone": "unknown", "label": "Not scored", "shape": SEVERITY_SHAPES["unknown"]}}


def score_explanation(explanation: ScoreExplanation | None) -> html.Div:
    """A score explained in plain words: the level, what it means and its strongest reasons."""
    if explanation is None:
        return html.Div("This customer is not in your data scope or no longer exists.", className="text-muted")
    factors = [html.Li([html.Span("\u2191 " if f.raises_concern else "\u2193 ", className="c360-factor-arrow"),
                        html.Strong(f.label), ": " if f.sentence else "", f.sentence])
               for f in explanation.factors]
    body: list = [
        html.Div([score_chip(explanation.score, explanation.level), html.Span(explanation.account_name,
                                                                              className="ms-2 fw-semibold")]),
        html.P(explanation.summary, className="mt-2 mb-2"),
    ]
    if factors:
        body += [html.Div("Why:" if explanation.score == "churn" else "Parts, weakest first:", className="small"),
                 html.Ul(factors, className="small c360-factors mb-2")]
    if explanation.recommended_action:
        body.append(html.Div(["Suggested next step: ", explanation.recommended_action], className="small"))
    if explanation.scored_at is not None:
        body.append(html.Div(f"Scored on {format_day(explanation.scored_at.date())}", className="small text-muted"))
    return html.Div(body, className="c360-score-explanation")
