"""The c360 command line, against the session's PostgreSQL."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, make_url, select, text

from dashboard import cli
from dashboard.cli import main
from dashboard.tables.app import User


@pytest.fixture()
def cli_env(database_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("C360_ENV", raising=False)
    return CliRunner()


def test_db_check_and_upgrade(cli_env: CliRunner) -> None:
    result = cli_env.invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    result = cli_env.invoke(main, ["db", "check"])
    assert result.exit_code == 0 and "current" in result.output


def test_users_add_creates_a_user_with_hashed_password(cli_env: CliRunner, database) -> None:
    result = cli_env.invoke(main, ["users", "add", "--email", "New.Person@Example.com", "--role", "billing",
                                   "--password", "a-long-enough-password"])
    assert result.exit_code == 0, result.output
    with database.session() as session:
        user = session.scalar(select(User).where(User.email == "new.person@example.com"))
    assert user is not None and user.role_name == "billing"
    assert user.password_hash.startswith("$argon2")


@pytest.mark.parametrize(("args", "message"), [
    (["--email", "x@example.com", "--role", "wizard", "--password", "a-long-enough-password"], "Unknown role"),
    (["--email", "x@example.com", "--role", "billing", "--password", "short"], "at least 12"),
    (["--email", "not-an-email", "--role", "billing", "--password", "a-long-enough-password"], "valid email"),
])
def test_users_add_rejects_bad_input(cli_env: CliRunner, args, message) -> None:
    result = cli_env.invoke(main, ["users", "add", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_users_add_rejects_duplicate(cli_env: CliRunner) -> None:
    args = ["users", "add", "--email", "dup@example.com", "--role", "billing",
            "--password", "a-long-enough-password"]
    assert cli_env.invoke(main, args).exit_code == 0
    result = cli_env.invoke(main, args)
    assert result.exit_code != 0 and "already exists" in result.output


@contextmanager
def _empty_database(pg_admin_url: str, name: str) -> Iterator[str]:
    """A brand-new database with no schema, dropped afterwards."""
    engine = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(pg_admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def test_db_check_fails_on_unmigrated_database(pg_admin_url: str, monkeypatch, tmp_path) -> None:
    with _empty_database(pg_admin_url, "c360_cli_empty") as url:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("C360_DATA_DIR", str(tmp_path))
        result = CliRunner().invoke(main, ["db", "check"])
        assert result.exit_code != 0 and "c360 db upgrade" in result.output


# Every table a score or insight panel reads: the demo fills them all before it serves.
DEMO_PANEL_TABLES = (
    "gold.churn_prediction", "gold.account_health", "gold.account_engagement", "gold.contact_engagement",
    "gold.engagement_history", "gold.engagement_band",
    "gold.clv", "gold.account_scores", "gold.next_best_action", "gold.alert", "gold.forecast_series",
    "gold.forecast", "gold.account_anomaly", "gold.kpi_driver", "gold.attribution_monthly",
    "gold.attribution_campaign", "gold.text_score", "gold.sentiment_daily", "gold.topic_trend",
    "gold.account_summary", "gold.lead_score", "gold.repeat_purchase", "gold.buying_decline", "gold.sales_model_run",
)


def test_demo_prepares_everything_once_then_reuses_it(pg_admin_url: str, monkeypatch, tmp_path) -> None:
    """`c360 demo --no-serve`: migrate, generate, load, link the demo books, train, score and run every
    insight job, each stage timed; a second start reuses all of it."""
    with _empty_database(pg_admin_url, "c360_cli_demo") as url:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("C360_DATA_DIR", str(tmp_path))
        runner = CliRunner()
        first = runner.invoke(main, ["demo", "--no-serve", "--scale", "small", "--seed", "3"])
        assert first.exit_code == 0, first.output
        assert "exec@demo.client360.dev" in first.output and "Generating small demo data" in first.output
        assert any((tmp_path / "landing").glob("*/*.csv"))
        for stage in ("training churn model", "scoring churn", "channel attribution", "sentiment and topics",
                      "forecasts", "anomalies", "KPI drivers", "lead propensity", "client summaries"):
            assert re.search(rf"\[\d+/13\] {stage}.*\u2026 \d+\.\d s", first.output), (stage, first.output)
        assert "failed" not in first.output
        check = create_engine(url)
        with check.connect() as conn:
            empty = [t for t in DEMO_PANEL_TABLES if not conn.scalar(text(f"SELECT count(*) FROM {t}"))]
            assert not empty, f"empty after the demo: {empty}\n{first.output}"
            roc_auc = conn.scalar(text("SELECT max(roc_auc) FROM app.churn_model"))
            linked = dict(conn.execute(text("SELECT email, crm_user_id FROM app.users WHERE crm_user_id IS NOT NULL")).all())
            runs = {job: (started, finished) for job, started, finished in conn.execute(text(
                "SELECT job_id, started_at, finished_at FROM app.job_run WHERE status = 'success'")).all()}
        # Texts are scored while gold is built (they read silver only), and training, in the same process
        # and also beside the gold build, waits for their sentiment, which is one of its features.
        assert runs["text_insights"][0] < runs["etl"][1], runs
        assert runs["churn_train"][0] >= runs["text_insights"][1], runs
        assert runs["scoring"][0] >= max(runs["churn_train"][1], runs["etl"][1]), runs
        assert set(linked) == {"sales@demo.client360.dev", "am@demo.client360.dev"}, first.output
        assert roc_auc is not None and roc_auc >= 0.70  # the model passed its gate: churn_prediction above

        second = runner.invoke(main, ["demo", "--no-serve", "--scale", "small"])
        assert second.exit_code == 0, second.output
        assert "Reusing data loaded at" in second.output and "Generating" not in second.output
        assert second.output.count(": up to date") == 9, second.output
        with check.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM app.users")) == 7
            assert conn.scalar(text("SELECT count(*) FROM gold.customer_360")) > 0
            assert conn.scalar(text("SELECT count(*) FROM app.churn_model")) == 1  # not trained again
        check.dispose()


def test_the_jobs_the_demo_runs_beside_the_gold_build_read_no_gold_it_builds() -> None:
    """Training and the text job start once silver has committed: what they read of gold must be
    what the text job writes, never a table the gold build is still writing."""
    from dashboard.cli import _SILVER_ONLY_JOBS
    from etl.gold import GOLD_STEPS
    from etl.intelligence.features import FEATURES_SQL
    from etl.steps import qualified_name

    assert _SILVER_ONLY_JOBS == ("text_insights", "churn_train")
    built = {qualified_name(step.table) for step in GOLD_STEPS} | {"gold.subscription_mrr_daily"}
    read = set(re.findall(r"\bgold\.[a-z_]+", re.sub(r"--[^\n]*", "", FEATURES_SQL)))
    assert read == {"gold.sentiment_daily"}
    assert not read & built


def test_live_demo_scheduler_is_a_child_stopped_with_the_demo(database_url: str, monkeypatch, tmp_path) -> None:
    """`c360 demo --live` runs `c360 scheduler` as a child; SIGTERM to the demo ends it, child included."""
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path))
    previous = signal.getsignal(signal.SIGTERM)
    try:
        child = cli._start_scheduler_process(database_url)
        assert child.poll() is None and child.args[-1] == "scheduler"
        with pytest.raises(SystemExit):  # what the demo's SIGTERM handler turns the signal into
            signal.getsignal(signal.SIGTERM)(signal.SIGTERM, None)
        cli._stop_process(child)
        assert child.poll() is not None
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_quarantine_lists_refused_rows_with_reasons(loaded_database, database_url, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["etl", "quarantine", "--dataset", "crm_accounts", "--limit", "5"])
    assert result.exit_code == 0, result.output
    # The generator plants malformed account rows; each is listed with its file, row and reason.
    assert "crm_accounts" in result.output
    assert result.output.count("reason:") >= 1 and "accounts" in result.output
