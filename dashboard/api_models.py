"""Pydantic models of the data API: the query strings it reads and the JSON it answers.

They are the contract: the endpoint guard validates query strings with them (400 on a bad value),
views build their answers with them, and the OpenAPI document is generated from them.
Masked values are part of the contract: without `view_financials` an amount is a band such as
"$10k–$50k" (`Money`), without `view_pii` an email reads "j***@example.com".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, RootModel

from dashboard.queries.accounts import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

MAX_TEXT = 200
Money = Annotated[float | str | None, Field(
    description="USD; a band such as \"$10k–$50k\" for roles without view_financials.")]
Text = Annotated[str, Field(max_length=MAX_TEXT)]


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
    q: Text = Field("", description="What to look for: part of the customer's name or id, any case.")
    region: Text = Field("", description="Only this region.")
    territory: Text = Field("", description="Only this territory.")


class MorningCoffeeQuery(Query):
    start: date | None = Field(None, description="First day (ISO 8601); the default period when left out. "
                                                 "Dates outside the data are clamped (see `notes`).")
    end: date | None = Field(None, description="Last day (ISO 8601).")
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


class CustomerPage(Answer):
    customers: list[Account]
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
