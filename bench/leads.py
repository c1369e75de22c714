"""The Leads and buyers models on public data; prints figures (no timings, no thresholds).

    python bench/leads.py [--cdnow CDNOW_sample.txt] [--xedu Leads.xlsx] [--generated]

1. BG/NBD (models.clv, Fader, Hardie and Lee 2005) on the CDNOW sample (2,357 customers, the
   lifetimes package's lifetimes/datasets/CDNOW_sample.txt): fitted on the 39-week calibration
   period (1 Jan - 30 Sep 1997) with time in weeks and repeat purchases counted per day as in the
   paper, against the published r=0.243, alpha=4.414, a=0.793, b=2.426 and log-likelihood
   -9582.4; then the expected repeat purchases in the 39-week holdout against the actual ones.
   Without --cdnow the file is read from a mirror of github.com/CamDavidsonPilon/lifetimes (the
   repository tools' `fetch`), if one is at LIFETIMES_MIRROR.
2. The lead model (models.leads: logistic regression, trained on earlier leads, validated on
   later ones) on the public X Education lead-scoring data (Kaggle "ashydv/leads-dataset", 9,240
   leads, 38.5 % converted; an .xlsx named Leads.csv in github.com/khajanawaz/
   lead-case-study-using-Logistic-Regression). It has no dates: the Lead Number, assigned in order
   of arrival, orders the leads for the time-based split. Features as in the product: the lead
   source, an engagement tier from the lead's web engagement (time on the website and visits,
   in the engagement radar's tiers), and the lead origin in the region's place. Columns written
   by sales after the fact (Tags, Lead Quality, Last Activity) are left out: they leak the outcome.
3. With --generated: the same lead model on demo data with and without the planted signal.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models import clv  # noqa: E402
from models.churn import roc_auc  # noqa: E402
from models.engagement import EngagementTier  # noqa: E402
from models.leads import lead_features, train_lead_model  # noqa: E402

LIFETIMES_MIRROR = Path("/work/.mirror/CamDavidsonPilon+lifetimes/repo")
XEDU_MIRROR = Path("/work/.mirror/khajanawaz+lead-case-study-using-Logistic-Regression/repo")
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LOG_LIKELIHOOD = -9582.4
CALIBRATION_END = pd.Timestamp("1997-09-30")
HOLDOUT_END = pd.Timestamp("1998-06-30")


def _from_mirror(mirror: Path, path: str) -> bytes | None:
    if not mirror.exists():
        return None
    shown = subprocess.run(["git", "--git-dir", str(mirror), "show", f"HEAD:{path}"], capture_output=True, check=False)
    return shown.stdout if shown.returncode == 0 else None


def cdnow_transactions(path: Path | None) -> pd.DataFrame | None:
    """customer, date, cds, amount of the CDNOW sample (whitespace-separated, dates as YYYYMMDD)."""
    if path is not None:
        raw = path.read_bytes()
    else:
        raw = _from_mirror(LIFETIMES_MIRROR, "lifetimes/datasets/CDNOW_sample.txt")
        if raw is None:
            return None
    rows = [line.split() for line in raw.decode().splitlines() if line.strip()]
    frame = pd.DataFrame(rows, columns=["customer", "customer_index", "date", "cds", "amount"])
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def cdnow_summary(transactions: pd.DataFrame) -> pd.DataFrame:
    """Per customer, in weeks as in FHL 2005: repeat purchase days in the calibration period (x),
    the week of the last one (t_x) and the weeks to its end (T), plus the holdout's repeat purchases."""
    daily = transactions.drop_duplicates(["customer", "date"])
    calibration = daily[daily["date"] <= CALIBRATION_END]
    grouped = calibration.groupby("customer")["date"]
    first, last = grouped.min(), grouped.max()
    summary = pd.DataFrame({
        "frequency": grouped.size() - 1.0,
        "recency": (last - first).dt.days / 7.0,
        "T": (CALIBRATION_END - first).dt.days / 7.0,
    })
    holdout = daily[(daily["date"] > CALIBRATION_END) & (daily["date"] <= HOLDOUT_END)]
    summary["holdout"] = holdout.groupby("customer").size().reindex(summary.index).fillna(0.0)
    return summary


def bench_bgnbd(path: Path | None) -> None:
    transactions = cdnow_transactions(path)
    if transactions is None:
        print("CDNOW: no file given and no lifetimes mirror at", LIFETIMES_MIRROR, "- skipped")
        return
    summary = cdnow_summary(transactions)
    model = clv.fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    print(f"CDNOW sample: {len(summary):,} customers, {int(summary['frequency'].sum()):,} repeat purchases in the "
          f"calibration period (to {CALIBRATION_END.date()}), {int(summary['holdout'].sum()):,} in the holdout "
          f"(to {HOLDOUT_END.date()})")
    print("BG/NBD      fitted   published")
    for name, published in PUBLISHED.items():
        print(f"  {name:<8} {getattr(model, name):8.3f}   {published:8.3f}")
    print(f"  log-lik  {model.log_likelihood:9.1f}   {PUBLISHED_LOG_LIKELIHOOD:9.1f}   converged={model.converged}")
    weeks = (HOLDOUT_END - CALIBRATION_END).days / 7.0
    expected = np.asarray(model.expected_purchases(weeks, summary["frequency"], summary["recency"], summary["T"]))
    actual = summary["holdout"].to_numpy()
    print(f"Holdout ({weeks:.0f} weeks): expected {expected.sum():,.0f} repeat purchases, actual {actual.sum():,.0f}; "
          f"per-customer correlation {np.corrcoef(expected, actual)[0, 1]:.3f}; "
          f"mean absolute error {np.abs(expected - actual).mean():.3f}")
    bought = actual > 0
    print(f"Ranking who buys again in the holdout by expected purchases: ROC-AUC {roc_auc(bought, expected):.3f} "
          f"({bought.mean():.1%} bought)")
    by_x = pd.DataFrame({"x": np.minimum(summary["frequency"], 7), "expected": expected, "actual": actual})
    table = by_x.groupby("x")[["expected", "actual"]].mean()
    print("Mean holdout purchases by calibration repeat purchases (7 = 7+):")
    print("  x  " + " ".join(f"{int(x):>6}" for x in table.index))
    print("  exp" + " ".join(f"{v:6.2f}" for v in table["expected"]))
    print("  act" + " ".join(f"{v:6.2f}" for v in table["actual"]))


