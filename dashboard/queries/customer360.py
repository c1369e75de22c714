"""The Customer 360 overview of one customer (master account): header, KPI cards with their
12-month series, why the customer is at risk, its alerts, and its next-best actions with the
services that schedule and execute them (the REST API calls the same functions).

Every function takes the caller's data scope; a customer outside it reads exactly like an unknown
one (None, or `NotFound` from the services). Money passes the caller's `MaskPolicy`: without
`view_financials` an amount comes back as a band and money series are not read at all.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dashboard import audit
from dashboard.masking import MaskPolicy, amount_band
from dashboard.permissions import EXECUTE_ACTIONS
from dashboard.queries.insights import account_anomalies
from dashboard.queries.intelligence import SEVERITY_ORDER, AlertItem, account_alerts
from dashboard.queries.scores import HEALTH_WEIGHTS
from dashboard.scope import DataScope, scope_for_user_id
from dashboard.tables.app import Role, User
from dashboard.tables.gold import Customer360, DailyKpi
from dashboard.tables.intelligence import (
    AccountEngagement,
    AccountHealth,
    ChurnPrediction,
    CustomerLifetimeValue,
    NextBestAction,
)
from dashboard.tables.silver import Account as SilverAccount
from etl.intelligence import actions as action_log

# Usage trend: mean daily active users of the last 30 days against the 90 days before them
# (as the churn features' usage_trend_90d); beyond +/- this share it is increasing or declining.
USAGE_TREND_THRESHOLD = 0.10
USAGE_TRENDS = ("increasing", "stable", "declining")
ACTION_CATEGORIES = ("Retention", "Growth", "Support", "Billing")
# What a person may still do with an action in each status.
ACTIONABLE = ("open", "scheduled")
MONTHS = 12


class NotFound(LookupError):
    """No such action or customer in the caller's scope (an unknown id and an out-of-scope one read alike)."""


class ActionClosed(ValueError):
    """The action was executed, dismissed or expired: nobody may act on it any more."""


# --- Header -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountHeader:
    """Who the customer is: name, badges and headline figures."""

    account_id: str
    account_name: str
    segment: str  # the account type: Enterprise, SMB, Wholesale ...
    engagement_tier: str | None  # Potential, Watch List, Alert
    health_band: str | None
    risk_level: str | None
    region: str
    regions: tuple[str, ...]
    territory: str | None
    country: str | None
    industry: str | None
    status: str
    customer_since: date | None
    annual_revenue_usd: Decimal | None  # ARR (12 x MRR on the as-of day); None when masked
    annual_revenue_band: str | None  # set instead of the amount without view_financials
    yoy_growth_pct: float | None  # MRR against 365 days before; None when masked or no MRR then
    financials_hidden: bool
    regional_account_ids: tuple[str, ...]


def account_header(session: Session, account_id: str, scope: DataScope, policy: MaskPolicy) -> AccountHeader | None:
    """The header of a customer in scope, or None (unknown or outside the scope)."""
    if not isinstance(account_id, str) or not account_id:
        return None
    found = session.execute(
        select(Customer360, AccountHealth.health_band, AccountEngagement.tier, SilverAccount.country)
        .outerjoin(AccountHealth, AccountHealth.account_id == Customer360.account_id)
        .outerjoin(AccountEngagement, AccountEngagement.account_id == Customer360.account_id)
        .outerjoin(SilverAccount, SilverAccount.account_id == Customer360.account_id)
        .where(Customer360.account_id == account_id, scope.customer_filter())).one_or_none()
    if found is None:
        return None
    customer, band, tier, country = found
    arr = customer.arr_usd
    return AccountHeader(
        account_id=customer.account_id, account_name=customer.account_name, segment=customer.segment,
        engagement_tier=tier, health_band=band, risk_level=customer.risk_level, region=customer.region,
        regions=tuple(customer.regions or ()), territory=customer.territory,
        country=country, industry=customer.industry, status=customer.status,
        customer_since=customer.created_at.date() if customer.created_at else None,
        annual_revenue_usd=arr if policy.view_financials else None,
        annual_revenue_band=None if policy.view_financials else amount_band(arr),
        yoy_growth_pct=customer.mrr_yoy_growth_pct if policy.view_financials else None,
        financials_hidden=not policy.view_financials,
        regional_account_ids=tuple(customer.regional_account_ids or ()))


