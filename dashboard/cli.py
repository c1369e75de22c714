"""The `c360` command line: database, demo data, ETL, users, serving and the scheduler."""

from __future__ import annotations

import logging
import sys
import time
from datetime import date
from pathlib import Path

import click

from dashboard.settings import Settings, SettingsError


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def _database(settings: Settings):
    from dashboard.db import Database, resolve_database_url, runtime_dir_default

    runtime_dir_default()
    return Database().bind(resolve_database_url(settings))


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log debug output.")
def main(verbose: bool) -> None:
    """Client360: a self-hosted Customer 360 analytics dashboard."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


# --- database ----------------------------------------------------------------------------
@main.group("db")
def db_group() -> None:
    """Database schema management."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations and create any missing default role."""
    from dashboard.db import upgrade
    from dashboard.permissions import sync_default_roles

    database = _database(_settings())
    upgrade(database.url, revision)
    with database.begin() as session:
        added = sync_default_roles(session)
    click.echo(f"Database is at revision {revision}; {added} default role(s) added.")


@db_group.command("check")
def db_check() -> None:
    """Exit non-zero unless the schema is current."""
    from dashboard.db import DatabaseNotMigrated, check_migrated

    try:
        check_migrated(_database(_settings()).engine)
    except DatabaseNotMigrated as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("Database schema is current.")


# --- data --------------------------------------------------------------------------------
@main.command("demo-data")
@click.option("--scale", type=click.Choice(["small", "medium", "large"]), default="medium",
              show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Landing folder (default: $C360_DATA_DIR/landing).")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day of history (default: today).")
def demo_data(scale: str, seed: int, out_dir: Path | None, as_of) -> None:
    """Write realistic source-system exports into a landing folder."""
    from etl.demo_data import generate

    out_dir = out_dir or _settings().resolved_landing_dir
    summary = generate(out_dir, scale=scale, seed=seed, as_of=as_of.date() if as_of else None)
    total = sum(summary.rows.values())
    click.echo(f"Wrote {total:,} rows in {len(summary.rows)} files to {out_dir} "
               f"in {summary.seconds:.1f}s (scale={scale}, seed={seed}).")


@main.group("etl")
def etl_group() -> None:
    """Data pipeline."""


