"""Shared fixtures: one PostgreSQL database, one small generated landing folder loaded
through the real pipeline, one app, logged-in clients per role, and a headless browser."""

from __future__ import annotations

import os
import re
import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from dashboard.db import Database, runtime_dir_default, start_embedded_server, to_sqlalchemy_url
from dashboard.settings import Settings
from tests.etl.dbutil import (
    clone_database,
    create_migrated_template,
    drop_database,
    finish_drops,
    loaded_template,
)

AS_OF = date(2026, 11, 23)
SEED = 7
TEST_PASSWORD = "correct-horse-battery-staple"
ROLES = ("admin", "executive", "sales_manager", "account_manager", "support_lead",
         "marketing_manager", "billing")

runtime_dir_default()

# The slowest test files, longest first (seconds with two workers on a busy two-core machine, fixtures
# included: crash safety ~340 and ~230, the browser's Morning coffee ~280, the hostile rows ~240, the
# benches' --help ~200, the browser's Sales ~155, ...). They are handed to the xdist workers first, so no
# long file is left running alone at the end while the other workers sit idle.
SLOW_FILES = (
    "tests/etl/test_crash_safety_refresh.py",
    "tests/layouts/test_morning_coffee.py",
    "tests/etl/test_hostile_property.py",
    "tests/etl/test_crash_safety.py",
    "tests/test_benches.py",
    "tests/layouts/test_sales.py",
    "tests/etl/test_silver_gold.py",
    "tests/dashboard/api/test_fuzz.py",
    "tests/dashboard/test_cli.py",
    "tests/layouts/test_executive_strategy.py",
    "tests/etl/test_reexport_all.py",
    "tests/layouts/test_question_catalogue.py",
    "tests/dashboard/security/test_matrix.py",
    "tests/layouts/test_sales_leads.py",
    "tests/layouts/test_support.py",
    "tests/layouts/test_campaigns.py",
    "tests/test_bench_pages.py",
    "tests/layouts/test_sales_engagement.py",
    "tests/models/test_churn.py",
    "tests/layouts/test_receivables.py",
    "tests/etl/test_identity.py",
    "tests/etl/test_pipeline.py",
    "tests/layouts/test_support_insights.py",
    "tests/etl/test_quality.py",
    "tests/etl/test_fault_containment.py",
    "tests/etl/test_demo_data.py",
    "tests/layouts/test_executive_regions.py",
    "tests/etl/intelligence/test_scoring_jobs.py",
    "tests/layouts/test_customer360.py",
    "tests/layouts/test_growth.py",
    "tests/etl/test_live_feed.py",
    "tests/layouts/test_admin_pages.py",
    "tests/layouts/test_alert_centre.py",
)


def pytest_configure(config: pytest.Config) -> None:
    # With --dist loadfile xdist would order the files by their number of tests, leaving the slow
    # files of a few tests (crash safety, re-exports, the demo command) for the very end.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The slow files first (SLOW_FILES), then the others by their number of tests, as xdist would;
    the tests of a file keep their order."""
    files = [item.nodeid.split("::")[0] for item in items]
    tests_per_file = Counter(files)
    rank = {path: (SLOW_FILES.index(path) if path in SLOW_FILES else len(SLOW_FILES), -tests_per_file[path])
            for path in tests_per_file}
    order = sorted(range(len(items)), key=lambda i: rank[files[i]])
    items[:] = [items[i] for i in order]


@pytest.fixture(scope="session", autouse=True)
def private_databases_dropped() -> Iterator[None]:
    """The tests' private databases, dropped in the background as they finish, are all gone at the end."""
    yield
    failed = finish_drops()
    assert not failed, f"private test databases left behind: {failed}"


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """A PostgreSQL server: C360_TEST_DATABASE_URL when set, else embedded pgserver."""
    external = os.environ.get("C360_TEST_DATABASE_URL")
    if external:
        return to_sqlalchemy_url(external)
    # Unix socket paths are limited to ~100 characters, so keep the directory short.
    return start_embedded_server(Path(f"/tmp/c360-test-{os.getuid()}"))


