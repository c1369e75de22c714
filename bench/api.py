"""Benchmark every GET endpoint of the data API with a bearer token; prints p50/p95 per endpoint.

    python bench/api.py [--scale small|medium|large] [--seed 0] [--repeat 20] [--ids 8]
                        [--roles admin,support_lead] [--data-dir /tmp/c360-bench-pages] [--rebuild] [--json out.json]

Requests go through Flask's test client (in-process, no network), authenticated as a script would
be: `Authorization: Bearer <token>` of a bench user per role. Endpoints are read from the API's
registry (dashboard.api.OPERATIONS), so one added later is measured without touching this file.
Path variables take `--ids` customers drawn from the data (with the seed); /customers is timed
twice, searching a piece of those customers' names and listing without `q`. Each URL is called
once to warm the caches, then `--repeat` times; p50 and p95 are over every call of the endpoint.
Each role times the endpoints its role may call.
Rows over target are marked: GET /customers/{account_id} above 50 ms p95, any other above the
requirements' 200 ms.

The database is prepared once per scale and seed (bench/_prepare.py, shared with bench/pages.py)
and reused afterwards.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))

from _prepare import prepared_database  # noqa: E402
from pages import app_bench_parser, bench_app, chosen_roles, ensure_bench_users  # noqa: E402

from dashboard.api import OPERATIONS, PREFIX  # noqa: E402
from dashboard.extensions import db  # noqa: E402
from dashboard.permissions import AUTHENTICATED, DEFAULT_ROLES  # noqa: E402
from dashboard.scope import scope_for_user_id  # noqa: E402
from dashboard.tables.app import User  # noqa: E402
from dashboard.tables.gold import Customer360  # noqa: E402
from dashboard.tables.intelligence import Alert  # noqa: E402
from dashboard.tokens import create_token  # noqa: E402

TARGETS_MS = {"/customers/{account_id}": 50.0}
DEFAULT_TARGET_MS = 200.0
VARIABLE = re.compile(r"{([^}]+)}")


@dataclass
class EndpointFigures:
    role: str
    endpoint: str
    urls: int
    times_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def target_ms(self) -> float:
        path = self.endpoint.split(" ", 1)[1].split("?", 1)[0]
        return TARGETS_MS.get(path, DEFAULT_TARGET_MS)

    def summary(self) -> dict:
        p50 = float(np.percentile(self.times_ms, 50)) if self.times_ms else None
        p95 = float(np.percentile(self.times_ms, 95)) if self.times_ms else None
        return {"role": self.role, "endpoint": self.endpoint, "urls": self.urls, "n": len(self.times_ms),
                "p50_ms": p50, "p95_ms": p95, "target_ms": self.target_ms,
                "over_target": p95 is not None and p95 > self.target_ms, "errors": sorted(set(self.errors))[:3]}


def sample_ids(rng: random.Random, n: int, email: str) -> dict[str, list[str]]:
    """Customers in the user's scope (and an alert of theirs, for alert paths) drawn from the data, and
    pieces of their names: a scoped role would only time 404s on customers it may not see."""
    with db.session() as session:
        in_scope = scope_for_user_id(session, session.scalar(select(User.id).where(User.email == email))) \
            .customer_filter()
        all_ids = session.scalars(select(Customer360.account_id).where(in_scope).order_by(Customer360.account_id)).all()
        accounts = rng.sample(list(all_ids), min(n, len(all_ids)))
        names = session.scalars(select(Customer360.account_name).where(Customer360.account_id.in_(accounts))).all()
        alerts = session.scalars(select(func.min(Alert.alert_id))
                                 .join(Customer360, Customer360.account_id == Alert.account_id).where(in_scope)
                                 .group_by(Alert.account_id).limit(n)).all()

    def piece(name: str) -> str:
        size = rng.randint(3, 5)
        start = rng.randint(0, max(len(name) - size, 0))
        return name[start:start + size]

    return {"account_id": accounts, "alert_id": [str(a) for a in alerts], "q": [piece(name) for name in names]}


@dataclass(frozen=True)
class Planned:
    permissions: tuple[str, ...]
    urls: list[str]


def planned_urls(samples: dict[str, list[str]]) -> dict[str, Planned]:
    """'GET <openapi path>' -> the permissions it needs and the URLs that time it (every documented GET)."""
    plan: dict[str, Planned] = {}
    for path, permissions in sorted({(op.openapi_path, op.permissions) for op in OPERATIONS if op.method == "GET"}):
        names = VARIABLE.findall(path)
        count = max((len(samples[name]) for name in names), default=1)
        urls = [PREFIX + VARIABLE.sub(lambda m, i=i: samples[m.group(1)][i % len(samples[m.group(1)])], path)
                for i in range(count)]
        if path == "/customers":
            plan["GET /customers?q="] = Planned(permissions, [f"{urls[0]}?q={q}" for q in samples["q"]])
            plan["GET /customers (no q)"] = Planned(permissions, [f"{urls[0]}?page={page}"
                                                                  for page in range(1, len(samples["q"]) + 1)])
        else:
            plan[f"GET {path}"] = Planned(permissions, urls)
    return plan


def bench_tokens(logins: dict[str, tuple[str, str]]) -> dict[str, str]:
    """role -> a fresh API token of the role's bench user."""
    tokens = {}
    with db.begin() as session:
        for role, (email, _password) in logins.items():
            user_id = session.scalar(select(User.id).where(User.email == email))
            tokens[role] = create_token(session, user_id, name="bench api", actor="bench")[1]
    return tokens