@etl_group.command("run")
@click.option("--landing", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Landing folder (default: $C360_DATA_DIR/landing).")
def etl_run(landing: Path | None) -> None:
    """Load the landing folder into bronze, then build silver and gold."""
    from etl.pipeline import run_pipeline

    settings = _settings()
    landing = landing or settings.resolved_landing_dir
    if not landing.is_dir():
        raise click.ClickException(f"Landing folder {landing} does not exist. "
                                   "Run `c360 demo-data` or point --landing at your exports.")
    result = run_pipeline(_database(settings), landing, triggered_by="cli", archive=True, pull=True)
    for table, rows in sorted(result.rows.items()):
        click.echo(f"  {table:<40} {rows:>12,}")
    click.echo(f"ETL {result.status} in {result.seconds:.1f}s (run {result.run_id}).")
    if result.status == "success" and result.rejected_files:
        click.echo(f"Warning: {len(result.rejected_files)} file(s) rejected whole:\n{result.error}", err=True)
    if result.status != "success":
        raise click.ClickException(result.error or result.status)


@etl_group.command("quarantine")
@click.option("--dataset", default=None, help="Only this dataset, e.g. crm_accounts.")
@click.option("--limit", default=20, show_default=True, type=int)
def etl_quarantine(dataset: str | None, limit: int) -> None:
    """Show quarantined rows: dataset, file, row number, reason and the raw record."""
    from dashboard.queries.quarantine import quarantine_summary, quarantined_rows

    with _database(_settings()).session() as session:
        summary = quarantine_summary(session)
        if not summary:
            click.echo("No quarantined rows.")
            return
        for row in summary:
            click.echo(f"  {row.dataset:<36} {row.stage:<8} {row.rows:>8,}")
        click.echo("")
        for row in quarantined_rows(session, dataset=dataset, limit=limit):
            where = f"{row.source_file or '?'}:{row.row_number or '?'}"
            click.echo(f"[{row.dataset}] {where}\n  reason: {row.reason}\n  raw:    {row.raw[:200]}")
            if row.waiting_on:  # not bad in itself: comes back when this arrives
                click.echo(f"  waits:  for {row.waiting_key} in {row.waiting_on}")


# --- models ------------------------------------------------------------------------------
@main.group("models")
def models_group() -> None:
    """Churn model, scores, next-best actions and alerts."""


@models_group.command("train")
@click.option("--seed", type=int, default=0, show_default=True)
def models_train(seed: int) -> None:
    """Train the churn model on past cut-offs, validate it on later ones and register it."""
    from etl.intelligence.training import train_churn

    try:
        result = train_churn(_database(_settings()), triggered_by="cli", seed=seed)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    metrics = result.metrics
    click.echo(f"Churn model v{result.version}: ROC-AUC {metrics.get('roc_auc') or float('nan'):.3f}, "
               f"PR-AUC {metrics.get('pr_auc') or float('nan'):.3f}, Brier {metrics.get('brier') or float('nan'):.4f} "
               f"on {result.validation_rows:,} validation rows ({result.train_rows:,} training rows) "
               f"in {result.seconds:.1f}s.")


@models_group.command("score")
def models_score() -> None:
    """Score every customer now: churn, health, engagement, lifetime value, actions and alerts."""
    from etl.intelligence.scoring import run_scoring

    result = run_scoring(_database(_settings()), triggered_by="cli")
    for table, rows in sorted(result.rows.items()):
        click.echo(f"  {table:<40} {rows:>12,}")
    model = f"churn model v{result.model_version}" if result.model_version else "no churn model serving"
    click.echo(f"Scored {result.accounts:,} customers as of {result.as_of} with {model} in {result.seconds:.1f}s.")


# --- insights ----------------------------------------------------------------------------
@main.group("insights")
def insights_group() -> None:
    """Forecasts, anomalies, attribution, text insights and client summaries."""


@insights_group.command("attribution")
def insights_attribution() -> None:
    """Credit conversions to channels and campaigns (rule-based models and Markov)."""
    from etl.insights.attribution import run_attribution

    click.echo(run_attribution(_database(_settings()), triggered_by="cli").describe())


@insights_group.command("text")
def insights_text() -> None:
    """Score the sentiment of new customer texts; rebuild sentiment by day and the topic trend."""
    from etl.insights.text import run_text_insights

    click.echo(run_text_insights(_database(_settings()), triggered_by="cli").describe())


@insights_group.command("summaries")
@click.option("--account", "account_id", default=None, help="Print this customer's summary afterwards.")
def insights_summaries(account_id: str | None) -> None:
    """Write the plain-English summary of every customer."""
    from dashboard.queries.attribution_text import account_summary
    from etl.insights.summaries import run_account_summaries

    database = _database(_settings())
    result = run_account_summaries(database, triggered_by="cli")
    click.echo(f"Summarised {result.accounts:,} customers in {result.seconds:.1f}s.")
    if account_id:
        with database.session() as session:
            summary = account_summary(session, account_id)
        click.echo(summary.summary if summary else f"No summary for {account_id}.")


@insights_group.command("run")
@click.option("--job", "job_ids", multiple=True, help="An insight job id (repeatable); default: every one.")
def insights_run(job_ids: tuple[str, ...]) -> None:
    """Run insight jobs now: forecasts, anomalies, kpi_drivers, attribution, text_insights, account_summaries."""
    import importlib

    from etl.scheduler import INSIGHT_JOBS

    unknown = sorted(set(job_ids) - set(INSIGHT_JOBS))
    if unknown:
        raise click.BadParameter(f"unknown job(s) {', '.join(unknown)}; choose from {', '.join(INSIGHT_JOBS)}",
                                 param_hint="--job")
    database = _database(_settings())
    for job_id in job_ids or tuple(INSIGHT_JOBS):
        module_name, runner = INSIGHT_JOBS[job_id]
        result = getattr(importlib.import_module(module_name), runner)(database, triggered_by="cli")
        click.echo(f"{job_id}: {result.describe() if hasattr(result, 'describe') else result}")


# --- users -------------------------------------------------------------------------------
@main.group("users")
def users_group() -> None:
    """User administration."""


@users_group.command("add")
@click.option("--email", required=True)
@click.option("--role", required=True)
@click.option("--name", "full_name", default="")
@click.option("--territory", "territories", multiple=True, help="Restrict to a territory (repeatable).")
@click.option("--crm-user", "crm_user_id", default=None,
              help="Their user id in the CRM (`c360 users crm`): an account manager then sees the customers "
                   "it owns, a sales manager every territory of its region.")
@click.option("--password", default=None,
              help="Omit to generate a one-time password the user must change at first sign-in.")
def users_add(email: str, role: str, full_name: str, territories: tuple[str, ...], crm_user_id: str | None,
              password: str | None) -> None:
    """Create a user with a role."""
    from dashboard.users import UserError, create_user

    database = _database(_settings())
    try:
        with database.begin() as session:
            created = create_user(session, email=email, role=role, password=password, full_name=full_name,
                                  territories=list(territories), crm_user_id=crm_user_id, actor="cli")
            click.echo(f"Created user {created.user.email} with role {created.user.role_name}.")
            if created.initial_password:
                click.echo(f"One-time password (shown once, must be changed at first sign-in): "
                           f"{created.initial_password}")
    except UserError as exc:
        raise click.ClickException(str(exc)) from exc


@users_group.command("link")
@click.option("--email", required=True)
@click.option("--crm-user", "crm_user_id", default=None, help="Their user id in the CRM (`c360 users crm`).")
@click.option("--unlink", is_flag=True, help="Remove the link instead.")
def users_link(email: str, crm_user_id: str | None, unlink: bool) -> None:
    """Link a user to their CRM user, whose book of business (owned customers, or region) they then see."""
    from dashboard.scope import scope_for_user_id
    from dashboard.users import UserError, update_user

    if unlink == bool(crm_user_id):
        raise click.UsageError("Give either --crm-user or --unlink.")
    with _database(_settings()).begin() as session:
        try:
            user = update_user(session, _user_id(session, email), crm_user_id="" if unlink else crm_user_id,
                               actor="cli")
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc
        scope = scope_for_user_id(session, user.id)
    linked = f"linked to CRM user {user.crm_user_id}" if user.crm_user_id else "no longer linked to a CRM user"
    click.echo(f"{user.email} is {linked}. Data scope: {scope.description()}.")


@users_group.command("crm")
@click.option("--role", default=None, help="Only CRM users with this role, e.g. account_manager.")
def users_crm(role: str | None) -> None:
    """List the CRM users one can link to: id, name, role, region, territory and customers owned."""
    from dashboard.queries.crm_users import crm_user_choices

    with _database(_settings()).session() as session:
        rows = crm_user_choices(session, role=role)
    if not rows:
        click.echo("No CRM users loaded yet (run `c360 etl run`).")
    for u in rows:
        click.echo(f"{u.user_id:<10} {u.full_name:<28} {u.role:<16} {u.region:<16} {u.territory:<18} "
                   f"{u.customers:>6,} customers{'' if u.is_active else '  (inactive)'}")


@users_group.command("reset-password")
@click.option("--email", required=True)
def users_reset_password(email: str) -> None:
    """Give a user a one-time password and end their sessions."""
    from dashboard.users import UserError, reset_password

    with _database(_settings()).begin() as session:
        try:
            password = reset_password(session, _user_id(session, email), actor="cli")
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"One-time password for {email} (shown once, must be changed at sign-in): {password}")