# --- KPI cards ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountKpi:
    """One KPI card: the value now, its month-end series (oldest first) and, for money without
    `view_financials`, a band instead of the value and no series."""

    key: str  # glossary key
    value: float | None
    value_format: str  # usd, count, minutes, percent
    series: tuple[float | None, ...]
    band: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class ClvInputs:
    """What the lifetime-value models saw for this customer (weekly periods, as the scoring job):
    BG/NBD's frequency (repeat payment weeks), recency and age T in weeks, and gamma-gamma's mean
    repeat payment; P(alive) and the projections as gold.clv stored them."""

    frequency: int
    recency_weeks: int
    age_weeks: int
    monetary_value_usd: float | None  # None when masked
    p_alive: float | None
    historical_revenue_usd: float | None
    projected_12m_usd: float | None
    projected_36m_usd: float | None


@dataclass(frozen=True)
class AccountKpis:
    as_of: date
    months: tuple[date, ...]  # the month ends of the series (the last is the as-of day)
    kpis: dict[str, AccountKpi]
    clv: ClvInputs | None  # None until the scoring job ran


def as_of_day(session: Session) -> date | None:
    """The last day of data (gold.daily_kpi), the day gold.customer_360 describes."""
    return session.scalar(select(DailyKpi.day).order_by(DailyKpi.day.desc()).limit(1))


# The month ends of the 12 months up to the as-of day (the last one is the as-of day itself).
MONTH_ENDS = """
    SELECT LEAST(CAST(m + interval '1 month' - interval '1 day' AS date), CAST(:as_of AS date)) AS month_end
    FROM generate_series(date_trunc('month', CAST(:as_of AS date)) - interval '11 months',
                         date_trunc('month', CAST(:as_of AS date)), interval '1 month') AS m
"""
# No per-account monthly gold table holds these series; for one customer they are one cheap
# set-based query over gold.subscription_mrr_daily (MRR, services, MRR a year earlier), silver.tickets
# and silver.payments, keyed by its regional accounts. The MRR view is read LATERAL, one month end at
# a time, so the day reaches its rate lookups (index probes) instead of expanding every day of the data.
SERIES_SQL = f"""
WITH months AS ({MONTH_ENDS}),
mrr AS (
    SELECT mo.month_end, d.mrr_usd, d.services, y.mrr_usd AS mrr_year_ago_usd
    FROM months mo
    CROSS JOIN LATERAL (
        SELECT round(sum(v.mrr_usd), 2) AS mrr_usd, count(v.subscription_id) AS services
        FROM gold.subscription_mrr_daily v
        WHERE v.day = mo.month_end AND v.account_id = ANY(CAST(:accounts AS text[]))) d
    CROSS JOIN LATERAL (
        SELECT round(sum(v.mrr_usd), 2) AS mrr_usd
        FROM gold.subscription_mrr_daily v
        WHERE v.day = mo.month_end - 365 AND v.account_id = ANY(CAST(:accounts AS text[]))) y
), tickets AS (
    SELECT mo.month_end,
           count(t.ticket_id) FILTER (WHERE t.resolved_at IS NULL OR t.resolved_at >= CAST(mo.month_end + 1
                                                                                           AS timestamptz))
               AS open_tickets,
           avg(t.first_response_minutes) FILTER (WHERE t.first_response_at IS NOT NULL
                                                   AND t.created_at >= date_trunc('month', mo.month_end))
               AS first_response_minutes,
           count(*) FILTER (WHERE t.first_response_at IS NOT NULL AND t.sla_first_response_minutes IS NOT NULL
                              AND t.created_at >= date_trunc('month', mo.month_end)) AS sla_responded,
           count(*) FILTER (WHERE t.first_response_minutes <= t.sla_first_response_minutes
                              AND t.created_at >= date_trunc('month', mo.month_end)) AS sla_met
    FROM months mo LEFT JOIN silver.tickets t
      ON t.account_id = ANY(CAST(:accounts AS text[])) AND t.created_at < CAST(mo.month_end + 1 AS timestamptz)
    GROUP BY mo.month_end
), paid AS (
    SELECT mo.month_end, sum(p.amount_usd) AS paid_usd
    FROM months mo LEFT JOIN silver.payments p
      ON p.account_id = ANY(CAST(:accounts AS text[])) AND p.amount_usd > 0
     AND p.paid_at < CAST(mo.month_end + 1 AS timestamptz)
    GROUP BY mo.month_end
)
SELECT mo.month_end, m.mrr_usd, m.services, m.mrr_year_ago_usd, t.open_tickets,
       t.first_response_minutes, t.sla_responded, t.sla_met, pd.paid_usd
FROM months mo
JOIN mrr m USING (month_end) JOIN tickets t USING (month_end) JOIN paid pd USING (month_end)
ORDER BY mo.month_end
"""
# SLA compliance now: responded tickets with an SLA target created in the 90 days to the as-of
# day (the window of the average first response) answered within the target.
SLA_NOW_SQL = """
SELECT count(*) FILTER (WHERE first_response_minutes <= sla_first_response_minutes) AS met,
       count(*) AS responded
FROM silver.tickets
WHERE account_id = ANY(CAST(:accounts AS text[])) AND first_response_at IS NOT NULL
  AND sla_first_response_minutes IS NOT NULL
  AND CAST(created_at AS date) > CAST(:as_of AS date) - 90 AND CAST(created_at AS date) <= CAST(:as_of AS date)
"""
# The lifetime-value models' inputs for one customer, in weeks as the scoring job counts them:
# payment weeks (date_trunc('week')), repeat weeks after the first, their span and mean value.
CLV_INPUTS_SQL = """
WITH weeks AS (
    SELECT CAST(date_trunc('week', paid_at) AS date) AS week, sum(amount_usd) AS amount_usd
    FROM silver.payments
    WHERE account_id = ANY(CAST(:accounts AS text[])) AND amount_usd > 0
      AND paid_at < CAST(CAST(:as_of AS date) + 1 AS timestamptz)
    GROUP BY 1
), ranked AS (
    SELECT week, amount_usd, row_number() OVER (ORDER BY week) AS n FROM weeks
)
SELECT count(*) - 1 AS frequency,
       (max(week) - min(week)) / 7 AS recency_weeks,
       (CAST(date_trunc('week', CAST(:as_of AS date)) AS date) - min(week)) / 7 AS age_weeks,
       CAST(avg(amount_usd) FILTER (WHERE n > 1) AS double precision) AS monetary_value_usd
FROM ranked
HAVING count(*) > 0
"""


