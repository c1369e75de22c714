"""The demo-data generator: contract, determinism, a coherent world, planted signals and defects."""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard.tables.landing import DATASETS
from etl.demo_data import SCALES, DefectRates, GenerationSummary, generate
from etl.demo_data.calendar import DAYS_BEFORE
from etl.demo_data.crm import LOSS_REASONS

AS_OF = date(2026, 11, 23)
SEED = 11
START = AS_OF - timedelta(days=3 * 365)
MALFORMED_FILES = ("crm/accounts", "crm/contacts", "support/tickets", "billing/invoices", "marketing/sends")
STALE_FILES = {"crm/accounts": "account_id", "crm/opportunities": "opportunity_id",
               "support/tickets": "ticket_id", "billing/invoices": "invoice_id"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
AMOUNT = re.compile(r"^-?\d+(\.\d{1,2})?$")


@dataclass
class Landing:
    """A generated landing folder with cached, parsed files."""

    root: Path
    summary: GenerationSummary

    def __post_init__(self) -> None:
        self._raw: dict[str, tuple[list[str], list[list[str]]]] = {}
        self._frames: dict[str, pd.DataFrame] = {}

    def raw(self, key: str) -> tuple[list[str], list[list[str]]]:
        """Header and every data row, exactly as the csv module reads them."""
        if key not in self._raw:
            with open(self.root / f"{key}.csv", encoding="utf-8", newline="") as f:
                rows = list(csv.reader(f))
            self._raw[key] = (rows[0], rows[1:])
        return self._raw[key]

    def frame(self, key: str) -> pd.DataFrame:
        """Well-formed rows as text (planted malformed rows removed)."""
        if key not in self._frames:
            if key in MALFORMED_FILES:
                header, rows = self.raw(key)
                bad = {k for k, _ in self.summary.defects.malformed_rows.get(key, [])}
                df = pd.DataFrame([r for r in rows if r[0] not in bad], columns=header)
            else:
                df = pd.read_csv(self.root / f"{key}.csv", dtype=str, keep_default_na=False, na_filter=False)
            self._frames[key] = df
        return self._frames[key]

    def latest(self, key: str) -> pd.DataFrame:
        """One row per key: the version with the newest updated_at."""
        df = self.frame(key)
        return df.sort_values("updated_at", kind="stable").drop_duplicates(STALE_FILES[key], keep="last")


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    out = tmp_path_factory.mktemp("demo-landing")
    summary = generate(out, scale="small", seed=SEED, as_of=AS_OF, progress=False)
    return Landing(out, summary)


@pytest.fixture(scope="session")
def clean_landing(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    out = tmp_path_factory.mktemp("demo-clean")
    summary = generate(out, scale="small", seed=SEED, as_of=AS_OF, defects=DefectRates.none(), progress=False)
    return Landing(out, summary)


def _ts(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series.replace("", None), format="%Y-%m-%dT%H:%M:%SZ")


def _day(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series.replace("", None), format="%Y-%m-%d")


# --- contract and determinism -------------------------------------------------------------

def test_every_contract_file_is_written_with_its_header_and_nothing_else(landing: Landing) -> None:
    expected = {f"{d.system}/{d.name}.csv" for d in DATASETS}
    assert set(_files(landing.root)) == expected
    for d in DATASETS:
        header, rows = landing.raw(f"{d.system}/{d.name}")
        assert tuple(header) == d.columns, d.bronze_table
        assert len(rows) == landing.summary.rows[f"{d.system}/{d.name}"] > 0, d.bronze_table


def test_small_scale_size_and_summary(landing: Landing) -> None:
    s = landing.summary
    assert (s.scale, s.seed, s.as_of, s.out_dir) == ("small", SEED, AS_OF, landing.root)
    assert 300_000 <= s.total_rows <= 800_000
    assert s.seconds > 0
    accounts = landing.latest("crm/accounts")
    assert abs(len(accounts) - SCALES["small"].accounts) <= 0.1 * SCALES["small"].accounts


def test_same_inputs_give_identical_bytes(landing: Landing, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", scale="small", seed=SEED, as_of=AS_OF, progress=False)
    assert _files(tmp_path / "again") == _files(landing.root)
    assert again.rows == landing.summary.rows


def test_another_seed_gives_another_world(landing: Landing, tmp_path: Path) -> None:
    generate(tmp_path / "other", scale="small", seed=SEED + 1, as_of=AS_OF, progress=False)
    other = (tmp_path / "other" / "crm" / "accounts.csv").read_bytes()
    assert other != (landing.root / "crm" / "accounts.csv").read_bytes()


def test_unknown_scale_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown scale"):
        generate(tmp_path, scale="huge")


# --- formats ------------------------------------------------------------------------------

def test_values_use_the_landing_formats(landing: Landing) -> None:
    ts_cols = {"created_at", "updated_at", "churned_at", "scheduled_at", "first_response_at", "resolved_at",
               "started_at", "closed_at", "sent_at", "paid_at", "placed_at", "released_at", "delivered_at",
               "read_at", "replied_at", "received_at", "occurred_at"}
    date_cols = {"close_date", "start_date", "end_date", "issue_date", "due_date", "rate_date", "usage_date"}
    bool_cols = {"is_active", "is_recurring", "is_closed", "is_won", "is_primary", "is_escalated", "is_disputed",
                 "converted"}
    amount_cols = {"amount", "unit_price", "mrr", "cost", "list_price_usd", "conversion_value_usd", "data_gb"}
    checked = 0
    for d in DATASETS:
        df = landing.frame(f"{d.system}/{d.name}")
        sample = df.iloc[:: max(1, len(df) // 3000)]
        for col in df.columns:
            values = sample[col][sample[col] != ""]
            if col in ts_cols:
                pattern = TIMESTAMP
            elif col in date_cols:
                pattern = DATE
            elif col in bool_cols:
                assert set(values) <= {"true", "false"}, (d.name, col)
                continue
            elif col in amount_cols:
                pattern = AMOUNT
            else:
                continue
            bad = values[~values.str.match(pattern)]
            assert bad.empty, (d.name, col, bad.head().tolist())
            checked += 1
    assert checked > 40


def test_free_text_with_commas_and_quotes_survives_csv_quoting(landing: Landing) -> None:
    header, rows = landing.raw("support/messages")
    assert rows and all(len(r) == len(header) for r in rows)
    bodies = [r[-1] for r in rows]
    assert any("," in b for b in bodies) and any('"' in b for b in bodies)
    text = (landing.root / "support" / "messages.csv").read_text(encoding="utf-8")
    assert '""' in text  # embedded quotes are doubled, not escaped or dropped


def test_fx_rates_cover_every_day_and_currency_near_real_levels(landing: Landing) -> None:
    fx = landing.frame("billing/fx_rates")
    # The feed reaches back to the oldest accounts' first deals: amounts are converted only at a
    # rate of their own day or a few days older.
    assert len(fx) == 6 * (DAYS_BEFORE + 3 * 365 + 1)
    first = START - timedelta(days=DAYS_BEFORE)
    assert fx["rate_date"].min() == first.isoformat() and fx["rate_date"].max() == AS_OF.isoformat()
    deals = landing.frame("crm/opportunities")
    assert deals["created_at"].str[:10].min() >= first.isoformat()
    assert not fx.duplicated(["rate_date", "currency"]).any()
    rate = fx.assign(r=fx["usd_per_unit"].astype(float)).groupby("currency")["r"]
    levels = {"ZAR": 0.055, "KES": 0.0077, "NGN": 0.00065, "EUR": 1.08, "GBP": 1.27, "USD": 1.0}
    for cur, level in levels.items():
        assert level / 1.6 < rate.min()[cur] <= rate.max()[cur] < level * 1.6, cur
    assert rate.std()["USD"] == 0 and rate.std()["ZAR"] > 0


def test_history_spans_three_years_and_ends_on_as_of(landing: Landing) -> None:
    usage = landing.frame("product/usage_daily")
    assert usage["usage_date"].min() == START.isoformat()
    assert usage["usage_date"].max() == AS_OF.isoformat()
    yesterday = (AS_OF - timedelta(days=1)).isoformat()
    for key, col in (("crm/leads", "created_at"), ("support/tickets", "created_at"),
                     ("marketing/sends", "sent_at"), ("support/messages", "sent_at")):
        df = landing.frame(key)
        assert (df[col].str[:10] == yesterday).sum() > 0, key
        assert df[col].max() < (AS_OF + timedelta(days=1)).isoformat(), key


# --- a coherent world ---------------------------------------------------------------------

def _assert_refs(child: pd.DataFrame, col: str, parent: pd.DataFrame, key: str, what: str) -> None:
    values = child[col][child[col] != ""]
    missing = set(values) - set(parent[key])
    assert not missing, f"{what}: {len(missing)} dangling, e.g. {sorted(missing)[:3]}"
    assert len(values) > 0, what


def test_every_foreign_key_resolves(landing: Landing) -> None:
    f = landing.frame
    accounts, contacts, users = f("crm/accounts"), f("crm/contacts"), f("crm/users")
    checks = [
        ("crm/accounts", "parent_account_id", accounts, "account_id"),
        ("crm/accounts", "owner_user_id", users, "user_id"),
        ("crm/users", "manager_id", users, "user_id"),
        ("crm/contacts", "account_id", accounts, "account_id"),
        ("crm/leads", "owner_user_id", users, "user_id"),
        ("crm/leads", "converted_account_id", accounts, "account_id"),
        ("crm/opportunities", "account_id", accounts, "account_id"),
        ("crm/opportunities", "owner_user_id", users, "user_id"),
        ("crm/opportunity_line_items", "opportunity_id", f("crm/opportunities"), "opportunity_id"),
        ("crm/opportunity_line_items", "product_id", f("crm/products"), "product_id"),
        ("crm/subscriptions", "account_id", accounts, "account_id"),
        ("crm/subscriptions", "product_id", f("crm/products"), "product_id"),
        ("crm/meetings", "account_id", accounts, "account_id"),
        ("crm/meetings", "user_id", users, "user_id"),
        ("crm/quotas", "user_id", users, "user_id"),
        ("crm/emails", "account_id", accounts, "account_id"),
        ("crm/emails", "user_id", users, "user_id"),
        ("support/tickets", "account_id", accounts, "account_id"),
        ("support/tickets", "contact_id", contacts, "contact_id"),
        ("support/tickets", "agent_id", f("support/agents"), "agent_id"),
        ("support/conversations", "account_id", accounts, "account_id"),
        ("support/conversations", "contact_id", contacts, "contact_id"),
        ("support/conversations", "assigned_agent_id", f("support/agents"), "agent_id"),
        ("support/messages", "conversation_id", f("support/conversations"), "conversation_id"),
        ("billing/invoices", "account_id", accounts, "account_id"),
        ("billing/payments", "invoice_id", f("billing/invoices"), "invoice_id"),
        ("billing/payments", "account_id", accounts, "account_id"),
        ("billing/credit_holds", "account_id", accounts, "account_id"),
        ("marketing/campaign_variants", "campaign_id", f("marketing/campaigns"), "campaign_id"),
        ("marketing/sends", "campaign_id", f("marketing/campaigns"), "campaign_id"),
        ("marketing/sends", "contact_id", contacts, "contact_id"),
        ("marketing/replies", "send_id", f("marketing/sends"), "send_id"),
        ("marketing/replies", "contact_id", contacts, "contact_id"),
        ("marketing/touchpoints", "contact_id", contacts, "contact_id"),
        ("marketing/touchpoints", "account_id", accounts, "account_id"),
        ("marketing/touchpoints", "campaign_id", f("marketing/campaigns"), "campaign_id"),
        ("product/usage_daily", "account_id", accounts, "account_id"),
        ("web/sessions", "contact_id", contacts, "contact_id"),
        ("web/sessions", "account_id", accounts, "account_id"),
        ("web/sessions", "campaign_id", f("marketing/campaigns"), "campaign_id"),
    ]
    for child_key, col, parent, key in checks:
        _assert_refs(f(child_key), col, parent, key, f"{child_key}.{col}")
    messages, conversations = f("support/messages"), f("support/conversations")
    authors = messages.merge(conversations, on="conversation_id")
    inbound = authors[authors["direction"] == "inbound"]
    assert (inbound["author_id"] == inbound["contact_id"]).all()
    outbound = authors[authors["direction"] == "outbound"]
    assert (outbound["author_id"] == outbound["assigned_agent_id"]).all()
    pay = f("billing/payments").merge(f("billing/invoices")[["invoice_id", "account_id", "currency"]],
                                      on="invoice_id", suffixes=("", "_inv"))
    assert (pay["account_id"] == pay["account_id_inv"]).all() and (pay["currency"] == pay["currency_inv"]).all()
    contact_account = contacts.set_index("contact_id")["account_id"]
    for key in ("support/tickets", "support/conversations"):
        rows = f(key)[f(key)["contact_id"] != ""]
        assert (rows["contact_id"].map(contact_account) == rows["account_id"]).all(), key
    touches = f("marketing/touchpoints")
    known = touches[touches["contact_id"] != ""]
    assert (known["contact_id"].map(contact_account) == known["account_id"]).all()


def test_converted_leads_point_at_accounts_created_right_after(landing: Landing) -> None:
    leads = landing.frame("crm/leads")
    accounts = landing.latest("crm/accounts").set_index("account_id")
    converted = leads[leads["status"] == "converted"]
    assert (converted["converted_account_id"] != "").all()
    assert (leads.loc[leads["status"] != "converted", "converted_account_id"] == "").all()
    lag = (_ts(accounts.loc[converted["converted_account_id"], "created_at"]).to_numpy()
           - _ts(converted["created_at"]).to_numpy()) / np.timedelta64(1, "D")
    assert ((lag >= 0) & (lag <= 31)).all()
    assert (converted["company"].to_numpy() == accounts.loc[converted["converted_account_id"], "account_name"]).all()
    assert set(leads["status"]) == {"new", "working", "qualified", "disqualified", "converted"}
    assert set(leads["lead_source"]) == {"web", "campaign", "referral", "event", "partner"}
    weekday = _ts(leads["created_at"]).dt.day_of_week
    assert (weekday < 5).sum() / 5 > 2 * (weekday >= 5).sum() / 2
    recent = leads["created_at"] >= (AS_OF - timedelta(days=14)).isoformat()
    assert leads.loc[recent, "status"].isin(["new", "working"]).mean() > leads.loc[~recent, "status"].isin(
        ["new", "working"]).mean() + 0.3


def test_meetings_include_quarterly_qbrs_for_enterprise(landing: Landing) -> None:
    meetings = landing.frame("crm/meetings")
    accounts = landing.latest("crm/accounts").set_index("account_id")
    kind = accounts.loc[meetings["account_id"], "account_type"].to_numpy()
    assert set(meetings["meeting_type"]) == {"call", "meeting", "qbr"}
    qbr = meetings[meetings["meeting_type"] == "qbr"]
    assert (kind[meetings["meeting_type"] == "qbr"] == "Enterprise").all()
    steady = accounts[(accounts["account_type"] == "Enterprise") & (accounts["status"] == "active")
                      & (accounts["created_at"] < START.isoformat())].index
    per_year = qbr[qbr["account_id"].isin(steady)].groupby("account_id").size().reindex(steady, fill_value=0) / 3
    assert per_year.between(3, 5).mean() > 0.9
    future = meetings["scheduled_at"] > f"{AS_OF.isoformat()}T23:59:59Z"
    assert future.sum() > 0 and (meetings.loc[future, "outcome"] == "").all()
    assert (meetings.loc[~future, "outcome"] != "").all()


def test_regions_territories_currencies_and_owners_fit_together(landing: Landing) -> None:
    accounts = landing.latest("crm/accounts")
    users = landing.frame("crm/users").set_index("user_id")
    currency = {"South Africa": "ZAR", "East Africa": "KES", "West Africa": "NGN", "Europe": "EUR",
                "United Kingdom": "GBP", "North America": "USD"}
    countries = {"South Africa": {"ZA"}, "East Africa": {"KE", "UG", "TZ"}, "West Africa": {"NG", "GH"},
                 "Europe": {"DE", "FR", "NL", "IE"}, "United Kingdom": {"GB"}, "North America": {"US", "CA"}}
    assert set(accounts["region"]) == set(currency)
    assert (accounts["currency"] == accounts["region"].map(currency)).all()
    assert all(c in countries[r] for r, c in zip(accounts["region"], accounts["country"], strict=True))
    territories = accounts.groupby("region")["territory"].nunique()
    assert territories.between(2, 4).all()
    owner = users.loc[accounts["owner_user_id"]]
    assert (owner["territory"].to_numpy() == accounts["territory"].to_numpy()).all()
    assert set(owner["role"]) <= {"sales_rep", "account_manager"}
    reps = users[users["role"] != "sales_manager"]
    managers = users.loc[reps["manager_id"]]
    assert (managers["role"] == "sales_manager").all()
    assert (managers["region"].to_numpy() == reps["region"].to_numpy()).all()
    kinds = accounts["account_type"].value_counts(normalize=True)
    assert kinds.idxmax() == "SMB" and set(kinds.index) == {"SMB", "Enterprise", "Wholesale"}
    parents = accounts[accounts["parent_account_id"] != ""]
    assert len(parents) > 10
    groups = accounts.set_index("account_id").loc[parents["parent_account_id"].unique()]
    assert groups["account_name"].str.contains("Group").all()


def test_subscriptions_follow_account_lifecycle_and_size(landing: Landing) -> None:
    accounts = landing.latest("crm/accounts").set_index("account_id")
    subs = landing.frame("crm/subscriptions")
    fx = landing.frame("billing/fx_rates")
    rate = fx[fx["rate_date"] == AS_OF.isoformat()].set_index("currency")["usd_per_unit"].astype(float)
    churned = accounts[accounts["status"] == "churned"]
    assert (churned["churned_at"] != "").all()
    assert (accounts.loc[accounts["status"] == "active", "churned_at"] == "").all()
    churn_subs = subs[subs["account_id"].isin(churned.index)]
    last_end = churn_subs.groupby("account_id")["end_date"].max()
    assert (churn_subs["end_date"] != "").all() and (churn_subs["status"] == "cancelled").all()
    assert (last_end == churned.loc[last_end.index, "churned_at"].str[:10]).all()
    live = subs[subs["end_date"] == ""]
    assert (live["status"] == "active").all() and (subs.loc[subs["end_date"] != "", "status"] == "cancelled").all()
    active_ids = accounts.index[accounts["status"] == "active"]
    assert set(active_ids) <= set(live["account_id"])
    assert (live["currency"].to_numpy() == accounts.loc[live["account_id"], "currency"].to_numpy()).all()
    mrr_usd = (live["mrr"].astype(float) * live["currency"].map(rate)).groupby(live["account_id"]).sum()
    by_type = mrr_usd.groupby(accounts.loc[mrr_usd.index, "account_type"]).median()
    assert 200 < by_type["SMB"] < 2_500
    assert 5_000 < by_type["Enterprise"] < 60_000 and 8_000 < by_type["Wholesale"] < 100_000
    years = 3.0
    base = accounts[_ts(accounts["created_at"]) < pd.Timestamp(START)]
    annual_churn = (_ts(base["churned_at"]) >= pd.Timestamp(START)).sum() / len(base) / years
    assert 0.07 < annual_churn < 0.17


def test_opportunities_add_up_and_stages_match_probabilities(landing: Landing) -> None:
    opps = landing.latest("crm/opportunities")
    items = landing.frame("crm/opportunity_line_items")
    total = (items["quantity"].astype(float) * items["unit_price"].astype(float)).groupby(
        items["opportunity_id"]).sum()
    amount = opps.set_index("opportunity_id")["amount"].astype(float)
    assert np.allclose(amount.loc[total.index], total, atol=0.02)
    probability = {"Prospecting": "10", "Qualification": "20", "Proposal": "50", "Negotiation": "75",
                   "Closed Won": "100", "Closed Lost": "0"}
    assert (opps["probability"] == opps["stage"].map(probability)).all()
    closed = opps["stage"].str.startswith("Closed")
    assert (opps["is_closed"] == np.where(closed, "true", "false")).all()
    assert (opps["is_won"] == np.where(opps["stage"] == "Closed Won", "true", "false")).all()
    open_ = opps[~closed]
    assert len(open_) > 20 and (open_["close_date"] > AS_OF.isoformat()).all()
    cycle = (_day(opps["close_date"]) - _ts(opps["created_at"]).dt.normalize()).dt.days
    assert cycle[closed].between(19, 181).mean() > 0.97


def test_invoices_are_monthly_due_in_30_days_and_payments_settle_them(landing: Landing) -> None:
    inv = landing.latest("billing/invoices")
    pay = landing.frame("billing/payments")
    assert ((_day(inv["due_date"]) - _day(inv["issue_date"])).dt.days == 30).all()
    assert (inv["issue_date"].str[8:] == "01").all()
    assert set(inv["status"]) == {"paid", "open", "overdue", "void"}
    paid = inv[inv["status"] == "paid"].set_index("invoice_id")
    settled = pay.assign(a=pay["amount"].astype(float)).groupby("invoice_id")["a"].sum()
    assert set(settled.index) == set(paid.index)
    assert np.allclose(settled.loc[paid.index], paid["amount"].astype(float), atol=0.011)
    assert ((inv["status"] == "paid") == (inv["paid_at"] != "")).all()
    overdue = inv[inv["status"] == "overdue"]
    assert len(overdue) > 0 and (overdue["due_date"] < AS_OF.isoformat()).all()
    subs = landing.frame("crm/subscriptions")
    sample = inv[inv["account_id"].isin(inv["account_id"].drop_duplicates().iloc[:60])]
    billed = sample.merge(subs, on="account_id", suffixes=("", "_sub"))
    billed_day = (_day(billed["issue_date"]) - pd.Timedelta(days=1)).dt.strftime("%Y-%m-%d")
    live = (billed["start_date"] <= billed_day) & ((billed["end_date"] == "") | (billed["end_date"] > billed_day))
    mrr = billed["mrr"].astype(float).where(live, 0.0).groupby(billed["invoice_id"]).sum()
    ratio = sample.set_index("invoice_id")["amount"].astype(float).loc[mrr.index] / mrr
    assert (ratio >= 0.999).all() and ratio.median() < 1.01 and (ratio > 1.07).mean() < 0.15
    on_time = (inv.loc[inv["status"] == "paid", "paid_at"].str[:10] <= inv.loc[inv["status"] == "paid", "due_date"])
    assert on_time.mean() > 0.7
    assert 0.003 < (inv["is_disputed"] == "true").mean() < 0.05
    holds = landing.frame("billing/credit_holds")
    assert len(holds) > 0 and (holds["released_at"].eq("") | (holds["released_at"] > holds["placed_at"])).all()


def test_tickets_have_slas_and_agents_differ_consistently_in_speed(landing: Landing) -> None:
    t = landing.latest("support/tickets")
    sla = {"P1": "15", "P2": "60", "P3": "240", "P4": "480"}
    assert (t["sla_first_response_minutes"] == t["severity"].map(sla)).all()
    assert set(t["status"]) == {"open", "pending", "resolved", "closed"}
    done = t["status"].isin(["resolved", "closed"])
    assert (t.loc[done, "resolved_at"] != "").all() and (t.loc[~done, "resolved_at"] == "").all()
    assert (t.loc[~done, "csat"] == "").all() and set(t.loc[done, "csat"]) <= {"", "1", "2", "3", "4", "5"}
    answered = t[t["first_response_at"] != ""]
    minutes = (_ts(answered["first_response_at"]) - _ts(answered["created_at"])).dt.total_seconds() / 60
    assert (minutes > 0).all()
    assert (minutes <= answered["sla_first_response_minutes"].astype(float)).mean() > 0.75
    ratio = (minutes / answered["sla_first_response_minutes"].astype(float)).groupby(answered["agent_id"])
    medians = ratio.median()[ratio.size() >= 100]
    assert len(medians) >= 10 and medians.quantile(0.8) / medians.quantile(0.2) > 1.5
    # the same agents are fast in both halves of the history: speed is a trait, not luck
    half = answered["created_at"] < "2025-05-24"
    early = (minutes / answered["sla_first_response_minutes"].astype(float))[half].groupby(
        answered["agent_id"][half]).median()
    late = (minutes / answered["sla_first_response_minutes"].astype(float))[~half].groupby(
        answered["agent_id"][~half]).median()
    both = early.index.intersection(late.index)
    assert np.corrcoef(early[both], late[both])[0, 1] > 0.6


def test_recent_conversations_include_unassigned_and_unanswered_ones(landing: Landing) -> None:
    conv = landing.frame("support/conversations")
    msgs = landing.frame("support/messages")
    recent = conv[conv["started_at"] >= (AS_OF - timedelta(days=2)).isoformat()]
    with_reply = set(msgs.loc[msgs["direction"] == "outbound", "conversation_id"])
    open_recent = recent[recent["status"] == "open"]
    assert (open_recent["assigned_agent_id"] == "").sum() > 0
    assert (~open_recent["conversation_id"].isin(with_reply) & (open_recent["assigned_agent_id"] != "")).sum() > 0
    old = conv[conv["started_at"] < (AS_OF - timedelta(days=30)).isoformat()]
    assert (old["status"] == "closed").mean() > 0.97 and (old["assigned_agent_id"] != "").all()
    assert ((conv["status"] == "closed") == (conv["closed_at"] != "")).all()


def test_usage_has_one_row_per_customer_day_and_a_weekly_rhythm(landing: Landing) -> None:
    usage = landing.frame("product/usage_daily")
    assert not usage.duplicated(["account_id", "usage_date"]).any()
    accounts = landing.latest("crm/accounts").set_index("account_id")
    last = usage.groupby("account_id")["usage_date"].max()
    churned = accounts.loc[last.index, "status"] == "churned"
    assert (last[churned] < accounts.loc[last[churned].index, "churned_at"].str[:10]).all()
    assert (last[~churned] == AS_OF.isoformat()).all()
    weekday = _day(usage["usage_date"]).dt.day_of_week
    users = usage["active_users"].astype(float)
    assert users[weekday >= 5].mean() < 0.7 * users[weekday < 5].mean()


def test_contact_phones_are_valid_e164_for_their_country(landing: Landing) -> None:
    phonenumbers = pytest.importorskip("phonenumbers")
    contacts = landing.frame("crm/contacts")
    duplicates = {d for d, _ in landing.summary.defects.duplicate_contacts}
    phones = contacts[(contacts["phone"] != "") & ~contacts["contact_id"].isin(duplicates)]
    assert phones["phone"].str.match(r"^\+\d{8,15}$").all()
    for number, country in zip(phones["phone"], phones["country"], strict=True):
        parsed = phonenumbers.parse(number)
        assert phonenumbers.is_valid_number(parsed), number
        assert phonenumbers.region_code_for_number(parsed) == country, (number, country)


def test_contacts_use_their_company_domain(landing: Landing) -> None:
    contacts = landing.frame("crm/contacts")
    duplicates = {d for d, _ in landing.summary.defects.duplicate_contacts}
    per_account = contacts[~contacts["contact_id"].isin(duplicates)].groupby("account_id").size()
    assert per_account.between(2, 8).all() and per_account.max() == 8
    emails = contacts.loc[contacts["email"] != "", "email"].str.lower()
    domains = emails.str.split("@").str[1]
    assert (domains.groupby(contacts["account_id"]).nunique() == 1).mean() > 0.98


# --- planted signals ----------------------------------------------------------------------

def _churners(landing: Landing, min_history_days: int = 220) -> pd.DataFrame:
    accounts = landing.latest("crm/accounts")
    churned = accounts[accounts["status"] == "churned"].copy()
    churned["churn"] = _ts(churned["churned_at"]).dt.normalize()
    return churned[churned["churn"] >= pd.Timestamp(START) + pd.Timedelta(days=min_history_days)]


def test_signal_usage_declines_before_churn(landing: Landing) -> None:
    usage = landing.frame("product/usage_daily")
    usage = usage.assign(day=_day(usage["usage_date"]), users=usage["active_users"].astype(float))
    churners = _churners(landing)
    accounts = landing.latest("crm/accounts")
    stayers = accounts.loc[accounts["status"] == "active", ["account_id"]].assign(churn=pd.Timestamp(AS_OF))

    def ratios(ref: pd.DataFrame) -> pd.Series:
        u = usage.merge(ref[["account_id", "churn"]], on="account_id")
        before = (u["churn"] - u["day"]).dt.days
        baseline = u[before.between(130, 199)].groupby("account_id")["users"].mean()
        final = u[before.between(1, 14)].groupby("account_id")["users"].mean()
        both = baseline.index.intersection(final.index)
        return final[both] / baseline[both].clip(lower=1)

    churn_ratio, stay_ratio = ratios(churners), ratios(stayers)
    assert len(churn_ratio) >= 15 and len(stay_ratio) >= 100
    assert churn_ratio.median() < 0.7
    assert 0.85 < stay_ratio.median() < 1.3


def test_signal_escalations_rise_before_churn(landing: Landing) -> None:
    tickets = landing.latest("support/tickets")
    t = tickets.merge(_churners(landing)[["account_id", "churn"]], on="account_id")
    before = (t["churn"] - _ts(t["created_at"]).dt.normalize()).dt.days
    escalated = t["is_escalated"] == "true"
    near, far = escalated[before.between(0, 45)], escalated[before >= 150]
    assert len(near) >= 50 and len(far) >= 200
    assert near.mean() > 2 * far.mean() and near.mean() - far.mean() > 0.1
    # and more tickets per customer-day, with usage rows as the measure of customer-days
    usage = landing.frame("product/usage_daily").merge(_churners(landing)[["account_id", "churn"]], on="account_id")
    usage_before = (usage["churn"] - _day(usage["usage_date"])).dt.days
    near_rate = before.between(1, 45).sum() / usage_before.between(1, 45).sum()
    far_rate = (before >= 150).sum() / (usage_before >= 150).sum()
    assert near_rate > 1.5 * far_rate


def test_signal_invoices_are_paid_late_before_churn(landing: Landing) -> None:
    inv = landing.latest("billing/invoices")
    inv = inv[inv["status"] != "void"].merge(_churners(landing)[["account_id", "churn"]], on="account_id")
    before = (inv["churn"] - _day(inv["issue_date"])).dt.days
    paid_day = _ts(inv["paid_at"]).dt.normalize()
    late = paid_day.isna() | (paid_day > _day(inv["due_date"]))
    near, far = late[before.between(0, 90)], late[before >= 180]
    assert len(near) >= 30 and len(far) >= 100
    assert near.mean() > 0.5 and near.mean() > 2 * far.mean()


def test_campaigns_and_sends_are_consistent(landing: Landing) -> None:
    campaigns = landing.frame("marketing/campaigns").set_index("campaign_id")
    variants = landing.frame("marketing/campaign_variants")
    assert 20 <= len(campaigns) <= 60
    assert (variants.groupby("campaign_id")["variant"].apply(lambda v: sorted(v)) == pd.Series(
        [["A", "B"]] * len(campaigns), index=campaigns.index)).all()
    assert set(campaigns["channel"]) == {"email", "whatsapp", "sms"}
    live = campaigns[campaigns["status"] == "active"]
    assert len(live) >= 3 and (live["start_date"] <= AS_OF.isoformat()).all()
    assert (live["end_date"] >= AS_OF.isoformat()).all()
    assert (campaigns.loc[campaigns["status"] == "completed", "end_date"] < AS_OF.isoformat()).all()
    sends = landing.frame("marketing/sends")
    assert not sends.duplicated(["campaign_id", "contact_id"]).any()
    assert (sends["channel"].to_numpy() == campaigns.loc[sends["campaign_id"], "channel"].to_numpy()).all()
    day = sends["sent_at"].str[:10]
    assert ((day >= campaigns.loc[sends["campaign_id"], "start_date"].to_numpy())
            & (day <= campaigns.loc[sends["campaign_id"], "end_date"].to_numpy())).all()
    assert set(sends["status"]) <= {"sent", "failed", "delivered", "read", "replied"}
    furthest = np.where(sends["replied_at"] != "", "replied", np.where(
        sends["read_at"] != "", "read", np.where(sends["delivered_at"] != "", "delivered", "undelivered")))
    assert (np.where(furthest == "undelivered", sends["status"].isin(["failed", "sent"]),
                     sends["status"] == furthest)).all()
    assert (sends.loc[sends["replied_at"] != "", "status"] == "replied").all()
    assert (sends.loc[sends["delivered_at"] == "", "status"].isin(["failed", "sent"])).all()
    order = sends[sends["replied_at"] != ""]
    assert (order["sent_at"] <= order["delivered_at"]).all() and (order["delivered_at"] <= order["replied_at"]).all()
    assert (sends.loc[sends["channel"] == "sms", "read_at"] == "").all()


def test_web_sessions_mix_sources_and_known_visitors(landing: Landing) -> None:
    web = landing.frame("web/sessions")
    pairs = set(zip(web["source"], web["medium"], strict=True))
    assert {("google", "cpc"), ("google", "organic"), ("newsletter", "email"), ("linkedin", "social"),
            ("direct", "(none)")} <= pairs
    assert 0.1 < (web["contact_id"] != "").mean() < 0.6
    assert ((web["contact_id"] != "") == (web["account_id"] != "")).all()
    email = web[web["medium"] == "email"]
    assert (email["campaign_id"] != "").mean() > 0.1 and (web.loc[web["medium"] != "email", "campaign_id"] == "").all()
    assert 0.01 < (web["converted"] == "true").mean() < 0.1


def test_signal_reply_rate_depends_on_variant_hour_and_channel(landing: Landing) -> None:
    sends = landing.frame("marketing/sends")
    sends = sends[sends["delivered_at"] != ""]
    replied = sends["replied_at"] != ""
    by_variant = replied.groupby(sends["variant"]).mean()
    assert by_variant["B"] > 1.2 * by_variant["A"]
    per_campaign = replied.groupby([sends["campaign_id"], sends["variant"]]).agg(["mean", "sum"]).unstack()
    decided = per_campaign[per_campaign[("sum", "A")] + per_campaign[("sum", "B")] >= 15]
    assert len(decided) >= 8 and (decided[("mean", "B")] > decided[("mean", "A")]).mean() >= 0.6
    per_channel_variant = replied.groupby([sends["channel"], sends["variant"]]).mean().unstack()
    assert (per_channel_variant["B"] > per_channel_variant["A"]).all()
    hour = sends["sent_at"].str[11:13].astype(int)
    good = hour.between(9, 11) | hour.between(18, 20)
    midday = hour.between(12, 17)
    night = (hour <= 5) | (hour >= 22)
    assert replied[good].mean() > 1.3 * replied[midday].mean()
    assert replied[night].mean() < 0.8 * replied[midday].mean()
    by_channel = replied.groupby(sends["channel"]).mean()
    assert by_channel["whatsapp"] > 1.5 * by_channel["sms"] and by_channel["sms"] > 1.5 * by_channel["email"]
    replies = landing.frame("marketing/replies")
    assert len(replies) == replied.sum()


def test_signal_chat_inbound_peaks_in_the_evening(landing: Landing) -> None:
    msgs = landing.frame("support/messages")
    inbound = msgs[msgs["direction"] == "inbound"]
    hours = inbound["sent_at"].str[11:13].astype(int)
    share = hours.value_counts(normalize=True)
    assert share.loc[[18, 19, 20]].sum() >= 0.45
    assert set(share.nlargest(3).index) == {18, 19, 20}
    assert share.loc[[18, 19, 20]].mean() > 4 * share.drop([18, 19, 20]).mean()


def test_signal_some_regions_grow_and_others_shrink(landing: Landing) -> None:
    subs = landing.frame("crm/subscriptions")
    accounts = landing.latest("crm/accounts").set_index("account_id")
    fx = landing.frame("billing/fx_rates")
    rate = fx[fx["rate_date"] == AS_OF.isoformat()].set_index("currency")["usd_per_unit"].astype(float)
    subs = subs.assign(region=accounts.loc[subs["account_id"], "region"].to_numpy(),
                       mrr_usd=subs["mrr"].astype(float) * subs["currency"].map(rate))

    def snapshot(day: date) -> tuple[pd.Series, pd.Series]:
        d = day.isoformat()
        live = subs[(subs["start_date"] <= d) & ((subs["end_date"] == "") | (subs["end_date"] > d))]
        return live.groupby("region")["account_id"].nunique(), live.groupby("region")["mrr_usd"].sum()

    (n0, mrr0), (n1, mrr1) = snapshot(START), snapshot(AS_OF)
    growth, mrr_growth = n1 / n0, mrr1 / mrr0
    for region in ("East Africa", "West Africa"):
        assert growth[region] > 1.3 and mrr_growth[region] > 1.2, region
    assert growth["Europe"] < 0.9 and mrr_growth["Europe"] < 1.0
    assert growth["East Africa"] > growth["Europe"] + 0.5


def test_journey_channel_mix_changes_conversion(landing: Landing) -> None:
    tp = landing.frame("marketing/touchpoints")
    journeys = tp.groupby("journey_id").agg(channels=("channel", set), converted=("converted", "max"),
                                            touches=("channel", "size"))
    assert journeys["touches"].between(1, 6).all()
    converted = journeys["converted"] == "true"
    warm = journeys["channels"].map(lambda c: bool(c & {"webinar", "referral"}))
    cold = journeys["channels"].map(lambda c: c <= {"social", "paid_search", "organic_search"})
    # compare journeys of equal length: longer journeys convert more whatever their channels
    observed = expected = 0.0
    for length in range(1, 5):
        same = journeys["touches"] == length
        if (same & cold).sum() >= 30:
            observed += converted[same & warm].sum()
            expected += (same & warm).sum() * converted[same & cold].mean()
    assert expected > 10 and observed > 1.8 * expected
    last = tp.sort_values(["journey_id", "occurred_at"]).groupby("journey_id").tail(1)
    conv_rows = tp[tp["converted"] == "true"]
    assert set(conv_rows["touchpoint_id"]) <= set(last["touchpoint_id"])
    assert (conv_rows["conversion_value_usd"] != "").all()
    assert (tp.loc[tp["converted"] == "false", "conversion_value_usd"] == "").all()


# --- planted defects ----------------------------------------------------------------------

def _rate_ok(found: int, population: int, rate: float) -> bool:
    expected = rate * population
    return 0.5 * expected - 3 <= found <= 1.6 * expected + 3


def test_duplicate_contacts_are_spelling_variants_of_real_people(landing: Landing) -> None:
    pairs = landing.summary.defects.duplicate_contacts
    contacts = landing.frame("crm/contacts").set_index("contact_id")
    originals = len(contacts) - len(pairs)
    assert len(pairs) > 0 and _rate_ok(len(pairs), originals, DefectRates().duplicate_contacts)
    spaced = 0
    for dup_id, orig_id in pairs:
        dup, orig = contacts.loc[dup_id], contacts.loc[orig_id]
        assert dup_id != orig_id and dup["account_id"] == orig["account_id"]
        name_dup, name_orig = f"{dup['first_name']} {dup['last_name']}", f"{orig['first_name']} {orig['last_name']}"
        assert difflib.SequenceMatcher(None, name_dup.lower(), name_orig.lower()).ratio() > 0.7
        assert name_dup != name_orig or dup["email"] != orig["email"] or dup["phone"] != orig["phone"]
        if orig["email"]:
            assert dup["email"].lower() == orig["email"].lower()
        if orig["phone"]:
            assert re.sub(r"\D", "", dup["phone"]) == re.sub(r"\D", "", orig["phone"])
            spaced += " " in dup["phone"]
    assert spaced > 0


def test_same_company_appears_in_two_regions_under_a_variant_name(landing: Landing) -> None:
    pairs = landing.summary.defects.cross_region_accounts
    accounts = landing.latest("crm/accounts").set_index("account_id")
    assert len(pairs) > 0 and _rate_ok(len(pairs), len(accounts), DefectRates().cross_region_accounts)
    suffix = re.compile(r"\b(the|\(pty\)|ltd\.?|limited|plc|gmbh|ag|sas|sa|b\.v\.|inc\.?|llc|corp\.?|dac|"
                        r"holdings)\b", re.IGNORECASE)

    def core(name: str) -> str:
        return re.sub(r"[^a-z]", "", suffix.sub("", name).lower())

    for twin, original in pairs:
        a, b = accounts.loc[twin], accounts.loc[original]
        assert a["region"] != b["region"] and a["account_name"] != b["account_name"]
        assert difflib.SequenceMatcher(None, core(a["account_name"]), core(b["account_name"])).ratio() > 0.8


def test_missing_fields_are_blank_at_about_the_configured_rate(landing: Landing) -> None:
    rates = DefectRates()
    planted = landing.summary.defects.missing_fields
    contacts = landing.frame("crm/contacts")
    originals = len(contacts) - len(landing.summary.defects.duplicate_contacts)
    assert (contacts["email"] == "").sum() == planted["crm/contacts.email"]
    assert (contacts["phone"] == "").sum() == planted["crm/contacts.phone"]
    assert _rate_ok(planted["crm/contacts.email"], originals, rates.missing_contact_email)
    assert _rate_ok(planted["crm/contacts.phone"], originals, rates.missing_contact_phone)
    accounts = landing.latest("crm/accounts")
    assert (accounts["industry"] == "").sum() == planted["crm/accounts.industry"] > 0
    assert planted["support/tickets.csat"] > 0


def test_malformed_rows_are_few_and_really_malformed(landing: Landing) -> None:
    planted = landing.summary.defects.malformed_rows
    assert set(planted) == set(MALFORMED_FILES)
    for key in MALFORMED_FILES:
        header, rows = landing.raw(key)
        kinds = dict(planted[key])
        assert len(kinds) == DefectRates().malformed_rows_per_file, key
        broken = {r[0]: r for r in rows if len(r) != len(header) or "31/02/" in ",".join(r) or "N/A" in r}
        assert set(broken) == set(kinds), key
        for row_key, kind in kinds.items():
            row = broken[row_key]
            if kind == "extra_field":
                assert len(row) == len(header) + 1
            elif kind == "missing_field":
                assert len(row) == len(header) - 1
            else:
                assert len(row) == len(header) and ("31/02/" in ",".join(row) or "N/A" in row)
    for d in DATASETS:  # every other file is clean
        key = f"{d.system}/{d.name}"
        if key not in MALFORMED_FILES:
            header, rows = landing.raw(key)
            assert all(len(r) == len(header) for r in rows), key


def test_stale_versions_repeat_a_key_with_an_older_updated_at(landing: Landing) -> None:
    planted = landing.summary.defects.stale_versions
    for key, id_col in STALE_FILES.items():
        df = landing.frame(key)
        repeated = df[df.duplicated(id_col, keep=False)]
        assert set(repeated[id_col]) == set(planted.get(key, [])), key
        population = df[id_col].nunique()
        assert len(planted[key]) > 0 and len(planted[key]) < 0.03 * population, key
        for _, versions in repeated.groupby(id_col):
            assert len(versions) == 2 and versions["updated_at"].nunique() == 2
    inv = landing.frame("billing/invoices")
    stale = inv[inv["invoice_id"].isin(planted["billing/invoices"])].sort_values("updated_at")
    newest = stale.drop_duplicates("invoice_id", keep="last")
    oldest = stale.drop_duplicates("invoice_id", keep="first")
    assert (newest["status"] == "paid").all() and (oldest["status"] == "open").all()


def test_zero_rates_plant_no_defects(clean_landing: Landing) -> None:
    d = clean_landing.summary.defects
    assert not d.duplicate_contacts and not d.cross_region_accounts and not d.stale_versions
    assert not any(d.missing_fields.values()) and not any(d.malformed_rows.values())
    for ds in DATASETS:
        key = f"{ds.system}/{ds.name}"
        header, rows = clean_landing.raw(key)
        assert all(len(r) == len(header) for r in rows), key
        df = clean_landing.frame(key)
        assert not df.duplicated(list(ds.key)).any(), key
        assert not df.isin(["N/A"]).any().any(), key
        for col in df.columns:
            if col.endswith(("_at", "_date")):
                assert not df[col].str.contains("/").any(), (key, col)
    contacts = clean_landing.frame("crm/contacts")
    assert (contacts["email"] != "").all() and (contacts["phone"] != "").all()
    assert contacts["phone"].str.match(r"^\+\d+$").all()
    assert not contacts["email"].str.lower().duplicated().any()
    accounts = clean_landing.frame("crm/accounts")
    assert (accounts["industry"] != "").all()
    names = accounts["account_name"].str.lower().str.replace(r"[^a-z]", "", regex=True)
    assert names.is_unique


def test_deals_carry_loss_reasons_next_steps_and_stage_dates(landing: Landing) -> None:
    opps = landing.latest("crm/opportunities")
    lost, won = opps["stage"] == "Closed Lost", opps["stage"] == "Closed Won"
    is_open = ~(lost | won)
    assert (opps.loc[~lost, "loss_reason"] == "").all()
    given = opps.loc[lost, "loss_reason"]
    assert 0.8 < (given != "").mean() < 0.97  # most lost deals say why
    assert set(given[given != ""]) <= set(LOSS_REASONS) and given[given != ""].nunique() >= 4
    assert (opps.loc[~is_open, "next_step"] == "").all()
    assert (opps.loc[is_open, "next_step"] != "").mean() > 0.8
    entered, created, updated = _ts(opps["stage_entered_at"]), _ts(opps["created_at"]), _ts(opps["updated_at"])
    assert entered.notna().all()
    assert (entered >= created).all()
    assert (entered[is_open] <= updated[is_open]).all()  # entered the stage by its last update at the latest
    closing = _day(opps["close_date"])
    assert (entered[~is_open].dt.normalize() <= closing[~is_open]).all()


def test_quotas_per_rep_and_quarter(landing: Landing) -> None:
    quotas = landing.frame("crm/quotas")
    users = landing.frame("crm/users")
    reps = set(users.loc[users["role"].isin(["sales_rep", "account_manager"]), "user_id"])
    assert set(quotas["user_id"]) == reps
    assert not quotas.duplicated(["user_id", "quarter_start"]).any()
    starts = _day(quotas["quarter_start"])
    assert (starts.dt.day == 1).all() and starts.dt.month.isin([1, 4, 7, 10]).all()
    assert starts.max() > pd.Timestamp(AS_OF)  # the next quarter's quotas are set already
    assert (quotas["quota_usd"].astype(float) >= 1000).all()
    # Set from what each rep books, so they differ between reps.
    assert quotas.groupby("user_id")["quota_usd"].first().nunique() > len(reps) / 2


def test_emails_are_logged_by_reps_with_customers(landing: Landing) -> None:
    emails = landing.frame("crm/emails")
    users = landing.frame("crm/users")
    assert len(emails) > 1000
    assert set(emails["user_id"]) <= set(users["user_id"])
    assert set(emails["direction"]) == {"outbound", "inbound"}
    assert 0.55 < (emails["direction"] == "outbound").mean() < 0.8
    assert (_ts(emails["sent_at"]) < pd.Timestamp(AS_OF + timedelta(days=1))).all()
