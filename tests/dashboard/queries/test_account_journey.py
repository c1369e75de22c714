"""The Journey and People & feedback queries on the loaded demo data: timeline counts, the MRR
bridge and masked contacts recomputed with pandas from the landing files; scope; link/unlink."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dashboard.masking import MaskPolicy, mask_email, mask_phone
from dashboard.permissions import MANAGE_USERS, VIEW_CUSTOMER360
from dashboard.queries import account_journey as q
from dashboard.scope import DataScope
from dashboard.tables.app import AuditEvent
from dashboard.tables.identity import AccountLinkOverride
from tests.etl.reference import Landing, typed

EVERYTHING = DataScope.everything()
FULL = MaskPolicy(view_pii=True, view_financials=True)
MASKED = MaskPolicy(view_pii=False, view_financials=False)


def _regional(session: Session, account_id: str) -> list[str]:
    return list(session.scalars(text("SELECT account_id FROM silver.account_master WHERE master_account_id = :a"),
                                {"a": account_id}))


def _busiest_account(session: Session, sql: str) -> str:
    account_id = session.scalar(text(sql))
    assert account_id is not None, "the demo data has no account for this check"
    return account_id


def _window(series: pd.Series, start: date, end: date) -> pd.Series:
    days = series.dt.tz_convert("UTC").dt.date if getattr(series.dt, "tz", None) is not None else series.dt.date
    return (days >= start) & (days <= end)


@pytest.fixture(scope="module")
def landing(pristine_landing_dir: Path) -> Landing:
    return Landing.read(pristine_landing_dir)


def test_timeline_counts_per_type_match_the_landing_files(rolled_back, insights_ran, landing,  # noqa: F811
                                                          pristine_landing_dir):
    account_id = _busiest_account(rolled_back, """
        SELECT customer_id FROM gold.timeline_events GROUP BY customer_id
        ORDER BY count(DISTINCT event_type) DESC, count(*) DESC, customer_id LIMIT 1""")
    regional = _regional(rolled_back, account_id)
    assert regional
    end = landing.as_of
    start = end - timedelta(days=365)
    page = q.account_timeline(rolled_back, account_id, EVERYTHING, FULL, start=start, end=end)
    assert page is not None and page.total > 0

    tickets = landing.tickets[landing.tickets["account_id"].isin(regional)]
    tickets = tickets[((tickets["severity"] == "P1") | tickets["is_escalated"].fillna(False).astype(bool))
                      & _window(tickets["created_at"], start, end)]
    escalated = tickets["is_escalated"].fillna(False).astype(bool)
    accounts = landing.accounts[landing.accounts["account_id"].isin(regional)]
    churned = accounts[(accounts["status"] == "churned") & accounts["churned_at"].notna()]
    churned = churned[_window(churned["churned_at"], start, end)]
    assert page.counts.get("support", 0) == int((~escalated).sum())
    assert page.counts.get("critical", 0) == int(escalated.sum()) + len(churned)

    opportunities = landing.opportunities[landing.opportunities["account_id"].isin(regional)]
    closed = opportunities[opportunities["is_closed"].fillna(False).astype(bool)
                           & opportunities["close_date"].notna()]
    assert page.counts.get("opportunity", 0) == int(_window(closed["close_date"], start, end).sum())

    subs = landing.subscriptions[landing.subscriptions["account_id"].isin(regional)]
    starts = int(_window(subs["start_date"], start, end).sum())
    ends = int((subs["end_date"].notna() & _window(subs["end_date"], start, end)).sum())
    milestones = typed(pristine_landing_dir, "crm/onboarding_milestones")
    milestones = milestones[milestones["account_id"].isin(regional) & milestones["completed_at"].notna()]
    reached = int(_window(milestones["completed_at"], start, end).sum())
    assert page.counts.get("renewal", 0) == starts + ends + reached


def test_timeline_filters_pages_and_masks(rolled_back, insights_ran):  # noqa: F811
    account_id = _busiest_account(rolled_back, """
        SELECT customer_id FROM gold.timeline_events GROUP BY customer_id ORDER BY count(*) DESC, customer_id LIMIT 1""")
    everything = q.account_timeline(rolled_back, account_id, EVERYTHING, FULL, start=date(2000, 1, 1))
    assert everything is not None and everything.total > 0
    assert everything.total == sum(everything.counts.values())
    chosen = max(everything.counts, key=everything.counts.get)
    only = q.account_timeline(rolled_back, account_id, EVERYTHING, MASKED, types=[chosen], start=date(2000, 1, 1),
                              per_page=5)
    assert only is not None and only.total == everything.counts[chosen] and only.types == (chosen,)
    assert only.items and all(item.category == chosen for item in only.items)
    assert len(only.items) == min(5, only.total)
    assert [i.occurred_at for i in only.items] == sorted((i.occurred_at for i in only.items), reverse=True)
    assert all(i.amount_usd is None for i in only.items)  # banded without view_financials
    last = q.account_timeline(rolled_back, account_id, EVERYTHING, FULL, types=[chosen], start=date(2000, 1, 1),
                              per_page=5, page=999)
    assert last is not None and last.page == only.pages


def test_amounts_in_text_are_hidden_without_financials(rolled_back, insights_ran):  # noqa: F811
    account_id = _busiest_account(rolled_back, """
        SELECT customer_id FROM gold.timeline_events WHERE event_type = 'BILLING'
        GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""")
    args = dict(types=["billing"], start=date(2000, 1, 1), per_page=50)
    full = q.account_timeline(rolled_back, account_id, EVERYTHING, FULL, **args)
    hidden = q.account_timeline(rolled_back, account_id, EVERYTHING, MASKED, **args)
    assert full is not None and hidden is not None and full.items
    assert all(q.AMOUNT_IN_TEXT.search(i.description or "") for i in full.items if i.event_id.startswith("invoice"))
    assert not any(q.AMOUNT_IN_TEXT.search(i.description or "") for i in hidden.items)
    assert any(q.AMOUNT_HIDDEN in (i.description or "") for i in hidden.items)


def test_executed_actions_join_the_timeline(rolled_back, insights_ran):  # noqa: F811
    # Other test files on the same database commit actions of their own: take a client that has none yet.
    recommendation = rolled_back.execute(text("""
        SELECT n.recommendation_id, n.customer_id, n.action_title FROM gold.next_best_action n
        WHERE NOT EXISTS (SELECT 1 FROM app.action_execution x WHERE x.customer_id = n.customer_id)
        ORDER BY n.customer_id, n.recommendation_id LIMIT 1""")).one_or_none()
    assert recommendation is not None, "the scoring job recommended nothing to a client without actions"
    rolled_back.execute(text("""
        INSERT INTO app.action_execution (recommendation_id, customer_id, action, actor, outcome_status, note)
        VALUES (:r, :c, 'executed', 'am@example.com', 'done', '')"""),
                        {"r": recommendation.recommendation_id, "c": recommendation.customer_id})
    page = q.account_timeline(rolled_back, recommendation.customer_id, EVERYTHING, FULL, types=["action"])
    assert page is not None and page.total == 1
    assert page.items[0].title == f"Action taken: {recommendation.action_title}"


def test_ticket_and_invoice_details(rolled_back, insights_ran):  # noqa: F811
    event = rolled_back.execute(text("""
        SELECT customer_id, substr(event_id, 8) AS ticket_id FROM gold.timeline_events e
        JOIN silver.tickets t ON t.ticket_id = substr(e.event_id, 8)
        JOIN silver.conversations c ON c.account_id = t.account_id AND c.contact_id = t.contact_id
             AND c.started_at BETWEEN t.created_at - interval '1 day'
                 AND COALESCE(t.resolved_at, t.created_at + interval '7 days') + interval '1 day'
        WHERE event_id LIKE 'ticket:%' LIMIT 1""")).one_or_none()
    assert event is not None, "no escalated ticket has a chat around it"
    detail = q.ticket_detail(rolled_back, event.customer_id, event.ticket_id, EVERYTHING, FULL)
    assert detail is not None and detail.ticket_id == event.ticket_id and detail.messages
    assert q.ticket_detail(rolled_back, "no-such-account", event.ticket_id, EVERYTHING, FULL) is None

    invoice = rolled_back.execute(text("""
        SELECT e.customer_id, i.invoice_id FROM gold.timeline_events e
        JOIN silver.invoices i ON e.event_id = 'invoice-paid-late:' || i.invoice_id LIMIT 1""")).one_or_none()
    assert invoice is not None
    found = q.invoice_detail(rolled_back, invoice.customer_id, invoice.invoice_id, EVERYTHING, FULL)
    assert found is not None and any(line.kind == "payment" for line in found.lines)
    hidden = q.invoice_detail(rolled_back, invoice.customer_id, invoice.invoice_id, EVERYTHING, MASKED)
    assert hidden is not None and hidden.amount is None and hidden.amount_band


@pytest.mark.parametrize("days", q.MRR_PERIODS)
def test_mrr_change_parts_add_up_and_match_the_landing_files(rolled_back, insights_ran, landing, days):  # noqa: F811
    # The customer billed in a foreign currency whose MRR moved most over the year.
    account_id = _busiest_account(rolled_back, """
        SELECT COALESCE(am.master_account_id, m.account_id) FROM gold.subscription_mrr m
        LEFT JOIN silver.account_master am ON am.account_id = m.account_id
        WHERE m.currency <> 'USD' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""")
    change = q.mrr_change(rolled_back, account_id, EVERYTHING, FULL, days=days)
    assert change is not None and not change.financials_hidden and change.lines
    assert sum(change.parts.values()) == pytest.approx(change.change_usd, abs=1e-6)

    regional = _regional(rolled_back, account_id)
    subs = landing.subscriptions.set_index("subscription_id")

    def lines(day: date) -> pd.DataFrame:
        on_day = landing.mrr_usd_on(day)
        on_day = on_day[on_day["account_id"].isin(regional)].copy()
        on_day["product"] = on_day["subscription_id"].map(subs["product_id"])
        on_day["local"] = on_day["subscription_id"].map(subs["mrr"]).astype(float)
        return on_day.groupby(["account_id", "product", "currency"])[["local", "mrr_usd"]].sum()

    both = lines(change.start).merge(lines(change.end), how="outer", left_index=True, right_index=True,
                                     suffixes=("_start", "_end")).fillna(0.0)
    assert len(both), "the customer had no MRR in the period"
    end_rate = {c: landing.rate_used(c, change.end)[0] for c in both.index.get_level_values("currency").unique()}
    rate = both.index.get_level_values("currency").map(end_rate).to_numpy()
    continuing = (both["local_start"] > 0) & (both["local_end"] > 0)
    fx = (both["local_start"] * rate - both["mrr_usd_start"]).where(continuing, 0.0)
    volume = both["mrr_usd_end"] - both["mrr_usd_start"] - fx
    expected = {
        "new": both.loc[both["local_start"] == 0, "mrr_usd_end"].sum(),
        "churn": -both.loc[both["local_end"] == 0, "mrr_usd_start"].sum(),
        "fx": fx.sum(),
        "expansion": volume[continuing & (volume > 0)].sum(),
        "contraction": volume[continuing & (volume < 0)].sum(),
    }
    for part, value in expected.items():
        assert change.parts[part] == pytest.approx(value, abs=0.05), part
    assert change.mrr_start_usd == pytest.approx(both["mrr_usd_start"].sum(), abs=0.05)
    assert change.mrr_end_usd == pytest.approx(both["mrr_usd_end"].sum(), abs=0.05)


def test_mrr_change_hidden_without_financials(rolled_back, insights_ran):  # noqa: F811
    account_id = _busiest_account(rolled_back, "SELECT account_id FROM gold.customer_360 ORDER BY mrr_usd DESC LIMIT 1")
    change = q.mrr_change(rolled_back, account_id, EVERYTHING, MASKED, days=30)
    assert change is not None and change.financials_hidden and not change.parts


def test_contacts_are_masked_without_view_pii(rolled_back, insights_ran, landing):  # noqa: F811
    account_id = _busiest_account(rolled_back, """
        SELECT account_id FROM gold.contact_engagement GROUP BY account_id ORDER BY count(*) DESC, 1 LIMIT 1""")
    regional = _regional(rolled_back, account_id)
    full = q.account_contacts(rolled_back, account_id, EVERYTHING, FULL)
    masked = q.account_contacts(rolled_back, account_id, EVERYTHING, MASKED)
    assert full and masked and len(full) == len(masked)
    # Every landing email of the customer's contacts belongs to one of the people listed.
    emails = set(landing.contacts.loc[landing.contacts["account_id"].isin(regional), "email"].dropna().str.lower())
    shown = {c.email for c in full if c.email}
    assert shown and shown <= emails
    for plain, hidden in zip(full, masked, strict=True):
        assert hidden.contact_id == plain.contact_id
        assert hidden.email == mask_email(plain.email) and hidden.phone == mask_phone(plain.phone)
        if plain.email:
            assert hidden.email != plain.email and "***@" in hidden.email
    assert any(c.engagement_tier for c in full)


def test_contact_thread_masks_text(rolled_back, insights_ran):  # noqa: F811
    row = rolled_back.execute(text("""
        SELECT COALESCE(am.master_account_id, c.account_id) AS account_id,
               COALESCE(cm.master_contact_id, c.contact_id) AS person_id
        FROM silver.conversations v JOIN silver.contacts c ON c.contact_id = v.contact_id
        LEFT JOIN silver.contact_master cm ON cm.contact_id = c.contact_id
        LEFT JOIN silver.account_master am ON am.account_id = c.account_id
        JOIN silver.messages m ON m.conversation_id = v.conversation_id
        GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1""")).one()
    thread = q.contact_thread(rolled_back, row.account_id, row.person_id, EVERYTHING, MASKED)
    assert thread is not None and thread.messages
    assert q.contact_thread(rolled_back, row.account_id, "nobody", EVERYTHING, MASKED) is None


def test_out_of_scope_and_unknown_answer_none(rolled_back, insights_ran):  # noqa: F811
    account_id = _busiest_account(rolled_back, "SELECT account_id FROM gold.customer_360 ORDER BY account_id LIMIT 1")
    elsewhere = DataScope.restricted_to(account_ids=["somebody-else"])
    for scope, target in ((elsewhere, account_id), (EVERYTHING, "no-such-account"), (DataScope.nothing(), account_id)):
        assert q.account_heading(rolled_back, target, scope) is None
        assert q.account_timeline(rolled_back, target, scope, FULL) is None
        assert q.mrr_change(rolled_back, target, scope, FULL) is None
        assert q.account_contacts(rolled_back, target, scope, FULL) is None
        assert q.linked_accounts(rolled_back, target, scope) is None
        assert q.account_feedback(rolled_back, target, scope, FULL) is None
    own = DataScope.restricted_to(account_ids=[account_id])
    assert q.account_timeline(rolled_back, account_id, own, FULL) is not None


def test_linked_accounts_and_feedback(rolled_back, insights_ran):  # noqa: F811
    account_id = _busiest_account(rolled_back, """
        SELECT master_account_id FROM silver.account_master GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""")
    linked = q.linked_accounts(rolled_back, account_id, EVERYTHING)
    expected = rolled_back.execute(text(
        "SELECT account_id, confidence, method FROM silver.account_master WHERE master_account_id = :a"),
        {"a": account_id}).all()
    assert linked is not None and len(expected) > 1
    assert {(a.account_id, a.confidence, a.method) for a in linked.accounts} == {tuple(r) for r in expected}
    assert sum(a.is_master for a in linked.accounts) == 1

    summary_account = _busiest_account(rolled_back, """
        SELECT s.account_id FROM gold.account_summary s JOIN gold.sentiment_daily d ON d.account_id = s.account_id
        GROUP BY 1 ORDER BY sum(d.texts) DESC LIMIT 1""")
    feedback = q.account_feedback(rolled_back, summary_account, EVERYTHING, MASKED)
    assert feedback is not None and feedback.summary and feedback.sentiment
    texts = rolled_back.scalar(text("""
        SELECT sum(texts) FROM gold.sentiment_daily WHERE account_id = :a AND day > CAST(:end AS date) - 365
          AND day <= :end"""), {"a": summary_account, "end": q.account_heading(rolled_back, summary_account,
                                                                             EVERYTHING).as_of})
    assert sum(m.texts for m in feedback.sentiment) == texts


def test_link_and_unlink_are_recorded_audited_and_need_permission(rolled_back, insights_ran):  # noqa: F811
    master, other = rolled_back.execute(text("""
        SELECT a.master_account_id, b.account_id FROM silver.account_master a, silver.account_master b
        WHERE b.master_account_id <> a.master_account_id AND a.account_id = a.master_account_id
        ORDER BY a.account_id, b.account_id LIMIT 1""")).one()
    # Other tests of the session may have linked the same pair before: look only at what follows.
    audits_before = rolled_back.scalar(select(func.coalesce(func.max(AuditEvent.id), 0)))
    overrides_before = rolled_back.scalar(select(func.coalesce(func.max(AccountLinkOverride.id), 0)))
    with pytest.raises(q.AccountLinkError, match="administrator"):
        q.change_account_link(rolled_back, EVERYTHING, master, other, "link", actor="am@example.com",
                              permissions=[VIEW_CUSTOMER360])
    assert rolled_back.scalar(select(AccountLinkOverride.id).where(AccountLinkOverride.id > overrides_before)) is None

    change = q.change_account_link(rolled_back, EVERYTHING, master, other, "link", actor="admin@example.com",
                                   permissions=[MANAGE_USERS])
    assert q.REFRESH_NOTE in change.message
    stored = rolled_back.execute(select(AccountLinkOverride.account_id_a, AccountLinkOverride.account_id_b,
                                        AccountLinkOverride.action, AccountLinkOverride.created_by)
                                 .where(AccountLinkOverride.id > overrides_before)).all()
    assert [tuple(r) for r in stored] == [(*sorted((master, other)), "link", "admin@example.com")]
    audited = rolled_back.execute(select(AuditEvent.action, AuditEvent.target, AuditEvent.detail)
                                  .where(AuditEvent.action == "account_link_override",
                                         AuditEvent.id > audits_before)).all()
    assert [(a, t) for a, t, _ in audited] == [("account_link_override", f"account:{master}")]
    assert audited[0][2]["other_account_id"] == other
    pending = q.linked_accounts(rolled_back, master, EVERYTHING)
    assert pending is not None and pending.decisions[0].account_id == other and pending.decisions[0].pending

    linked_member = rolled_back.scalar(text(
        "SELECT account_id FROM silver.account_master WHERE master_account_id = :m AND account_id <> :m LIMIT 1"),
        {"m": master})
    if linked_member is not None:
        q.change_account_link(rolled_back, EVERYTHING, master, linked_member, "unlink", actor="admin@example.com",
                              permissions=[MANAGE_USERS])
    with pytest.raises(q.AccountLinkError):
        q.change_account_link(rolled_back, EVERYTHING, master, other, "unlink", actor="admin@example.com",
                              permissions=[MANAGE_USERS])  # not linked yet: the link waits for a refresh
    with pytest.raises(q.AccountLinkError):
        q.change_account_link(rolled_back, DataScope.nothing(), master, other, "link", actor="admin@example.com",
                              permissions=[MANAGE_USERS])
