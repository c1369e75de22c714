"""Time every page in a real browser, as each role: from navigation until the page is drawn.

    python bench/browser.py [--scale small|medium|large] [--seed 0] [--runs 5] [--roles admin,executive]
                            [--data-dir /tmp/c360-bench-pages] [--rebuild] [--timeout 30] [--json out.json]

The app is served by gunicorn on the prepared database (bench/_prepare.py, reused between runs)
and driven by headless Chromium (selenium, as the browser tests do). For each role the bench signs
in through the login form and opens every page the role may see; a page with a path template
("/accounts/<account_id>") is opened with a few customers of the role's scope (see bench/pages.py).

A page counts as drawn once no request to /_dash-update-component is pending (a script installed
before the page's own wraps window.fetch to count them), Dash marks nothing as loading
(`[data-dash-is-loading="true"]`, its "updating" marker), no spinner or kit skeleton is visible,
every visible chart has its SVG and no grid shows its loading overlay, and all this has held
for SETTLE_MS. The time reported is when that quiet began, from the navigation's start.

Per page it prints the median time over --runs warm loads (browser cache on) and, from one cold
load first (cache cleared and off), its time and the bytes transferred (the document and every
resource, responses of callbacks included: PerformanceResourceTiming.transferSize). Pages over
1.0 s median or 2 MB cold are marked.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH_DIR))

from _prepare import prepared_database  # noqa: E402
from pages import (  # noqa: E402
    app_bench_parser,
    bench_app,
    chosen_roles,
    ensure_bench_users,
    page_visits,
    pages_for_role,
    sample_accounts,
)

TARGET_MEDIAN_MS = 1000.0
TARGET_COLD_BYTES = 2 * 1024 * 1024
SETTLE_MS = 300
POLL_SECONDS = 0.05
SECRET_KEY = "bench-browser-" + "0" * 40

# Installed before any page script runs (CDP Page.addScriptToEvaluateOnNewDocument): counts the
# callback requests in flight and records, every 10 ms, since when the page has been quiet.
PROBE = """
(() => {
  if (window.__c360Bench) return;
  performance.setResourceTimingBufferSize(10000);
  const state = window.__c360Bench = {pending: 0, quietSince: null, busy: 'start'};
  const realFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : (input && input.url) || '';
    if (!url.includes('/_dash-update-component')) return realFetch(input, init);
    state.pending += 1;
    return realFetch(input, init).finally(() => { state.pending -= 1; });
  };
  const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const busy = () => {
    if (state.pending > 0) return 'callback request';
    const content = document.getElementById('_pages_content');
    if (!content || !content.children.length) return 'page not rendered';
    if (document.querySelector('[data-dash-is-loading="true"], ._dash-loading-callback')) return 'dash loading';
    for (const el of document.querySelectorAll('.dash-spinner, .c360-skeleton')) if (shown(el)) return 'skeleton';
    for (const el of document.querySelectorAll('.dash-graph')) if (shown(el) && !el.querySelector('.main-svg'))
      return 'chart';
    for (const el of document.querySelectorAll('.ag-overlay-loading-wrapper')) if (shown(el)) return 'grid';
    return null;
  };
  setInterval(() => {
    const reason = busy();
    if (reason) { state.busy = reason; state.quietSince = null; }
    else if (state.quietSince === null) state.quietSince = performance.now();
  }, 10);
})();
"""
DRAWN = f"""
const s = window.__c360Bench;
if (!s || s.quietSince === null || performance.now() - s.quietSince < {SETTLE_MS}) return null;
const nav = performance.getEntriesByType('navigation')[0];
const bytes = (nav ? nav.transferSize : 0)
  + performance.getEntriesByType('resource').reduce((sum, r) => sum + (r.transferSize || 0), 0);
return {{ms: s.quietSince, bytes: bytes}};
"""
WAITING_ON = "return window.__c360Bench ? window.__c360Bench.busy : 'no probe';"


@dataclass
class PageFigures:
    role: str
    page: str
    sample: str
    warm_ms: list[float] = field(default_factory=list)
    cold_ms: float | None = None
    cold_bytes: int | None = None
    timeouts: list[str] = field(default_factory=list)

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.warm_ms) if self.warm_ms else None

    def flags(self) -> list[str]:
        flags = []
        if self.median_ms is not None and self.median_ms > TARGET_MEDIAN_MS:
            flags.append(f"median>{TARGET_MEDIAN_MS / 1000:.1f}s")
        if self.cold_bytes is not None and self.cold_bytes > TARGET_COLD_BYTES:
            flags.append(f"cold>{TARGET_COLD_BYTES // (1024 * 1024)}MB")
        if self.timeouts:
            flags.append(f"not drawn ({'; '.join(sorted(set(self.timeouts)))})")
        return flags


# --- the server and the browser -----------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def warmed_server():
    """The app as wsgi.py builds it, after one request: Dash sets itself up on its first request, and
    threads of a fresh worker racing through that setup can serve a script before its library is
    registered. Loaded with --preload, the workers are forked already set up; the connections
    opened here are closed, so that no worker shares one with another."""
    from dashboard.extensions import db
    from wsgi import server

    server.test_client().get("/login")
    db.engine.dispose()
    return server


def serve(database_url: str, data_dir: Path, *, cache: bool = False, workers: int = 2, threads: int = 4,
          secret_key: str = SECRET_KEY) -> tuple[subprocess.Popen, str]:
    """gunicorn serving the app on the prepared database, as in production (one worker per core, 4 threads
    each); its page cache off unless `cache`, so the five runs of a page each do the work."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": secret_key, "C360_ENV": "development",
           "C360_DATA_DIR": str(data_dir / "var"), "C360_CACHE_URL": os.environ.get("C360_CACHE_URL", "")
           if cache else "none"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads",
         str(threads), "--keep-alive", "30", "--preload", "--pythonpath", f"{REPO},{BENCH_DIR}", "--log-level", "warning",
         "browser:warmed_server()"],
        cwd=REPO, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped with exit code {process.returncode}")
        try:
            with urlopen(base + "/login", timeout=5) as response:
                if response.status == 200:
                    return process, base
        except (URLError, OSError):
            time.sleep(0.5)
    process.terminate()
    raise SystemExit("gunicorn did not answer within 120 s")


