"""Churn model: a general, self-tuning LightGBM classifier, blended with a regularised linear model
when that validates better, with calibrated probabilities and per-row explanations.

    model = train_churn_model(features, labels, seed=0, validation=(later_features, later_labels),
                              observed_at=cutoffs, monotone={"days_overdue": +1})
    model.predict_proba(features)            # calibrated churn probability per row
    model.explain(features, top_n=3)         # top contributing features per row, with sentences
    model.metrics.roc_auc, model.metrics.as_dict()
    model.to_bytes() / ChurnModel.from_bytes(blob); model.save(path) / ChurnModel.load(path)
    churn_risk_score(probability) -> 0-100;  risk_level(score) -> HIGH / MEDIUM / LOW

How it chooses its settings:
- an inner split of the training rows drives early stopping on log-loss, picks the linear model's
  penalty and the blend, and holds the predictions the probability calibrator is fitted on
  (isotonic when they hold enough churners and it predicts held-out halves better, otherwise
  Platt scaling). The split respects time
  when `observed_at` is given (the latest cut-offs are held out, as the later ones will be
  scored); otherwise small data (under 20,000 rows) is cross-fitted over five folds and larger
  data holds out a stratified 20 %;
- complexity follows the data size: on small data trees of two levels, a slow rate, heavy L2 and
  large leaves; on larger data 15-leaf trees;
- the final model is refitted on every row (the trees scaled to the extra rows) on small data and
  after a time split (up to 250,000 rows), so the latest cut-offs inform it; otherwise the model
  trained on the inner split is kept, so the calibrator matches it exactly;
- the linear model is an L2 logistic regression on one-hot categories and numbers with hinges at
  their deciles (clipped to the training range); it is additive, so blended with the trees every
  margin still splits exactly into per-feature contributions (TreeSHAP for the trees);
- `monotone` directions constrain the trees and the linear terms alike;
- no class weighting: weighting distorts probabilities, and the calibrated log-loss fit handles
  imbalance; the stratified folds guarantee churners on both sides.

Metrics come from `validation` when it is given (a later time cut-off); otherwise from the
held-out predictions of the inner split, where the calibrator is cross-fitted on two halves so the
reported calibration is honest.

Categorical columns (object, string or category dtype) are encoded with the categories seen in
training; a category never seen in training scores as the "other" bucket, a missing one as missing.
Text columns holding only numbers (a CSV's "29.85", blank when unknown) are numbers.
"""

from __future__ import annotations

import json
import math
import numbers
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Idle OpenMP threads spin by default; on a shared two-core server that starves the other
# thread and training runs several times slower. Must be set before LightGBM loads OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import lightgbm as lgb  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.optimize import isotonic_regression, minimize  # noqa: E402
from scipy.stats import rankdata  # noqa: E402

# Imported after SciPy on purpose: threadpool_limits only reaches BLAS libraries already loaded.
from threadpoolctl import threadpool_limits  # noqa: E402

from models.risk_levels import HIGH_RISK_MIN_SCORE, MEDIUM_RISK_MIN_SCORE  # noqa: E402, F401

FORMAT_VERSION = 2
# Format 1 artefacts (trees only) still load.
READABLE_FORMAT_VERSIONS = (1, 2)
# The most frequent categories of a column keep their own code; the rest share "other".
MAX_CATEGORIES = 250
# Fewer churners than this in the calibration rows and isotonic regression overfits: use Platt.
ISOTONIC_MIN_POSITIVES = 150
MIN_ROWS_PER_CLASS = 5
HOLDOUT_FRACTION = 0.2
ECE_BINS = 10


class ChurnModelError(ValueError):
    """Raised for inputs the churn model cannot train or score on."""


# ----------------------------------------------------------------------------------------------
# Scores and levels
# ----------------------------------------------------------------------------------------------

def churn_risk_score(probability: float | np.ndarray) -> float | np.ndarray:
    """Churn probability as a 0-100 score with one decimal."""
    scores = np.round(100.0 * np.clip(np.asarray(probability, dtype=float), 0.0, 1.0), 1)
    return float(scores) if scores.ndim == 0 else scores


def risk_level(score_0_100: float) -> str:
    """HIGH at 70 and above, MEDIUM at 40 and above, LOW below 40."""
    if score_0_100 is None or math.isnan(score_0_100):
        raise ChurnModelError("risk_level needs a score between 0 and 100, got a missing value")
    if score_0_100 >= HIGH_RISK_MIN_SCORE:
        return "HIGH"
    if score_0_100 >= MEDIUM_RISK_MIN_SCORE:
        return "MEDIUM"
    return "LOW"


# ----------------------------------------------------------------------------------------------
# Metrics
# ----------------------------------------------------------------------------------------------

def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); NaN with a single class."""
    labels = np.asarray(labels, dtype=bool)
    positives = int(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return float("nan")
    ranks = rankdata(scores)
    return float((ranks[labels].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """PR-AUC as average precision over distinct score thresholds; NaN without positives."""
    labels = np.asarray(labels, dtype=bool)
    positives = int(labels.sum())
    if positives == 0:
        return float("nan")
    order = np.argsort(-np.asarray(scores, dtype=float), kind="mergesort")
    sorted_scores = np.asarray(scores, dtype=float)[order]
    true_positives = np.cumsum(labels[order])
    # Only the last row of each group of tied scores is a real threshold.
    threshold_ends = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.size - 1]
    tp = true_positives[threshold_ends]
    precision = tp / (threshold_ends + 1)
    recall_step = np.diff(np.r_[0, tp]) / positives
    return float(np.sum(recall_step * precision))


def expected_calibration_error(labels: np.ndarray, probabilities: np.ndarray, bins: int = ECE_BINS) -> float:
    """Row-weighted mean gap between predicted and observed churn rate over equal-width bins."""
    labels = np.asarray(labels, dtype=float)
    probabilities = np.asarray(probabilities, dtype=float)
    if labels.size == 0:
        return float("nan")
    bin_index = np.minimum((probabilities * bins).astype(int), bins - 1)
    predicted = np.bincount(bin_index, weights=probabilities, minlength=bins)
    observed = np.bincount(bin_index, weights=labels, minlength=bins)
    return float(np.sum(np.abs(predicted - observed)) / labels.size)


@dataclass(frozen=True)
class ChurnMetrics:
    """Validation figures of a trained churn model (probabilities are the calibrated ones)."""

    roc_auc: float  # NaN when the validation labels hold a single class
    pr_auc: float  # average precision
    brier: float
    ece: float  # expected calibration error over 10 equal-width probability bins
    n_train: int  # rows the final model was fitted on (every row on small data, else the inner split's fit part)
    n_valid: int  # rows the metrics were computed on
    positive_rate: float  # churn rate of all training rows
    valid_positive_rate: float
    best_iteration: int  # trees in the final booster (chosen by early stopping)
    calibration: str  # "isotonic" or "platt"
    validation: str  # "provided" (caller's later cut-off) or "internal" (held-out rows of the inner split)
    model: str = "trees"  # "trees" or "blend W trees + linear" (W the trees' weight)
    inner_split: str = "split"  # "time" (latest rows), "folds" (cross-fitting) or "split" (stratified)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict, JSON-ready (NaN becomes None)."""
        return {key: (None if isinstance(value, float) and math.isnan(value) else value)
                for key, value in asdict(self).items()}

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