@users_group.command("reset-totp")
@click.option("--email", required=True)
def users_reset_totp(email: str) -> None:
    """Remove a user's two-step sign-in (lost authenticator) and end their sessions."""
    from dashboard.users import UserError, remove_totp

    with _database(_settings()).begin() as session:
        try:
            remove_totp(session, _user_id(session, email), actor="cli")
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"Two-step sign-in removed for {email}; they can enrol again at /account/totp.")


@users_group.command("deactivate")
@click.option("--email", required=True)
def users_deactivate(email: str) -> None:
    """Deactivate a user: their sessions end and their API tokens are revoked."""
    _set_active(email, False)


@users_group.command("activate")
@click.option("--email", required=True)
def users_activate(email: str) -> None:
    """Reactivate a user (old sessions and tokens stay revoked)."""
    _set_active(email, True)


def _set_active(email: str, active: bool) -> None:
    from dashboard.users import UserError, set_user_active

    with _database(_settings()).begin() as session:
        try:
            set_user_active(session, _user_id(session, email), active, actor="cli")
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"{email} is now {'active' if active else 'deactivated'}.")


def _user_id(session, email: str) -> int:
    from sqlalchemy import func, select

    from dashboard.tables.app import User

    user_id = session.scalar(select(User.id).where(func.lower(User.email) == email.strip().lower()))
    if user_id is None:
        raise click.ClickException(f"No user with email {email}.")
    return user_id