def _create_fresh_database(admin_url: str, prefix: str) -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(scope="session")
def empty_database_url(pg_admin_url: str) -> Iterator[str]:
    """A brand-new database with no schema, dropped after the session."""
    url = _create_fresh_database(pg_admin_url, "c360_empty")
    yield url
    _drop_database(pg_admin_url, url)


@pytest.fixture(scope="session")
def template_url(pg_admin_url: str) -> Iterator[str]:
    """A migrated, empty database that private databases are copied from (tests/etl/dbutil.py)."""
    url = create_migrated_template(pg_admin_url)
    yield url
    drop_database(pg_admin_url, url)


@pytest.fixture(scope="session")
def loaded_template_url(pg_admin_url: str, template_url: str, pristine_landing_dir: Path) -> Iterator[str]:
    """A database the pipeline loaded with the small landing data (`pristine_landing_dir`), loaded
    once per session: `cloned_database(pg_admin_url, loaded_template_url)` gives a test its own copy
    in seconds. Never connect to it directly (a database with connections cannot be copied)."""
    with loaded_template(pg_admin_url, template_url, pristine_landing_dir) as url:
        yield url


@pytest.fixture(scope="session")
def tiny_loaded_template_url(pg_admin_url: str, template_url: str,
                             tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database the pipeline loaded with the hand-made tiny landing folder (tests/etl/tiny_landing.py),
    loaded once per session for the tests that start from it (`tiny_loaded` in tests/etl/conftest.py)."""
    from tests.etl.tiny_landing import write_tiny_landing

    landing = write_tiny_landing(tmp_path_factory.mktemp("tiny-landing") / "landing")
    with loaded_template(pg_admin_url, template_url, landing) as url:
        yield url


@pytest.fixture(scope="session")
def database_url(pg_admin_url: str, loaded_template_url: str) -> Iterator[str]:
    """The database of the whole test session: a copy of the loaded template, so the pipeline loads
    the small landing data once per session for both (see `loaded_database`)."""
    url = clone_database(pg_admin_url, loaded_template_url, prefix="c360_test")
    yield url
    _drop_database(pg_admin_url, url)


@pytest.fixture(scope="session")
def database(database_url: str) -> Iterator[Database]:
    database = Database().bind(database_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def landing_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Small generated source exports, made once per session."""
    from etl.demo_data import generate

    out = tmp_path_factory.mktemp("landing")
    generate(out, scale="small", seed=SEED, as_of=AS_OF, progress=False)
    return out


@pytest.fixture(scope="session")
def pristine_landing_dir(tmp_path_factory: pytest.TempPathFactory, landing_dir: Path) -> Path:
    """A read-only copy of the landing files, for tests that recompute figures independently."""
    import shutil

    copy = tmp_path_factory.mktemp("landing-copy") / "landing"
    shutil.copytree(landing_dir, copy)
    return copy


@pytest.fixture(scope="session")
def loaded_database(database: Database, landing_dir: Path, pristine_landing_dir: Path):
    """The session database after the real ETL pipeline has loaded the small landing data: it is a
    copy of `loaded_template_url`, loaded from `pristine_landing_dir`, whose files are those of
    `landing_dir` byte for byte (bronze knows a file by its path in the landing folder and its
    checksum), so a run on `landing_dir` finds every file already loaded."""
    return database


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(env="development", secret_key="test-" + secrets.token_hex(16),
                    database_url=database_url, data_dir=tmp_path_factory.mktemp("var"),
                    testing=True)


@pytest.fixture(scope="session")
def app(settings: Settings, loaded_database: Database):
    """The one app of the session, with a user per role (password TEST_PASSWORD)."""
    from dashboard.app import create_app
    from dashboard.extensions import db
    from dashboard.permissions import sync_default_roles
    from dashboard.users import create_user

    server = create_app(settings)
    with db.begin() as session:
        sync_default_roles(session)
    with db.begin() as session:
        for role in ROLES:
            create_user(session, email=f"{role}@test.client360.dev", role=role,
                        password=TEST_PASSWORD, full_name=role.replace("_", " ").title())
    return server


@pytest.fixture()
def client(app):
    return app.test_client()


def login(client, email: str, password: str = TEST_PASSWORD):
    """Post the login form the way a browser does, CSRF token included."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True))
    assert token, "login form has no CSRF token"
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token.group(1)})


@pytest.fixture()
def login_as(app):
    """login_as('executive') -> a test client with a session for that role."""

    def make(role: str):
        client = app.test_client()
        response = login(client, f"{role}@test.client360.dev")
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return make


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """The app served on a free loopback port in a background thread."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser_driver():
    """Debian's headless Chromium via chromedriver; required in CI, skipped elsewhere if missing."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromedriver = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not (Path(chromedriver).exists() and Path(chromium).exists()):
        if os.environ.get("CI"):
            pytest.fail("Chromium and chromedriver must be installed in CI (see .ci/run)")
        pytest.skip("headless Chromium is not installed: apt-get install chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


def sign_out(driver, live_server: str) -> None:
    """End the browser's session on the server (the confirmed sign-out), then drop its cookies.

    Clearing cookies alone is not enough: a callback still in flight from the page just left answers
    afterwards and sets its session cookie again. Once the session has ended on the server, that
    cookie signs no one in. Such a late cookie can also carry a session without the form's CSRF
    token, so the confirmation is refused as expired: then the page is asked for again.
    """
    import warnings

    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    for _ in range(3):
        driver.get(live_server + "/logout")
        confirm = driver.find_elements(By.ID, "logout-submit")
        if not confirm:  # not signed in: /logout sent the browser to the sign-in page
            break
        confirm[0].click()
        try:
            WebDriverWait(driver, 10, poll_frequency=0.1).until(lambda d: "/logout" not in d.current_url)
            break
        except TimeoutException:
            warnings.warn("the sign-out was not confirmed; asking again", stacklevel=2)
    driver.delete_all_cookies()


@pytest.fixture()
def browser(browser_driver, live_server):
    """A browser with no session at the start of each test."""
    # The previous test's sign-out left the browser on the sign-in page with no cookie, which no
    # late callback can sign in again: signing out a second time would only load that page again.
    if not getattr(browser_driver, "c360_signed_out", False):
        sign_out(browser_driver, live_server)
    browser_driver.c360_signed_out = False
    yield browser_driver
    sign_out(browser_driver, live_server)
    browser_driver.c360_signed_out = True


# Users with a data scope or a role without financials, for the scope, masking and admin tests.
from tests.dashboard.security.scoped_users import login_email, scope_facts, scoped_users  # noqa: E402,F401


# The churn model trained, scored and every insight job run once per session. Defined here, not
# imported into test modules: a fixture imported into a module is a new fixture there, run again.
@pytest.fixture(scope="session")
def trained_model(loaded_database: Database):
    """The churn-training job run once on the session's small demo data."""
    from etl.intelligence.training import train_churn

    return train_churn(loaded_database, triggered_by="test")


@pytest.fixture(scope="session")
def scored(loaded_database: Database, trained_model):
    """The scoring job run once after training."""
    from etl.intelligence.scoring import run_scoring

    return run_scoring(loaded_database, triggered_by="test", train_if_missing=False)


@pytest.fixture(scope="session")
def insights_ran(loaded_database: Database, scored):
    """Every insight job (attribution, text, forecasts, anomalies, KPI drivers, summaries) run once after
    scoring, as the demo does: the pages that show them all have data."""
    import importlib

    from etl.scheduler import INSIGHT_JOBS

    for module_name, runner in INSIGHT_JOBS.values():
        getattr(importlib.import_module(module_name), runner)(loaded_database, triggered_by="test")
    return loaded_database


@pytest.fixture(scope="session")
def leads_scored(loaded_database: Database, scored):
    """The lead and repeat-purchase job (etl.intelligence.leads) run once after scoring."""
    from etl.intelligence.leads import run_lead_scoring

    return run_lead_scoring(loaded_database, triggered_by="test")


@pytest.fixture(scope="session")
def bookings_forecasts_ran(loaded_database: Database):
    """The forecasts job's won-bookings families (the Sales page's forecast) run once."""
    from etl.insights.forecasts import run_forecasts

    return run_forecasts(loaded_database, triggered_by="test", families=["bookings_monthly", "bookings_last_quarter"])
