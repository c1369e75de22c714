"""Benchmark every page's callbacks as each role; prints server times and their ratio to bare SQL.

    python bench/pages.py [--scale small|medium|large] [--seed 0] [--repeat 20] [--roles admin,executive]
                          [--data-dir /tmp/c360-bench-pages] [--rebuild] [--json out.json]

For each role, the bench signs in with Flask's test client (in-process, no network) and, for every
page the role may open, does what the browser does: it asks Dash's router for the page, reads
/_dash-dependencies, and posts to /_dash-update-component every server-side callback whose inputs
are on the page, with the components' values from the layout. Callbacks are found from the app
alone, so a page or callback added later is measured without touching this file. A page with a
path template ("/accounts/<account_id>") is opened once per sample customer in the role's scope
(the largest by MRR, the most at risk, the smallest paying one) and reported under its template.
Account and sales managers see only their CRM book, so the bench links theirs to the CRM user who
owns the most customers. Each dropdown,
checklist, radio and date range input is also changed a few times (first option, two options,
a shorter range), as a person filtering would.

Per callback it reports the server time (wall time of the request; p50 and p95 over all calls),
then re-runs the SQL reads that the request made, straight on a driver connection, and reports
their time and the ratio server / SQL: the cost of everything but the database. Rows over the
targets are marked: p95 above 100 ms, or ratio above 3.

Not timed, and listed as such: callbacks that only a click fires (prevent_initial_call, e.g. "save",
"run job now"), clientside callbacks (they never reach the server), and background callbacks.

The database is prepared once per scale and seed (bench/_prepare.py) and reused afterwards.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import event, func, select

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))

from _prepare import DEFAULT_DATA_DIR, prepared_database  # noqa: E402

from dashboard.app import create_app  # noqa: E402
from dashboard.extensions import db  # noqa: E402
from dashboard.permissions import AUTHENTICATED, ROLE_NAMES, sync_default_roles  # noqa: E402
from dashboard.scope import SCOPED_ROLES, scope_for_user_id  # noqa: E402
from dashboard.settings import Settings  # noqa: E402
from dashboard.tables.app import Role, User  # noqa: E402
from dashboard.tables.gold import Customer360  # noqa: E402
from dashboard.tables.intelligence import ChurnPrediction  # noqa: E402
from dashboard.users import create_user  # noqa: E402
from layouts.pages import HOME, PAGES, PageSpec  # noqa: E402

DASH_ROUTE = "/_dash-update-component"
TARGET_P95_MS = 100.0
TARGET_RATIO = 3.0
BENCH_PASSWORD = "bench-pages-Correct-Horse-42"
SHELL = "(shell)"
# Wildcards of pattern-matching ids, as /_dash-dependencies spells them.
WILDCARDS = ('["ALL"]', '["MATCH"]', '["ALLSMALLER"]')
READ_STATEMENT = re.compile(r"^\s*(SELECT|WITH|VALUES|TABLE|SHOW)\b", re.IGNORECASE)
WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE|TRUNCATE)\b", re.IGNORECASE)
MAX_ALTERNATIVES = 2
USER_ACTION = "fires only on a user action (prevent_initial_call)"
BACKGROUND = "background callback (runs in a worker process)"


# --- what is measured ------------------------------------------------------------------------------

@dataclass
class Call:
    """One request to time: a callback with the values of one filter setting."""

    page: str
    key: str
    variant: str
    body: dict[str, Any]
    sample: str = ""  # which account filled a page's path variable ("large ACC-1"), if any


@dataclass
class Skipped:
    page: str
    key: str
    reason: str


@dataclass
class VariantFigures:
    variant: str
    status: int
    server_ms: list[float] = field(default_factory=list)
    sql_ms: list[float] = field(default_factory=list)
    sql_in_request_ms: float = 0.0
    statements: int = 0


@dataclass
class CallbackFigures:
    """Every timing of one callback on one page for one role."""

    role: str
    page: str
    key: str
    variants: list[VariantFigures] = field(default_factory=list)

    @property
    def server_ms(self) -> list[float]:
        return [ms for v in self.variants for ms in v.server_ms]

    @property
    def sql_ms(self) -> list[float]:
        return [ms for v in self.variants for ms in v.sql_ms]

    @property
    def errors(self) -> list[str]:
        return [f"{v.variant}: HTTP {v.status}" for v in self.variants if v.status not in (200, 204)]

    def summary(self) -> dict[str, Any]:
        server, sql = self.server_ms, self.sql_ms
        p50 = _percentile(server, 50)
        p95 = _percentile(server, 95)
        sql_p50 = _percentile(sql, 50)
        ratio = p50 / sql_p50 if p50 is not None and sql_p50 else None
        return {"role": self.role, "page": self.page, "callback": self.key, "outputs": outputs_label(self.key),
                "n": len(server), "p50_ms": p50, "p95_ms": p95, "sql_p50_ms": sql_p50, "ratio": ratio,
                "statements": max((v.statements for v in self.variants), default=0),
                "over_target": over_target(p95, ratio), "errors": self.errors}


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def over_target(p95: float | None, ratio: float | None) -> list[str]:
    """Which targets a callback misses: p95 above 100 ms, ratio above 3."""
    misses = []
    if p95 is not None and p95 > TARGET_P95_MS:
        misses.append(f"p95>{TARGET_P95_MS:.0f}ms")
    if ratio is not None and ratio > TARGET_RATIO:
        misses.append(f"ratio>{TARGET_RATIO:.0f}")
    return misses


def outputs_label(key: str) -> str:
    """'a.children' or '..a.children...b.data..' -> 'a.children, b.data'."""
    return ", ".join(key[2:-2].split("...")) if key.startswith("..") else key


# --- the page as the browser sees it -----------------------------------------------------------

def component_key(component_id: Any) -> str:
    """The string Dash uses for an id: itself, or a dict as sorted compact JSON."""
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return str(component_id)


def components(tree: Any) -> Iterator[dict[str, Any]]:
    """Every serialised component with an id in a Dash layout or response."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "type" in node and isinstance(node.get("props"), dict) and "id" in node["props"]:
                yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def index_components(tree: Any) -> dict[str, dict[str, Any]]:
    """id key -> {"id", "type", "props"} of every component in `tree`."""
    return {component_key(c["props"]["id"]): {"id": c["props"]["id"], "type": c["type"], "props": c["props"]}
            for c in components(tree)}