def _score_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    labels = np.asarray(labels, dtype=float)
    return {
        "roc_auc": roc_auc(labels, probabilities),
        "pr_auc": average_precision(labels, probabilities),
        "brier": float(np.mean((probabilities - labels) ** 2)) if labels.size else float("nan"),
        "ece": expected_calibration_error(labels, probabilities),
    }


# ----------------------------------------------------------------------------------------------
# Calibration
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Calibrator:
    """Monotone map from LightGBM's raw margin to a probability."""

    method: str  # "isotonic" or "platt"
    x: tuple[float, ...] = ()
    y: tuple[float, ...] = ()
    slope: float = 1.0
    intercept: float = 0.0

    def apply(self, margins: np.ndarray) -> np.ndarray:
        if self.method == "isotonic":
            return np.interp(margins, self.x, self.y)
        return 1.0 / (1.0 + np.exp(-(self.slope * margins + self.intercept)))

    @classmethod
    def fit(cls, margins: np.ndarray, labels: np.ndarray) -> Calibrator:
        if labels.sum() >= ISOTONIC_MIN_POSITIVES and cls._isotonic_predicts_better(margins, labels):
            return cls._fit_isotonic(margins, labels)
        return cls._fit_platt(margins, labels)

    @classmethod
    def _isotonic_predicts_better(cls, margins: np.ndarray, labels: np.ndarray) -> bool:
        """Whether isotonic regression beats Platt scaling on held-out halves: with little signal
        its end blocks chase a handful of rows and promise risks the data does not support."""
        halves = _stratified_split(labels, 0.5, np.random.default_rng(0))
        losses = {"isotonic": 0.0, "platt": 0.0}
        for fit_half, score_half in (halves, halves[::-1]):
            for method, fit in (("isotonic", cls._fit_isotonic), ("platt", cls._fit_platt)):
                probabilities = np.clip(fit(margins[fit_half], labels[fit_half]).apply(margins[score_half]),
                                        1e-4, 1 - 1e-4)
                held = labels[score_half]
                losses[method] -= float(np.sum(held * np.log(probabilities) + (1 - held) * np.log1p(-probabilities)))
        return losses["isotonic"] < losses["platt"]

    @classmethod
    def _fit_isotonic(cls, margins: np.ndarray, labels: np.ndarray) -> Calibrator:
        unique_margins, inverse, counts = np.unique(margins, return_inverse=True, return_counts=True)
        mean_labels = np.bincount(inverse, weights=labels) / counts
        fitted = isotonic_regression(mean_labels, weights=counts.astype(float), increasing=True).x
        # Keep only the ends of each flat block: the interpolation is unchanged and far smaller.
        changes = np.flatnonzero(np.diff(fitted)) if fitted.size > 1 else np.array([], dtype=int)
        keep = np.unique(np.r_[0, changes, changes + 1, fitted.size - 1])
        return cls("isotonic", tuple(unique_margins[keep].tolist()), tuple(fitted[keep].tolist()))

    @classmethod
    def _fit_platt(cls, margins: np.ndarray, labels: np.ndarray) -> Calibrator:
        # Platt's smoothed targets keep the fit finite when the classes separate perfectly.
        positives, negatives = labels.sum(), labels.size - labels.sum()
        targets = np.where(labels > 0, (positives + 1) / (positives + 2), 1 / (negatives + 2))

        def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
            logits = params[0] * margins + params[1]
            probs = 1.0 / (1.0 + np.exp(-logits))
            value = np.sum(np.logaddexp(0.0, logits) - targets * logits)
            residual = probs - targets
            return float(value), np.array([np.sum(residual * margins), np.sum(residual)])

        result = minimize(loss, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B")
        return cls("platt", slope=float(result.x[0]), intercept=float(result.x[1]))

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "x": list(self.x), "y": list(self.y),
                "slope": self.slope, "intercept": self.intercept}

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> Calibrator:
        return cls(payload["method"], tuple(payload["x"]), tuple(payload["y"]),
                   float(payload["slope"]), float(payload["intercept"]))


# ----------------------------------------------------------------------------------------------
# Column schema: what the model saw at training
# ----------------------------------------------------------------------------------------------

# Object columns holding only numbers (Decimal from SQL NUMERIC, nullable ints) are numeric.
NUMERIC_OBJECT_KINDS = frozenset({"decimal", "integer", "floating", "mixed-integer-float", "boolean", "empty"})


def _is_categorical(series: pd.Series) -> bool:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return True
    if pd.api.types.is_object_dtype(series.dtype) and \
            pd.api.types.infer_dtype(series, skipna=True) in NUMERIC_OBJECT_KINDS:
        return False
    if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
        # Numbers exported as text (a CSV's "29.85", blank when unknown) are numbers, not categories.
        return not _is_numeric_text(series)
    return False


def _blank_to_missing(series: pd.Series) -> pd.Series:
    """Text values that are empty or only spaces become missing (exports write unknown numbers so)."""
    as_object = series.astype(object)
    blank = as_object.map(lambda value: isinstance(value, str) and not value.strip())
    return as_object.mask(blank.astype(bool))


def _is_numeric_text(series: pd.Series) -> bool:
    present = _blank_to_missing(series).dropna()
    if present.empty or not all(isinstance(value, str) for value in present):
        return False
    return bool(pd.to_numeric(present, errors="coerce").notna().all())


def _as_category_strings(series: pd.Series) -> pd.Series:
    """Values as strings with missing kept missing, whatever the column's dtype."""
    as_object = series.astype(object)
    return as_object.where(as_object.isna(), as_object.astype(str))


@dataclass
class FeatureSchema:
    """Column order, kinds and the categories seen in training."""

    columns: list[str]
    categories: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def learn(cls, features: pd.DataFrame) -> FeatureSchema:
        categories: dict[str, list[str]] = {}
        for name in features.columns:
            column = features[name]
            if _is_categorical(column):
                counts = _as_category_strings(column).value_counts(dropna=True)
                # Most frequent first, ties by name, so the encoding is deterministic.
                ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
                categories[name] = [value for value, _ in ordered[:MAX_CATEGORIES]]
            elif not (pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype)
                      or pd.api.types.is_object_dtype(column.dtype) or pd.api.types.is_string_dtype(column.dtype)):
                raise ChurnModelError(
                    f"column {name!r} has dtype {column.dtype}; convert it to numbers or categories first"
                )
        return cls(columns=[str(name) for name in features.columns], categories=categories)

    @property
    def categorical_indices(self) -> list[int]:
        return [i for i, name in enumerate(self.columns) if name in self.categories]

    def matrix(self, features: pd.DataFrame) -> np.ndarray:
        """Float matrix in training column order; categories become codes, unseen ones "other"."""
        missing = [name for name in self.columns if name not in features.columns]
        if missing:
            raise ChurnModelError(f"features lack the columns the model was trained on: {missing}")
        matrix = np.empty((len(features), len(self.columns)), dtype=np.float64)
        for i, name in enumerate(self.columns):
            column = features[name]
            if name in self.categories:
                known = self.categories[name]
                as_text = _as_category_strings(column)
                # Unseen values become the "other" code, missing ones NaN (pandas refuses values
                # outside the categories, so they are looked up rather than cast).
                codes = pd.Index(known).get_indexer(as_text).astype(np.float64)
                codes[codes < 0] = float(len(known))
                codes[as_text.isna().to_numpy()] = np.nan
                matrix[:, i] = codes
            else:
                if pd.api.types.is_object_dtype(column.dtype) or pd.api.types.is_string_dtype(column.dtype):
                    column = _blank_to_missing(column)
                try:
                    matrix[:, i] = pd.to_numeric(column, errors="raise").astype("float64").to_numpy(
                        na_value=np.nan)
                except (TypeError, ValueError) as error:
                    raise ChurnModelError(f"column {name!r} must be numeric, as in training: {error}") from error
        return matrix