def _floats(values: list) -> tuple[float | None, ...]:
    return tuple(None if v is None else float(v) for v in values)


def _share(met: int, responded: int) -> float | None:
    return met / responded if responded else None


def _growth(now: float | None, before: float | None) -> float | None:
    """The change against a year earlier as a fraction; none without MRR then."""
    return (now - before) / before if now is not None and before else None


def _money(key: str, value: float | None, series: tuple[float | None, ...], policy: MaskPolicy,
           note: str | None = None) -> AccountKpi:
    if policy.view_financials:
        return AccountKpi(key, value, "usd", series, note=note)
    return AccountKpi(key, None, "usd", (), band=amount_band(value), note=note)


def account_kpis(session: Session, account_id: str, scope: DataScope, policy: MaskPolicy) -> AccountKpis | None:
    """The seven KPI cards of a customer in scope with their month-end series; None outside the scope."""
    customer = session.scalar(select(Customer360).where(Customer360.account_id == account_id,
                                                        scope.customer_filter()))
    as_of = as_of_day(session)
    if customer is None or as_of is None:
        return None
    params = {"accounts": list(customer.regional_account_ids or [account_id]), "as_of": as_of}
    rows = session.execute(text(SERIES_SQL), params).all()
    sla = session.execute(text(SLA_NOW_SQL), params).one()
    value = session.get(CustomerLifetimeValue, account_id)
    months = tuple(r.month_end for r in rows)
    mrr = _floats([r.mrr_usd for r in rows])
    growth = tuple(_growth(now, float(r.mrr_year_ago_usd) if r.mrr_year_ago_usd is not None else None)
                   for now, r in zip(mrr, rows, strict=True))
    paid = _floats([r.paid_usd or 0 for r in rows])
    clv_value = float(value.clv_usd) if value is not None else None
    kpis = {
        "clv_usd": _money("clv_usd", clv_value, paid, policy,
                          note=None if value is not None else "Not scored yet: the scoring job has not run"),
        "mrr_usd": _money("mrr_usd", float(customer.mrr_usd), mrr, policy),
        "active_services": AccountKpi("active_services", float(customer.active_services), "count",
                                      _floats([r.services for r in rows])),
        "open_tickets": AccountKpi("open_tickets", float(customer.open_tickets), "count",
                                   _floats([r.open_tickets for r in rows])),
        "avg_first_response_minutes": AccountKpi(
            "avg_first_response_minutes", customer.avg_first_response_minutes, "minutes",
            _floats([r.first_response_minutes for r in rows])),
        "sla_compliance": AccountKpi("sla_compliance", _share(sla.met, sla.responded), "percent",
                                     tuple(_share(r.sla_met, r.sla_responded) for r in rows)),
        "yoy_growth_pct": (AccountKpi("yoy_growth_pct", None if customer.mrr_yoy_growth_pct is None
                                      else customer.mrr_yoy_growth_pct / 100, "percent", growth)
                           if policy.view_financials else
                           AccountKpi("yoy_growth_pct", None, "percent", (),
                                      note="Hidden: growth of revenue needs the financials permission")),
    }
    return AccountKpis(as_of, months, kpis, _clv_inputs(session, params, value, policy))


