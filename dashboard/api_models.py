"""Pydantic models of the data API: the query strings it reads and the JSON it answers.

They are the contract: the endpoint guard validates query strings with them (400 on a bad value),
views build their answers with them, and the OpenAPI document is generated from them.
Masked values are part of the contract: without `view_financials` an amount is a band such as
"$10k–$50k" (`Money`), without `view_pii` an email reads "j***@example.com".
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, RootModel, model_validator

from dashboard.api_errors import STORABLE_TEXT_PATTERN
from dashboard.queries.account_journey import EVENT_CATEGORIES, MAX_PER_PAGE, PER_PAGE
from dashboard.queries.accounts import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

MAX_TEXT = 200
Money = Annotated[float | str | None, Field(
    description="USD; a band such as \"$10k–$50k\" for roles without view_financials.")]
Text = Annotated[str, Field(max_length=MAX_TEXT, json_schema_extra={"pattern": STORABLE_TEXT_PATTERN})]
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: Any) -> Any:
    # Pydantic's lax dates also take numbers ("0.0" is 1970-01-01); the document promises ISO 8601 days.
    if not isinstance(value, date) and not (isinstance(value, str) and _ISO_DAY.fullmatch(value)):
        raise ValueError("must be a day such as 2026-01-31")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_day)]


class Query(BaseModel):
    """Query strings: unknown parameters are ignored, text is trimmed."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class Paging(Query):
    page: int = Field(1, ge=1, le=1_000_000, description="Page number, from 1.")
    per_page: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Rows per page.")


class AccountFilters(Query):
    search: Text = Field("", description="Part of the account's name or id, any case.")
    region: Text = Field("", description="Only this region.")
    territory: Text = Field("", description="Only this territory.")


class AccountsQuery(AccountFilters, Paging):
    pass


class CustomersQuery(Paging):
    q: Text = Field("", description=(
        "What to look for, as the navbar search: a piece of the customer's name, its id or a regional "
        "account id, and with `view_pii` a contact's email or phone number (any format); best matches "
        "first. Empty lists every customer in scope by name."))
    region: Text = Field("", description="Only this region.")
    territory: Text = Field("", description="Only this territory.")


def _known_types(value: str) -> str:
    unknown = sorted({t for t in value.split(",") if t not in EVENT_CATEGORIES})
    if unknown:
        raise ValueError(f"unknown type {', '.join(unknown)}; known: {', '.join(EVENT_CATEGORIES)}")
    return value


# One `type` value: a category, or several joined by commas (the pattern tells clients, the
# validator names the unknown ones).
TYPE_PATTERN = "^({0})(,({0}))*$".format("|".join(EVENT_CATEGORIES))
TimelineTypes = Annotated[str, Field(max_length=MAX_TEXT, json_schema_extra={"pattern": TYPE_PATTERN}),
                          AfterValidator(_known_types)]