# --- API tokens --------------------------------------------------------------------------
@main.group("tokens")
def tokens_group() -> None:
    """API tokens for the REST API (Authorization: Bearer <token>)."""


@tokens_group.command("create")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", required=True, help="What the token is for, e.g. 'nightly export'.")
@click.option("--expires-days", type=int, default=None, help="Days until it expires (default: never).")
def tokens_create(email: str, name: str, expires_days: int | None) -> None:
    """Create a token; it is printed once and stored only as a hash."""
    from dashboard.tokens import TokenError, create_token

    with _database(_settings()).begin() as session:
        try:
            token, raw = create_token(session, _user_id(session, email), name=name,
                                      expires_days=expires_days, actor="cli")
        except TokenError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Token {token.id} for {email} ({name}); copy it now, it is not shown again:")
    click.echo(raw)


@tokens_group.command("list")
@click.option("--email", default=None, help="Only this user's tokens.")
def tokens_list(email: str | None) -> None:
    """List tokens (never the secret): id, user, name, prefix, expiry, last use, status."""
    from dashboard.tokens import list_tokens

    with _database(_settings()).session() as session:
        rows = list_tokens(session, _user_id(session, email) if email else None)
    if not rows:
        click.echo("No API tokens.")
    for t in rows:
        expires = f"{t.expires_at:%Y-%m-%d}" if t.expires_at else "never"
        used = f"{t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never"
        click.echo(f"{t.id:>5}  {t.user_email:<32} {t.name:<24} {t.token_prefix}…  expires {expires:<10} "
                   f"used {used:<16} {t.status}")


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
def tokens_revoke(token_id: int) -> None:
    """Revoke a token by id; it stops working at once."""
    from dashboard.tokens import TokenError, revoke_token

    with _database(_settings()).begin() as session:
        try:
            token = revoke_token(session, token_id, actor="cli")
        except TokenError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Revoked token {token.id} ({token.name}) of {token.user.email}.")


@users_group.command("list")
def users_list() -> None:
    """List users and their roles."""
    from sqlalchemy import select

    from dashboard.tables.app import User

    with _database(_settings()).session() as session:
        for user in session.scalars(select(User).order_by(User.email)):
            state = "active" if user.is_active else "inactive"
            crm = f"  CRM user {user.crm_user_id}" if user.crm_user_id else ""
            click.echo(f"{user.email:<40} {user.role_name:<18} {state}{crm}")