def _clv_inputs(session: Session, params: dict, value: CustomerLifetimeValue | None,
                policy: MaskPolicy) -> ClvInputs | None:
    if value is None:
        return None
    row = session.execute(text(CLV_INPUTS_SQL), params).one_or_none()
    money = policy.view_financials

    def usd(amount: Decimal | float | None) -> float | None:
        return float(amount) if money and amount is not None else None

    return ClvInputs(
        frequency=int(row.frequency) if row else 0, recency_weeks=int(row.recency_weeks) if row else 0,
        age_weeks=int(row.age_weeks) if row else 0, monetary_value_usd=usd(row.monetary_value_usd if row else None),
        p_alive=value.p_alive, historical_revenue_usd=usd(value.historical_revenue_usd),
        projected_12m_usd=usd(value.projected_12m_usd), projected_36m_usd=usd(value.projected_36m_usd))


# --- Why at risk -------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskFactor:
    label: str
    sentence: str
    raises_risk: bool


@dataclass(frozen=True)
class Anomaly:
    metric: str
    detected_on: date
    severity: str
    description: str


@dataclass(frozen=True)
class RiskPanel:
    """Churn score and level with its factors, the health score's weighted parts, the usage trend
    and recent anomalies; a part is None (or empty) until its job ran."""

    churn_score: float | None
    risk_level: str | None
    churn_probability: float | None
    factors: tuple[RiskFactor, ...]
    health_score: float | None
    health_band: str | None
    health_parts: dict[str, float]  # payment, support, usage, engagement: 0-100 each
    health_weights: dict[str, int]
    usage_trend: str | None  # increasing, stable, declining; None without usage data
    usage_change: float | None  # the 30-day mean against the 90 days before, minus 1
    anomalies: tuple[Anomaly, ...]
    scored_at: datetime | None


USAGE_SQL = """
WITH days AS (
    SELECT usage_date, CAST(sum(active_users) AS double precision) AS users
    FROM silver.usage_daily
    WHERE account_id = ANY(CAST(:accounts AS text[])) AND usage_date > CAST(:as_of AS date) - 120
      AND usage_date <= CAST(:as_of AS date)
    GROUP BY usage_date
)
SELECT avg(users) FILTER (WHERE usage_date > CAST(:as_of AS date) - 30) AS last_30d,
       avg(users) FILTER (WHERE usage_date <= CAST(:as_of AS date) - 30) AS before_90d
FROM days
"""


def usage_trend(change: float | None) -> str | None:
    """'increasing', 'stable' or 'declining' for a relative change of usage (see USAGE_TREND_THRESHOLD)."""
    if change is None:
        return None
    if change > USAGE_TREND_THRESHOLD:
        return "increasing"
    if change < -USAGE_TREND_THRESHOLD:
        return "declining"
    return "stable"