def measure(app, tokens: dict[str, str], plans: dict[str, dict[str, Planned]], repeat: int) -> list[EndpointFigures]:
    """Every endpoint each role may call (the others would only time a 403), `repeat` times per URL of
    the role's plan."""
    client = app.test_client()
    held = {role.name: {AUTHENTICATED, *role.permissions} for role in DEFAULT_ROLES}
    figures = []
    for role, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        for endpoint, planned in plans[role].items():
            if not set(planned.permissions) <= held[role]:
                continue
            urls = planned.urls
            row = EndpointFigures(role, endpoint, len(urls))
            for url in urls:  # warm up once, as a running server would be
                client.get(url, headers=headers)
            for _ in range(repeat):
                for url in urls:
                    started = time.perf_counter()
                    response = client.get(url, headers=headers)
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status_code == 200:
                        row.times_ms.append(elapsed)
                    else:
                        row.errors.append(f"{response.status_code} {url}")
            print(f"  {role} {endpoint}", file=sys.stderr, flush=True)
            figures.append(row)
    return figures


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def print_report(figures: list[EndpointFigures]) -> None:
    header = f"{'role':<14} {'endpoint':<44} {'urls':>4} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'target':>7}  flags"
    print(header)
    print("-" * len(header))
    rows = [f.summary() for f in figures]
    for row in rows:
        flags = " ".join((["OVER TARGET"] if row["over_target"] else []) + row["errors"])
        print(f"{row['role']:<14} {row['endpoint']:<44} {row['urls']:>4} {row['n']:>5} {_ms(row['p50_ms']):>8} "
              f"{_ms(row['p95_ms']):>8} {row['target_ms']:>7.0f}  {flags}")
    over = [r for r in rows if r["over_target"]]
    failed = [r for r in rows if r["errors"]]
    print(f"\n{len(rows)} endpoint rows timed, {len(over)} over target, {len(failed)} with non-200 answers.")


def main() -> None:
    parser = app_bench_parser(__doc__, repeat_help="timed calls per URL",
                              roles="admin,support_lead")  # support_lead: money as bands
    parser.add_argument("--ids", type=int, default=8, help="customers (and search terms) per endpoint")
    args = parser.parse_args()
    roles = chosen_roles(parser, args.roles)

    url = prepared_database(args.scale, args.seed, args.data_dir, rebuild=args.rebuild)
    app = bench_app(url, args.data_dir, cache=args.cache)
    logins = ensure_bench_users(roles)
    tokens = bench_tokens(logins)
    plans = {role: planned_urls(sample_ids(random.Random(args.seed), args.ids, email))
             for role, (email, _password) in logins.items()}
    started = time.perf_counter()
    figures = measure(app, tokens, plans, args.repeat)
    print(f"\n{args.scale} scale, seed {args.seed}, {args.repeat} repeats, {args.ids} ids, "
          f"measured in {time.perf_counter() - started:.0f}s\n")
    print_report(figures)
    if args.json:
        args.json.write_text(json.dumps({"scale": args.scale, "seed": args.seed, "repeat": args.repeat,
                                         "endpoints": [{**f.summary(), **asdict(f)} for f in figures]}, indent=2))
        print(f"\nfigures saved to {args.json}")


if __name__ == "__main__":
    main()