# ----------------------------------------------------------------------------------------------
# Explanations
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FactorExplanation:
    """One feature's share of one row's churn risk, in LightGBM log-odds."""

    feature: str
    label: str
    value: Any
    contribution: float
    direction: str  # "raises risk" or "lowers risk"
    sentence: str

    def as_dict(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, np.generic):
            value = value.item()
        if _is_missing(value):
            value = None
        elif isinstance(value, numbers.Number) and not isinstance(value, bool | int | float):
            value = float(value)  # Decimal and the like, so the factors serialise to JSON
        return {"feature": self.feature, "label": self.label, "value": value,
                "contribution": round(self.contribution, 4), "direction": self.direction,
                "sentence": self.sentence}


def _humanise(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _format_value(value: Any) -> str:
    if isinstance(value, numbers.Number) and not isinstance(value, bool | int | np.integer | np.bool_):
        return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"
    return str(value)


def factor_sentence(feature: str, value: Any, direction: str, label_or_template: str | None = None) -> str:
    """Plain-language sentence for one factor.

    `label_or_template` is either a readable name ("Days overdue") or a template using
    `{value}`, `{abs_value}` and `{trend}` ("rose"/"fell"/"held steady"), for example
    "Usage {trend} {abs_value:.0%} over the last 30 days" -> "Usage fell 42% over the last 30 days".
    """
    label, template = _label_and_template(feature, label_or_template)
    return _sentence(label, template, value, direction)


def _label_and_template(feature: str, label_or_template: str | None) -> tuple[str, str | None]:
    if label_or_template and "{" in label_or_template:
        return _humanise(feature), label_or_template
    return label_or_template or _humanise(feature), None


def _is_missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _sentence(label: str, template: str | None, value: Any, direction: str) -> str:
    if _is_missing(value):
        return f"{label} is unknown ({direction})"
    if template:
        # numbers.Number covers Decimal from SQL NUMERIC columns as well as numpy scalars.
        numeric = isinstance(value, numbers.Number) and not isinstance(value, bool | np.bool_)
        trend = ("rose" if value > 0 else "fell" if value < 0 else "held steady") if numeric else ""
        try:
            text = template.format(value=value, abs_value=abs(value) if numeric else value, trend=trend)
            return f"{text} ({direction})"
        except (ValueError, TypeError, KeyError, IndexError):
            pass  # a numeric format on a text value: fall back to the plain sentence
    return f"{label} is {_format_value(value)} ({direction})"


# ----------------------------------------------------------------------------------------------
# The additive linear model blended with the trees
# ----------------------------------------------------------------------------------------------

# Hinges at these quantiles let a numeric feature's effect bend (long tenure flattens out).
SPLINE_QUANTILES = tuple(np.linspace(0.0, 1.0, 10)[1:-1].tolist())
# Numbers beyond these training quantiles are clipped, so one outlier cannot dominate a score.
CLIP_QUANTILES = (0.005, 0.995)


@dataclass(frozen=True)
class LinearTerm:
    """One feature's part of the linear model: its design columns and their coefficients."""

    kind: str  # "numeric" or "category"
    coefficients: tuple[float, ...]
    means: tuple[float, ...]  # training means of the design columns, the zero of the contribution
    center: float = 0.0
    scale: float = 1.0
    low: float = 0.0
    high: float = 0.0
    knots: tuple[float, ...] = ()
    missing_column: bool = False
    levels: int = 0  # category codes 0..levels-1 (the last one is "other")

    def design(self, column: np.ndarray) -> np.ndarray:
        missing = np.isnan(column)
        if self.kind == "category":
            parts = [column == code for code in range(self.levels)] + [missing]
        else:
            standard = (np.clip(np.where(missing, self.center, column), self.low, self.high) - self.center) / self.scale
            parts = [standard] + [np.maximum(0.0, standard - knot) for knot in self.knots]
            if self.missing_column:
                parts.append(missing)
        return np.column_stack(parts).astype(np.float64)

    def with_fit(self, coefficients: np.ndarray, means: np.ndarray) -> LinearTerm:
        return LinearTerm(**{**asdict(self), "coefficients": tuple(coefficients.tolist()),
                             "means": tuple(means.tolist())})


@dataclass(frozen=True)
class LinearModel:
    """L2-penalised logistic regression, additive per feature, so each row's margin splits exactly
    into per-feature contributions (the explanations of the linear part)."""

    intercept: float
    terms: tuple[LinearTerm, ...]
    penalty: float

    @classmethod
    def layout(cls, schema: FeatureSchema, matrix: np.ndarray) -> tuple[LinearTerm, ...]:
        """The design of each column, learned from the training matrix (coefficients still empty)."""
        terms = []
        for i, name in enumerate(schema.columns):
            column = matrix[:, i]
            if name in schema.categories:
                terms.append(LinearTerm("category", (), (), levels=len(schema.categories[name]) + 1))
                continue
            present = column[~np.isnan(column)]
            if present.size == 0:
                terms.append(LinearTerm("numeric", (), (), missing_column=True))
                continue
            low, high = (float(v) for v in np.quantile(present, CLIP_QUANTILES))
            if high <= low:
                low, high = float(present.min()), float(present.max())
            center = float(np.median(present))
            scale = float(np.std(np.clip(present, low, high))) or 1.0
            standard = (np.clip(present, low, high) - center) / scale
            knots = ()
            if np.unique(standard).size > 2 * len(SPLINE_QUANTILES):
                inner = np.unique(np.quantile(standard, SPLINE_QUANTILES))
                knots = tuple(float(k) for k in inner if standard.min() < k < standard.max())
            terms.append(LinearTerm("numeric", (), (), center=center, scale=scale, low=low, high=high,
                                    knots=knots, missing_column=bool(np.isnan(column).any())))
        return tuple(terms)

    @classmethod
    def fit(cls, terms: tuple[LinearTerm, ...], matrix: np.ndarray, labels: np.ndarray,
            penalties: tuple[float, ...], directions: list[int]) -> dict[float, LinearModel]:
        """Maximum penalised likelihood at each penalty (the strongest first, each fit starting from
        the previous one); a feature with a known direction keeps coefficients of that sign."""
        blocks = [term.design(matrix[:, i]) for i, term in enumerate(terms)]
        design = np.hstack(blocks)
        means = design.mean(axis=0)
        centred = design - means
        bounds: list[tuple[float | None, float | None]] = [(None, None)]
        for term, block, direction in zip(terms, blocks, directions, strict=True):
            signed = term.kind == "numeric" and direction != 0
            for j in range(block.shape[1]):
                is_missing_column = term.missing_column and j == block.shape[1] - 1
                if signed and not is_missing_column:
                    bounds.append((0.0, None) if direction > 0 else (None, 0.0))
                else:
                    bounds.append((None, None))

        def loss(params: np.ndarray, penalty: float) -> tuple[float, np.ndarray]:
            logits = centred @ params[1:] + params[0]
            residual = 1.0 / (1.0 + np.exp(-logits)) - labels
            value = np.sum(np.logaddexp(0.0, logits) - labels * logits) + 0.5 * penalty * params[1:] @ params[1:]
            return float(value), np.r_[residual.sum(), centred.T @ residual + penalty * params[1:]]

        rate = np.clip(labels.mean(), 1e-6, 1 - 1e-6)
        params = np.r_[math.log(rate / (1 - rate)), np.zeros(design.shape[1])]
        models: dict[float, LinearModel] = {}
        for penalty in sorted(penalties, reverse=True):
            # Products this small gain nothing from BLAS threads, and on a busy machine their
            # spinning makes the fit over ten times slower.
            with threadpool_limits(limits=1, user_api="blas"):
                params = minimize(loss, params, args=(penalty,), jac=True, method="L-BFGS-B", bounds=bounds,
                                  options={"maxiter": 500}).x
            fitted, offset = [], 1
            for term, block in zip(terms, blocks, strict=True):
                width = block.shape[1]
                fitted.append(term.with_fit(params[offset:offset + width], means[offset - 1:offset - 1 + width]))
                offset += width
            models[penalty] = cls(float(params[0]), tuple(fitted), float(penalty))
        return models

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Per row and feature, the log-odds the feature adds against the training average."""
        out = np.empty(matrix.shape, dtype=np.float64)
        for i, term in enumerate(self.terms):
            out[:, i] = (term.design(matrix[:, i]) - np.asarray(term.means)) @ np.asarray(term.coefficients)
        return out

    def margin(self, matrix: np.ndarray) -> np.ndarray:
        return self.intercept + self.contributions(matrix).sum(axis=1)

    def to_json(self) -> dict[str, Any]:
        return {"intercept": self.intercept, "penalty": self.penalty,
                "terms": [asdict(term) for term in self.terms]}

    @classmethod
    def from_json(cls, payload: Mapping[str, Any]) -> LinearModel:
        terms = tuple(LinearTerm(**{key: tuple(value) if isinstance(value, list) else value
                                    for key, value in term.items()}) for term in payload["terms"])
        return cls(float(payload["intercept"]), terms, float(payload["penalty"]))


# ----------------------------------------------------------------------------------------------
# The model
# ----------------------------------------------------------------------------------------------

def _threads_for(n_rows: int) -> int:
    """Two threads pay for themselves only on larger batches (explanations cost ~10x a prediction)."""
    return min(2, os.cpu_count() or 1) if n_rows >= 20_000 else 1


class ChurnModel:
    """A trained churn model: LightGBM booster, optionally blended with a linear model, calibrator,
    column schema and metrics. The margin is `tree_weight` x the booster's log-odds plus
    (1 - `tree_weight`) x the linear model's."""

    def __init__(self, booster: lgb.Booster, schema: FeatureSchema, calibrator: Calibrator,
                 metrics: ChurnMetrics, params: dict[str, Any], feature_labels: Mapping[str, str] | None = None,
                 linear: LinearModel | None = None, tree_weight: float = 1.0,
                 importance: Mapping[str, float] | None = None):
        self.booster = booster
        self.schema = schema
        self.calibrator = calibrator
        self.metrics = metrics
        self.params = params
        self.feature_labels: dict[str, str] = dict(feature_labels or {})
        self.linear = linear if tree_weight < 1.0 else None
        self.tree_weight = float(tree_weight) if linear is not None else 1.0
        self.importance: dict[str, float] = dict(importance or {})

    @property
    def feature_names(self) -> list[str]:
        return list(self.schema.columns)

    def _check_frame(self, features: pd.DataFrame) -> None:
        if not isinstance(features, pd.DataFrame):
            raise ChurnModelError(f"features must be a pandas DataFrame, got {type(features).__name__}")

    def _margin(self, matrix: np.ndarray) -> np.ndarray:
        if len(matrix) == 0:
            return np.empty(0)
        margin = self.booster.predict(matrix, raw_score=True, num_threads=_threads_for(len(matrix)))
        if self.linear is None:
            return margin
        return self.tree_weight * margin + (1.0 - self.tree_weight) * self.linear.margin(matrix)

    def raw_margin(self, features: pd.DataFrame) -> np.ndarray:
        """Uncalibrated log-odds per row (before the calibrator)."""
        self._check_frame(features)
        if len(features) == 0:
            return np.empty(0)
        return self._margin(self.schema.matrix(features))

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated churn probability of each row."""
        return np.clip(self.calibrator.apply(self.raw_margin(features)), 0.0, 1.0)

    def _contributions_and_base(self, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raw = self.booster.predict(matrix, pred_contrib=True, num_threads=_threads_for(len(matrix) * 10))
        contributions, base = raw[:, :-1], raw[:, -1]
        if self.linear is not None:
            contributions = (self.tree_weight * contributions
                             + (1.0 - self.tree_weight) * self.linear.contributions(matrix))
            base = self.tree_weight * base + (1.0 - self.tree_weight) * self.linear.intercept
        return contributions, base

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """Per-feature log-odds contributions, one column per feature: LightGBM's TreeSHAP, blended
        with the linear model's own terms when it takes part. With `base_margin` they add up to
        `raw_margin`."""
        self._check_frame(features)
        contributions, _ = self._contributions_and_base(self.schema.matrix(features))
        return pd.DataFrame(contributions, columns=self.schema.columns, index=features.index)

    def base_margin(self, features: pd.DataFrame) -> np.ndarray:
        """The margin every row starts from before its contributions (the same for every row)."""
        self._check_frame(features)
        return self._contributions_and_base(self.schema.matrix(features))[1]

    def explain(self, features: pd.DataFrame, top_n: int = 3,
                feature_labels: Mapping[str, str] | None = None) -> list[list[FactorExplanation]]:
        """Each row's `top_n` features by size of contribution, with direction and a sentence.

        Contributions are in log-odds (see `contributions`); positive raises churn risk.
        `feature_labels` (name -> label or template, see `factor_sentence`) overrides the labels
        given at training.
        """
        if top_n < 1:
            raise ChurnModelError("top_n must be at least 1")
        labels = {**self.feature_labels, **(feature_labels or {})}
        contributions = self.contributions(features).to_numpy()
        top_n = min(top_n, contributions.shape[1])
        order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :top_n]
        columns = self.schema.columns
        # Values as the caller passed them, so sentences show the original category or number.
        values = features[columns].to_numpy(dtype=object)
        wording = [_label_and_template(name, labels.get(name)) for name in columns]
        explanations: list[list[FactorExplanation]] = []
        for row, feature_indices in enumerate(order):
            factors = []
            for index in feature_indices:
                contribution = float(contributions[row, index])
                direction = "raises risk" if contribution > 0 else "lowers risk"
                label, template = wording[index]
                value = values[row, index]
                factors.append(FactorExplanation(
                    feature=columns[index], label=label, value=value, contribution=contribution,
                    direction=direction, sentence=_sentence(label, template, value, direction),
                ))
            explanations.append(factors)
        return explanations

    def feature_importance(self) -> pd.Series:
        """Mean absolute contribution per feature (log-odds) over the training rows, largest first
        (total gain for models saved before it was recorded)."""
        if self.importance:
            values = pd.Series(self.importance, name="importance").reindex(self.schema.columns).fillna(0.0)
        else:
            values = pd.Series(self.booster.feature_importance(importance_type="gain"), index=self.schema.columns,
                               name="gain")
        return values.sort_values(ascending=False, kind="stable")

    # -- persistence: LightGBM's model text plus a JSON sidecar, no pickle --------------------

    def sidecar(self) -> dict[str, Any]:
        """Everything but the booster, JSON-ready."""
        return {
            "format_version": FORMAT_VERSION,
            "columns": self.schema.columns,
            "categories": self.schema.categories,
            "calibrator": self.calibrator.to_json(),
            "metrics": self.metrics.as_dict(),
            "params": self.params,
            "feature_labels": self.feature_labels,
            "linear": self.linear.to_json() if self.linear is not None else None,
            "tree_weight": self.tree_weight,
            "importance": self.importance,
        }

    @classmethod
    def _from_parts(cls, model_text: str, sidecar: Mapping[str, Any]) -> ChurnModel:
        if sidecar.get("format_version") not in READABLE_FORMAT_VERSIONS:
            raise ChurnModelError(f"unsupported churn model format {sidecar.get('format_version')!r}")
        metrics = {key: (float("nan") if value is None else value) for key, value in sidecar["metrics"].items()}
        # Figures added in later formats read as "not recorded" in older artefacts.
        defaults = {"model": "trees", "inner_split": "split"}
        linear = sidecar.get("linear")
        return cls(
            booster=lgb.Booster(model_str=model_text),
            schema=FeatureSchema(columns=list(sidecar["columns"]), categories=dict(sidecar["categories"])),
            calibrator=Calibrator.from_json(sidecar["calibrator"]),
            metrics=ChurnMetrics(**{**defaults, **metrics}),
            params=dict(sidecar["params"]),
            feature_labels=sidecar.get("feature_labels") or {},
            linear=LinearModel.from_json(linear) if linear else None,
            tree_weight=float(sidecar.get("tree_weight", 1.0)),
            importance=sidecar.get("importance") or {},
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write LightGBM's model text to `path` and the sidecar to `path` + ".json"."""
        path = Path(path)
        path.write_text(self.booster.model_to_string(), encoding="utf-8")
        Path(f"{path}.json").write_text(json.dumps(self.sidecar()), encoding="utf-8")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ChurnModel:
        """Read a model written by `save`."""
        path = Path(path)
        return cls._from_parts(path.read_text(encoding="utf-8"),
                               json.loads(Path(f"{path}.json").read_text(encoding="utf-8")))

    def to_bytes(self) -> bytes:
        """The model as one UTF-8 JSON document (sidecar plus booster text), for a database column."""
        return json.dumps({**self.sidecar(), "booster": self.booster.model_to_string()}).encode("utf-8")

    @classmethod
    def from_bytes(cls, blob: bytes) -> ChurnModel:
        """Read a model written by `to_bytes`."""
        try:
            payload = json.loads(bytes(blob).decode("utf-8"))
            model_text = payload.pop("booster")
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, AttributeError) as error:
            raise ChurnModelError(f"not a serialised churn model: {error}") from error
        return cls._from_parts(model_text, payload)


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------