def risk_panel(session: Session, account_id: str, scope: DataScope, *, anomalies: int = 5) -> RiskPanel | None:
    """Why the customer may be at risk; None outside the scope."""
    found = session.execute(
        select(Customer360.regional_account_ids, ChurnPrediction, AccountHealth)
        .outerjoin(ChurnPrediction, ChurnPrediction.account_id == Customer360.account_id)
        .outerjoin(AccountHealth, AccountHealth.account_id == Customer360.account_id)
        .where(Customer360.account_id == account_id, scope.customer_filter())).one_or_none()
    as_of = as_of_day(session)
    if found is None or as_of is None:
        return None
    regional, churn, health = found
    usage = session.execute(text(USAGE_SQL), {"accounts": list(regional or [account_id]), "as_of": as_of}).one()
    change = usage.last_30d / usage.before_90d - 1 if usage.last_30d is not None and usage.before_90d else None
    factors = tuple(RiskFactor(str(f.get("label") or f.get("feature") or ""), str(f.get("sentence") or ""),
                               float(f.get("contribution") or 0) > 0)
                    for f in (churn.contributing_factors if churn else []) or [])
    found_anomalies = account_anomalies(session, scope, account_id=account_id, limit=anomalies)
    scored = [p.scored_at for p in (churn, health) if p is not None]
    return RiskPanel(
        churn_score=churn.churn_risk_score if churn else None, risk_level=churn.risk_level if churn else None,
        churn_probability=churn.churn_probability if churn else None, factors=factors,
        health_score=health.health_score if health else None, health_band=health.health_band if health else None,
        health_parts=({"payment": health.payment_score, "support": health.support_score,
                       "usage": health.usage_score, "engagement": health.engagement_component} if health else {}),
        health_weights=dict(HEALTH_WEIGHTS), usage_trend=usage_trend(change), usage_change=change,
        anomalies=tuple(Anomaly(r.metric, r.detected_on, r.severity, r.description)
                        for r in found_anomalies.itertuples()),
        scored_at=max(scored) if scored else None)


# --- Alerts ------------------------------------------------------------------------------


def risk_alerts(session: Session, account_id: str, scope: DataScope) -> list[AlertItem] | None:
    """The customer's unresolved alerts, most severe and newest first; None outside the scope."""
    if session.scalar(select(Customer360.account_id).where(Customer360.account_id == account_id,
                                                           scope.customer_filter())) is None:
        return None
    return account_alerts(session, account_id, scope)


# --- Next-best actions -------------------------------------------------------------------


@dataclass(frozen=True)
class ActionState:
    """A recommended action as everyone sees it now."""

    action_id: str
    account_id: str
    priority: str
    category: str  # Retention, Growth, Support, Billing
    title: str
    description: str
    expected_outcome: str
    impact_usd: Decimal | None  # None when masked
    impact_band: str | None
    source: str  # the rule or model that raised it, in words
    status: str
    acted_by: str | None
    acted_at: datetime | None
    scheduled_for: date | None
    owner: str | None


def action_source(rule_id: str) -> str:
    """'Rule retention_call' or 'Churn model: factor days_overdue'."""
    if rule_id.startswith("factor:"):
        return f"Churn model, factor {rule_id.split(':', 1)[1]}"
    return f"Rule {rule_id}"


def _state(row: NextBestAction, policy: MaskPolicy) -> ActionState:
    impact = row.estimated_impact_revenue_usd
    return ActionState(
        action_id=row.recommendation_id, account_id=row.customer_id, priority=row.priority,
        category=row.action_type, title=row.action_title, description=row.action_description,
        expected_outcome=row.expected_outcome, impact_usd=impact if policy.view_financials else None,
        impact_band=None if policy.view_financials else amount_band(impact), source=action_source(row.rule_id),
        status=row.status, acted_by=row.acted_by, acted_at=row.acted_at, scheduled_for=row.scheduled_for,
        owner=row.owner)


def _in_scope(scope: DataScope):  # noqa: ANN202 - a SQLAlchemy select
    return (select(NextBestAction).join(Customer360, Customer360.account_id == NextBestAction.customer_id)
            .where(scope.customer_filter()))


def next_best_actions(session: Session, account_id: str, scope: DataScope, policy: MaskPolicy, *,
                      recent_closed: int = 5) -> list[ActionState] | None:
    """Open and scheduled actions (highest priority and impact first), then the latest executed
    ones; None outside the scope."""
    if session.scalar(select(Customer360.account_id).where(Customer360.account_id == account_id,
                                                           scope.customer_filter())) is None:
        return None
    stmt = _in_scope(scope).where(NextBestAction.customer_id == account_id)
    active = session.scalars(stmt.where(NextBestAction.status.in_(ACTIONABLE))).all()
    done = session.scalars(stmt.where(NextBestAction.status == "executed")
                           .order_by(NextBestAction.acted_at.desc()).limit(recent_closed)).all()
    ordered = sorted(active, key=lambda r: (SEVERITY_ORDER.get(r.priority, 9), -float(r.estimated_impact_revenue_usd)))
    return [_state(r, policy) for r in (*ordered, *done)]


