"""Benchmark the account search; prints p50/p95 of the query per kind of input and scope.

    python bench/search.py [--scale small|medium|large] [--seed 0] [--repeat 40]
                           [--data-dir /tmp/c360-bench-pages] [--rebuild]

The database is prepared once per scale and seed (bench/_prepare.py, shared with bench/pages.py)
and reused afterwards; large is 100k accounts. Inputs are drawn from the loaded data: pieces of
account names (3-5 letters, and 2-letter prefixes), whole and partial master ids, regional ids,
contact emails and phone numbers as people type them. Each is searched as the navbar does (ten
suggestions, with the total) unscoped, in a sales manager's region and in an account manager's
book; emails and phones with view_pii. The target is 150 ms at 100k accounts.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))
sys.path.insert(0, str(BENCH_DIR))

from _prepare import DEFAULT_DATA_DIR, prepared_database  # noqa: E402

from dashboard.db import Database  # noqa: E402
from dashboard.masking import MaskPolicy  # noqa: E402
from dashboard.queries import search  # noqa: E402
from dashboard.scope import DataScope  # noqa: E402
from dashboard.tables.gold import AccountSearch, Customer360  # noqa: E402
from dashboard.tables.silver import Contact  # noqa: E402

TARGET_MS = 150.0
PII = MaskPolicy(view_pii=True, view_financials=True)
NO_PII = MaskPolicy(view_pii=False, view_financials=True)


def sample_inputs(session, rng: random.Random, n: int) -> dict[str, list[str]]:
    """What people type, drawn from the loaded data; the same draw for the same seed, so runs compare."""
    session.execute(select(func.setseed(rng.random() * 2 - 1)))  # PostgreSQL's random() follows the seed
    names = session.scalars(select(Customer360.account_name).order_by(func.random()).limit(n)).all()
    ids = session.scalars(select(Customer360.account_id).order_by(func.random()).limit(n)).all()
    regional = session.scalars(select(AccountSearch.term).where(AccountSearch.kind == "regional_id")
                               .order_by(func.random()).limit(n)).all()
    emails = session.scalars(select(Contact.email).where(Contact.email.is_not(None))
                             .order_by(func.random()).limit(n)).all()
    phones = session.scalars(select(Contact.phone).where(Contact.phone.is_not(None))
                             .order_by(func.random()).limit(n)).all()

    def piece(name: str) -> str:
        size = rng.randint(3, 5)
        start = rng.randint(0, max(len(name) - size, 0))
        return name[start:start + size]

    return {
        "name fragment": [piece(name) for name in names],
        "name prefix (2)": [name[:2] for name in names],
        "whole id": list(ids),
        "partial id": [account_id[-5:] for account_id in ids],
        "regional id": list(regional) or list(ids),
        "email": list(emails),
        "email local part": [email.split("@")[0][:8] for email in emails],
        "phone": list(phones),
    }


def scopes(session) -> dict[str, DataScope]:
    """Unscoped; a sales manager's region (its territories); an account manager's book (one owner)."""
    region = session.execute(select(Customer360.region, func.array_agg(func.distinct(Customer360.territory)))
                             .where(Customer360.territory.is_not(None))
                             .group_by(Customer360.region).order_by(func.count().desc()).limit(1)).one()
    owner = session.execute(select(Customer360.owner_user_id, func.array_agg(Customer360.account_id))
                            .where(Customer360.owner_user_id.is_not(None))
                            .group_by(Customer360.owner_user_id).order_by(func.count().desc()).limit(1)).one()
    return {"unscoped": DataScope.everything(),
            f"region {region[0]}": DataScope.restricted_to(territories=region[1]),
            f"book of {len(owner[1])}": DataScope.restricted_to(account_ids=owner[1])}


def timed(call: Callable[[], int]) -> tuple[float, int]:
    """Milliseconds the call took, and what it returned."""
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="medium", choices=("small", "medium", "large"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=40, help="inputs per kind")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()

    database = Database().bind(prepared_database(args.scale, args.seed, args.data_dir, rebuild=args.rebuild))
    rng = random.Random(args.seed)
    try:
        with database.session() as session:
            customers = session.scalar(select(func.count()).select_from(Customer360))
            terms = session.scalar(select(func.count()).select_from(AccountSearch))
            print(f"\n{customers:,} customers, {terms:,} search terms ({args.scale})\n")
            inputs, all_scopes = sample_inputs(session, rng, args.repeat), scopes(session)
            # Warm the caches once, as a running server would be.
            for values in inputs.values():
                for value in values[:3]:
                    search.search_accounts(session, value, DataScope.everything(), PII)
            print(f"{'input':<18} {'scope':<22} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
                  f"{'avg hits':>9}")
            worst = 0.0
            for kind, values in inputs.items():
                policy = PII if kind.startswith(("email", "phone")) else NO_PII
                for scope_name, scope in all_scopes.items():
                    runs = [timed(lambda v=value, s=scope, p=policy: search.search_accounts(session, v, s, p).total)
                            for value in values]
                    times, hits = [ms for ms, _ in runs], [total for _, total in runs]
                    p50, p95 = float(np.percentile(times, 50)), float(np.percentile(times, 95))
                    worst = max(worst, p95)
                    flag = "  over target" if p95 > TARGET_MS else ""
                    print(f"{kind:<18} {scope_name:<22} {len(times):>4} {p50:8.1f} {p95:8.1f} {max(times):8.1f} "
                          f"{statistics.fmean(hits):9.1f}{flag}")
            fragment = inputs["name fragment"][0]
            statement = search._match_statement(search.normalise_query(fragment), DataScope.everything(), NO_PII,
                                                limit=search.SUGGESTION_LIMIT)
            # Compiled for the driver: its doubled '%' reach the server single.
            sql = str(statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
            plan = session.connection().exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql).scalars()
            print(f"\nplan for {fragment!r}:\n  " + "\n  ".join(plan))
            print(f"\nworst p95 {worst:.1f} ms (target {TARGET_MS:.0f} ms at 100k accounts)")
    finally:
        database.dispose()


if __name__ == "__main__":
    main()