# --- serving -----------------------------------------------------------------------------
def _serve(settings: Settings, host: str, port: int) -> None:
    from dashboard.app import create_app
    from dashboard.db import DatabaseNotMigrated

    try:
        server = create_app(settings)
    except DatabaseNotMigrated as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Serving Client360 on http://{host}:{port}  (Ctrl+C to stop)")
    server.run(host=host, port=port, threaded=True, debug=False, use_reloader=False)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the dashboard with the built-in server (use gunicorn in production)."""
    _serve(_settings(), host, port)


@main.command("scheduler")
def scheduler() -> None:
    """Run the job scheduler in the foreground (one per deployment)."""
    from etl.scheduler import run_scheduler

    run_scheduler(_settings())


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True, type=int)
@click.option("--scale", type=click.Choice(["small", "medium", "large"]), default="medium",
              show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--no-serve", is_flag=True, help="Prepare everything, then exit.")
@click.option("--live", is_flag=True,
              help="Drop new source records every minute, refresh the data and run the scheduler, "
                   "so scores and insights follow.")
@click.option("--workers", type=click.IntRange(1, 8), default=2, show_default=True,
              help="Processes preparing the scores and insights side by side.")
def demo(host: str, port: int, scale: str, seed: int, no_serve: bool, live: bool, workers: int) -> None:
    """Start the embedded database, load demo data, score it and run every insight once, create demo
    logins and serve. A second start reuses what is already loaded and scored."""
    from dashboard.users import DEMO_PASSWORD

    if not click.get_current_context().find_root().params.get("verbose"):
        for name in ("", "pgserver", "alembic"):  # the stage lines say what happens
            logging.getLogger(name).setLevel(logging.WARNING)
        # Data-quality warnings are counted on the loading line and listed on the admin pages.
        logging.getLogger("etl.quality").setLevel(logging.ERROR)
    started = time.monotonic()
    settings = _settings()
    plan = _DemoPlan(total=4 + len(_demo_jobs()))
    landing = settings.resolved_landing_dir
    with _DemoJobs(plan, workers) as jobs:
        if _fresh_embedded_demo(settings, landing):
            # Nothing to reuse: generate the data while the new embedded server starts and migrates.
            database, logins = _demo_database_while_generating(plan, settings, landing, scale, seed)
            _demo_load(plan, database, landing, scale, seed, generated=True, jobs=jobs)
        else:
            database, logins = plan.stage("database: start, migrate, roles and demo logins",
                                          lambda: _demo_database(settings))
            _demo_load(plan, database, landing, scale, seed, jobs=jobs)
        plan.stage("books of business", lambda: _demo_books(database), describe=str)
        jobs.run_due(database)
    click.echo(f"\nReady in {time.monotonic() - started:.1f}s. Demo logins (password: {DEMO_PASSWORD}):")
    for login in logins:
        click.echo(f"  {login.role:<18} {login.email}")
    click.echo("")
    if no_serve:
        return
    if not live:
        _serve(settings, host, port)
        return
    scheduler = _start_scheduler_process(database.url)
    try:
        _start_live_feed(database, settings.resolved_landing_dir)
        _serve(settings, host, port)
    finally:
        _stop_process(scheduler)


class _DemoPlan:
    """Numbered stage lines with their durations: "[4/12] training churn model… 24.1 s"."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0

    def _number(self) -> str:
        self.done += 1
        return f"[{self.done}/{self.total}]"

    def line(self, label: str, seconds: float, detail: str = "") -> None:
        """A finished stage: its number, label, duration and what it did."""
        click.echo(f"{self._number()} {label}\u2026 {seconds:.1f} s" + (f"  ({detail})" if detail else ""))

    def stage(self, label: str, work, describe=None):
        """Run `work` between the label and its duration (and `describe(result)`); returns its result."""
        click.echo(f"{self._number()} {label}\u2026", nl=False)
        began = time.monotonic()
        result = work()
        detail = describe(result) if describe else ""
        click.echo(f" {time.monotonic() - began:.1f} s" + (f"  ({detail})" if detail else ""))
        return result

    def skip(self, label: str, why: str) -> None:
        click.echo(f"{self._number()} {label}: {why}")


def _demo_database(settings: Settings):
    from dashboard.db import upgrade
    from dashboard.permissions import sync_default_roles
    from dashboard.users import ensure_demo_users

    database = _database(settings)
    upgrade(database.url)
    with database.begin() as session:
        sync_default_roles(session)
        logins = ensure_demo_users(session)
    return database, logins


def _fresh_embedded_demo(settings: Settings, landing: Path) -> bool:
    """An embedded database not created yet and no landing files: the first start of a fresh clone."""
    return (settings.database_url is None and not (settings.pgdata_dir / "PG_VERSION").exists()
            and not any(landing.glob("*/*.csv")))