def _actionable(session: Session, scope: DataScope, action_id: str) -> NextBestAction:
    if not isinstance(action_id, str) or not action_id:
        raise NotFound("no such action")
    row = session.scalar(_in_scope(scope).where(NextBestAction.recommendation_id == action_id))
    if row is None:
        raise NotFound(f"no action {action_id!r}")
    if row.status not in ACTIONABLE:
        raise ActionClosed(f"this action is already {row.status}")
    return row


def _audit_hook(session: Session, actor: str):  # noqa: ANN202 - etl's AuditHook
    # In the action's own transaction: the audit row is kept exactly when the change is.
    return functools.partial(audit.record_in, session, actor=actor)


@dataclass(frozen=True)
class Owner:
    email: str
    name: str


def action_owners(session: Session, account_id: str | None = None) -> list[Owner]:
    """Who may own a scheduled action: active users whose role may act on actions and, for an action
    on `account_id`, whose data scope holds that account (an owner who cannot open it cannot act)."""
    rows = session.execute(select(User.id, User.email, User.full_name).join(Role, Role.name == User.role_name)
                           .where(User.is_active, Role.permissions.contains([EXECUTE_ACTIONS]))
                           .order_by(User.full_name, User.email)).all()
    if account_id is not None:
        rows = [r for r in rows if scope_for_user_id(session, r.id).allows_account(session, account_id)]
    return [Owner(email, name or email) for _, email, name in rows]


def action_account(session: Session, scope: DataScope, action_id: str) -> str | None:
    """The account an action in scope is about, or None."""
    if not isinstance(action_id, str) or not action_id:
        return None
    row = session.scalar(_in_scope(scope).where(NextBestAction.recommendation_id == action_id))
    return None if row is None else row.customer_id


def execute_action(session: Session, scope: DataScope, action_id: str, *, actor: str,
                   policy: MaskPolicy | None = None) -> ActionState:
    """Mark an open or scheduled action in scope executed by `actor`, audited; NotFound outside the
    scope, ValueError when it is no longer open."""
    row = _actionable(session, scope, action_id)
    action_log.execute_action(session, row.recommendation_id, actor=actor, outcome_status="pending",
                              audit=_audit_hook(session, actor))
    return _state(row, policy or MaskPolicy(view_pii=False, view_financials=False))


def schedule_action(session: Session, scope: DataScope, action_id: str, *, actor: str, due_on: date | str,
                    owner: str, today: date | None = None, policy: MaskPolicy | None = None) -> ActionState:
    """Schedule an open or scheduled action in scope for `due_on` (today or later), owned by an
    active user who may act on actions; audited. NotFound outside the scope (checked first, so an unknown
    id reads the same whatever else was sent), ActionClosed when it is closed, ValueError for bad input."""
    row = _actionable(session, scope, action_id)
    if isinstance(due_on, str):
        try:
            due_on = date.fromisoformat(due_on[:10])
        except ValueError as exc:
            raise ValueError("the day must be a date such as 2026-12-01") from exc
    if not isinstance(due_on, date):
        raise ValueError("pick the day the action is due")
    if due_on < (today or date.today()):
        raise ValueError("the day an action is due cannot be in the past")
    if owner not in {o.email for o in action_owners(session, row.customer_id)}:
        raise ValueError("pick an owner among the people who may act on actions and see this account")
    action_log.execute_action(session, row.recommendation_id, actor=actor, outcome_status="pending",
                              action="scheduled", scheduled_for=due_on, owner=owner,
                              audit=_audit_hook(session, actor))
    return _state(row, policy or MaskPolicy(view_pii=False, view_financials=False))


__all__ = ["ACTION_CATEGORIES", "USAGE_TRENDS", "USAGE_TREND_THRESHOLD", "AccountHeader", "ActionClosed", "AccountKpi", "AccountKpis",
           "ActionState", "action_account", "ClvInputs", "NotFound", "Owner", "RiskPanel", "account_header", "account_kpis",
           "action_owners", "execute_action", "next_best_actions", "risk_alerts", "risk_panel", "schedule_action",
           "usage_trend"]
