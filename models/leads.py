"""Accounts and leads to act on: a lead propensity-to-convert model and repeat-purchase propensity.

Leads (pure functions on pandas frames):

    features = lead_features(leads, engagement_tier=tiers)      # one row per lead, known at creation
    model = train_lead_model(features, labels, created_at, validation_share=0.25)
    model.validation_auc                                          # ROC-AUC on the LATER leads
    scores = model.score(features_of_open_leads)                  # probability, 0-100 score, reason

The model is an L2-penalised logistic regression on one-hot lead attributes known when the lead
arrives (source, kind of email, phone given, region, the engagement tier of the lead's company
when it is already a customer). It is trained on the earlier leads and validated on the later
ones (a time-based split), so the AUC says how well it ranks leads it has not seen yet. Each
score's reason lists the attributes that raise it most, in words.

Repeat purchases:

    summary = purchase_summary(purchases, as_of)                  # BTYD frequency, recency, T in weeks
    repeat = repeat_purchase_scores(summary, horizon_weeks=13)    # P(alive), expected purchases, rank

BG/NBD (Fader, Hardie and Lee 2005) is fitted by maximum likelihood in `models.clv`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit

from models import clv
from models.churn import roc_auc

PERSONAL_EMAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com",
    "me.com", "aol.com", "gmx.de", "gmx.net", "web.de", "proton.me", "protonmail.com", "mail.ru", "yandex.ru",
    "qq.com", "163.com", "naver.com",
})
NO_TIER = "Not a customer"
CATEGORICAL_FEATURES = ("lead_source", "email_kind", "region", "engagement_tier")
BINARY_FEATURES = ("phone_given",)
# How each feature value reads in a reason.
VALUE_WORDS: dict[str, str] = {
    "lead_source=referral": "came through a referral",
    "lead_source=event": "met at an event",
    "lead_source=partner": "came from a partner",
    "lead_source=web": "came in through the website",
    "lead_source=campaign": "answered a campaign",
    "email_kind=work": "left a work email",
    "email_kind=personal": "left a personal email",
    "email_kind=missing": "left no email",
    "phone_given": "gave a phone number",
    "engagement_tier=Potential": "their company is an engaged customer (Potential)",
    "engagement_tier=Watch List": "their company is a customer on the Watch List",
    "engagement_tier=Alert": "their company is a disengaged customer (Alert)",
}
MIN_TRAINING_LEADS = 50


class LeadModelError(ValueError):
    """Raised when the leads cannot train a model (too few, or a single class)."""


def email_kind(emails: pd.Series) -> pd.Series:
    """'work', 'personal' (a free mail domain) or 'missing' per email address."""
    text = emails.fillna("").astype(str).str.strip().str.lower()
    domain = text.str.rpartition("@")[2]
    kind = np.where(text.eq("") | ~text.str.contains("@"), "missing",
                    np.where(domain.isin(PERSONAL_EMAIL_DOMAINS), "personal", "work"))
    return pd.Series(kind, index=emails.index, dtype=object)


def lead_features(leads: pd.DataFrame, engagement_tier: pd.Series | None = None) -> pd.DataFrame:
    """Attributes known when each lead arrives, indexed like `leads` (columns lead_source, email, phone, region).

    `engagement_tier` (same index) is the tier of the lead's company when it was already a customer
    before the lead came in; NO_TIER elsewhere.
    """
    out = pd.DataFrame(index=leads.index)
    out["lead_source"] = leads["lead_source"].fillna("unknown").astype(str).replace("", "unknown")
    out["email_kind"] = email_kind(leads["email"])
    out["phone_given"] = leads["phone"].fillna("").astype(str).str.strip().ne("").astype(float)
    out["region"] = leads["region"].fillna("Unknown").astype(str).replace("", "Unknown")
    tiers = engagement_tier.reindex(leads.index) if engagement_tier is not None else None
    out["engagement_tier"] = (tiers.fillna(NO_TIER).astype(str) if tiers is not None
                              else pd.Series(NO_TIER, index=leads.index, dtype=object))
    return out


def _design(features: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """One-hot design matrix (feature=value columns) plus the binary features, in `columns` order if given."""
    parts = [pd.get_dummies(features[c].astype(str), prefix=c, prefix_sep="=", dtype=float)
             for c in CATEGORICAL_FEATURES]
    parts.append(features[list(BINARY_FEATURES)].astype(float))
    design = pd.concat(parts, axis=1)
    if columns is not None:
        design = design.reindex(columns=list(columns), fill_value=0.0)
    return design


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0) -> tuple[float, np.ndarray]:
    """Maximum-likelihood logistic regression with an L2 penalty on the slopes: (intercept, slopes)."""
    n, k = x.shape

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        margin = theta[0] + x @ theta[1:]
        # log(1 + e^m) - y m, summed; gradient (p - y) [1, x]
        loss = np.logaddexp(0.0, margin).sum() - y @ margin + 0.5 * l2 * theta[1:] @ theta[1:]
        residual = expit(margin) - y
        gradient = np.concatenate([[residual.sum()], x.T @ residual + l2 * theta[1:]])
        return float(loss), gradient

    start = np.zeros(k + 1)
    rate = np.clip(y.mean(), 1e-6, 1 - 1e-6)
    start[0] = np.log(rate / (1 - rate))
    result = minimize(objective, start, jac=True, method="L-BFGS-B")
    return float(result.x[0]), np.asarray(result.x[1:])


@dataclass(frozen=True)
class LeadScores:
    """Per lead: probability, 0-100 score and the reason in words."""

    frame: pd.DataFrame  # conversion_probability, lead_score, reason


@dataclass
class LeadModel:
    """A fitted lead model: coefficients per design column and how it did on later leads."""

    columns: list[str]
    intercept: float
    coefficients: np.ndarray
    means: np.ndarray
    validation_auc: float
    train_auc: float
    train_rows: int
    validation_rows: int
    train_conversion_rate: float
    validation_conversion_rate: float
    split_at: pd.Timestamp | None = None
    extra: dict[str, float] = field(default_factory=dict)

    def probability(self, features: pd.DataFrame) -> np.ndarray:
        design = _design(features, self.columns).to_numpy()
        return expit(self.intercept + design @ self.coefficients)

    def score(self, features: pd.DataFrame, top_n: int = 2) -> pd.DataFrame:
        """conversion_probability, lead_score (0-100) and reason per lead, indexed like `features`."""
        design = _design(features, self.columns).to_numpy()
        probability = expit(self.intercept + design @ self.coefficients)
        # What each attribute adds against the average lead, on the log-odds scale.
        contribution = (design - self.means) * self.coefficients
        reasons = []
        for row in range(design.shape[0]):
            order = np.argsort(-contribution[row])
            words = [VALUE_WORDS.get(self.columns[j], _humanise(self.columns[j])) for j in order[:top_n]
                     if contribution[row, j] > 0.05 and design[row, j] > 0]
            if words:
                reasons.append("Likely because the lead " + " and ".join(words) + ".")
            else:
                low = [VALUE_WORDS.get(self.columns[j], _humanise(self.columns[j])) for j in order[::-1][:1]
                       if contribution[row, j] < -0.05 and design[row, j] > 0]
                reasons.append(("Less likely: the lead " + low[0] + ".") if low else "An average lead.")
        return pd.DataFrame({"conversion_probability": probability,
                             "lead_score": np.round(probability * 100, 1), "reason": reasons},
                            index=features.index)

    def coefficient_table(self) -> pd.DataFrame:
        """Design column and its log-odds coefficient, largest effect first."""
        table = pd.DataFrame({"feature": self.columns, "coefficient": self.coefficients})
        return table.reindex(table["coefficient"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def _naive(values: pd.Series) -> pd.Series:
    """Datetimes in UTC without a time zone (landing files carry offsets, silver does not)."""
    when = pd.to_datetime(values, utc=True, format="ISO8601")
    return when.dt.tz_convert(None)


def _humanise(column: str) -> str:
    name, _, value = column.partition("=")
    return f"{name.replace('_', ' ')} is {value}" if value else name.replace("_", " ")


def time_split(created_at: pd.Series, validation_share: float) -> tuple[np.ndarray, pd.Timestamp]:
    """Boolean mask of the validation rows: the latest `validation_share` of leads by creation time."""
    if not 0 < validation_share < 1:
        raise LeadModelError("validation_share must be between 0 and 1")
    when = _naive(created_at)
    split_at = when.quantile(1 - validation_share)
    return (when > split_at).to_numpy(), pd.Timestamp(split_at)


def train_lead_model(features: pd.DataFrame, converted: pd.Series, created_at: pd.Series, *,
                     validation_share: float = 0.25, l2: float = 1.0) -> LeadModel:
    """Train on the earlier leads, validate on the later ones (by `created_at`)."""
    labels = np.asarray(converted, dtype=float)
    if len(features) < MIN_TRAINING_LEADS:
        raise LeadModelError(f"{len(features)} decided leads are too few to train on (need {MIN_TRAINING_LEADS})")
    validation, split_at = time_split(created_at, validation_share)
    train = ~validation
    if len(np.unique(labels[train])) < 2:
        raise LeadModelError("the training leads hold a single outcome")
    design = _design(features)
    columns = list(design.columns)
    x = design.to_numpy()
    intercept, coefficients = fit_logistic(x[train], labels[train], l2)
    margins = intercept + x @ coefficients
    return LeadModel(
        columns=columns, intercept=intercept, coefficients=coefficients, means=x[train].mean(axis=0),
        validation_auc=roc_auc(labels[validation].astype(bool), margins[validation]),
        train_auc=roc_auc(labels[train].astype(bool), margins[train]),
        train_rows=int(train.sum()), validation_rows=int(validation.sum()),
        train_conversion_rate=float(labels[train].mean()),
        validation_conversion_rate=float(labels[validation].mean()) if validation.any() else float("nan"),
        split_at=split_at,
    )


def decided_leads(leads: pd.DataFrame, as_of: date, maturity_days: int = 60) -> pd.Series:
    """Mask of the leads old enough to have an outcome: created at least `maturity_days` before `as_of`.

    Converted or not: keeping the recent converted leads but not the recent others would make the
    latest leads (the validation period) look better than they are.
    """
    created = _naive(leads["created_at"])
    cutoff = pd.Timestamp(as_of) - pd.Timedelta(days=maturity_days)
    return created <= cutoff


def is_converted(leads: pd.DataFrame) -> pd.Series:
    """True where the lead became a customer (status converted or a converted account)."""
    account = leads["converted_account_id"].fillna("").astype(str).str.strip().ne("")
    return account | leads["status"].fillna("").astype(str).str.lower().eq("converted")


OPEN_STATUSES = ("new", "working", "qualified")


# ----------------------------------------------------------------------------------------------
# Repeat purchases
# ----------------------------------------------------------------------------------------------

def purchase_summary(purchases: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """BTYD frequency, recency and T in weeks per customer from purchase events (account_id, purchased_at),
    with the day of the last purchase."""
    frame = purchases[["account_id", "purchased_at"]].copy()
    frame["purchased_at"] = _naive(frame["purchased_at"])
    frame["value"] = 1.0
    summary = clv.summarise_transactions(frame, "account_id", "purchased_at", "value", freq="W",
                                         observation_end=as_of)
    last = frame[frame["purchased_at"] < pd.Timestamp(as_of) + pd.Timedelta(days=1)].groupby(
        "account_id")["purchased_at"].max()
    summary["last_purchase"] = last.reindex(summary.index).dt.date
    summary["purchases"] = summary["frequency"] + 1
    return summary[["frequency", "recency", "T", "purchases", "last_purchase"]]


def repeat_purchase_scores(summary: pd.DataFrame, horizon_weeks: float = 13.0,
                           model: clv.BetaGeoModel | None = None) -> tuple[pd.DataFrame, clv.BetaGeoModel]:
    """BG/NBD P(alive) and expected purchases in the next `horizon_weeks`, with a 1-based rank
    (most expected purchases first). Fits the model on `summary` unless one is given."""
    fitted = model or clv.fit_bgnbd(summary["frequency"], summary["recency"], summary["T"])
    out = pd.DataFrame(index=summary.index)
    out["p_alive"] = np.asarray(fitted.probability_alive(summary["frequency"], summary["recency"], summary["T"]))
    out["expected_purchases"] = np.asarray(
        fitted.expected_purchases(horizon_weeks, summary["frequency"], summary["recency"], summary["T"]))
    out["rank"] = out["expected_purchases"].rank(ascending=False, method="first").astype(int)
    return out, fitted


def bgnbd_parameters(model: clv.BetaGeoModel) -> Mapping[str, float]:
    """r, alpha, a, b of a fitted BG/NBD model."""
    return {name: float(getattr(model, name)) for name in ("r", "alpha", "a", "b")}


def expansions(purchases: pd.DataFrame) -> pd.DataFrame:
    """Per customer, the day and kind of the last purchase after its first purchase day (an expansion:
    a further won deal or a new subscription); empty where the customer never bought again."""
    frame = purchases[["account_id", "purchased_at", "kind"]].copy()
    frame["day"] = _naive(frame["purchased_at"]).dt.normalize()
    first = frame.groupby("account_id")["day"].transform("min")
    later = frame[frame["day"] > first].sort_values(["account_id", "day", "kind"])
    last = later.groupby("account_id").tail(1).set_index("account_id")
    out = pd.DataFrame(index=pd.Index(frame["account_id"].unique(), name="account_id"))
    out["last_expansion"] = last["day"].reindex(out.index).dt.date
    out["last_expansion_kind"] = last["kind"].reindex(out.index)
    return out


DECLINE_KINDS = ("churned", "contracted", "stopped buying")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def decline_table(frame: pd.DataFrame, *, stopped_p_alive: float = 0.3,
                  stopped_min_purchases: int = 3) -> pd.DataFrame:
    """Customers who churned (MRR to nothing), contracted (MRR down) or stopped buying (no MRR change, but
    several purchases and a BG/NBD P(alive) under `stopped_p_alive`), with the reasons in words.

    `frame` per customer: account_id, mrr_before_usd, mrr_now_usd, ended_subscriptions, price_rises, tickets,
    overdue_usd, churn_risk_score, contributing_factors (the churn model's), p_alive, purchases, last_purchase.
    """
    before = pd.to_numeric(frame["mrr_before_usd"], errors="coerce").astype(float).fillna(0.0)
    now = pd.to_numeric(frame["mrr_now_usd"], errors="coerce").astype(float).fillna(0.0)
    p_alive = pd.to_numeric(frame["p_alive"], errors="coerce").astype(float)
    purchases = pd.to_numeric(frame["purchases"], errors="coerce").astype(float).fillna(0.0)
    churned = (before > 0) & (now <= 0.005)
    contracted = (before > 0) & (now > 0.005) & (now < before - 0.005)
    stopped = ~churned & ~contracted & (p_alive < stopped_p_alive) & (purchases >= stopped_min_purchases) \
        & (now <= before + 0.005)
    kind = np.select([churned, contracted, stopped], list(DECLINE_KINDS), default="")
    out = frame.loc[kind != ""].copy()
    out["decline_kind"] = kind[kind != ""]
    out["mrr_before_usd"] = before[kind != ""].round(2)
    out["mrr_now_usd"] = now[kind != ""].round(2)
    out["mrr_change_usd"] = (out["mrr_now_usd"] - out["mrr_before_usd"]).round(2)
    out["reasons"] = [decline_reasons(row) for row in out.to_dict("records")]
    return out


def decline_reasons(row: Mapping[str, object], max_factors: int = 2) -> str:
    """The reasons one customer bought less, in words (no amounts: they show only with view_financials)."""
    words: list[str] = []
    ended = int(_number(row.get("ended_subscriptions")))
    kind = row.get("decline_kind")
    if kind == "churned":
        words.append(f"every subscription ended ({_plural(ended, 'subscription')})" if ended
                     else "every subscription ended")
    elif kind == "contracted":
        words.append(f"{_plural(ended, 'subscription')} ended" if ended else "MRR went down")
    elif kind == "stopped buying":
        alive = _number(row.get("p_alive"))
        last = row.get("last_purchase")
        words.append(f"no purchase since {last}; {alive:.0%} chance they still buy" if last
                     else f"{alive:.0%} chance they still buy")
    rises = int(_number(row.get("price_rises")))
    if rises:
        words.append(f"{_plural(rises, 'price rise')} in the last 6 months")
    tickets = int(_number(row.get("tickets")))
    if tickets:
        words.append(f"{_plural(tickets, 'support ticket')} in the last 90 days")
    if _number(row.get("overdue_usd")) > 0:
        words.append("payments overdue")
    factors = row.get("contributing_factors") or []
    if isinstance(factors, list):
        raising = [f for f in factors if isinstance(f, dict) and f.get("direction") == "raises risk"]
        words.extend(str(f.get("sentence", "")).rstrip(".") for f in raising[:max_factors] if f.get("sentence"))
    text = "; ".join(w for w in words if w)
    return text[:1].upper() + text[1:] + "." if text else "No reason on record."


def _number(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return number if np.isfinite(number) else 0.0
