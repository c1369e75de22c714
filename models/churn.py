"""Churn model: a general, self-tuning LightGBM classifier with calibrated probabilities and
per-row explanations.

    model = train_churn_model(features, labels, seed=0, validation=(later_features, later_labels))
    model.predict_proba(features)            # calibrated churn probability per row
    model.explain(features, top_n=3)         # top contributing features per row, with sentences
    model.metrics.roc_auc, model.metrics.as_dict()
    model.to_bytes() / ChurnModel.from_bytes(blob); model.save(path) / ChurnModel.load(path)
    churn_risk_score(probability) -> 0-100;  risk_level(score) -> HIGH / MEDIUM / LOW

How it chooses its settings:
- a stratified internal split (80/20) drives early stopping on log-loss and holds the predictions
  the probability calibrator is fitted on (isotonic when the split holds enough churners, otherwise
  Platt scaling); the booster is kept as trained on the 80 %, so the calibrator matches it;
- regularisation scales with the number of rows (minimum rows per leaf, learning rate) on top of
  small trees (15 leaves), L2, column and row subsampling;
- no class weighting: weighting distorts probabilities, and the calibrated log-loss fit handles
  imbalance; the stratified split guarantees churners on both sides.

Metrics come from `validation` when it is given (a later time cut-off); otherwise from the internal
split, where the calibrator is cross-fitted on two halves so the reported calibration is honest.

Categorical columns (object, string or category dtype) are encoded with the categories seen in
training; a category never seen in training scores as the "other" bucket, a missing one as missing.
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

FORMAT_VERSION = 1
HIGH_RISK_MIN_SCORE = 70.0
MEDIUM_RISK_MIN_SCORE = 40.0
# The most frequent categories of a column keep their own code; the rest share "other".
MAX_CATEGORIES = 250
# Fewer churners than this in the calibration split and isotonic regression overfits: use Platt.
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
    n_train: int  # rows the booster was fitted on (the internal split's larger part)
    n_valid: int  # rows the metrics were computed on
    positive_rate: float  # churn rate of all training rows
    valid_positive_rate: float
    best_iteration: int  # trees kept by early stopping
    calibration: str  # "isotonic" or "platt"
    validation: str  # "provided" (caller's later cut-off) or "internal" (stratified split)

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
        if labels.sum() >= ISOTONIC_MIN_POSITIVES:
            return cls._fit_isotonic(margins, labels)
        return cls._fit_platt(margins, labels)

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
    if pd.api.types.is_object_dtype(series.dtype):
        return pd.api.types.infer_dtype(series, skipna=True) not in NUMERIC_OBJECT_KINDS
    return pd.api.types.is_string_dtype(series.dtype)


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
                      or pd.api.types.is_object_dtype(column.dtype)):
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
# The model
# ----------------------------------------------------------------------------------------------

def _threads_for(n_rows: int) -> int:
    """Two threads pay for themselves only on larger batches (explanations cost ~10x a prediction)."""
    return min(2, os.cpu_count() or 1) if n_rows >= 20_000 else 1


class ChurnModel:
    """A trained churn model: LightGBM booster, calibrator, column schema and metrics."""

    def __init__(self, booster: lgb.Booster, schema: FeatureSchema, calibrator: Calibrator,
                 metrics: ChurnMetrics, params: dict[str, Any], feature_labels: Mapping[str, str] | None = None):
        self.booster = booster
        self.schema = schema
        self.calibrator = calibrator
        self.metrics = metrics
        self.params = params
        self.feature_labels: dict[str, str] = dict(feature_labels or {})

    @property
    def feature_names(self) -> list[str]:
        return list(self.schema.columns)

    def _check_frame(self, features: pd.DataFrame) -> None:
        if not isinstance(features, pd.DataFrame):
            raise ChurnModelError(f"features must be a pandas DataFrame, got {type(features).__name__}")

    def raw_margin(self, features: pd.DataFrame) -> np.ndarray:
        """LightGBM's uncalibrated log-odds per row."""
        self._check_frame(features)
        if len(features) == 0:
            return np.empty(0)
        return self.booster.predict(self.schema.matrix(features), raw_score=True,
                                    num_threads=_threads_for(len(features)))

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Calibrated churn probability of each row."""
        return np.clip(self.calibrator.apply(self.raw_margin(features)), 0.0, 1.0)

    def contributions(self, features: pd.DataFrame) -> pd.DataFrame:
        """LightGBM's per-feature log-odds contributions (TreeSHAP), one column per feature."""
        self._check_frame(features)
        matrix = self.schema.matrix(features)
        raw = self.booster.predict(matrix, pred_contrib=True, num_threads=_threads_for(len(features) * 10))
        return pd.DataFrame(raw[:, :-1], columns=self.schema.columns, index=features.index)

    def explain(self, features: pd.DataFrame, top_n: int = 3,
                feature_labels: Mapping[str, str] | None = None) -> list[list[FactorExplanation]]:
        """Each row's `top_n` features by size of contribution, with direction and a sentence.

        Contributions are LightGBM's own `pred_contrib` in log-odds; positive raises churn risk.
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
        """Total gain per feature, largest first."""
        gains = self.booster.feature_importance(importance_type="gain")
        return pd.Series(gains, index=self.schema.columns, name="gain").sort_values(ascending=False)

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
        }

    @classmethod
    def _from_parts(cls, model_text: str, sidecar: Mapping[str, Any]) -> ChurnModel:
        if sidecar.get("format_version") != FORMAT_VERSION:
            raise ChurnModelError(f"unsupported churn model format {sidecar.get('format_version')!r}")
        metrics = {key: (float("nan") if value is None else value) for key, value in sidecar["metrics"].items()}
        return cls(
            booster=lgb.Booster(model_str=model_text),
            schema=FeatureSchema(columns=list(sidecar["columns"]), categories=dict(sidecar["categories"])),
            calibrator=Calibrator.from_json(sidecar["calibrator"]),
            metrics=ChurnMetrics(**metrics),
            params=dict(sidecar["params"]),
            feature_labels=sidecar.get("feature_labels") or {},
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


def booster_params(n_rows: int, n_features: int, seed: int, n_jobs: int | None = None) -> dict[str, Any]:
    """LightGBM settings scaled to the data size: more rows allow bigger trees and a faster rate."""
    large = n_rows >= 50_000
    return {
        "objective": "binary",
        "metric": "binary_logloss",
        "learning_rate": 0.1 if large else 0.05,
        # Churn signals are mostly additive, and TreeSHAP explanations cost grows with leaves:
        # 15 leaves scored as well as 31 on 100k accounts at under half the explanation time.
        "num_leaves": 15,
        "max_depth": -1,
        # Leaves need enough rows to estimate a churn rate: 20 on small data, up to 200.
        "min_data_in_leaf": int(min(200, max(20, n_rows // 1000))) if n_rows >= 400 else max(5, n_rows // 20),
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


MAX_ROUNDS = 2000
EARLY_STOPPING_ROUNDS = 50


def train_churn_model(
    features: pd.DataFrame,
    labels: pd.Series,
    *,
    seed: int = 0,
    validation: tuple[pd.DataFrame, pd.Series] | None = None,
    feature_labels: Mapping[str, str] | None = None,
    groups: pd.Series | np.ndarray | None = None,
    n_jobs: int | None = None,
) -> ChurnModel:
    """Train a calibrated LightGBM churn classifier on any tabular frame.

    `labels` is 1/True for churn, aligned with `features` by index. `validation` is an optional
    (features, labels) pair from a later cut-off used for the reported metrics only (ROC-AUC and
    PR-AUC are NaN when it holds a single class); early stopping and calibration always use a
    stratified internal split of `features`. `groups` (one value per row, such as the account id
    when an account appears at several cut-offs) keeps each group on one side of that split, so
    early stopping is not fooled by near-copies. `feature_labels` maps column names to readable
    labels or sentence templates for `explain`.
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

    schema = FeatureSchema.learn(features)
    matrix = schema.matrix(features)
    rng = np.random.default_rng(seed)
    if groups is None:
        fit_rows, holdout_rows = _stratified_split(label_values, HOLDOUT_FRACTION, rng)
    else:
        group_values = np.asarray(groups, dtype=object)
        if group_values.shape != (len(features),) or pd.isna(group_values).any():
            raise ChurnModelError(f"groups need one non-missing value per feature row ({len(features)})")
        fit_rows, holdout_rows = _grouped_split(label_values, group_values, HOLDOUT_FRACTION, rng)
    params = booster_params(len(fit_rows), len(schema.columns), seed, n_jobs)

    categorical = schema.categorical_indices or "auto"
    fit_set = lgb.Dataset(matrix[fit_rows], label_values[fit_rows], feature_name=schema.columns,
                          categorical_feature=categorical, free_raw_data=True)
    holdout_set = lgb.Dataset(matrix[holdout_rows], label_values[holdout_rows], reference=fit_set)
    booster = lgb.train(
        params, fit_set, num_boost_round=MAX_ROUNDS, valid_sets=[holdout_set], valid_names=["holdout"],
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, first_metric_only=True, verbose=False)],
    )
    best_iteration = int(booster.best_iteration or booster.current_iteration())
    # Keep only the trees early stopping chose, so saved and reloaded models agree.
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best_iteration))

    holdout_margin = booster.predict(matrix[holdout_rows], raw_score=True, num_threads=params["num_threads"])
    holdout_labels = label_values[holdout_rows]
    calibrator = Calibrator.fit(holdout_margin, holdout_labels)

    if validation is not None:
        valid_margin = booster.predict(schema.matrix(validation_features), raw_score=True,
                                       num_threads=params["num_threads"])
        valid_probability = np.clip(calibrator.apply(valid_margin), 0.0, 1.0)
        valid_labels, source = validation_values, "provided"
    else:
        valid_probability = _cross_fitted_probabilities(holdout_margin, holdout_labels, rng)
        valid_labels, source = holdout_labels, "internal"

    metrics = ChurnMetrics(
        **_score_metrics(valid_labels, valid_probability),
        n_train=int(len(fit_rows)),
        n_valid=int(valid_labels.size),
        positive_rate=float(positives / label_values.size),
        valid_positive_rate=float(valid_labels.mean()) if valid_labels.size else float("nan"),
        best_iteration=best_iteration,
        calibration=calibrator.method,
        validation=source,
    )
    return ChurnModel(booster, schema, calibrator, metrics, params, feature_labels)


def _cross_fitted_probabilities(margins: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Calibrated probabilities where each half of the split is calibrated on the other half."""
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
