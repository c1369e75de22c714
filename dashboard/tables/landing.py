"""The landing contract: every file a source system drops, and its columns.

The demo-data generator writes exactly these files and columns; the bronze loader
creates one all-text table per dataset from this registry. Adding a source means
adding a `Dataset` here (and its silver/gold SQL), not changing the loader.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    """One exported file type: `<landing>/<system>/<name>*.csv`."""

    system: str
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    description: str = ""
    # Columns a file may leave out (older exports, sources without them): loaded as empty.
    optional: tuple[str, ...] = ()

    @property
    def bronze_table(self) -> str:
        return f"{self.system}_{self.name}"

    @property
    def file_glob(self) -> str:
        return f"{self.name}*.csv"


def _cols(spec: str) -> tuple[str, ...]:
    return tuple(spec.split())


DATASETS: tuple[Dataset, ...] = (
    # --- CRM -------------------------------------------------------------------------
    Dataset("crm", "users", _cols(
        "user_id full_name email role region territory manager_id is_active updated_at"),
        ("user_id",), "Sales reps, account managers and their managers."),
    Dataset("crm", "accounts", _cols(
        "account_id parent_account_id account_name account_type industry region country "
        "territory owner_user_id currency employee_count created_at status churned_at updated_at"),
        ("account_id",), "Companies; account_type is Wholesale, Enterprise or SMB."),
    Dataset("crm", "contacts", _cols(
        "contact_id account_id first_name last_name email phone country job_title "
        "is_primary created_at updated_at attributes"),
        ("contact_id",), "People at accounts; phone in E.164; attributes: the CRM's custom fields as a JSON object "
        "of string keys to scalar values, e.g. {\"tier\": \"gold\", \"newsletter\": true} (optional column, "
        "empty when the contact has none).", optional=("attributes",)),
    Dataset("crm", "leads", _cols(
        "lead_id created_at first_name last_name company email phone country region "
        "lead_source status owner_user_id converted_account_id updated_at"),
        ("lead_id",), "Prospects before they become accounts."),
    Dataset("crm", "products", _cols(
        "product_id product_name product_family list_price_usd is_recurring"),
        ("product_id",), "The catalogue."),
    Dataset("crm", "opportunities", _cols(
        "opportunity_id account_id owner_user_id opportunity_name stage amount currency "
        "probability created_at close_date is_closed is_won updated_at loss_reason next_step stage_entered_at"),
        ("opportunity_id",), "Deals; amount in the opportunity's currency; loss_reason on lost deals (empty when "
        "the rep gave none), next_step on open ones, stage_entered_at when the deal entered its current stage."),
    Dataset("crm", "opportunity_line_items", _cols(
        "line_item_id opportunity_id product_id quantity unit_price currency"),
        ("line_item_id",), "Products on a deal."),
    Dataset("crm", "subscriptions", _cols(
        "subscription_id account_id product_id start_date end_date mrr currency status updated_at"),
        ("subscription_id",), "Recurring services; end_date empty while active."),
    Dataset("crm", "price_changes", _cols(
        "price_change_id subscription_id account_id product_id effective_date old_mrr new_mrr currency reason"),
        ("price_change_id",), "Price changes of a running subscription: new_mrr is billed from effective_date "
        "(subscriptions.mrr keeps the price signed)."),
    Dataset("crm", "quotas", _cols("user_id quarter_start quota_usd updated_at"),
            ("user_id", "quarter_start"), "Sales quota per rep and calendar quarter (quarter_start is its first "
            "day), in USD."),
    Dataset("crm", "emails", _cols("email_id account_id user_id sent_at direction"),
            ("email_id",), "Emails between reps and accounts logged in the CRM; direction outbound or inbound."),
    Dataset("crm", "meetings", _cols(
        "meeting_id account_id user_id meeting_type scheduled_at duration_minutes outcome"),
        ("meeting_id",), "Calls, meetings and QBRs."),
    Dataset("crm", "onboarding_milestones", _cols(
        "milestone_id account_id milestone sequence owner_team planned_date completed_at"),
        ("milestone_id",), "Onboarding steps of a new customer, kickoff to go_live; completed_at empty while open."),
    # --- Support desk ----------------------------------------------------------------
    Dataset("support", "agents", _cols("agent_id full_name email team is_active"),
            ("agent_id",), "Support agents."),
    Dataset("support", "tickets", _cols(
        "ticket_id account_id contact_id created_at channel severity category subject "
        "sla_first_response_minutes first_response_at resolved_at status csat agent_id "
        "is_escalated updated_at product_id reopen_count"),
        ("ticket_id",), "Cases; severity P1..P4; csat 1-5 or empty; product_id empty when no product is concerned; "
                        "reopen_count: times the customer reopened it after it was resolved (0 or empty: never)."),
    Dataset("support", "conversations", _cols(
        "conversation_id account_id contact_id channel started_at assigned_agent_id status closed_at"),
        ("conversation_id",), "Chat/WhatsApp threads; assigned_agent_id empty when unassigned."),
    Dataset("support", "messages", _cols(
        "message_id conversation_id sent_at direction author_id body"),
        ("message_id",), "Messages in a conversation; direction inbound or outbound."),
    Dataset("support", "surveys", _cols(
        "survey_id account_id contact_id survey_type touchpoint sent_at responded_at nps_score csat_score comment"),
        ("survey_id",), "NPS (0-10) and CSAT (1-5) surveys sent to contacts; scores empty until answered. "
        "Ticket CSAT stays on tickets."),
    # --- Billing ---------------------------------------------------------------------
    Dataset("billing", "invoices", _cols(
        "invoice_id account_id invoice_number issue_date due_date amount currency status "
        "paid_at is_disputed updated_at"),
        ("invoice_id",), "Invoices in local currency; status paid, open, overdue or void."),
    Dataset("billing", "payments", _cols(
        "payment_id invoice_id account_id paid_at amount currency method"),
        ("payment_id",), "Payments against invoices."),
    Dataset("billing", "credit_holds", _cols(
        "hold_id account_id placed_at released_at reason"),
        ("hold_id",), "Credit holds placed on accounts."),
    Dataset("billing", "disputes", _cols(
        "dispute_id invoice_id account_id opened_at resolved_at reason amount currency status"),
        ("dispute_id",), "Invoice disputes; status open, upheld or rejected; amount disputed in the invoice currency."),
    Dataset("billing", "adjustments", _cols(
        "adjustment_id invoice_id account_id dispute_id kind amount currency reason created_at"),
        ("adjustment_id",), "Credit and debit notes against invoices (amount >= 0, kind credit or debit); "
        "dispute_id when a dispute led to it."),
    Dataset("billing", "fx_rates", _cols("rate_date currency usd_per_unit"),
            ("rate_date", "currency"), "Daily rates: one unit of currency in USD."),
    # --- Marketing -------------------------------------------------------------------
    Dataset("marketing", "campaigns", _cols(
        "campaign_id campaign_name channel objective start_date end_date cost currency status"),
        ("campaign_id",), "Campaigns; channel email, whatsapp or sms."),
    Dataset("marketing", "campaign_variants", _cols(
        "campaign_id variant template_name message_text"),
        ("campaign_id", "variant"), "A/B variants of a campaign."),
    Dataset("marketing", "sends", _cols(
        "send_id campaign_id variant contact_id channel sent_at delivered_at read_at "
        "replied_at status"),
        ("send_id",), "One row per recipient; timestamps empty when the step never happened."),
    Dataset("marketing", "replies", _cols("reply_id send_id contact_id received_at body"),
            ("reply_id",), "Inbound replies to campaign sends."),
    Dataset("marketing", "touchpoints", _cols(
        "touchpoint_id journey_id contact_id account_id occurred_at channel campaign_id "
        "converted conversion_value_usd"),
        ("touchpoint_id",), "Ordered marketing touches per journey, for attribution."),
    # --- Product usage and web -------------------------------------------------------
    Dataset("product", "usage_daily", _cols(
        "account_id usage_date active_users sessions api_calls data_gb"),
        ("account_id", "usage_date"), "Daily product usage per account."),
    Dataset("web", "sessions", _cols(
        "session_id started_at contact_id account_id source medium campaign_id pageviews "
        "duration_seconds converted"),
        ("session_id",), "Web-analytics sessions."),
)

DATASETS_BY_TABLE: dict[str, Dataset] = {d.bronze_table: d for d in DATASETS}


def dataset(system: str, name: str) -> Dataset:
    """Look up one dataset by system and name."""
    return DATASETS_BY_TABLE[f"{system}_{name}"]