def _demo_database_while_generating(plan: _DemoPlan, settings: Settings, landing: Path, scale: str, seed: int):
    """The database stage in a thread beside data generation (a subprocess start and migrations, mostly
    waiting, next to numpy work); each stage's line gives its own duration."""
    from concurrent.futures import ThreadPoolExecutor

    from etl.demo_data import generate

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as pool:
        starting = pool.submit(lambda: (_demo_database(settings), time.monotonic() - began))
        plan.stage(f"Generating {scale} demo data in {landing} (the database starts alongside)",
                   lambda: generate(landing, scale=scale, seed=seed, as_of=date.today()))
        (database, logins), seconds = starting.result()
    plan.line("database: start, migrate, roles and demo logins", seconds)
    return database, logins


def _demo_load(plan: _DemoPlan, database, landing: Path, scale: str, seed: int, *, generated: bool = False,
               jobs: _DemoJobs | None = None) -> None:
    """Generate (unless `generated` already did) and load the demo data unless a refresh already
    succeeded. Jobs that read only silver start in `jobs` as soon as silver has committed."""
    from dashboard.queries.freshness import last_successful_refresh
    from etl.demo_data import generate
    from etl.pipeline import run_pipeline

    with database.session() as session:
        refreshed_at = last_successful_refresh(session)
    if refreshed_at is not None:
        plan.skip("demo data", f"already in {landing}")
        plan.skip("loading demo data", f"Reusing data loaded at {refreshed_at:%Y-%m-%d %H:%M} UTC")
        return
    if not generated:
        if any(landing.glob("*/*.csv")):
            plan.skip("demo data", f"already in {landing}")
        else:
            plan.stage(f"Generating {scale} demo data in {landing}",
                       lambda: generate(landing, scale=scale, seed=seed, as_of=date.today()))
    after_silver = (lambda: jobs.start_silver_only(database)) if jobs is not None else None
    result = plan.stage("loading demo data (bronze \u2192 silver \u2192 gold)",
                        lambda: run_pipeline(database, landing, triggered_by="demo", after_silver=after_silver),
                        describe=_describe_load)
    if result.status != "success":
        raise click.ClickException(f"ETL failed: {result.error}")


def _describe_load(result) -> str:
    if result.status != "success":
        return result.status
    loaded = sum(n for table, n in result.rows.items() if table.startswith("bronze.") and table != "bronze.quarantine")
    return (f"{loaded:,} source rows, {result.quarantined:,} quarantined, "
            f"{len(result.warnings)} data-quality warnings: see Admin \u2192 Data quality")


def _demo_books(database) -> str:
    from dashboard.users import link_demo_books

    with database.begin() as session:
        linked = link_demo_books(session)
    return "; ".join(f"{email.split('@')[0]}@ {what}" for email, what in linked.items()) or "already linked"


# --- demo: scores and insights, side by side ---------------------------------------------
# Jobs that read silver only (training also reads the sentiment the text job writes): the demo runs
# them one after the other, in one process, while gold is being built.
_SILVER_ONLY_JOBS = ("text_insights", "churn_train")