def _binary_labels(labels: Any, features: pd.DataFrame, what: str) -> np.ndarray:
    if isinstance(labels, pd.Series):
        if len(labels) != len(features) or not labels.index.equals(features.index):
            raise ChurnModelError(
                f"{what} labels are not aligned with the features: both need the same index in the same order"
            )
        values = labels.to_numpy(dtype=object)
    else:
        values = np.asarray(labels, dtype=object)
        if values.ndim != 1 or len(values) != len(features):
            raise ChurnModelError(f"{what} labels need one value per feature row ({len(features)})")
    if pd.isna(values).any():
        raise ChurnModelError(f"{what} labels contain missing values")
    try:
        numeric = values.astype(float)
    except (TypeError, ValueError) as error:
        raise ChurnModelError(f"{what} labels must be binary 0/1 or True/False: {error}") from error
    unexpected = set(np.unique(numeric)) - {0.0, 1.0}
    if unexpected:
        raise ChurnModelError(f"{what} labels must be binary 0/1 or True/False, found {sorted(unexpected)[:5]}")
    return numeric


def _check_features(features: Any, what: str) -> None:
    if not isinstance(features, pd.DataFrame):
        raise ChurnModelError(f"{what} features must be a pandas DataFrame, got {type(features).__name__}")
    if features.shape[0] == 0 or features.shape[1] == 0:
        raise ChurnModelError(f"{what} features are empty ({features.shape[0]} rows, {features.shape[1]} columns)")
    if features.columns.duplicated().any():
        raise ChurnModelError(f"{what} features have duplicate columns: "
                              f"{sorted(set(features.columns[features.columns.duplicated()]))}")


