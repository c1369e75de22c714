"""models.drivers: breakdowns with known answers whose parts add up to the change."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from etl.insights.drivers import mrr_windows
from models.drivers import active_customers_bridge, mrr_bridge, rate_shift_share


def test_mrr_bridge_known_answer_and_parts_add_up():
    start = pd.DataFrame({"account_id": ["a", "b", "c", "d", "e"], "mrr_usd": [100.0, 200.0, 300.0, 50.0, 0.0],
                          "region": ["EU", "EU", "US", "US", "US"]})
    end = pd.DataFrame({"account_id": ["a", "b", "c", "f", "e"], "mrr_usd": [150.0, 120.0, 300.0, 80.0, 10.0],
                        "region": ["EU", "EU", "US", "APAC", "US"]})
    bridge = mrr_bridge(start, end, dimensions=["region"])
    assert bridge.total("start") == 650 and bridge.total("end") == 660
    assert bridge.total("new") == 90  # f 80 + e 10 (e had 0 at the start)
    assert bridge.total("expansion") == 50  # a
    assert bridge.total("contraction") == -80  # b
    assert bridge.total("churn") == -50  # d
    parts = sum(bridge.total(c) for c in ("new", "expansion", "contraction", "churn"))
    assert bridge.total("start") + parts == pytest.approx(bridge.total("end"))
    by_region = bridge.components[bridge.components["dimension"] == "region"].pivot(
        index="member", columns="component", values="value")
    assert by_region.loc["US", "churn"] == -50 and by_region.loc["APAC", "new"] == 80
    balance = by_region["start"] + by_region[["new", "expansion", "contraction", "churn"]].sum(axis=1)
    assert (balance - by_region["end"]).abs().max() < 1e-9
    top = bridge.top_accounts(2)
    assert list(top["account_id"]) == ["b", "f"] and list(top["component"]) == ["contraction", "new"]


def test_mrr_bridge_splits_fx_from_expansion_and_contraction():
    # a: 100 at the start, 110 at the end day's rates, 120 at the end: FX +10, expansion +10.
    # b: 200 worth 180 at the end day's rates and billed the same: FX -20, nothing else.
    # c is new and d churned: neither has an FX part, whatever its revaluation says.
    start = pd.DataFrame({"account_id": ["a", "b", "d"], "mrr_usd": [100.0, 200.0, 30.0],
                          "mrr_usd_at_end_rates": [110.0, 180.0, 33.0], "region": ["EU", "EU", "US"]})
    end = pd.DataFrame({"account_id": ["a", "b", "c"], "mrr_usd": [120.0, 180.0, 50.0], "region": ["EU", "EU", "US"]})
    bridge = mrr_bridge(start, end, dimensions=["region"])
    totals = {c: bridge.total(c) for c in ("start", "new", "expansion", "contraction", "churn", "fx", "end")}
    assert totals == pytest.approx({"start": 330, "new": 50, "expansion": 10, "contraction": 0, "churn": -30,
                                    "fx": -10, "end": 350})
    assert totals["start"] + sum(totals[c] for c in ("new", "expansion", "contraction", "churn", "fx")) == \
        pytest.approx(totals["end"])
    components = bridge.components[bridge.components["dimension"] == "total"]["component"].tolist()
    assert components == ["start", "new", "expansion", "contraction", "churn", "fx", "end"]
    eu = bridge.components[(bridge.components["dimension"] == "region") & (bridge.components["member"] == "EU")]
    assert eu.set_index("component")["value"]["fx"] == pytest.approx(-10)
    status = dict(zip(bridge.accounts["account_id"], bridge.accounts["component"], strict=True))
    assert status == {"a": "expansion", "b": "unchanged", "c": "new", "d": "churn"}


def test_active_customers_bridge_new_reactivated_churned():
    start = pd.DataFrame({"account_id": ["a", "b", "c"], "segment": ["SMB", "SMB", "Enterprise"]})
    end = pd.DataFrame({"account_id": ["a", "d", "e", "f"], "segment": ["SMB", "SMB", "Enterprise", "SMB"]})
    bridge = active_customers_bridge(start, end, ever_active_before_start=["e", "x"], dimensions=["segment"])
    total = bridge.components[bridge.components["dimension"] == "total"].set_index("component")["value"]
    assert total.to_dict() == {"start": 3, "new": 2, "reactivated": 1, "churned": -2, "end": 4}
    assert total["start"] + total["new"] + total["reactivated"] + total["churned"] == total["end"]
    assert dict(zip(bridge.accounts["account_id"], bridge.accounts["component"], strict=True)) == {
        "b": "churned", "c": "churned", "d": "new", "e": "reactivated", "f": "new"}


def test_rate_shift_share_mix_and_rate_add_up_exactly():
    groups = pd.DataFrame({
        "channel": ["email", "sms", "whatsapp"],
        "trials_start": [800, 200, 0], "successes_start": [40, 30, 0],  # 5%, 15%, none
        "trials_end": [500, 300, 200], "successes_end": [20, 45, 50],  # 4%, 15%, 25%
    })
    result = rate_shift_share(groups, dimension="channel").set_index(["member", "component"])["value"]
    assert result["All", "start"] == pytest.approx(70 / 1000)
    assert result["All", "end"] == pytest.approx(115 / 1000)
    assert result["All", "mix"] + result["All", "rate"] == pytest.approx(115 / 1000 - 70 / 1000, abs=1e-15)
    # sms kept its 15% rate: its whole contribution is mix (share 20% -> 30%).
    assert result["sms", "rate"] == 0 and result["sms", "mix"] == pytest.approx(0.10 * 0.15)
    # email: share 0.8 -> 0.5 at rates 5% -> 4%; rate effect = mean share x rate change.
    assert result["email", "rate"] == pytest.approx(0.65 * -0.01)
    assert result["email", "mix"] == pytest.approx(-0.3 * 0.045)
    members = result.drop(index="All")
    assert members.xs("mix", level="component").sum() == pytest.approx(result["All", "mix"])


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="lacks columns"):
        mrr_bridge(pd.DataFrame({"account_id": ["a"]}), pd.DataFrame({"account_id": ["a"], "mrr_usd": [1.0]}))
    with pytest.raises(ValueError, match="duplicate"):
        mrr_bridge(pd.DataFrame({"account_id": ["a", "a"], "mrr_usd": [1.0, 2.0]}),
                   pd.DataFrame({"account_id": ["a"], "mrr_usd": [1.0]}))


def test_mrr_windows_cover_the_page_default_the_month_to_date_and_twelve_months():
    windows = mrr_windows(date(2026, 11, 23), date(2020, 1, 1))
    assert (date(2026, 10, 24), date(2026, 11, 23)) in windows and (date(2026, 8, 25), date(2026, 11, 23)) in windows
    assert (date(2026, 10, 23), date(2026, 11, 22)) in windows  # the 30 days to yesterday
    assert (date(2026, 10, 31), date(2026, 11, 23)) in windows  # month to date
    months = [(start, end) for start, end in windows if (end + timedelta(days=1)).day == 1]
    assert (date(2026, 9, 30), date(2026, 10, 31)) in months and (date(2025, 10, 31), date(2025, 11, 30)) in months
    assert all((start + timedelta(days=1)).day == 1 for start, _ in months)
    assert len(months) == 12 and len(windows) == len(set(windows)) == 16
    assert all(start >= date(2026, 6, 1) for start, _ in mrr_windows(date(2026, 11, 23), date(2026, 6, 1)))


def test_largest_accounts_keeps_the_top_of_each_region_and_territory():
    from etl.insights.drivers import LARGEST_PER_GROUP, largest_accounts

    customers = pd.DataFrame({
        "account_id": [f"A{i:02d}" for i in range(30)],
        "region": ["EU"] * 20 + ["US"] * 10,
        "territory": ["DACH"] * 15 + [""] * 5 + ["West"] * 10,
        "mrr_usd": [float(i % 13) for i in range(30)],
    })
    top = largest_accounts(customers, date(2026, 10, 31))
    assert set(top["day"]) == {date(2026, 10, 31)} and (top["mrr_usd"] > 0).all()
    for (region, territory), group in top.groupby(["region", "territory"]):
        pool = customers[(customers["region"] == region) & (customers["territory"] == territory)
                         & (customers["mrr_usd"] > 0)]
        want = pool.sort_values(["mrr_usd", "account_id"], ascending=[False, True]).head(LARGEST_PER_GROUP)
        assert list(group.sort_values("rank")["account_id"]) == list(want["account_id"])
        assert list(group.sort_values("rank")["rank"]) == list(range(1, len(want) + 1))
    # The ten largest of any union of groups are among the kept rows.
    union = customers[customers["territory"].isin(["DACH", "West"]) & (customers["mrr_usd"] > 0)]
    best = union.sort_values(["mrr_usd", "account_id"], ascending=[False, True]).head(10)["account_id"]
    assert set(best) <= set(top["account_id"])