def _pattern(component_id: str) -> dict[str, Any] | None:
    return json.loads(component_id) if component_id.startswith("{") else None


def _matches(pattern: dict[str, Any], candidate: Any) -> bool:
    if not isinstance(candidate, dict) or set(candidate) != set(pattern):
        return False
    return all(isinstance(v, list) or candidate[k] == v for k, v in pattern.items())


def _resolve(dep: dict[str, Any], available: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The components a dependency refers to (several for a wildcard id)."""
    pattern = _pattern(dep["id"])
    if pattern is None:
        found = available.get(dep["id"])
        return [found] if found else []
    return [c for c in available.values() if _matches(pattern, c["id"])]


def _item(component: dict[str, Any], prop: str, values: dict[str, Any]) -> dict[str, Any]:
    key = f"{component_key(component['id'])}.{prop}"
    return {"id": component["id"], "property": prop,
            "value": values[key] if key in values else component["props"].get(prop)}


def _dependency_items(deps: list[dict[str, Any]], available: dict[str, dict[str, Any]],
                      values: dict[str, Any]) -> list[Any]:
    items: list[Any] = []
    for dep in deps:
        found = _resolve(dep, available)
        if _pattern(dep["id"]) is not None and '["MATCH"]' not in dep["id"]:
            items.append([_item(c, dep["property"], values) for c in found])
        elif found:
            items.append(_item(found[0], dep["property"], values))
        else:
            items.append({"id": dep["id"], "property": dep["property"], "value": None})
    return items


def _outputs(spec: dict[str, Any], available: dict[str, dict[str, Any]]) -> Any:
    key = spec["output"]
    parts = key[2:-2].split("...") if key.startswith("..") else [key]
    outputs: list[Any] = []
    for part in parts:
        component_id, _, prop = part.rpartition(".")
        pattern = _pattern(component_id)
        if pattern is None:
            outputs.append({"id": component_id, "property": prop})
        elif '["MATCH"]' in component_id:
            found = [c for c in available.values() if _matches(pattern, c["id"])]
            outputs.append({"id": found[0]["id"] if found else pattern, "property": prop})
        else:
            outputs.append([{"id": c["id"], "property": prop}
                            for c in available.values() if _matches(pattern, c["id"])])
    return outputs if key.startswith("..") else outputs[0]


def request_body(spec: dict[str, Any], available: dict[str, dict[str, Any]], values: dict[str, Any] | None = None,
                 changed: list[str] | None = None) -> dict[str, Any]:
    """The body the renderer posts for callback `spec` (an entry of /_dash-dependencies), reading each
    input and state from the components on the page unless `values` ('id.prop' -> value) says otherwise.
    `changed` is empty on the page's first load, as in the browser."""
    values = values or {}
    return {"output": spec["output"], "outputs": _outputs(spec, available),
            "inputs": _dependency_items(spec.get("inputs", []), available, values),
            "state": _dependency_items(spec.get("state", []), available, values),
            "changedPropIds": changed or []}


def _option_values(options: Any) -> list[Any]:
    if isinstance(options, dict):
        return list(options)
    values = []
    for option in options or []:
        if isinstance(option, dict):
            if not option.get("disabled"):
                values.append(option.get("value"))
        else:
            values.append(option)
    return values


def _day(raw: Any) -> date | None:
    try:
        return date.fromisoformat(str(raw)[:10])
    except ValueError:
        return None


def _page_state_changes(key: str, state: dict[str, Any], choices: PageChoices) -> list[tuple[str, dict[str, Any]]]:
    """A page kit's URL state (a store with start, end and region, filled from the query string):
    the same changes a person makes with the page's filters, as the URL would carry them."""
    regions = choices.regions
    end = _day(state.get("end")) or choices.last_day
    if end is None:
        return []
    changes = [(f"{key}=last {days} days", {f"{key}.data": {**state, "start": (end - timedelta(days=days - 1))
                                                            .isoformat(), "end": end.isoformat()}})
               for days in (7, 30) if (end - timedelta(days=days - 1)).isoformat() != state.get("start")]
    if "region" in state:
        changes += [(f"{key}=region {pick}", {f"{key}.data": {**state, "region": pick}})
                    for pick in (regions[:1], regions[:2]) if pick and pick != state.get("region")]
    return changes


@dataclass(frozen=True)
class PageChoices:
    """What the page's own filters offer, for changing a URL-state store as they would."""

    regions: list[Any] = field(default_factory=list)
    last_day: date | None = None


def filter_changes(component: dict[str, Any], prop: str,
                   choices: PageChoices | None = None) -> list[tuple[str, dict[str, Any]]]:
    """A few other values a person might pick for this input: (label, {'id.prop': value})."""
    props, key = component["props"], component_key(component["id"])
    if prop == "value" and "options" in props:
        choices = [v for v in _option_values(props["options"]) if v is not None]
        current = props.get("value")
        multi = bool(props.get("multi")) or isinstance(current, list) or component["type"] == "Checklist"
        if multi:
            picks = [choices[:1], choices[:2]] if len(choices) > 1 else [choices[:1]]
            return [(f"{key}={pick}", {f"{key}.value": pick}) for pick in picks if pick and pick != current]
        others = [v for v in choices if v != current][:MAX_ALTERNATIVES]
        return [(f"{key}={v}", {f"{key}.value": v}) for v in others]
    if prop == "data" and component["type"] == "Store" and isinstance(props.get("data"), dict):
        return _page_state_changes(key, props["data"], choices or PageChoices())
    if prop in ("start_date", "end_date"):
        end = _day(props.get("end_date")) or _day(props.get("max_date_allowed"))
        if end is None:
            return []
        current = _day(props.get("start_date"))
        return [(f"{key}=last {days} days", {f"{key}.start_date": (end - timedelta(days=days - 1)).isoformat(),
                                             f"{key}.end_date": end.isoformat()})
                for days in (7, 30) if end - timedelta(days=days - 1) != current]
    return []


def _page_choices(page_content: dict[str, dict[str, Any]]) -> PageChoices:
    """The options of the page's region filter (a dropdown whose id ends in "regions") and the
    last day its date picker allows."""
    regions: list[Any] = []
    last_day: date | None = None
    for key, component in page_content.items():
        props = component.get("props", {})
        if key.endswith("regions") and "options" in props:
            regions = [v for v in _option_values(props["options"]) if v is not None]
        if last_day is None and ("end_date" in props or "max_date_allowed" in props):
            last_day = _day(props.get("end_date")) or _day(props.get("max_date_allowed"))
    return PageChoices(regions, last_day)


def _is_location(component: dict[str, Any]) -> bool:
    return component["type"] == "Location"


def _location_values(available: dict[str, dict[str, Any]], path: str) -> dict[str, Any]:
    """The URL the browser is on, for every Location component."""
    values: dict[str, Any] = {}
    for key, component in available.items():
        if _is_location(component):
            values.update({f"{key}.pathname": path, f"{key}.search": "", f"{key}.hash": "",
                           f"{key}.href": f"http://localhost{path}"})
    return values


def plan_calls(dependencies: list[dict[str, Any]], shell: dict[str, dict[str, Any]],
               page_content: dict[str, dict[str, Any]], path: str, done_shell: set[str],
               with_filters: bool = True) -> tuple[list[Call], list[Skipped]]:
    """The requests a visit to the page at `path` makes: each server callback whose inputs are on the page (with
    the shell), first with the layout's values, then with each filter input changed. Callbacks fed
    only by the shell are planned once (`done_shell`), except those that read the URL."""
    available = {**shell, **page_content}
    location = _location_values(available, path)
    choices = _page_choices(page_content)
    calls: list[Call] = []
    skipped: list[Skipped] = []
    for spec in dependencies:
        inputs = spec.get("inputs", [])
        if not inputs or spec.get("clientside_function") is not None:
            continue
        resolved = [_resolve(dep, available) for dep in inputs]
        if not all(resolved):
            continue
        on_page = any(component_key(c["id"]) in page_content for found in resolved for c in found)
        reads_url = any(_is_location(c) for found in resolved for c in found)
        owner = path if on_page or reads_url else SHELL
        if owner == SHELL:
            if spec["output"] in done_shell:
                continue
            done_shell.add(spec["output"])
        if spec.get("background"):
            skipped.append(Skipped(owner, spec["output"], BACKGROUND))
            continue
        if spec.get("prevent_initial_call") and not reads_url:
            skipped.append(Skipped(owner, spec["output"], USER_ACTION))
            continue
        # A callback reading the URL fires on every navigation to the page, initial call or not.
        navigation = [f"{dep['id']}.{dep['property']}" for dep, found in zip(inputs, resolved, strict=True)
                      if _is_location(found[0])][:1] if spec.get("prevent_initial_call") else []
        calls.append(Call(owner, spec["output"], "navigate" if navigation else "default",
                          request_body(spec, available, location, navigation)))
        if not with_filters:
            continue
        seen: set[str] = set()
        for dep, found in zip(inputs, resolved, strict=True):
            if _pattern(dep["id"]) is not None:
                continue
            for label, values in filter_changes(found[0], dep["property"], choices):
                if label in seen:
                    continue
                seen.add(label)
                changed = [f"{dep['id']}.{dep['property']}"]
                calls.append(Call(owner, spec["output"], label,
                                  request_body(spec, available, {**location, **values}, changed)))
    return calls, skipped


# --- signing in and timing -----------------------------------------------------------------------

def login(client, email: str, password: str) -> None:
    """Post the login form as a browser does, CSRF token included."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True))
    if not token:
        raise RuntimeError("the login form has no CSRF token")
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token.group(1)})
    if response.status_code != 302:
        raise RuntimeError(f"cannot sign in as {email}: HTTP {response.status_code}")


def pages_for_role(role: str) -> list[PageSpec]:
    """The pages a role's permissions open, home first."""
    with db.session() as session:
        permissions = set(session.scalar(select(Role.permissions).where(Role.name == role)) or ())
    return [spec for spec in (HOME, *PAGES) if spec.permission == AUTHENTICATED or spec.permission in permissions]


def sample_accounts(email: str) -> list[tuple[str, str]]:
    """A few customers in the user's scope to fill a page's `<account_id>`: the largest by MRR, the
    most at risk and the smallest paying one, as (kind, account id), without repeats."""
    with db.session() as session:
        user_id = session.scalar(select(User.id).where(User.email == email))
        in_scope = scope_for_user_id(session, user_id).customer_filter()
        account = select(Customer360.account_id).where(in_scope).limit(1)
        picks = {
            "large": account.order_by(Customer360.mrr_usd.desc(), Customer360.account_id),
            "at-risk": account.join(ChurnPrediction, ChurnPrediction.account_id == Customer360.account_id)
            .order_by(ChurnPrediction.churn_risk_score.desc(), Customer360.account_id),
            "small": account.where(Customer360.mrr_usd > 0).order_by(Customer360.mrr_usd, Customer360.account_id),
        }
        found = {kind: session.scalar(stmt) for kind, stmt in picks.items()}
    samples: list[tuple[str, str]] = []
    for kind, account_id in found.items():
        if account_id is not None and account_id not in {a for _, a in samples}:
            samples.append((kind, account_id))
    return samples


def page_visits(spec: PageSpec, samples: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(sample, path) of each visit to a page: its path, or for a page with a path template such as
    "/accounts/<account_id>" one visit per sample account (none when the scope holds no customer)."""
    if not spec.path_template:
        return [("", spec.path)]
    return [(f"{kind} {account_id}", spec.path_template.replace("<account_id>", account_id))
            for kind, account_id in samples]


@dataclass(frozen=True)
class _VisitLabel:
    """Reports a filled path (/accounts/A-1/journey) under its template, with the sample named in
    the variant, so one row sums up a callback over every sample account."""

    path: str
    page: str
    sample: str

    def calls(self, calls: list[Call]) -> list[Call]:
        for call in calls:
            if call.page == self.path:
                call.page, call.sample = self.page, self.sample
        return calls

    def skipped(self, skips: list[Skipped]) -> list[Skipped]:
        return [Skipped(self.page if s.page == self.path else s.page, s.key, s.reason) for s in skips]


class StatementLog:
    """The SQL a request runs, seen on the app's engine, with the time spent in the database."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.active = False
        self.statements: list[tuple[str, Any]] = []
        self.seconds = 0.0
        self._started: list[float] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.active:
            self._started.append(time.perf_counter())
            if not executemany:
                self.statements.append((statement, parameters))

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.active and self._started:
            self.seconds += time.perf_counter() - self._started.pop()

    def start(self) -> None:
        self.statements, self.seconds, self._started, self.active = [], 0.0, [], True

    def stop(self) -> list[tuple[str, Any]]:
        self.active = False
        return [(s, p) for s, p in self.statements if READ_STATEMENT.match(s) and not WRITES.search(s)]

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


def time_bare_sql(engine, reads: list[tuple[str, Any]], repeat: int) -> list[float]:
    """Milliseconds to run the same reads on a plain driver connection and fetch every row."""
    if not reads:
        return []
    timings = []
    connection = engine.raw_connection()
    try:
        for _ in range(repeat):
            cursor = connection.cursor()
            started = time.perf_counter()
            for statement, parameters in reads:
                cursor.execute(statement, parameters)
                if cursor.description is not None:
                    cursor.fetchall()
            timings.append((time.perf_counter() - started) * 1000)
            cursor.close()
            connection.rollback()
    finally:
        connection.close()
    return timings


def _post(client, body: dict[str, Any]) -> tuple[int, float, Any]:
    started = time.perf_counter()
    response = client.post(DASH_ROUTE, json=body)
    elapsed = (time.perf_counter() - started) * 1000
    payload = response.get_json(silent=True) if response.status_code == 200 else None
    return response.status_code, elapsed, payload


def _page_content(client, dependencies: list[dict[str, Any]], shell: dict[str, dict[str, Any]],
                  path: str) -> dict[str, dict[str, Any]]:
    """The page's components, from what the router callback answers for `path`."""
    router = next((spec for spec in dependencies if "_pages_content.children" in spec["output"]), None)
    if router is None:
        return {}
    status, _, payload = _post(client, request_body(router, shell, _location_values(shell, path)))
    if status != 200 or payload is None:
        raise RuntimeError(f"the router did not render {path}: HTTP {status}")
    return index_components(payload.get("response", {}))


def _apply_response(available: dict[str, dict[str, Any]], payload: Any) -> dict[str, dict[str, Any]]:
    """Components a callback put on the page, and its new property values, as the browser keeps them."""
    if not payload:
        return {}
    added = index_components(payload.get("response", {}))
    for component_id, props in payload.get("response", {}).items():
        component = available.get(component_id)
        if component is not None and isinstance(props, dict):
            component["props"].update(props)
    return added


def measure_role(app, role: str, email: str, password: str, repeat: int, *, with_filters: bool = True,
                 progress: Callable[[str], None] = lambda _: None) -> tuple[list[CallbackFigures], list[Skipped]]:
    """Sign in as `role`, open each page it may see, and time every callback the page fires."""
    client = app.test_client()
    login(client, email, password)
    dependencies = client.get("/_dash-dependencies").get_json()
    shell = index_components(client.get("/_dash-layout").get_json())
    statement_log = StatementLog(db.engine)
    results: dict[tuple[str, str], CallbackFigures] = {}
    skipped: list[Skipped] = []
    done_shell: set[str] = set()

    def time_into(call: Call, added: dict[str, dict[str, Any]]) -> None:
        figures = results.setdefault((call.page, call.key), CallbackFigures(role, call.page, call.key))
        figures.variants.append(_time_call(client, call, repeat, statement_log, added, page_content))

    samples = sample_accounts(email)
    try:
        for spec in pages_for_role(role):
            for sample, path in page_visits(spec, samples):
                progress(f"{role} {path}")
                page_content = _page_content(client, dependencies, shell, path)
                label = _VisitLabel(path, spec.path_template or spec.path, sample)
                timed: set[str] = set()
                # Callbacks can put components on the page that have callbacks of their own: a few rounds.
                for _ in range(3):
                    pending = [d for d in dependencies if d["output"] not in timed]
                    shell_before = set(done_shell)
                    calls, skips = plan_calls(pending, shell, page_content, path, done_shell, with_filters=False)
                    skipped.extend(label.skipped(skips))
                    timed.update(s.key for s in skips)
                    if not calls:
                        break
                    added: dict[str, dict[str, Any]] = {}
                    for call in label.calls(calls):
                        time_into(call, added)
                        timed.add(call.key)
                    if with_filters:
                        # Planned after the first calls: a filter's options may come from one (e.g. the user list).
                        keys = {call.key for call in calls}
                        changes, _ = plan_calls([d for d in pending if d["output"] in keys], shell, page_content,
                                                path, shell_before)
                        for call in label.calls(changes):
                            if call.variant not in ("default", "navigate"):
                                time_into(call, added)
                    if not added:
                        break
                    page_content.update(added)
    finally:
        statement_log.close()
    return list(results.values()), skipped


def _time_call(client, call: Call, repeat: int, statement_log: StatementLog, added: dict[str, dict[str, Any]],
               page_content: dict[str, dict[str, Any]]) -> VariantFigures:
    # The first request warms caches and records the SQL; it is not counted.
    statement_log.start()
    status, _, payload = _post(client, call.body)
    reads = statement_log.stop()
    label = f"{call.sample}: {call.variant}" if call.sample else call.variant
    figures = VariantFigures(label, status, statements=len(reads), sql_in_request_ms=statement_log.seconds * 1000)
    if status not in (200, 204):
        return figures
    if call.variant == "default":
        added.update(_apply_response(page_content, payload))
    for _ in range(repeat):
        status, elapsed, _ = _post(client, call.body)
        figures.server_ms.append(elapsed)
    figures.sql_ms = time_bare_sql(db.engine, reads, repeat)
    return figures


# --- the app, its users, the report --------------------------------------------------------------

def bench_app(database_url: str, data_dir: Path, *, cache: bool = False):
    """The app, built by its factory, on the prepared database; without its page cache unless `cache`
    (then repeated calls measure the cache, not the work)."""
    settings = Settings(env="development", secret_key="bench-" + "0" * 40, database_url=database_url,
                        data_dir=data_dir / "var", cache_url=None if cache else "none")
    return create_app(settings)


def ensure_bench_users(roles: list[str]) -> dict[str, tuple[str, str]]:
    """role -> (email, password) of a bench user per role, created on first use. Account and sales
    managers see only their CRM book, so theirs is linked to the CRM user owning the most customers."""
    logins = {}
    with db.begin() as session:
        sync_default_roles(session)
    with db.begin() as session:
        busiest_owner = session.scalar(
            select(Customer360.owner_user_id).where(Customer360.owner_user_id.is_not(None))
            .group_by(Customer360.owner_user_id).order_by(func.count().desc(), Customer360.owner_user_id).limit(1))
        for role in roles:
            email = f"bench-{role.replace('_', '-')}@bench.client360.dev"
            crm_user_id = busiest_owner if role in SCOPED_ROLES else None
            user = session.scalar(select(User).where(User.email == email))
            if user is None:
                create_user(session, email=email, role=role, password=BENCH_PASSWORD, crm_user_id=crm_user_id,
                            full_name=f"Bench {role.replace('_', ' ')}")
            elif user.crm_user_id is None and crm_user_id is not None:
                user.crm_user_id = crm_user_id
            logins[role] = (email, BENCH_PASSWORD)
    return logins


def measure(app, logins: dict[str, tuple[str, str]], repeat: int, *, with_filters: bool = True,
            progress: Callable[[str], None] = lambda _: None) -> tuple[list[CallbackFigures], list[Skipped]]:
    """Every role's callbacks on every page it may open; `with_filters=False` keeps to the layout's values."""
    figures: list[CallbackFigures] = []
    skipped: list[Skipped] = []
    for role, (email, password) in logins.items():
        role_figures, role_skipped = measure_role(app, role, email, password, repeat, with_filters=with_filters,
                                                  progress=progress)
        figures.extend(role_figures)
        skipped.extend(Skipped(f"{role} {s.page}", s.key, s.reason) for s in role_skipped)
    return figures, skipped


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def print_report(figures: list[CallbackFigures], skipped: list[Skipped]) -> None:
    width = max([15, *(len(f.page) for f in figures)])
    header = f"{'role':<18} {'page':<{width}} {'callback (outputs)':<52} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} " \
             f"{'SQL ms':>8} {'ratio':>6}  over target"
    print(header)
    print("-" * len(header))
    for row in (f.summary() for f in figures):
        outputs = row["outputs"] if len(row["outputs"]) <= 52 else row["outputs"][:49] + "..."
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.1f}"
        flags = " ".join(row["over_target"] + row["errors"])
        print(f"{row['role']:<18} {row['page']:<{width}} {outputs:<52} {row['n']:>4} {_ms(row['p50_ms']):>8} "
              f"{_ms(row['p95_ms']):>8} {_ms(row['sql_p50_ms']):>8} {ratio:>6}  {flags}")
    rows = [f.summary() for f in figures]
    over = [r for r in rows if r["over_target"]]
    print(f"\n{len(rows)} callbacks timed, {len(over)} over target "
          f"(p95 > {TARGET_P95_MS:.0f} ms or server/SQL > {TARGET_RATIO:.0f}).")
    worst = max((r["p95_ms"] for r in rows if r["p95_ms"] is not None), default=None)
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    if worst is not None:
        print(f"worst p95 {worst:.1f} ms; median ratio {statistics.median(ratios) if ratios else float('nan'):.1f}")
    if skipped:
        print("\nnot timed:")
        for item in sorted({(s.page.split(" ", 1)[-1], s.key, s.reason) for s in skipped}):
            print(f"  {item[0]:<{width}} {outputs_label(item[1])[:60]:<60} {item[2]}")


def app_bench_parser(description: str | None, *, repeat_help: str | None = None,
                     roles: str = ",".join(ROLE_NAMES)) -> argparse.ArgumentParser:
    """The arguments of a bench that drives the app as some roles: scale, seed, (repeat,) roles, where the
    prepared databases live, rebuild, and a JSON file for the figures."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--seed", type=int, default=0)
    if repeat_help is not None:
        parser.add_argument("--repeat", type=int, default=20, help=repeat_help)
    parser.add_argument("--roles", default=roles, help="comma-separated roles")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help="where the prepared databases are kept between runs")
    parser.add_argument("--rebuild", action="store_true", help="prepare the database again")
    parser.add_argument("--json", type=Path, default=None, help="also save the figures here")
    parser.add_argument("--cache", action="store_true",
                        help="keep the page cache on: repeated calls are then answered from it (default: off, "
                             "so every call does the work)")
    return parser


def chosen_roles(parser: argparse.ArgumentParser, roles: str | argparse.Namespace) -> list[str]:
    """The roles of `--roles`; an unknown one ends the run with the known ones listed."""
    text = roles.roles if isinstance(roles, argparse.Namespace) else roles
    chosen = [r.strip() for r in text.split(",") if r.strip()]
    unknown = sorted(set(chosen) - set(ROLE_NAMES))
    if unknown:
        parser.error(f"unknown role(s) {', '.join(unknown)}; choose from {', '.join(ROLE_NAMES)}")
    return chosen


def main() -> None:
    parser = app_bench_parser(__doc__, repeat_help="timed calls per callback and filter setting")
    args = parser.parse_args()
    roles = chosen_roles(parser, args.roles)

    url = prepared_database(args.scale, args.seed, args.data_dir, rebuild=args.rebuild)
    app = bench_app(url, args.data_dir, cache=args.cache)
    logins = ensure_bench_users(roles)
    started = time.perf_counter()
    figures, skipped = measure(app, logins, args.repeat, progress=lambda where: print(f"  {where}", flush=True,
                                                                                      file=sys.stderr))
    print(f"\n{args.scale} scale, seed {args.seed}, {args.repeat} repeats, page cache "
          f"{'on' if args.cache else 'off'}, measured in {time.perf_counter() - started:.0f}s\n")
    print_report(figures, skipped)
    if args.json:
        args.json.write_text(json.dumps({
            "scale": args.scale, "seed": args.seed, "repeat": args.repeat,
            "targets": {"p95_ms": TARGET_P95_MS, "ratio": TARGET_RATIO},
            "callbacks": [{**f.summary(), "variants": [asdict(v) for v in f.variants]} for f in figures],
            "not_timed": [asdict(s) for s in skipped],
        }, indent=2))
        print(f"\nfigures saved to {args.json}")


if __name__ == "__main__":
    main()