def chromium(width: int, height: int):
    """Debian's headless Chromium via chromedriver, with the probe installed on every document."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")),
                              options=options)
    driver.implicitly_wait(0)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE})
    return driver


def sign_in(driver, base: str, email: str, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.delete_all_cookies()
    driver.get(base + "/login")
    WebDriverWait(driver, 30).until(ec.element_to_be_clickable((By.ID, "email"))).send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    WebDriverWait(driver, 30).until(ec.presence_of_element_located((By.ID, "main-nav")))


def load(driver, url: str, timeout: float) -> tuple[float, int] | str:
    """(ms from navigation until drawn, bytes transferred), or what the page still waited on."""
    driver.get(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        drawn = driver.execute_script(DRAWN)
        if drawn is not None:
            return float(drawn["ms"]), int(drawn["bytes"])
        time.sleep(POLL_SECONDS)
    return str(driver.execute_script(WAITING_ON))


def measure_page(driver, base: str, figures: PageFigures, path: str, runs: int, timeout: float) -> None:
    """One cold load (cache cleared and off) for its bytes, then `runs` warm loads."""
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    cold = load(driver, base + path, timeout)
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
    if isinstance(cold, str):
        figures.timeouts.append(cold)
    else:
        figures.cold_ms, figures.cold_bytes = cold
    for _ in range(runs):
        warm = load(driver, base + path, timeout)
        if isinstance(warm, str):
            figures.timeouts.append(warm)
        else:
            figures.warm_ms.append(warm[0])


def measure(driver, base: str, logins: dict[str, tuple[str, str]], runs: int, timeout: float) -> list[PageFigures]:
    results: list[PageFigures] = []
    for role, (email, password) in logins.items():
        sign_in(driver, base, email, password)
        samples = sample_accounts(email)
        for spec in pages_for_role(role):
            for sample, path in page_visits(spec, samples):
                print(f"  {role} {path}", file=sys.stderr, flush=True)
                figures = PageFigures(role, spec.path_template or spec.path, sample)
                measure_page(driver, base, figures, path, runs, timeout)
                results.append(figures)
    return results


# --- the report ---------------------------------------------------------------------------------

def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _kb(value: int | None) -> str:
    return "-" if value is None else f"{value / 1024:.0f}"


def print_report(results: list[PageFigures]) -> None:
    width = max([15, *(len(r.page) for r in results)])
    header = (f"{'role':<16} {'page':<{width}} {'account':<24} {'runs':>4} {'median ms':>9} {'min ms':>7} "
              f"{'max ms':>7} {'cold ms':>8} {'cold KB':>8}  over target")
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r.role:<16} {r.page:<{width}} {r.sample or '-':<24} {len(r.warm_ms):>4} {_ms(r.median_ms):>9} "
              f"{_ms(min(r.warm_ms, default=None)):>7} {_ms(max(r.warm_ms, default=None)):>7} "
              f"{_ms(r.cold_ms):>8} {_kb(r.cold_bytes):>8}  {' '.join(r.flags())}")
    over = [r for r in results if r.flags()]
    print(f"\n{len(results)} page visits, {len(over)} over target (median > {TARGET_MEDIAN_MS / 1000:.1f} s, "
          f"cold transfer > {TARGET_COLD_BYTES // (1024 * 1024)} MB, or never drawn).")


def main() -> None:
    parser = app_bench_parser(__doc__)
    parser.add_argument("--runs", type=int, default=5, help="warm loads per page (the median is reported)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a page may take to be drawn")
    parser.add_argument("--size", default="1440x900", help="browser window, WIDTHxHEIGHT")
    args = parser.parse_args()
    roles = chosen_roles(parser, args)
    width, height = (int(v) for v in args.size.lower().split("x"))

    url = prepared_database(args.scale, args.seed, args.data_dir, rebuild=args.rebuild)
    bench_app(url, args.data_dir)  # binds the database for the bench users and the sample accounts
    logins = ensure_bench_users(roles)
    server, base = serve(url, args.data_dir, cache=args.cache)
    driver = chromium(width, height)
    started = time.perf_counter()
    try:
        results = measure(driver, base, logins, args.runs, args.timeout)
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=30)
    print(f"\n{args.scale} scale, seed {args.seed}, {args.runs} warm runs per page, window {width}x{height}, "
          f"measured in {time.perf_counter() - started:.0f}s\n")
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps({
            "scale": args.scale, "seed": args.seed, "runs": args.runs,
            "targets": {"median_ms": TARGET_MEDIAN_MS, "cold_bytes": TARGET_COLD_BYTES},
            "pages": [{**asdict(r), "median_ms": r.median_ms, "over_target": r.flags()} for r in results],
        }, indent=2))
        print(f"\nfigures saved to {args.json}")


if __name__ == "__main__":
    main()