def xedu_leads(path: Path | None) -> pd.DataFrame | None:
    if path is not None:
        return pd.read_excel(path) if path.suffix in {".xlsx", ".csv"} and path.read_bytes()[:2] == b"PK" \
            else pd.read_csv(path)
    raw = _from_mirror(XEDU_MIRROR, "Leads.csv")
    if raw is None:
        return None
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as handle:
        handle.write(raw)
        handle.flush()
        return pd.read_excel(handle.name)


def engagement_tier(time_on_site: pd.Series, visits: pd.Series) -> pd.Series:
    """The engagement radar's tiers from web engagement: a 0-1 score from time on the website
    (saturating at 20 minutes) and visits (at 5), Potential >= 0.6, Watch List >= 0.3, else Alert."""
    score = 0.6 * (1 - np.exp(-time_on_site.fillna(0) / 1200)) + 0.4 * (1 - np.exp(-visits.fillna(0) / 5))
    return pd.Series(np.where(score >= 0.6, EngagementTier.POTENTIAL,
                              np.where(score >= 0.3, EngagementTier.WATCH_LIST, EngagementTier.ALERT)),
                     index=time_on_site.index).astype(str)


def bench_lead_model(path: Path | None) -> None:
    raw = xedu_leads(path)
    if raw is None:
        print("X Education leads: no file given and no mirror at", XEDU_MIRROR, "- skipped")
        return
    raw = raw.sort_values("Lead Number").reset_index(drop=True)
    leads = pd.DataFrame({
        "lead_source": raw["Lead Source"].fillna("unknown").str.lower(),
        "email": np.where(raw["Do Not Email"].eq("Yes"), "", "someone@example.org"),
        "phone": np.where(raw["Do Not Call"].eq("Yes"), "", "+1 555 0100"),
        "region": raw["Lead Origin"].fillna("Unknown"),
    })
    tiers = engagement_tier(raw["Total Time Spent on Website"], raw["TotalVisits"])
    # Arrival order stands in for time: one minute per lead, in lead-number order.
    created = pd.Series(pd.Timestamp("2020-01-01") + pd.to_timedelta(np.arange(len(raw)), unit="min"))
    converted = raw["Converted"].astype(bool)
    model = train_lead_model(lead_features(leads, engagement_tier=tiers), converted, created)
    print(f"X Education: {len(raw):,} leads, {converted.mean():.1%} converted; trained on the first "
          f"{model.train_rows:,} by lead number, validated on the last {model.validation_rows:,}")
    print(f"Lead model validation ROC-AUC {model.validation_auc:.3f} (training {model.train_auc:.3f})")
    without = train_lead_model(lead_features(leads), converted, created)
    print(f"  without the engagement tier: validation ROC-AUC {without.validation_auc:.3f}")
    print("  largest effects (log-odds):")
    for row in model.coefficient_table().head(6).itertuples():
        print(f"    {row.feature:<40} {row.coefficient:+.2f}")


def bench_generated() -> None:
    from etl.demo_data import generate
    from models.leads import decided_leads, is_converted
    from tests.etl.reference import raw_rows

    as_of = date(2026, 11, 23)
    for signal in (True, False):
        with tempfile.TemporaryDirectory() as out:
            generate(Path(out), scale="small", seed=11, as_of=as_of, progress=False, lead_signal=signal)
            leads = raw_rows(Path(out), "crm/leads").fillna("")
        decided = leads[decided_leads(leads, as_of)]
        model = train_lead_model(lead_features(decided), is_converted(decided), decided["created_at"])
        print(f"Demo data (small, seed 11), planted signal {'on ' if signal else 'off'}: validation ROC-AUC "
              f"{model.validation_auc:.3f} on {model.validation_rows:,} later leads")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cdnow", type=Path, help="CDNOW_sample.txt (default: the lifetimes mirror)")
    parser.add_argument("--xedu", type=Path, help="the X Education Leads file (default: its mirror)")
    parser.add_argument("--generated", action="store_true", help="also the demo data with and without the signal")
    args = parser.parse_args()
    print("== BG/NBD on CDNOW")
    bench_bgnbd(args.cdnow)
    print("== Lead model on X Education")
    bench_lead_model(args.xedu)
    if args.generated:
        print("== Lead model on demo data")
        bench_generated()


if __name__ == "__main__":
    main()