class TimelineQuery(Query):
    """Types and dates are taken exactly as sent (no trimming): a bad one is a 400."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)

    type: list[TimelineTypes] = Field(default_factory=list, description=(
        "Only these categories (repeat the parameter or separate them with commas): "
        + ", ".join(f"`{key}` ({label.lower()})" for key, label in EVENT_CATEGORIES.items())
        + ". All when left out."))
    start: IsoDate | None = Field(None, description="First day (ISO 8601); 12 months before the last day of data "
                                                 "when left out.")
    end: IsoDate | None = Field(None, description="Last day, inclusive (ISO 8601); open-ended when left out, so "
                                               "booked meetings and scheduled actions show.")
    page: int = Field(1, ge=1, le=1_000_000, description="Page number, from 1; past the last page reads the last.")
    per_page: int = Field(PER_PAGE, ge=1, le=MAX_PER_PAGE, description="Events per page.")

    @model_validator(mode="after")
    def _start_before_end(self) -> Self:
        if self.start and self.end and self.start > self.end:
            raise ValueError("start must not be after end")
        return self

    @property
    def types(self) -> list[str]:
        return [t for value in self.type for t in value.split(",")]


class ScheduleBody(BaseModel):
    """When an action is due and who owns it."""

    model_config = ConfigDict(extra="forbid", title="ScheduleBody",
                              json_schema_extra={"examples": [{"due_on": "2030-01-31",
                                                               "owner": "am@example.com"}]})

    due_on: IsoDate = Field(description="The day it is due (ISO 8601), today or later.")
    owner: Annotated[str, Field(min_length=1, max_length=254, json_schema_extra={"pattern": STORABLE_TEXT_PATTERN})] = Field(
        description="Email of the owner: an active user whose role may act on actions (`execute_actions`).")


class MorningCoffeeQuery(Query):
    start: IsoDate | None = Field(None, description="First day (ISO 8601); the default period when left out. "
                                                 "Dates outside the data are clamped (see `notes`).")
    end: IsoDate | None = Field(None, description="Last day (ISO 8601).")
    regions: Annotated[str, Field(max_length=2000)] = Field(
        "", description="Regions, comma-separated; unknown ones are ignored (see `notes`).")


class AlertsQuery(Query):
    include_resolved: bool = Field(False, description="Resolved alerts too.")


class RecommendationsQuery(Query):
    include_closed: bool = Field(False, description="Executed, dismissed and expired ones too.")


# --- Answers ---------------------------------------------------------------------------


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Me(Answer):
    email: str
    role: str
    permissions: list[str]
    auth_method: str = Field(description="`session` or `token`.")
    territories: list[str]
    account_ids: list[str]


class Scope(Answer):
    unrestricted: bool = Field(description="Whether the caller sees every account.")
    territories: list[str]
    account_ids: list[str]


class Question(Answer):
    id: str
    persona: str
    question: str
    url: str = Field(description="A deep link to the page answering it.")
    answer_selector: str = Field(description="CSS selector of the element that answers it.")


class Questions(RootModel[list[Question]]):
    pass


class Account(Answer):
    account_id: str
    account_name: str | None
    segment: str | None
    industry: str | None
    region: str | None
    territory: str | None
    status: str | None
    mrr_usd: Money
    arr_usd: Money
    overdue_usd: Money
    clv_usd: Money
    mrr_yoy_growth_pct: float | None = Field(description="Empty for roles without view_financials.")
    active_services: int | None
    active_contacts: int | None
    open_tickets: int | None
    churn_risk_score: float | None
    risk_level: str | None
    health_score: float | None
    primary_contact_name: str | None
    primary_contact_email: str | None
    primary_contact_phone: str | None


class AccountPage(Answer):
    accounts: list[Account]
    total: int
    page: int
    per_page: int


class CustomerMatch(Answer):
    account_id: str
    account_name: str | None
    region: str | None
    territory: str | None
    segment: str | None
    risk_level: str | None
    matched_kind: str | None = Field(description="What matched `q`: id, regional_id, name, email or phone; "
                                                 "empty when listing without `q`.")
    matched_term: str | None = Field(description="The term that matched; an email or phone is masked without "
                                                 "view_pii.")


class CustomerPage(Answer):
    customers: list[CustomerMatch]
    total: int
    page: int
    per_page: int


class Contact(Answer):
    contact_id: str
    name: str | None
    job_title: str | None
    email: str | None
    phone: str | None
    is_primary: bool | None


class AccountDetail(Account):
    contacts: list[Contact]


class MorningCoffeeKpis(Answer):
    active_customers: int | None
    previous_active_customers: int | None
    active_contacts: int | None
    previous_active_contacts: int | None
    mrr_usd: Money
    previous_mrr_usd: Money
    new_leads: int | None = Field(description="Empty when the caller's scope is restricted.")
    new_leads_in_period: int | None
    median_first_response_minutes: float | None


class MrrPoint(Answer):
    day: date
    mrr_usd: Money


class RegionRevenue(Answer):
    region: str
    invoiced_usd: Money
    previous_invoiced_usd: Money


class TopAccount(Answer):
    account_id: str
    account_name: str | None
    region: str | None
    segment: str | None
    status: str | None
    mrr_usd: Money
    arr_usd: Money


class MorningCoffee(Answer):
    start: date
    end: date
    regions: list[str]
    scoped: bool = Field(description="Whether the caller's data scope is restricted.")
    notes: list[str] = Field(description="What was adjusted in the request, in words.")
    kpis: MorningCoffeeKpis
    mrr_trend: list[MrrPoint]
    revenue_by_region: list[RegionRevenue]
    top_accounts: list[TopAccount]


class Alert(Answer):
    alert_id: int
    account_id: str
    account_name: str | None
    kind: str = Field(description="sla_breach, payment_overdue, renewal_due, engagement_drop or churn_risk_jump.")
    severity: str = Field(description="HIGH, MEDIUM or LOW.")
    status: str = Field(description="open, acknowledged or resolved.")
    title: str
    description: str
    opened_at: datetime
    updated_at: datetime


class Alerts(Answer):
    alerts: list[Alert]


class AlertChange(Answer):
    alert_id: int
    account_id: str
    status: str
    acknowledged_by: str | None
    updated_at: datetime
    resolved_at: datetime | None


class Recommendation(Answer):
    recommendation_id: str
    customer_id: str
    rule_id: str
    priority: str = Field(description="HIGH, MEDIUM or LOW.")
    action_type: str
    action_title: str
    action_description: str
    expected_outcome: str
    estimated_impact_revenue_usd: Money
    status: str
    created_at: datetime
    acted_by: str | None
    acted_at: datetime | None
    outcome_status: str | None


class Recommendations(Answer):
    recommendations: list[Recommendation]


# --- The Customer 360 view ---------------------------------------------------------------


class CustomerHeader(Answer):
    account_id: str
    account_name: str
    segment: str | None
    engagement_tier: str | None = Field(description="Potential, Watch List or Alert.")
    health_band: str | None
    risk_level: str | None
    region: str | None
    regions: list[str]
    territory: str | None
    country: str | None
    industry: str | None
    status: str | None
    customer_since: date | None
    annual_revenue_usd: Money
    yoy_growth_pct: float | None = Field(description="MRR against a year before, in percent; empty for roles "
                                                     "without view_financials.")
    regional_account_ids: list[str]


class CustomerKpi(Answer):
    key: str = Field(description="The glossary key of the figure.")
    value: Money = Field(description="The figure now; for money a band such as \"$10k–$50k\" for roles "
                                     "without view_financials.")
    value_format: str = Field(description="usd, count, minutes or percent (a fraction: 0.25 is 25 %).")
    series: list[float | None] = Field(description="Month-end values, oldest first, one per `months`; empty "
                                                   "for money without view_financials.")
    note: str | None


class ClvInputs(Answer):
    frequency: int = Field(description="Repeat payment weeks (BG/NBD).")
    recency_weeks: int
    age_weeks: int
    monetary_value_usd: float | None = Field(description="Mean repeat payment (gamma-gamma); empty without "
                                                         "view_financials, like the amounts below.")
    p_alive: float | None
    historical_revenue_usd: float | None
    projected_12m_usd: float | None
    projected_36m_usd: float | None


class CustomerKpis(Answer):
    as_of: date = Field(description="The last day of data.")
    months: list[date] = Field(description="The month ends of the series (the last is `as_of`).")
    cards: dict[str, CustomerKpi] = Field(description="clv_usd, mrr_usd, active_services, open_tickets, "
                                                      "avg_first_response_minutes, sla_compliance, yoy_growth_pct.")
    clv: ClvInputs | None = Field(description="The lifetime-value models' inputs; empty until scoring ran.")


class ChurnFactor(Answer):
    label: str
    sentence: str
    raises_risk: bool


class CustomerAnomaly(Answer):
    metric: str
    detected_on: date
    severity: str
    description: str


class CustomerRisk(Answer):
    churn_score: float | None
    risk_level: str | None
    churn_probability: float | None
    factors: list[ChurnFactor] = Field(description="The churn model's top factors for this customer.")
    health_score: float | None
    health_band: str | None
    health_parts: dict[str, float] = Field(description="The health score's components, 0-100 each: payment, "
                                                       "support, usage, engagement.")
    health_weights: dict[str, int] = Field(description="Each component's weight in the health score.")
    usage_trend: str | None = Field(description="increasing, stable or declining.")
    usage_change: float | None = Field(description="Mean daily active users of the last 30 days against the 90 "
                                                   "days before, minus 1.")
    anomalies: list[CustomerAnomaly]
    scored_at: datetime | None


class CustomerAction(Answer):
    action_id: str
    account_id: str
    priority: str = Field(description="HIGH, MEDIUM or LOW.")
    category: str = Field(description="Retention, Growth, Support or Billing.")
    title: str
    description: str
    expected_outcome: str
    impact_usd: Money
    source: str = Field(description="The rule or model factor that raised it, in words.")
    status: str = Field(description="open, scheduled, executed, dismissed or expired.")
    acted_by: str | None
    acted_at: datetime | None
    scheduled_for: date | None
    owner: str | None


class LinkedAccount(Answer):
    account_id: str
    account_name: str
    region: str | None
    country: str | None
    confidence: int = Field(description="How sure identity resolution is that it is this customer, 0-100.")
    method: str = Field(description="single, exact, fuzzy, parent, shared_contact or manual.")
    is_master: bool


class CustomerContact(Answer):
    contact_id: str
    name: str
    job_title: str | None
    email: str | None = Field(description="Masked (j***@example.com) without view_pii.")
    phone: str | None = Field(description="Masked without view_pii.")
    is_primary: bool
    engagement_score: float | None
    engagement_tier: str | None
    conversations: int


class Customer360View(Answer):
    header: CustomerHeader
    kpis: CustomerKpis | None = Field(description="Empty until data has been loaded.")
    risk: CustomerRisk | None = Field(description="Empty until data has been loaded.")
    open_alerts: int = Field(description="Unresolved alerts (open or acknowledged); see /customers/{id}/alerts.")
    actions: list[CustomerAction] = Field(description="Open and scheduled actions, highest priority and impact "
                                                      "first, then the latest executed ones.")
    linked_accounts: list[LinkedAccount]
    contacts: list[CustomerContact] = Field(description="The customer's people, most engaged first.")


class TimelineEvent(Answer):
    event_id: str
    category: str
    title: str
    description: str | None = Field(description="PII masked without view_pii, amounts hidden without "
                                                "view_financials.")
    occurred_at: datetime
    severity: str
    status: str
    amount_usd: Money
    detail_kind: str | None = Field(description="ticket or invoice: what the event is about.")
    detail_id: str | None


class Timeline(Answer):
    account_id: str
    start: date
    end: date | None
    types: list[str]
    page: int
    per_page: int
    total: int = Field(description="Events of the chosen types in the window.")
    pages: int
    counts: dict[str, int] = Field(description="Events per category in the window, whatever the type filter.")
    events: list[TimelineEvent]