def _demo_jobs() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Job id -> (stage label, the jobs that must finish first). Training reads the sentiment the
    text job writes; client summaries quote every other job."""
    from etl.scheduler import INSIGHT_JOBS

    labels = {"attribution": "channel attribution", "text_insights": "sentiment and topics",
              "forecasts": "forecasts", "anomalies": "anomalies", "kpi_drivers": "KPI drivers",
              "account_summaries": "client summaries",
              "lead_scoring": "lead propensity, repeat purchases and buying decline"}
    jobs: dict[str, tuple[str, tuple[str, ...]]] = {
        "churn_train": ("training churn model", ("text_insights",)),
        "scoring": ("scoring churn, health, engagement, lifetime value, actions and alerts", ("churn_train",)),
    }
    for job_id in INSIGHT_JOBS:
        jobs[job_id] = (labels.get(job_id, job_id.replace("_", " ")), ())
    jobs["lead_scoring"] = (jobs["lead_scoring"][0], ("scoring",))  # reads engagement tiers and churn factors
    others = tuple(j for j in jobs if j != "account_summaries")
    jobs["account_summaries"] = (jobs["account_summaries"][0], others)
    return jobs


def _demo_job_is_due(database, job_id: str) -> bool:
    """Whether the job has never run, or its inputs changed since it last succeeded."""
    import importlib

    from sqlalchemy import select

    from dashboard.tables.app import JobRun
    from etl.insights.text import is_due
    from etl.intelligence.registry import has_any_model
    from etl.intelligence.scoring import scoring_is_due
    from etl.scheduler import INSIGHT_JOBS

    with database.session() as session:
        if job_id == "churn_train":
            return not has_any_model(session)
        if job_id == "scoring":
            scored = session.scalar(select(JobRun.id).where(JobRun.job_id == job_id, JobRun.status == "success"))
            return scored is None or scoring_is_due(database)
    module = importlib.import_module(INSIGHT_JOBS[job_id][0])
    # Nightly jobs name no inputs; in the demo they follow the data refreshes too.
    inputs = getattr(module, "INPUT_JOBS", None) or ("etl", "etl_full_rebuild")
    # A silver-only job started by the demo once silver had committed covers the refresh it ran
    # beside (which finished later); only a refresh that started after it is new to it.
    return is_due(database, job_id, inputs, input_started=job_id in _SILVER_ONLY_JOBS)


def _run_demo_chain(database_url: str, job_ids: tuple[str, ...]) -> list[tuple[str, float, str, str | None]]:
    """Jobs one after the other in one worker process; a failed one stops those after it."""
    results = []
    for job_id in job_ids:
        results.append(_run_demo_job(database_url, job_id))
        if results[-1][3] is not None:
            break
    return results


def _run_demo_job(database_url: str, job_id: str) -> tuple[str, float, str, str | None]:
    """One job in a worker process with its own connections: (job id, seconds, detail, error)."""
    import importlib

    from dashboard.db import Database
    from etl.scheduler import INSIGHT_JOBS

    database = Database().bind(database_url)
    began = time.monotonic()
    try:
        if job_id == "churn_train":
            from etl.intelligence.training import train_churn

            trained = train_churn(database, triggered_by="demo")
            detail = f"v{trained.version}, ROC-AUC {trained.metrics.get('roc_auc') or float('nan'):.3f}"
        elif job_id == "scoring":
            from etl.intelligence.scoring import run_scoring

            scored = run_scoring(database, triggered_by="demo", train_if_missing=False)
            model = f"churn model v{scored.model_version}" if scored.model_version else "no churn model serving"
            detail = f"{scored.accounts:,} customers with {model}"
        else:
            module_name, runner = INSIGHT_JOBS[job_id]
            result = getattr(importlib.import_module(module_name), runner)(database, triggered_by="demo")
            if hasattr(result, "describe"):
                detail = result.describe()
            else:
                detail = f"{result.accounts:,} customers" if hasattr(result, "accounts") else str(result)
    except Exception as exc:  # reported as the stage's line; the demo still serves what it has
        return job_id, time.monotonic() - began, "", f"{type(exc).__name__}: {exc}"
    finally:
        database.dispose()
    return job_id, time.monotonic() - began, detail, None


class _DemoJobs:
    """Train, score and run every insight job that is due, in `workers` processes, each job as soon as
    the jobs it needs have finished, and the silver-only ones while gold is still being built."""

    def __init__(self, plan: _DemoPlan, workers: int) -> None:
        self.plan = plan
        self.workers = workers
        self.jobs = _demo_jobs()
        self.running: dict = {}  # Future -> the job ids it runs, in order
        self.pool = None

    def __enter__(self) -> _DemoJobs:
        return self

    def __exit__(self, *_exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, database_url: str, *job_ids: str) -> None:
        if self.pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # A fork server, not a plain fork: forking a process whose OpenMP (LightGBM) or other threads
            # already ran can kill the child. The server imports the jobs once; each worker forks from it.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["etl.scheduler", "etl.intelligence.training", "etl.intelligence.scoring"])
            self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        self.running[self.pool.submit(_run_demo_chain, database_url, job_ids)] = job_ids

    def _running_ids(self) -> set[str]:
        return {job_id for job_ids in self.running.values() for job_id in job_ids}

    def start_silver_only(self, database) -> None:
        """Called once silver has committed: the texts are scored, then the churn model trained (when
        there is none yet), beside the gold build, so neither waits for it."""
        chain = [job_id for job_id in _SILVER_ONLY_JOBS
                 if job_id == "text_insights" or _demo_job_is_due(database, job_id)]
        self._submit(database.url, *chain)

    def run_due(self, database) -> None:
        """Run every job that is due (and wait for those already started), the critical path first."""
        from concurrent.futures import FIRST_COMPLETED, wait

        jobs, started = self.jobs, self._running_ids()
        due = {job_id for job_id in jobs if job_id in started or _demo_job_is_due(database, job_id)}
        for job_id, (_, after) in jobs.items():  # a job whose input reruns reruns too
            if any(a in due for a in after):
                due.add(job_id)
        for job_id in jobs:
            if job_id not in due:
                self.plan.skip(jobs[job_id][0], "up to date")
        if not due:
            return
        click.echo(f"      {len(due)} job(s) in {min(self.workers, len(due))} process(es)\u2026")
        waiting, failed = [j for j in jobs if j in due and j not in started], []
        while waiting or self.running:
            busy = self._running_ids()
            ready = [j for j in waiting if not any(a in waiting or a in busy for a in jobs[j][1])]
            for job_id in ready[:max(0, self.workers - len(self.running))]:
                waiting.remove(job_id)
                self._submit(database.url, job_id)
            finished, _ = wait(self.running, return_when=FIRST_COMPLETED)
            for future in finished:
                chain = self.running.pop(future)
                results = future.result()
                for job_id, seconds, detail, error in results:
                    self.plan.line(jobs[job_id][0], seconds, f"failed: {error}" if error else detail)
                    if error:
                        failed.append(job_id)
                # A job its chain never reached (one before it failed) has not run.
                failed += [job_id for job_id in chain[len(results):]]
        if failed:
            click.echo(f"Warning: {', '.join(failed)} failed; their panels stay empty until the scheduler reruns "
                       "them (`c360 scheduler`).", err=True)


# --- demo: live feed and scheduler -------------------------------------------------------
def _live_tick(database, landing: Path) -> None:
    from etl.demo_data.live import drop_batch
    from etl.pipeline import run_pipeline

    batch = drop_batch(database, landing)
    result = run_pipeline(database, landing, triggered_by="demo-live")
    logging.getLogger("c360.demo").info("live feed: %s new rows, refresh %s in %.1fs",
                                        sum(batch.rows.values()), result.status, result.seconds)


def _start_live_feed(database, landing: Path) -> None:
    """Demo only: a background job in this single process, never in production web workers."""
    from apscheduler.schedulers.background import BackgroundScheduler

    logging.getLogger("c360.demo").setLevel(logging.INFO)
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(_live_tick, "interval", minutes=1, args=[database, landing], id="demo_live_feed",
                      max_instances=1, coalesce=True)
    scheduler.start()
    click.echo("Live feed on: new records land every minute and the data refreshes by itself.")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM when the demo dies, even by SIGKILL, so it is never orphaned."""
    import ctypes
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _start_scheduler_process(database_url: str):
    """`c360 scheduler` as a child process, so scores and insights follow the live data."""
    import signal
    import subprocess

    from dashboard.settings import Settings, child_environment

    env = child_environment(Settings.from_env(), database_url)
    env.setdefault("C360_SCORING_INTERVAL_MINUTES", "1")
    child = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "scheduler"], env=env,
                             preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)

    def stop(signum, _frame):  # SIGTERM ends the demo like Ctrl+C: through the finally that stops the child
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    click.echo(f"Scheduler on (process {child.pid}): scores and insights follow each refresh.")
    return child


def _stop_process(child) -> None:
    import subprocess

    if child.poll() is None:
        child.terminate()
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    click.echo("Scheduler stopped.")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