def _stratified_split(labels: np.ndarray, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (kept, held out) with each class split in the same proportion."""
    held_out = []
    for value in (0.0, 1.0):
        rows = rng.permutation(np.flatnonzero(labels == value))
        held_out.append(rows[: max(1, round(len(rows) * fraction))])
    held = np.sort(np.concatenate(held_out))
    mask = np.zeros(labels.size, dtype=bool)
    mask[held] = True
    return np.flatnonzero(~mask), held


def _stratified_folds(labels: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    """A fold number per row, each class dealt round the folds in random order."""
    folds = np.empty(labels.size, dtype=int)
    for value in (0.0, 1.0):
        rows = rng.permutation(np.flatnonzero(labels == value))
        folds[rows] = np.arange(rows.size) % n_folds
    return folds


def _grouped_split(labels: np.ndarray, groups: np.ndarray, fraction: float,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Like `_stratified_split`, but all rows of a group (an account at several cut-offs) stay together.

    Groups are stratified by whether any of their rows churned.
    """
    codes, _ = pd.factorize(groups)
    group_churned = np.bincount(codes, weights=labels) > 0
    _, held_groups = _stratified_split(group_churned.astype(float), fraction, rng)
    held_mask = np.isin(codes, held_groups)
    kept, held = np.flatnonzero(~held_mask), np.flatnonzero(held_mask)
    for side, rows in (("training", kept), ("held-out", held)):
        if np.unique(labels[rows]).size < 2:
            raise ChurnModelError(f"the {side} part of the grouped split holds a single class; "
                                  "too few groups with churn to train and validate")
    return kept, held


def _grouped_folds(labels: np.ndarray, groups: np.ndarray, n_folds: int, rng: np.random.Generator) -> np.ndarray:
    codes, _ = pd.factorize(groups)
    group_churned = (np.bincount(codes, weights=labels) > 0).astype(float)
    return _stratified_folds(group_churned, n_folds, rng)[codes]


def _time_split(labels: np.ndarray, observed_at: np.ndarray, fraction: float) -> tuple[np.ndarray, np.ndarray] | None:
    """(earlier rows, latest rows): whole observation times, the latest holding about `fraction`
    of the rows; None when either side would lack a class."""
    times, codes = np.unique(observed_at, return_inverse=True)
    if times.size < 2:
        return None
    rows_per_time = np.bincount(codes, minlength=times.size)
    from_end = np.cumsum(rows_per_time[::-1])
    n_latest = min(int(np.searchsorted(from_end, fraction * labels.size)) + 1, times.size - 1)
    held_mask = codes >= times.size - n_latest
    kept, held = np.flatnonzero(~held_mask), np.flatnonzero(held_mask)
    if min(labels[kept].sum(), labels[held].sum()) < MIN_ROWS_PER_CLASS or \
            min((1 - labels[kept]).sum(), (1 - labels[held]).sum()) < MIN_ROWS_PER_CLASS:
        return None
    return kept, held


# Below this many rows the data cannot support deep trees: shallow ones, strong regularisation,
# cross-fitting instead of one held-out part, and a refit on every row.
SMALL_DATA_ROWS = 20_000
INNER_FOLDS = 5
# Refitting doubles the training time; beyond this many rows the inner model is kept.
TIME_REFIT_MAX_ROWS = 250_000
# The linear model's L2 penalties tried (on standardised terms); the held-out log-loss picks one.
LINEAR_PENALTIES = (0.3, 1.0, 3.0, 10.0, 30.0)
LINEAR_MAX_ROWS = 50_000
TREE_WEIGHTS = tuple(np.round(np.linspace(0.0, 1.0, 11), 2).tolist())


def booster_params(n_rows: int, n_features: int, seed: int, n_jobs: int | None = None, *,
                   deep: bool = False) -> dict[str, Any]:
    """LightGBM settings scaled to the data size: more rows allow bigger trees and a faster rate. Small
    data gets shallow, strongly regularised trees unless `deep`."""
    large = n_rows >= 50_000
    params = {
        "objective": "binary",
        "metric": "binary_logloss",
        "learning_rate": 0.1 if large else 0.05,
        # Churn signals are mostly additive, and TreeSHAP explanations cost grows with leaves:
        # 15 leaves scored as well as 31 on 100k accounts at under half the explanation time.
        "num_leaves": 15,
        "max_depth": -1,
        # Leaves need enough rows to estimate a churn rate: 20 on small data, up to 200.
        "min_data_in_leaf": int(min(200, max(20, n_rows // 1000))),
        "min_sum_hessian_in_leaf": 1e-3,
        "lambda_l2": 1.0,
        "feature_fraction": 0.8 if n_features >= 5 else 1.0,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "max_bin": 255,
        "cat_smooth": 10.0,
        "cat_l2": 10.0,
        "min_data_per_group": 50 if n_rows >= 10_000 else 10,
        "max_cat_to_onehot": 4,
        "seed": seed,
        "deterministic": True,
        "force_col_wise": True,
        # A second thread only pays for itself on large data.
        "num_threads": n_jobs or (min(2, os.cpu_count() or 1) if large else 1),
        "verbosity": -1,
    }
    if n_rows < SMALL_DATA_ROWS and not deep:
        # A few thousand rows often hold little beyond main effects and pairwise interactions: trees
        # of two levels, a slow rate, heavy L2 and leaves of at least 2 % of the rows (telco churn,
        # 5,600 rows: 0.851 ROC-AUC against 0.846 for 15-leaf trees). Where interactions run deeper
        # (usage against plan), the training tries the larger trees too (`deep`) and keeps the better.
        params.update({
            "learning_rate": 0.03,
            "num_leaves": 3,
            "max_depth": 2,
            "min_data_in_leaf": max(5, min(100, n_rows // 50)),
            "lambda_l2": 10.0,
            "feature_fraction": 0.7 if n_features >= 5 else 1.0,
        })
    return params


MAX_ROUNDS = 3000
EARLY_STOPPING_ROUNDS = 100


def _log_loss(labels: np.ndarray, margins: np.ndarray) -> float:
    return float(np.mean(np.logaddexp(0.0, margins) - labels * margins))


def _recalibrated_log_loss(labels: np.ndarray, margins: np.ndarray) -> float:
    """Log-loss after a Platt fit: judges ranking and sharpness, not the margin's scale."""
    platt = Calibrator._fit_platt(margins, labels)
    return _log_loss(labels, platt.slope * margins + platt.intercept)


@dataclass(frozen=True)
class _Candidates:
    """Held-out margins of the trees and of the linear model at each penalty, for the same rows."""

    rows: np.ndarray
    tree_margin: np.ndarray
    linear_margin: dict[float, np.ndarray]
    tree_rounds: list[int]
    fit_rows: list[int]


def _inner_splits(labels: np.ndarray, groups: np.ndarray | None, observed_at: np.ndarray | None,
                  rng: np.random.Generator) -> tuple[list[tuple[np.ndarray, np.ndarray]], str]:
    """The inner (fit, held-out) splits and their kind: the latest rows when times are known,
    cross-fitting folds on small data, otherwise one stratified (or grouped) split."""
    if observed_at is not None:
        split = _time_split(labels, observed_at, HOLDOUT_FRACTION)
        if split is not None:
            return [split], "time"
    if labels.size < SMALL_DATA_ROWS:
        folds = (_stratified_folds(labels, INNER_FOLDS, rng) if groups is None
                 else _grouped_folds(labels, groups, INNER_FOLDS, rng))
        splits = [(np.flatnonzero(folds != k), np.flatnonzero(folds == k)) for k in range(INNER_FOLDS)]
        if all(np.unique(labels[held]).size == 2 and np.unique(labels[fit]).size == 2 for fit, held in splits):
            return splits, "folds"
    if groups is None:
        return [_stratified_split(labels, HOLDOUT_FRACTION, rng)], "split"
    return [_grouped_split(labels, groups, HOLDOUT_FRACTION, rng)], "split"


def _train_booster(params: dict[str, Any], matrix: np.ndarray, labels: np.ndarray, columns: list[str],
                   categorical: list[int] | str, rounds: int,
                   held: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[lgb.Booster, int]:
    """A booster on the rows given; with `held` (matrix, labels) it stops early on their log-loss."""
    fit_set = lgb.Dataset(matrix, labels, feature_name=columns, categorical_feature=categorical, free_raw_data=True)
    if held is None:
        booster = lgb.train(params, fit_set, num_boost_round=rounds)
        return booster, rounds
    held_set = lgb.Dataset(held[0], held[1], reference=fit_set)
    booster = lgb.train(
        params, fit_set, num_boost_round=rounds, valid_sets=[held_set], valid_names=["holdout"],
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, first_metric_only=True, verbose=False)],
    )
    best = int(booster.best_iteration or booster.current_iteration())
    # Keep only the trees early stopping chose, so saved and reloaded models agree.
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=best)), best


def _held_out_candidates(matrix: np.ndarray, labels: np.ndarray, splits: list[tuple[np.ndarray, np.ndarray]],
                         params: dict[str, Any], schema: FeatureSchema, terms: tuple[LinearTerm, ...],
                         directions: list[int], penalties: tuple[float, ...],
                         rng: np.random.Generator) -> tuple[_Candidates, lgb.Booster,
                                                                                      dict[float, LinearModel]]:
    """Fit trees (early-stopped) and linear models on each split's fit rows and score its held-out rows.
    Returns the candidates and the last split's models (kept as they are when there is one split)."""
    categorical = schema.categorical_indices or "auto"
    rows, tree_margin, rounds, fit_sizes = [], [], [], []
    linear_margin: dict[float, list[np.ndarray]] = {penalty: [] for penalty in penalties}
    booster, linear_models = None, {}
    for fit, held in splits:
        booster, best = _train_booster(params, matrix[fit], labels[fit], schema.columns, categorical, MAX_ROUNDS,
                                       held=(matrix[held], labels[held]))
        rows.append(held)
        rounds.append(best)
        fit_sizes.append(fit.size)
        tree_margin.append(booster.predict(matrix[held], raw_score=True, num_threads=params["num_threads"]))
        # A few hundred coefficients are settled long before 50,000 rows; more only costs time.
        linear_rows = fit if fit.size <= LINEAR_MAX_ROWS else np.sort(rng.choice(fit, LINEAR_MAX_ROWS, replace=False))
        linear_models = LinearModel.fit(terms, matrix[linear_rows], labels[linear_rows], penalties, directions)
        for penalty, linear_model in linear_models.items():
            linear_margin[penalty].append(linear_model.margin(matrix[held]))
    candidates = _Candidates(np.concatenate(rows), np.concatenate(tree_margin),
                             {penalty: np.concatenate(parts) for penalty, parts in linear_margin.items()},
                             rounds, fit_sizes)
    return candidates, booster, linear_models


def _choose_blend(labels: np.ndarray, candidates: _Candidates) -> tuple[float | None, float]:
    """(linear penalty, tree weight) with the lowest held-out log-loss; (None, 1.0) for trees alone."""
    if not candidates.linear_margin:
        return None, 1.0
    penalty = min(candidates.linear_margin, key=lambda p: _log_loss(labels, candidates.linear_margin[p]))
    linear = candidates.linear_margin[penalty]
    losses = {weight: _recalibrated_log_loss(labels, weight * candidates.tree_margin + (1 - weight) * linear)
              for weight in TREE_WEIGHTS}
    weight = min(losses, key=lambda w: (losses[w], -w))
    return (penalty, weight) if weight < 1.0 else (None, 1.0)


def _contribution_importance(model: ChurnModel, matrix: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
    sample = matrix if len(matrix) <= 5_000 else matrix[rng.choice(len(matrix), 5_000, replace=False)]
    contributions, _ = model._contributions_and_base(sample)
    return {name: float(value) for name, value in zip(model.schema.columns, np.abs(contributions).mean(axis=0),
                                                      strict=True)}


def train_churn_model(
    features: pd.DataFrame,
    labels: pd.Series,
    *,
    seed: int = 0,
    validation: tuple[pd.DataFrame, pd.Series] | None = None,
    feature_labels: Mapping[str, str] | None = None,
    groups: pd.Series | np.ndarray | None = None,
    observed_at: pd.Series | np.ndarray | None = None,
    monotone: Mapping[str, int] | None = None,
    n_jobs: int | None = None,
) -> ChurnModel:
    """Train a calibrated churn classifier (LightGBM, blended with a linear model when that
    validates better) on any tabular frame.

    `labels` is 1/True for churn, aligned with `features` by index. `validation` is an optional
    (features, labels) pair from a later cut-off used for the reported metrics only (ROC-AUC and
    PR-AUC are NaN when it holds a single class). Early stopping, the blend and the calibration
    use an inner split of `features`: the latest rows when `observed_at` (one time per row, such
    as the cut-off day) is given, cross-fitting folds on small data, otherwise one stratified
    split. `groups` (one value per row, such as the account id when an account appears at several
    cut-offs) keeps each group on one side of that split, so early stopping is not fooled by
    near-copies. `monotone` maps numeric columns whose effect is known to +1 (more means more
    churn) or -1. `feature_labels` maps column names to readable labels or sentence templates for
    `explain`.
    """
    _check_features(features, "training")
    label_values = _binary_labels(labels, features, "training")
    positives = int(label_values.sum())
    negatives = label_values.size - positives
    if positives == 0 or negatives == 0:
        raise ChurnModelError("training labels contain a single class; churn needs both churned and retained rows")
    if min(positives, negatives) < MIN_ROWS_PER_CLASS:
        raise ChurnModelError(
            f"too few rows of one class to train and validate ({positives} churned, {negatives} retained; "
            f"need at least {MIN_ROWS_PER_CLASS} of each)"
        )
    if validation is not None:
        validation_features, validation_labels = validation
        _check_features(validation_features, "validation")
        validation_values = _binary_labels(validation_labels, validation_features, "validation")
    group_values = _per_row(groups, features, "groups")
    time_values = _per_row(observed_at, features, "observed_at")

    schema = FeatureSchema.learn(features)
    matrix = schema.matrix(features)
    directions = _directions(schema, monotone)
    rng = np.random.default_rng(seed)
    splits, split_kind = _inner_splits(label_values, group_values, time_values, rng)
    small = label_values.size < SMALL_DATA_ROWS
    # Held out by time, the latest rows are the most like the ones to be scored: refit to learn from them.
    refit = small or (split_kind == "time" and label_values.size <= TIME_REFIT_MAX_ROWS)
    n_rows = label_values.size if small else len(splits[0][0])
    # Small data: shallow trees and the usual 15-leaf ones both tried on the same held-out rows; the
    # blend that predicts them better (log-loss after recalibration) is kept.
    param_sets = [booster_params(n_rows, len(schema.columns), seed, n_jobs, deep=deep)
                  for deep in ((False, True) if small else (False,))]
    for params in param_sets:
        if any(directions):
            params["monotone_constraints"] = directions
            params["monotone_constraints_method"] = "advanced"
    terms = LinearModel.layout(schema, matrix)
    penalties = LINEAR_PENALTIES if small else LINEAR_PENALTIES[1:4:2]
    chosen = None
    for tried in param_sets:
        found = _held_out_candidates(matrix, label_values, splits, tried, schema, terms, directions, penalties, rng)
        held_labels = label_values[found[0].rows]
        blend = _choose_blend(held_labels, found[0])
        margin = found[0].tree_margin if blend[0] is None else (
            blend[1] * found[0].tree_margin + (1 - blend[1]) * found[0].linear_margin[blend[0]])
        loss = _recalibrated_log_loss(held_labels, margin)
        if chosen is None or loss < chosen[0] - 1e-9:
            chosen = (loss, tried, found, blend, margin)
    _, params, (candidates, booster, linear_models), (penalty, tree_weight), held_margin = chosen
    held_labels = label_values[candidates.rows]
    linear = linear_models.get(penalty) if penalty is not None else None
    calibrator = Calibrator.fit(held_margin, held_labels)

    if refit:
        # Every row informs the final model; the trees grow in proportion to the extra rows.
        rounds = max(1, round(np.mean(candidates.tree_rounds) * label_values.size / np.mean(candidates.fit_rows)))
        booster, _ = _train_booster(params, matrix, label_values, schema.columns,
                                    schema.categorical_indices or "auto", rounds)
        if penalty is not None:
            rows = np.arange(label_values.size)
            if rows.size > LINEAR_MAX_ROWS:
                rows = np.sort(rng.choice(rows, LINEAR_MAX_ROWS, replace=False))
            linear = LinearModel.fit(terms, matrix[rows], label_values[rows], (penalty,), directions)[penalty]
        fit_rows = label_values.size
    else:
        rounds, fit_rows = candidates.tree_rounds[0], candidates.fit_rows[0]
    model = ChurnModel(booster, schema, calibrator, None, params, feature_labels,  # type: ignore[arg-type]
                       linear=linear, tree_weight=tree_weight)

    if validation is not None:
        valid_margin = model._margin(schema.matrix(validation_features))
        valid_probability = np.clip(calibrator.apply(valid_margin), 0.0, 1.0)
        valid_labels, source = validation_values, "provided"
    else:
        valid_probability = _cross_fitted_probabilities(held_margin, held_labels, rng)
        valid_labels, source = held_labels, "internal"

    model.metrics = ChurnMetrics(
        **_score_metrics(valid_labels, valid_probability),
        n_train=int(fit_rows),
        n_valid=int(valid_labels.size),
        positive_rate=float(positives / label_values.size),
        valid_positive_rate=float(valid_labels.mean()) if valid_labels.size else float("nan"),
        best_iteration=int(rounds),
        calibration=calibrator.method,
        validation=source,
        model="trees" if linear is None else f"blend {tree_weight:.1f} trees + linear",
        inner_split=split_kind,
    )
    model.importance = _contribution_importance(model, matrix, rng)
    return model


def _per_row(values: pd.Series | np.ndarray | None, features: pd.DataFrame, what: str) -> np.ndarray | None:
    if values is None:
        return None
    array = np.asarray(values, dtype=object)
    if array.shape != (len(features),) or pd.isna(array).any():
        raise ChurnModelError(f"{what} need one non-missing value per feature row ({len(features)})")
    return array


def _directions(schema: FeatureSchema, monotone: Mapping[str, int] | None) -> list[int]:
    """LightGBM's monotone constraint per column: the known direction of numeric columns, else 0."""
    monotone = dict(monotone or {})
    unknown = sorted(set(monotone) - set(schema.columns))
    if unknown:
        raise ChurnModelError(f"monotone names columns that are not among the features: {unknown}")
    bad = {name: value for name, value in monotone.items() if value not in (-1, 0, 1)}
    if bad:
        raise ChurnModelError(f"monotone directions must be -1, 0 or 1: {bad}")
    categorical = sorted(set(monotone) & set(schema.categories))
    if any(monotone[name] for name in categorical):
        raise ChurnModelError(f"monotone directions apply to numeric columns only, not {categorical}")
    return [int(monotone.get(name, 0)) for name in schema.columns]


def _cross_fitted_probabilities(margins: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Calibrated probabilities where each half of the held-out rows is calibrated on the other half."""
    half_a, half_b = _stratified_split(labels, 0.5, rng)
    probabilities = np.empty_like(margins)
    for fit_half, score_half in ((half_a, half_b), (half_b, half_a)):
        calibrator = Calibrator.fit(margins[fit_half], labels[fit_half])
        probabilities[score_half] = calibrator.apply(margins[score_half])
    return np.clip(probabilities, 0.0, 1.0)


# ----------------------------------------------------------------------------------------------
# Synthetic accounts for tests and benchmarks
# ----------------------------------------------------------------------------------------------

def make_synthetic_accounts(n_accounts: int, *, seed: int = 0, n_noise_features: int = 4,
                            churn_rate: float = 0.08, signal: bool = True) -> tuple[pd.DataFrame, pd.Series]:
    """Generated accounts where usage decline, days overdue and escalations drive churn.

    Columns: usage_trend_30d (relative change, negative = decline), days_overdue, escalations_90d,
    days_to_renewal, segment (categorical, with missing values), region (categorical), plus
    `n_noise_features` pure-noise numeric columns; about 5 % of usage and overdue values missing.
    With `signal=False` the labels are independent of every column.
    """
    rng = np.random.default_rng(seed)
    usage_trend = np.clip(rng.normal(0.0, 0.25, n_accounts), -0.95, 1.5)
    days_overdue = np.where(rng.random(n_accounts) < 0.7, 0.0, rng.gamma(1.5, 15.0, n_accounts)).round()
    escalations = rng.poisson(0.6, n_accounts).astype(float)
    days_to_renewal = rng.integers(0, 730, n_accounts).astype(float)
    segment = rng.choice(["Enterprise", "Mid-Market", "SMB"], n_accounts, p=[0.2, 0.35, 0.45]).astype(object)
    region = rng.choice(["NA", "EMEA", "APAC", "LATAM"], n_accounts, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    logit = (-6.0 * usage_trend + 0.07 * days_overdue + 0.5 * escalations
             + np.where(segment == "SMB", 0.5, 0.0) - 0.001 * days_to_renewal)
    # Shift the intercept so the churn rate lands near the target.
    intercept = _solve_intercept(logit, churn_rate)
    probability = 1 / (1 + np.exp(-(logit + intercept))) if signal else np.full(n_accounts, churn_rate)
    churned = rng.random(n_accounts) < probability

    usage_trend[rng.random(n_accounts) < 0.05] = np.nan
    days_overdue[rng.random(n_accounts) < 0.05] = np.nan
    segment[rng.random(n_accounts) < 0.03] = None
    frame = pd.DataFrame({
        "usage_trend_30d": usage_trend,
        "days_overdue": days_overdue,
        "escalations_90d": escalations,
        "days_to_renewal": days_to_renewal,
        "segment": pd.Series(segment, dtype=object),
        "region": pd.Categorical(region),
    })
    for i in range(n_noise_features):
        frame[f"noise_{i + 1}"] = rng.normal(size=n_accounts)
    frame.index = pd.RangeIndex(n_accounts, name="account")
    return frame, pd.Series(churned.astype(int), index=frame.index, name="churned")


def _solve_intercept(logit: np.ndarray, target_rate: float) -> float:
    low, high = -30.0, 30.0
    for _ in range(60):
        middle = (low + high) / 2
        if np.mean(1 / (1 + np.exp(-(logit + middle)))) > target_rate:
            high = middle
        else:
            low = middle
    return (low + high) / 2
