"""100 people using Client360 at once: locust drives the app served by gunicorn, with think time.

    python bench/load.py [--scale small|medium|large] [--seed 0] [--users 100] [--minutes 10]
                         [--workers 2] [--threads 4] [--think 5,15] [--roles ...] [--no-cache]
                         [--restart-db-at S] [--refresh-at S] [--lock-table gold.T --lock-at S --lock-seconds 60]
                         [--data-dir /tmp/c360-bench-pages] [--rebuild] [--json out.json]

How it works:
  * The database is prepared once per scale and seed (bench/_prepare.py) and reused.
  * Bench users are created per role (three per account and sales manager, each linked to a different CRM
    owner's book, so that their scopes and cached panels differ; one for the other roles).
  * For each of them the bench records, with the app's own callback map (as bench/pages.py does), what a
    browser posts: the router's request and every callback a page fires when opened, per page, and the
    callbacks each filter change fires. The script is written to the data folder.
  * gunicorn serves the app (README's production recommendation: one worker per core, 4 threads each;
    the page cache on, in each worker, as by default); sign-in limits are raised, since every simulated
    user signs in from this one address.
  * locust (in a virtual environment of its own, bench/locust/requirements.txt, created on first use)
    starts --users people, --spawn-rate per second (2), in a mix of roles (ROLE_WEIGHTS). Each signs in,
    loads the app once, then, waiting --think seconds between actions, opens one of its pages (5 in 10),
    changes a filter on the page it is on (4 in 10) or drills into one of its customers (1 in 10).
  * Every request is logged; the report gives p50, p95 and p99 per kind of request and per request, the
    errors (any 5xx, a refused request, or a panel answering its error card), and each gunicorn worker's
    peak memory (VmHWM).

Scenarios during the run, each reported on its own:
  --restart-db-at S      restart PostgreSQL S seconds in (pg_ctl restart -m fast): requests failing while it
                         is down, the time from its return to the last failure, 5xx afterwards;
  --refresh-at S         S seconds in, a batch of new source records (--refresh-volume; 30 is about a
                         medium-scale day) is refreshed through the pipeline, then the scoring and text jobs,
                         as the scheduler would: page latency during the refresh against the rest;
  --lock-table T         another session holds an ACCESS EXCLUSIVE lock on table T from --lock-at for
                         --lock-seconds: the panels reading T answer within the lock timeout, the others
                         stay fast.
The restart and refresh scenarios change the prepared database (a restart nothing; a refresh adds a batch).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import venv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from sqlalchemy import create_engine, func, select, text

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(BENCH_DIR))

from _prepare import prepared_database  # noqa: E402
from browser import serve  # noqa: E402
from pages import (  # noqa: E402
    BENCH_PASSWORD,
    _apply_response,
    _location_values,
    _page_content,
    _post,
    app_bench_parser,
    bench_app,
    chosen_roles,
    index_components,
    login,
    outputs_label,
    page_visits,
    pages_for_role,
    plan_calls,
    request_body,
    sample_accounts,
)

from dashboard.extensions import db  # noqa: E402
from dashboard.permissions import sync_default_roles  # noqa: E402
from dashboard.scope import SCOPED_ROLES  # noqa: E402
from dashboard.tables.app import User  # noqa: E402
from dashboard.tables.gold import Customer360  # noqa: E402
from dashboard.users import create_user  # noqa: E402

LOCUSTFILE = BENCH_DIR / "locust" / "client360_users.py"
LOCUST_REQUIREMENTS = BENCH_DIR / "locust" / "requirements.txt"
# Simulated people per role, in proportion.
ROLE_WEIGHTS = {"executive": 15, "sales_manager": 15, "account_manager": 20, "support_lead": 20,
                "marketing_manager": 15, "billing": 10, "admin": 5}
SCOPED_LOGINS = 3
TARGET_P95_MS = 500.0
TARGET_WORKER_MB = 500.0
RECOVERY_SECONDS = 5.0
SECRET_KEY = "bench-load-" + "0" * 40


# --- who signs in, and what their browsers post ------------------------------------------------------

def ensure_load_users(roles: list[str]) -> dict[str, list[tuple[str, str]]]:
    """role -> [(email, password)]: SCOPED_LOGINS users for roles seeing a CRM book (each linked to one of
    the owners with the most customers), one for the others."""
    with db.begin() as session:
        sync_default_roles(session)
    logins: dict[str, list[tuple[str, str]]] = {}
    with db.begin() as session:
        owners = session.scalars(
            select(Customer360.owner_user_id).where(Customer360.owner_user_id.is_not(None))
            .group_by(Customer360.owner_user_id).order_by(func.count().desc(), Customer360.owner_user_id)
            .limit(SCOPED_LOGINS)).all()
        for role in roles:
            scoped = role in SCOPED_ROLES
            for number in range(1, (len(owners) if scoped else 1) + 1):
                email = f"load-{role.replace('_', '-')}-{number}@bench.client360.dev"
                if session.scalar(select(User.id).where(User.email == email)) is None:
                    create_user(session, email=email, role=role, password=BENCH_PASSWORD,
                                crm_user_id=owners[number - 1] if scoped else None,
                                full_name=f"Load {role.replace('_', ' ')} {number}")
                logins.setdefault(role, []).append((email, BENCH_PASSWORD))
    return logins


def _named(page: str, call) -> dict[str, Any]:
    return {"name": f"callback {page}: {outputs_label(call.key)[:70]}", "body": call.body}


def record_script(app, role: str, email: str) -> dict[str, Any]:
    """What this user's browser posts: the shell's callbacks once, and per page visit the router's request,
    the callbacks opening the page fires (in rounds, as components they add fire their own) and, per filter
    change, the callbacks it fires."""
    client = app.test_client()
    login(client, email, BENCH_PASSWORD)
    dependencies = client.get("/_dash-dependencies").get_json()
    shell = index_components(client.get("/_dash-layout").get_json())
    router = next(spec for spec in dependencies if "_pages_content.children" in spec["output"])
    done_shell: set[str] = set()
    shell_calls: list[dict[str, Any]] = []
    visits = []
    for spec in pages_for_role(role):
        for _sample, path in page_visits(spec, sample_accounts(email)):
            page = spec.path_template or spec.path
            page_content = _page_content(client, dependencies, shell, path)
            opening = [{"name": f"navigate {page}",
                        "body": request_body(router, shell, _location_values(shell, path))}]
            changes: dict[str, list[dict[str, Any]]] = defaultdict(list)
            planned: set[str] = set()
            for _ in range(3):
                pending = [d for d in dependencies if d["output"] not in planned]
                shell_before = set(done_shell)
                calls, skipped = plan_calls(pending, shell, page_content, path, done_shell, with_filters=False)
                planned.update(s.key for s in skipped)
                if not calls:
                    break
                added: dict[str, dict[str, Any]] = {}
                for call in calls:
                    planned.add(call.key)
                    status, _, payload = _post(client, call.body)
                    if status == 200:
                        added.update(_apply_response(page_content, payload))
                    (shell_calls if call.page == "(shell)" else opening).append(_named(page, call))
                keys = {call.key for call in calls}
                variants, _ = plan_calls([d for d in pending if d["output"] in keys], shell, page_content, path,
                                         shell_before)
                for call in variants:
                    if call.variant not in ("default", "navigate") and call.page != "(shell)":
                        changes[call.variant].append(_named(page, call))
                if not added:
                    break
                page_content.update(added)
            visits.append({"path": path, "page": page, "open": opening, "changes": list(changes.values())})
    return {"email": email, "password": BENCH_PASSWORD, "shell": shell_calls, "visits": visits}


# --- the load tool, the server's workers ---------------------------------------------------------------

def locust_python(data_dir: Path) -> Path:
    """The Python of a virtual environment holding locust (its own: locust needs urllib3 2, which the
    app's browser-test tools do not accept), created on first use."""
    home = data_dir / "locust-venv"
    python = home / "bin" / "python"
    marker = home / ".requirements"
    wanted = LOCUST_REQUIREMENTS.read_text()
    if not python.exists() or not marker.exists() or marker.read_text() != wanted:
        print(f"installing locust into {home} ...", flush=True)
        venv.create(home, with_pip=True, clear=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-r", str(LOCUST_REQUIREMENTS)], check=True)
        marker.write_text(wanted)
    return python


class ProcessWatch(threading.Thread):
    """Every second: each gunicorn worker's resident memory (its peak, VmHWM, read at the end too), and the
    CPU time of each group of processes (gunicorn, PostgreSQL, the load tool) and of the whole machine."""

    def __init__(self, groups: dict[str, int], postmaster_pid_file: Path | None = None) -> None:
        super().__init__(daemon=True)
        self.postmaster_pid_file = postmaster_pid_file
        own = psutil.Process().cpu_times()
        self.own_start = own.user + own.system
        self.groups = {name: psutil.Process(pid) for name, pid in groups.items()}
        self.peak_mb: dict[int, float] = {}
        self.cpu: dict[str, dict[int, float]] = defaultdict(dict)
        self.baseline: dict[int, float] = {}
        self.first = True
        self.machine_start = psutil.cpu_times()
        self.started = time.time()
        self.stopped = threading.Event()

    def add(self, name: str, pid: int) -> None:
        self.groups[name] = psutil.Process(pid)

    def _sample(self) -> None:
        if self.postmaster_pid_file is not None:  # a restarted PostgreSQL has a new postmaster
            try:
                pid = int(self.postmaster_pid_file.read_text().split()[0])
                if pid != self.groups["postgresql"].pid:
                    self.groups["postgresql"] = psutil.Process(pid)
            except (OSError, ValueError, psutil.Error):
                pass
        try:
            own = psutil.Process().cpu_times()
            self.cpu["bench process (the refresh scenario)"][0] = own.user + own.system - self.own_start
        except psutil.Error:
            pass
        for name, root in list(self.groups.items()):
            try:
                members = [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
            for member in members:
                try:
                    times = member.cpu_times()
                except psutil.Error:
                    continue
                # What a process had used before the run (gunicorn building the app) is not counted.
                self.baseline.setdefault(member.pid, times.user + times.system if self.first else 0.0)
                self.cpu[name][member.pid] = times.user + times.system - self.baseline[member.pid]
                if name == "gunicorn" and member.pid != root.pid:
                    self._memory(member.pid)

    def _memory(self, pid: int) -> None:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        for key in ("VmHWM", "VmRSS"):
            if key in fields:
                self.peak_mb[pid] = max(self.peak_mb.get(pid, 0.0), int(fields[key].split()[0]) / 1024)

    def run(self) -> None:
        self._sample()  # the processes running before the load: their CPU time so far is the baseline
        self.first = False
        while not self.stopped.wait(1.0):
            self._sample()

    def stop(self) -> tuple[dict[int, float], dict[str, float]]:
        self._sample()
        self.stopped.set()
        end = psutil.cpu_times()
        busy = sum(end) - sum(self.machine_start) - (end.idle - self.machine_start.idle) - (
            getattr(end, "iowait", 0.0) - getattr(self.machine_start, "iowait", 0.0))
        cpu = {name: round(sum(times.values()), 1) for name, times in self.cpu.items()}
        cpu["machine (all processes)"] = round(busy, 1)
        cpu["machine capacity"] = round((time.time() - self.started) * (psutil.cpu_count() or 1), 1)
        return self.peak_mb, cpu


# --- scenarios ----------------------------------------------------------------------------------------

@dataclass
class Window:
    """When a scenario ran, and what it noted."""

    name: str
    start: float
    end: float | None = None
    notes: dict[str, Any] = field(default_factory=dict)


def _later(delay: float, func, *args) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(delay), func(*args)), daemon=True)
    thread.start()
    return thread


def restart_database(data_dir: Path, windows: list[Window]) -> None:
    """pg_ctl restart -m fast of the bench's embedded server: sessions are cut, it is down until it
    has started again."""
    import pgserver
    from pgserver._commands import pg_ctl

    server = pgserver.get_server((data_dir / "pg").resolve(), cleanup_mode=None)
    window = Window("database restart", time.time())
    windows.append(window)
    try:
        pg_ctl(["-w", "-m", "fast", "restart"], pgdata=server.pgdata, user=server.system_user)
    finally:
        window.end = time.time()
    window.notes["down_seconds"] = round(window.end - window.start, 2)


def refresh_data(url: str, volume: float, seed: int, windows: list[Window]) -> None:
    """A batch of new source records through the pipeline, then the scoring and text jobs."""
    from dashboard.db import Database
    from etl.demo_data.live import drop_batch
    from etl.intelligence.scoring import run_scoring
    from etl.pipeline import run_pipeline
    from etl.scheduler import INSIGHT_JOBS

    window = Window("data refresh", time.time())
    windows.append(window)
    database = Database().bind(url)
    try:
        with database.session() as session:
            as_of = session.scalar(text("SELECT max(day) FROM gold.daily_kpi"))
        now = datetime.combine(as_of, datetime.min.time(), tzinfo=UTC) + timedelta(hours=23, minutes=55)
        with tempfile.TemporaryDirectory() as landing:
            batch = drop_batch(database, Path(landing), now=now, volume=volume, seed=seed)
            window.notes["new_rows"] = sum(batch.rows.values())
            started = time.time()
            result = run_pipeline(database, Path(landing), triggered_by="bench-load")
            window.notes["pipeline_seconds"] = round(time.time() - started, 1)
            window.notes["pipeline_status"] = result.status
        started = time.time()
        run_scoring(database, triggered_by="bench-load")
        window.notes["scoring_seconds"] = round(time.time() - started, 1)
        module_name, runner = INSIGHT_JOBS["text_insights"]
        started = time.time()
        getattr(importlib.import_module(module_name), runner)(database, triggered_by="bench-load")
        window.notes["text_seconds"] = round(time.time() - started, 1)
    finally:
        database.dispose()
        window.end = time.time()


def hold_lock(url: str, table: str, seconds: float, windows: list[Window]) -> None:
    engine = create_engine(url)
    window = Window(f"lock on {table}", time.time())
    windows.append(window)
    try:
        with engine.connect() as conn:
            conn.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
            time.sleep(seconds)
            conn.rollback()
    finally:
        window.end = time.time()
        engine.dispose()


# --- the report -----------------------------------------------------------------------------------------

def _percentiles(ms: list[float]) -> tuple[float, float, float]:
    values = np.asarray(ms, dtype=float)
    return tuple(float(np.percentile(values, q)) for q in (50, 95, 99))  # type: ignore[return-value]


def summarise(events: list[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in events:
        groups[event[by]].append(event)
    rows = []
    for name, group in groups.items():
        p50, p95, p99 = _percentiles([e["ms"] for e in group])
        errors = [e for e in group if e["error"]]
        rows.append({"name": name, "requests": len(group), "errors": len(errors), "p50_ms": p50, "p95_ms": p95,
                     "p99_ms": p99, "statuses": sorted({e["status"] for e in errors})})
    return sorted(rows, key=lambda r: -r["p95_ms"])


def _print_rows(rows: list[dict[str, Any]], width: int) -> None:
    print(f"{'':<{width}} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for row in rows:
        flag = "  over" if row["p95_ms"] > TARGET_P95_MS else ""
        print(f"{row['name'][:width]:<{width}} {row['requests']:>9} {row['errors']:>7} {row['p50_ms']:>8.0f} "
              f"{row['p95_ms']:>8.0f} {row['p99_ms']:>8.0f}{flag}")


def scenario_figures(window: Window, events: list[dict[str, Any]], run_end: float,
                     all_windows: list[Window]) -> dict[str, Any]:
    end = window.end or run_end
    during = [e for e in events if window.start <= e["t"] <= end]
    outside = [e for e in events if e["t"] < window.start or e["t"] > end + RECOVERY_SECONDS]
    figures: dict[str, Any] = {"scenario": window.name, "seconds": round(end - window.start, 1), **window.notes}
    for label, group in (("during", during), ("outside", outside)):
        if group:
            p50, p95, p99 = _percentiles([e["ms"] for e in group])
            figures[label] = {"requests": len(group), "errors": sum(1 for e in group if e["error"]),
                              "p50_ms": round(p50), "p95_ms": round(p95), "p99_ms": round(p99)}
    if window.name == "database restart":
        # Until another scenario begins, whose own errors are its own.
        later = min((w.start for w in all_windows if w.start > end), default=run_end)
        after = [e for e in events if end < e["t"] < later]
        figures["watched_after_return_s"] = round(later - end, 1)
        failed_after = [e for e in after if e["error"]]
        figures["last_failure_after_return_s"] = round(max((e["t"] - end for e in failed_after), default=0.0), 2)
        figures["5xx_after_recovery"] = sum(1 for e in after if e["t"] > end + RECOVERY_SECONDS
                                            and e["status"] >= 500)
        figures["answers_while_down"] = sorted({e["status"] for e in during})
    elif window.name.startswith("lock on"):
        failed = summarise([e for e in during if e["error"]], "name")
        figures["panels_stopped"] = [row["name"] for row in failed]
        others = [e for e in during if not e["error"]]
        if others:
            figures["others_p95_ms"] = round(_percentiles([e["ms"] for e in others])[1])
    return figures


def print_report(events: list[dict[str, Any]], memory: dict[int, float], windows: list[Window],
                 run_end: float, args, *, all_arrived: float) -> dict[str, Any]:
    quiet = [e for e in events if not any(w.start <= e["t"] <= (w.end or run_end) + RECOVERY_SECONDS
                                          for w in windows)]
    p50, p95, p99 = _percentiles([e["ms"] for e in events])
    errors = [e for e in events if e["error"]]
    print(f"\n{args.scale} scale, {args.users} users for {args.minutes:g} min, think {args.think} s, gunicorn "
          f"{args.workers} workers x {args.threads} threads, page cache {'off' if args.no_cache else 'on'}")
    print(f"{len(events):,} requests ({len(events) / max(args.minutes * 60, 1):.1f}/s), {len(errors)} errors; "
          f"all requests p50 {p50:.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms")
    if quiet and len(quiet) != len(events):
        qp50, qp95, qp99 = _percentiles([e["ms"] for e in quiet])
        print(f"outside the scenarios: {len(quiet):,} requests, p50 {qp50:.0f}, p95 {qp95:.0f}, p99 {qp99:.0f} ms, "
              f"{sum(1 for e in quiet if e['error'])} errors")
    arrived = [e for e in events if e["t"] >= all_arrived]
    if arrived:
        ap50, ap95, ap99 = _percentiles([e["ms"] for e in arrived])
        print(f"once everyone had arrived ({args.users / args.spawn_rate:.0f} s in): {len(arrived):,} requests, "
              f"p50 {ap50:.0f}, p95 {ap95:.0f}, p99 {ap99:.0f} ms, {sum(1 for e in arrived if e['error'])} errors")
    print("\nby kind of request:")
    kinds = summarise(events, "kind")
    _print_rows(kinds, 24)
    names = summarise(quiet or events, "name")
    print("\nslowest 20 requests (p95, outside the scenarios):")
    _print_rows(names[:20], 90)
    if errors:
        print("\nerrors:")
        for row in summarise(errors, "name")[:20]:
            sample = next(e["error"] for e in errors if e["name"] == row["name"])
            print(f"  {row['requests']:>5} x {row['name'][:80]}  {row['statuses']}  {sample[:100]}")
    print("\ngunicorn workers' peak memory (RSS): " + ", ".join(
        f"pid {pid} {mb:.0f} MB" + ("  over" if mb > TARGET_WORKER_MB else "") for pid, mb in sorted(memory.items())))
    scenarios = [scenario_figures(w, events, run_end, windows) for w in windows]
    for figures in scenarios:
        print(f"\nscenario: {json.dumps(figures)}")
    return {"requests": len(events), "errors": len(errors), "p50_ms": p50, "p95_ms": p95, "p99_ms": p99,
            "kinds": kinds, "requests_by_name": names, "worker_peak_mb": memory, "scenarios": scenarios}


# --- the run ----------------------------------------------------------------------------------------------

def main() -> None:
    parser = app_bench_parser(__doc__, roles=",".join(ROLE_WEIGHTS))
    parser.add_argument("--users", type=int, default=100, help="simulated people at once")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the load runs")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn workers (one per core)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--think", default="5,15", help="seconds of think time between actions, MIN,MAX")
    parser.add_argument("--spawn-rate", type=float, default=2.0,
                        help="people arriving per second until --users are on (each signs in on arrival)")
    parser.add_argument("--no-cache", action="store_true", help="turn the page cache off")
    parser.add_argument("--restart-db-at", type=float, default=None, metavar="S")
    parser.add_argument("--refresh-at", type=float, default=None, metavar="S")
    parser.add_argument("--refresh-volume", type=float, default=30.0)
    parser.add_argument("--lock-table", default=None, metavar="SCHEMA.TABLE")
    parser.add_argument("--lock-at", type=float, default=60.0, metavar="S")
    parser.add_argument("--lock-seconds", type=float, default=60.0)
    args = parser.parse_args()
    roles = chosen_roles(parser, args.roles)

    url = prepared_database(args.scale, args.seed, args.data_dir, rebuild=args.rebuild)
    python = locust_python(args.data_dir)
    app = bench_app(url, args.data_dir)
    logins = ensure_load_users(roles)
    started = time.perf_counter()
    script = {"roles": {role: {"weight": ROLE_WEIGHTS.get(role, 10),
                               "logins": [record_script(app, role, email) for email, _ in users]}
                        for role, users in logins.items()}}
    print(f"recorded what {sum(len(u) for u in logins.values())} users' pages post in "
          f"{time.perf_counter() - started:.0f}s", flush=True)
    db.dispose()
    run_dir = args.data_dir / "load"
    run_dir.mkdir(parents=True, exist_ok=True)
    script_path, events_path = run_dir / "script.json", run_dir / "events.jsonl"
    script_path.write_text(json.dumps(script))
    events_path.unlink(missing_ok=True)

    limits = {"C360_LOGIN_LIMIT_ACCOUNT": "100000 per minute", "C360_LOGIN_LIMIT_IP": "100000 per minute"}
    os.environ.update(limits)
    server, base = serve(url, args.data_dir, cache=not args.no_cache, workers=args.workers, threads=args.threads,
                         secret_key=SECRET_KEY)
    pid_file = args.data_dir / "pg" / "postmaster.pid"
    watch = ProcessWatch({"gunicorn": server.pid, "postgresql": int(pid_file.read_text().split()[0])}, pid_file)
    windows: list[Window] = []
    if args.restart_db_at is not None:
        _later(args.restart_db_at, restart_database, args.data_dir, windows)
    if args.refresh_at is not None:
        _later(args.refresh_at, refresh_data, url, args.refresh_volume, args.seed, windows)
    if args.lock_table:
        _later(args.lock_at, hold_lock, url, args.lock_table, args.lock_seconds, windows)
    seconds = round(args.minutes * 60)
    env = {**os.environ, "C360_LOAD_SCRIPT": str(script_path), "C360_LOAD_EVENTS": str(events_path),
           "C360_LOAD_THINK": args.think}
    try:
        locust = subprocess.Popen([str(python), "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--users",
                                   str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time",
                                   f"{seconds}s", "--host", base, "--only-summary", "--stop-timeout", "15",
                                   "--loglevel", "WARNING"], env=env)
        load_started = time.time()
        watch.add("locust (the simulated users)", locust.pid)
        watch.start()
        locust.wait()
        run_end = time.time()
    finally:
        peak, cpu = watch.stop()
        server.terminate()
        server.wait(timeout=60)
    events = [json.loads(line) for line in events_path.read_text().splitlines() if line.strip()]
    if not events:
        raise SystemExit("locust recorded no request")
    figures = print_report(events, peak, windows, run_end, args,
                           all_arrived=load_started + args.users / args.spawn_rate)
    print("\nCPU seconds: " + ", ".join(f"{name} {seconds:.0f}" for name, seconds in cpu.items()))
    figures["cpu_seconds"] = cpu
    if args.json:
        args.json.write_text(json.dumps({"scale": args.scale, "users": args.users, "minutes": args.minutes,
                                         "workers": args.workers, "threads": args.threads, **figures},
                                        indent=2, default=str))
        print(f"\nfigures saved to {args.json}")


if __name__ == "__main__":
    main()
