"""The panels that read per-territory sums (gold.customer_summary, gold.churn_factor_territory) give
the figures of the per-customer queries they replace, for every scope the sums serve, and a scope
naming accounts by themselves reads the customers (those accounts count, outside its territories)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy
from dashboard.queries import executive_outlook as outlook
from dashboard.queries import strategy
from dashboard.queries.executive import MorningCoffeeFilters, data_date_bounds
from dashboard.queries.freshness import GoldStatus
from dashboard.queries.strategy import StrategyQuery
from dashboard.scope import DataScope
from dashboard.tables.gold import Customer360

FULL = MaskPolicy(view_pii=True, view_financials=True)


@pytest.fixture()
def session(insights_ran) -> Iterator[Session]:
    with insights_ran.session() as session:
        yield session


@pytest.fixture(scope="module")
def territories(insights_ran) -> list[str]:
    """The territories, most active customers first."""
    with insights_ran.session() as session:
        rows = session.execute(select(Customer360.territory).where(Customer360.status == "active",
                                                                   Customer360.territory.is_not(None))).scalars()
        return list(pd.Series(list(rows)).value_counts().index)


def _scopes(territories: list[str]) -> dict[str, DataScope]:
    return {"everything": DataScope.everything(), "one territory": DataScope.restricted_to(territories[:1]),
            "two territories": DataScope.restricted_to(territories[1:3]),
            "a territory without customers": DataScope.restricted_to(["T-nowhere"]),
            "nothing": DataScope.nothing()}


def _panels(session: Session, scope: DataScope) -> dict[str, Any]:
    """Every figure the summaries serve, for `scope`."""
    bounds = data_date_bounds(session)
    assert bounds is not None
    filters = MorningCoffeeFilters(date(2026, 10, 25), bounds.last, scope=scope)
    return {"risk": outlook.risk_distribution(session, filters, FULL),
            "headline": outlook.headline(session, filters, FULL, first_day=bounds.first),
            "lifetime value": strategy.lifetime_value(session, StrategyQuery(), scope, policy=FULL),
            "churn factors": strategy.churn_drivers(session, StrategyQuery(), scope, policy=FULL),
            "potential": strategy.potential(session, StrategyQuery(), scope, policy=FULL)}


def _plain(value: Any) -> Any:
    """A result as comparable values: frames as rounded records, dataclasses as dicts (without the
    validated page state, which holds the scope)."""
    if isinstance(value, pd.DataFrame):
        return value.round(6).astype(object).where(value.notna(), None).to_dict("records")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name != "resolved"}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, 6)
    return value


@pytest.mark.parametrize("name", ["everything", "one territory", "two territories", "a territory without customers",
                                  "nothing"])
def test_the_sums_give_the_per_customer_figures(session, territories, monkeypatch, name):
    scope = _scopes(territories)[name]
    assert scope.served_by_territory
    served = _plain(_panels(session, scope))
    monkeypatch.setattr(DataScope, "served_by_territory", property(lambda self: False))
    assert _plain(_panels(session, scope)) == served
    if name in ("everything", "one territory"):  # figures to compare, not only empty ones
        assert served["risk"]["by_churn"] and served["lifetime value"]["customers"] > 0
    if name == "everything":
        assert served["churn factors"]["high_risk_customers"] > 0 and served["potential"]["candidates"] > 0


def test_a_scope_naming_accounts_reads_the_customers(session, territories):
    """An account assigned by name counts, though outside the scope's territories: per-territory sums
    could not say so, the customers are read."""
    territory = territories[0]
    outsider = session.scalar(
        select(Customer360.account_id).where(Customer360.status == "active", Customer360.territory != territory,
                                             Customer360.clv_usd.is_not(None)).order_by(Customer360.account_id))
    assert outsider is not None
    alone, with_outsider = DataScope.restricted_to([territory]), DataScope.restricted_to([territory], [outsider])
    assert not with_outsider.served_by_territory
    before, after = _panels(session, alone), _panels(session, with_outsider)
    assert after["risk"].accounts == before["risk"].accounts + 1
    lifetime_before, lifetime_after = before["lifetime value"], after["lifetime value"]
    assert not isinstance(lifetime_before, GoldStatus) and not isinstance(lifetime_after, GoldStatus)
    assert lifetime_before is not None and lifetime_after is not None
    assert lifetime_after.customers == lifetime_before.customers + 1
    # Naming an account already in the territory changes nothing, whichever way it is read.
    inside = session.scalar(select(Customer360.account_id).where(Customer360.territory == territory)
                            .order_by(Customer360.account_id))
    assert _plain(_panels(session, DataScope.restricted_to([territory], [inside]))) == _plain(before)
