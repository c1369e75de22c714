"""Charts draw with the app's own plotly.js build (assets/on_demand/build_plotly.sh), which holds only some
trace types: it must match the plotly.js the Python package writes figures for, hold every trace type a
page draws, be what a page with charts fetches instead of the full bundle, and be fetched by no page
without charts."""

from __future__ import annotations

import re
from pathlib import Path

import plotly.graph_objects as go
import pytest
from plotly.basedatatypes import BaseTraceType
from plotly.offline import get_plotlyjs_version
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec

from layouts.admin_users import ID as AdminIds
from tests.layouts.test_pages import sign_in, wait

ROOT = Path(__file__).resolve().parents[2]
LOADER = ROOT / "assets" / "plotly_on_demand.js"
WEB_SIDE = ("callbacks", "layouts", "dashboard")
TRACE_TYPES = {name.lower() for name in dir(go)
               if isinstance(getattr(go, name), type) and issubclass(getattr(go, name), BaseTraceType)}


def _bundle() -> Path:
    name = re.search(r"'(on_demand/plotly-[^']+\.min\.js)'", LOADER.read_text()).group(1)
    return ROOT / "assets" / name


def trace_types_drawn() -> set[str]:
    """Every trace type the web side builds, as graph objects (go.Bar(...)) or as dicts ({"type": "bar"})."""
    found: set[str] = set()
    for package in WEB_SIDE:
        for path in (ROOT / package).rglob("*.py"):
            source = path.read_text()
            found |= {name.lower() for name in re.findall(r"\bgo\.([A-Z]\w*)\(", source)}
            found |= set(re.findall(r"[\"']type[\"']\s*:\s*[\"'](\w+)[\"']", source))
    return found & TRACE_TYPES


def _bundled_traces() -> set[str]:
    banner = _bundle().read_text()[:300]
    return set(re.search(r"traces: ([\w ]+) \*/", banner).group(1).split())


def test_the_build_is_of_the_plotly_js_the_python_package_writes_figures_for() -> None:
    assert _bundle().is_file(), f"{_bundle()} is missing: run assets/on_demand/build_plotly.sh"
    banner = _bundle().read_text()[:300]
    assert f"plotly.js v{get_plotlyjs_version()}," in banner, (
        f"the plotly package writes figures for plotly.js {get_plotlyjs_version()}: run "
        "assets/on_demand/build_plotly.sh with that VERSION")


def test_the_build_holds_every_trace_type_a_page_draws() -> None:
    drawn = trace_types_drawn()
    assert {"bar", "scatter", "heatmap"} <= drawn  # the scan sees both ways of writing a trace
    missing = drawn - _bundled_traces()
    assert not missing, f"pages draw {sorted(missing)}: add them to TRACES in assets/on_demand/build_plotly.sh"


def _plotly_requests(browser) -> list[str]:
    """The plotly.js scripts fetched: the full bundle or the app's build (not the small stand-in)."""
    return browser.execute_script(
        "return performance.getEntriesByType('resource').map(r => r.name)"
        ".filter(n => /plotly[-.][^/]*min\\.js/.test(n));")


@pytest.mark.browser
def test_a_page_with_charts_fetches_the_build_and_it_registers_the_trace_types_drawn(browser, live_server) -> None:
    sign_in(browser, live_server, "executive")
    browser.get(f"{live_server}/marketing/growth")
    wait(browser).until(lambda b: b.execute_script(
        "return !!(window.Plotly && window.Plotly.PlotSchema) && !!document.querySelector('.js-plotly-plot');"))
    registered = set(browser.execute_script("return Object.keys(window.Plotly.PlotSchema.get().traces);"))
    assert trace_types_drawn() <= registered, trace_types_drawn() - registered
    fetched = _plotly_requests(browser)
    assert any(_bundle().name in url for url in fetched), fetched
    assert not any("package_data/plotly.min.js" in url for url in fetched), fetched


@pytest.mark.browser
def test_a_page_without_charts_fetches_no_plotly(browser, live_server) -> None:
    sign_in(browser, live_server, "admin")
    browser.get(f"{live_server}/admin/users")
    wait(browser).until(ec.text_to_be_present_in_element((By.ID, AdminIds.TABLE), "@"))
    assert not browser.execute_script("return !!document.querySelector('.js-plotly-plot');")
    assert _plotly_requests(browser) == []
