"""Churn training and scoring, and lifetime-value fits, at benchmark scale; the churn model on
public telco data and on the product's own demo data.

    python bench/churn_clv.py [--accounts 100000] [--seed 0] [--telco FILE] [--orange DIR] [--folds 5]
                              [--demo small]
    (or through the runner: python bench/models.py --only churn)

1. Churn at scale: training, scoring and explanations on `--accounts` generated accounts.
2. The IBM Telco Customer Churn data (7,043 customers, 26.5 % churned; 19 raw columns of
   tenure, contract, charges and services, passed to the model as read from the CSV, the
   customer id left out), with stratified `--folds`-fold cross-validation: ROC-AUC and expected
   calibration error of `train_churn_model` against an L2 logistic regression and LightGBM with
   its default settings. Without --telco the file is read from a mirror of
   github.com/IBM/telco-customer-churn-on-icp4d (the repository tools' `fetch`) at TELCO_MIRROR.
   The same for the Orange Telecom churn data as BigML publishes it (churn-bigml-80.csv and -20.csv
   together: about 3,300 customers, 14.5 % churned; 19 raw columns of state, plans, day, evening,
   night and international usage and customer-service calls), from `--orange DIR` or a mirror of
   github.com/ABKevin/Customer-churn-dataset at ORANGE_MIRROR.
3. With --demo SCALE: the nightly training job on the demo database of that scale (prepared by
   bench/_prepare.py and kept for reuse), which validates on later cut-offs; its ROC-AUC is the
   figure the model registry records.
4. Lifetime value: BG/NBD and gamma-gamma fits on simulated customers.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import subprocess
import sys
import time
from argparse import Namespace
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent


def _import_models_package() -> None:
    """Make `models` the repository's package: the runner bench/models.py shadows it on sys.path."""
    if getattr(sys.modules.get("models"), "__path__", None) is not None:
        return
    package_dir = REPO / "models"
    spec = importlib.util.spec_from_file_location("models", package_dir / "__init__.py",
                                                  submodule_search_locations=[str(package_dir)])
    package = importlib.util.module_from_spec(spec)
    sys.modules["models"] = package
    spec.loader.exec_module(package)


_import_models_package()
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # etl and dashboard, for the demo section

from scipy.optimize import minimize  # noqa: E402

from models.churn import (  # noqa: E402
    ChurnModel,
    churn_risk_score,
    expected_calibration_error,
    make_synthetic_accounts,
    roc_auc,
    train_churn_model,
)
from models.clv import (  # noqa: E402
    customer_lifetime_value,
    fit_bgnbd,
    fit_gamma_gamma,
    simulate_bgnbd,
    simulate_gamma_gamma,
)

TELCO_MIRROR = Path("/work/.mirror/IBM+telco-customer-churn-on-icp4d/repo")
TELCO_FILE = "data/Telco-Customer-Churn.csv"
ORANGE_MIRROR = Path("/work/.mirror/ABKevin+Customer-churn-dataset/repo")
ORANGE_FILES = ("churn-bigml-80.csv", "churn-bigml-20.csv")
TRAINING_TARGET_SECONDS = 60.0
SCORING_TARGET_SECONDS = 5.0
Result = TypeVar("Result")


@dataclass(frozen=True)
class Timing:
    """Wall-clock and CPU seconds: on a shared machine the wall clock also counts other users."""

    wall: float
    cpu: float

    def text(self, target: float | None = None) -> str:
        verdict = ""
        if target is not None:
            verdict = ", within target" if self.wall <= target else f", OVER the {target:.0f} s target"
        return f"{self.wall:6.2f} s wall ({self.cpu:.2f} s CPU{verdict})"


def timed(action: Callable[[], Result]) -> tuple[Result, Timing]:
    started, started_cpu = time.perf_counter(), time.process_time()
    result = action()
    return result, Timing(time.perf_counter() - started, time.process_time() - started_cpu)


def benchmark_accounts(n_accounts: int, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """About 20 features: the planted drivers, two more categoricals and noise columns."""
    features, labels = make_synthetic_accounts(n_accounts, seed=seed, n_noise_features=12)
    rng = np.random.default_rng(seed + 1_000)
    industries = np.array([f"Industry {i:02d}" for i in range(30)], dtype=object)
    features["industry"] = pd.Series(rng.choice(industries, n_accounts), index=features.index, dtype=object)
    features["plan"] = pd.Categorical(rng.choice(["Basic", "Pro", "Enterprise"], n_accounts))
    return features, labels


def run_churn(args: Namespace) -> None:
    train_features, train_labels = benchmark_accounts(args.accounts, args.seed)
    later_features, later_labels = benchmark_accounts(args.accounts, args.seed + 1)
    print(f"churn: {args.accounts:,} accounts x {train_features.shape[1]} features "
          f"({train_features.select_dtypes(exclude='number').shape[1]} categorical, some missing), "
          f"churn rate {train_labels.mean():.1%}")

    model, training = timed(lambda: train_churn_model(
        train_features, train_labels, seed=args.seed, validation=(later_features, later_labels)))
    metrics = model.metrics
    print(f"  training       {training.text(TRAINING_TARGET_SECONDS)}; {metrics.best_iteration} trees, "
          f"{model.params['num_threads']} threads, includes scoring the validation set")
    print(f"  validation on a later cut-off ({metrics.n_valid:,} accounts): ROC-AUC {metrics.roc_auc:.3f}, "
          f"PR-AUC {metrics.pr_auc:.3f}, Brier {metrics.brier:.4f}, ECE {metrics.ece:.4f} ({metrics.calibration})")

    probabilities, scoring = timed(lambda: model.predict_proba(later_features))
    print(f"  scoring        {scoring.text(SCORING_TARGET_SECONDS)} for {len(probabilities):,} accounts")
    explanations, explaining = timed(lambda: model.explain(later_features, top_n=3))
    print(f"  explanations   {explaining.text()} for {len(explanations):,} accounts, top 3 factors each")
    scores = churn_risk_score(probabilities)
    print(f"  risk levels: HIGH {np.mean(scores >= 70):.1%}, MEDIUM {np.mean((scores >= 40) & (scores < 70)):.1%}; "
          f"riskiest account: {'; '.join(f.sentence for f in explanations[int(np.argmax(scores))])}")

    blob, serialising = timed(model.to_bytes)
    _, loading = timed(lambda: ChurnModel.from_bytes(blob))
    print(f"  artefact       {len(blob) / 1e6:.2f} MB; serialise {serialising.wall:.2f} s, load {loading.wall:.2f} s")


def run_clv(args: Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    ages = rng.uniform(26, 104, args.accounts)
    customers = simulate_bgnbd(args.accounts, r=0.24, alpha=4.41, a=0.79, b=2.43, T=ages, seed=args.seed)
    # Whole weeks, as summarise_transactions produces them.
    customers["recency"] = np.floor(customers["recency"])
    customers["T"] = np.floor(customers["T"])
    customers.loc[customers["frequency"] > 0, "recency"] = customers["recency"].clip(lower=1)
    customers["monetary_value"] = simulate_gamma_gamma(customers["frequency"], p=6.25, q=3.74, v=15.44,
                                                       seed=args.seed)
    print(f"lifetime value: {args.accounts:,} simulated customers (weeks), "
          f"{np.mean(customers['frequency'] > 0):.0%} with repeat purchases")

    purchases, bgnbd = timed(lambda: fit_bgnbd(customers["frequency"], customers["recency"], customers["T"]))
    print(f"  BG/NBD fit     {bgnbd.text()}: r={purchases.r:.3f} alpha={purchases.alpha:.2f} "
          f"a={purchases.a:.3f} b={purchases.b:.3f} (simulated from 0.24, 4.41, 0.79, 2.43)")
    spend, gamma_gamma = timed(lambda: fit_gamma_gamma(customers["frequency"], customers["monetary_value"]))
    print(f"  gamma-gamma    {gamma_gamma.text()}: p={spend.p:.2f} q={spend.q:.2f} v={spend.v:.2f} "
          f"(simulated from 6.25, 3.74, 15.44)")
    values, valuing = timed(lambda: customer_lifetime_value(purchases, spend, customers, freq="W"))
    print(f"  12/36-month value {valuing.text()}: mean {values['clv_12m'].mean():.2f} and "
          f"{values['clv_36m'].mean():.2f}")
    _, discounting = timed(lambda: customer_lifetime_value(purchases, spend, customers, freq="W",
                                                           monthly_discount_rate=0.01))
    print(f"  same, discounted monthly at 1 % {discounting.text()}")


# ----------------------------------------------------------------------------------------------
# Public data: IBM Telco Customer Churn
# ----------------------------------------------------------------------------------------------

def _file_bytes(given: Path | None, mirror: Path, name: str) -> bytes | None:
    """A data file: `given` when set, else `name` from the repository mirror; None when neither is here."""
    if given is not None:
        return given.read_bytes()
    if not mirror.exists():
        return None
    shown = subprocess.run(["git", "--git-dir", str(mirror), "show", f"HEAD:{name}"], capture_output=True, check=False)
    return shown.stdout if shown.returncode == 0 else None


def telco_customers(path: Path | None) -> tuple[pd.DataFrame, pd.Series] | None:
    """The raw columns (as read from the CSV, so TotalCharges is text with blanks) and churn as 0/1."""
    raw = _file_bytes(path, TELCO_MIRROR, TELCO_FILE)
    if raw is None:
        return None
    frame = pd.read_csv(io.BytesIO(raw))
    labels = (frame.pop("Churn") == "Yes").astype(int)
    return frame.drop(columns=["customerID"]), labels


def orange_customers(folder: Path | None) -> tuple[pd.DataFrame, pd.Series] | None:
    """The Orange Telecom churn data (BigML's two files together), raw columns, churn as 0/1."""
    raws = [_file_bytes(None if folder is None else folder / name, ORANGE_MIRROR, name) for name in ORANGE_FILES]
    if any(raw is None for raw in raws):
        return None
    frame = pd.concat([pd.read_csv(io.BytesIO(raw)) for raw in raws], ignore_index=True)
    labels = frame.pop("Churn").astype(str).str.upper().eq("TRUE").astype(int)
    return frame, labels


def stratified_folds(labels: pd.Series, n_folds: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    folds = np.empty(len(labels), dtype=int)
    for value in (0, 1):
        rows = rng.permutation(np.flatnonzero(labels.to_numpy() == value))
        folds[rows] = np.arange(rows.size) % n_folds
    return folds


def _numeric_and_categories(train: pd.DataFrame, test: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The usual preparation for the baselines: numbers kept as text parsed, text as categories."""
    train, test = train.copy(), test.copy()
    for name in train.columns:
        parsed = pd.to_numeric(train[name], errors="coerce")
        if parsed.notna().mean() > 0.99:
            train[name], test[name] = parsed, pd.to_numeric(test[name], errors="coerce")
        else:
            categories = pd.CategoricalDtype(sorted(train[name].astype(str).unique()))
            train[name], test[name] = train[name].astype(str).astype(categories), test[name].astype(str).astype(
                categories)
    return train, test


def logistic_baseline(train: pd.DataFrame, labels: pd.Series, test: pd.DataFrame, l2: float = 1.0) -> np.ndarray:
    """L2-penalised logistic regression on one-hot categories and standardised numbers."""
    train, test = _numeric_and_categories(train, test)
    design_train, design_test = pd.get_dummies(train, dtype=float), pd.get_dummies(test, dtype=float)
    medians, scales = design_train.median(), design_train.std().replace(0, 1.0)
    x_train = ((design_train.fillna(medians) - medians) / scales).to_numpy()
    x_test = ((design_test.fillna(medians) - medians) / scales).to_numpy()
    y = labels.to_numpy(dtype=float)

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        logits = x_train @ params[1:] + params[0]
        residual = 1 / (1 + np.exp(-logits)) - y
        value = np.sum(np.logaddexp(0, logits) - y * logits) + 0.5 * l2 * params[1:] @ params[1:]
        return float(value), np.r_[residual.sum(), x_train.T @ residual + l2 * params[1:]]

    params = minimize(loss, np.zeros(x_train.shape[1] + 1), jac=True, method="L-BFGS-B").x
    return 1 / (1 + np.exp(-(x_test @ params[1:] + params[0])))


def lightgbm_baseline(train: pd.DataFrame, labels: pd.Series, test: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """LightGBM with its default settings (31 leaves, 100 rounds at 0.1), categories as categories."""
    import lightgbm as lgb

    train, test = _numeric_and_categories(train, test)
    booster = lgb.train({"objective": "binary", "verbosity": -1, "num_threads": 1, "seed": seed},
                        lgb.Dataset(train, labels.to_numpy()), num_boost_round=100)
    return booster.predict(test)


def run_public_churn(args: Namespace) -> None:
    data = telco_customers(args.telco)
    if data is None:
        print(f"telco churn: no --telco file given and no mirror at {TELCO_MIRROR} "
              f"(github.com/IBM/telco-customer-churn-on-icp4d, {TELCO_FILE}) - skipped")
    else:
        compare_on_public_data("telco churn (IBM)", *data, args)
    data = orange_customers(getattr(args, "orange", None))
    if data is None:
        print(f"telco churn (Orange, BigML): no --orange folder given and no mirror at {ORANGE_MIRROR} "
              f"(github.com/ABKevin/Customer-churn-dataset, {' and '.join(ORANGE_FILES)}) - skipped")
    else:
        compare_on_public_data("telco churn (Orange, BigML)", *data, args)


def compare_on_public_data(title: str, features: pd.DataFrame, labels: pd.Series, args: Namespace) -> None:
    print(f"{title}: {len(features):,} customers x {features.shape[1]} raw columns, "
          f"churn rate {labels.mean():.1%}; {args.folds}-fold stratified cross-validation (seed {args.seed})")
    folds = stratified_folds(labels, args.folds, args.seed)
    contenders: dict[str, Callable[[pd.DataFrame, pd.Series, pd.DataFrame], np.ndarray]] = {
        "train_churn_model": lambda a, b, c: train_churn_model(a, b, seed=args.seed).predict_proba(c),
        "logistic regression (L2)": logistic_baseline,
        "LightGBM, default settings": lambda a, b, c: lightgbm_baseline(a, b, c, seed=args.seed),
    }
    for name, fit_predict in contenders.items():
        aucs, eces = [], []
        started = time.perf_counter()
        for fold in range(args.folds):
            train, test = folds != fold, folds == fold
            probabilities = fit_predict(features[train], labels[train], features[test])
            aucs.append(roc_auc(labels[test].to_numpy(), probabilities))
            eces.append(expected_calibration_error(labels[test].to_numpy(), probabilities))
        print(f"  {name:<28} ROC-AUC {np.mean(aucs):.4f} (sd {np.std(aucs):.4f} over folds), "
              f"ECE {np.mean(eces):.4f}; {time.perf_counter() - started:.1f} s")
    model = train_churn_model(features, labels, seed=args.seed)
    print(f"  on every customer: {model.metrics.model}, {model.metrics.best_iteration} trees; riskiest customer: "
          + "; ".join(f.sentence for f in model.explain(features.iloc[[int(np.argmax(model.predict_proba(features)))]])[0]))


# ----------------------------------------------------------------------------------------------
# The product's own validation: the nightly training job on demo data
# ----------------------------------------------------------------------------------------------

def run_demo_churn(args: Namespace) -> None:
    if not args.demo:
        return
    from _prepare import prepared_database

    from dashboard.db import Database
    from etl.intelligence.training import train_churn

    url = prepared_database(args.demo, args.seed)
    database = Database().bind(url)
    try:
        result, training = timed(lambda: train_churn(database, triggered_by="bench", seed=args.seed))
    finally:
        database.dispose()
    metrics = result.metrics
    print(f"demo churn ({args.demo}, seed {args.seed}): the training job validated on later cut-offs "
          f"({result.validation_rows:,} rows, {metrics['valid_positive_rate']:.1%} churned; "
          f"{result.train_rows:,} training rows): ROC-AUC {metrics['roc_auc']:.4f}, PR-AUC {metrics['pr_auc']:.4f}, "
          f"ECE {metrics['ece']:.4f}; {metrics.get('model', 'trees')}, {metrics['best_iteration']} trees; "
          f"{training.text()}")


def add_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options this section reads (the runner bench/models.py offers them too)."""
    parser.add_argument("--telco", type=Path, help="Telco-Customer-Churn.csv (default: its mirror)")
    parser.add_argument("--orange", type=Path,
                        help="folder holding churn-bigml-80.csv and churn-bigml-20.csv (default: their mirror)")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds on the telco data")
    parser.add_argument("--demo", choices=("small", "medium", "large"),
                        help="also train on the demo database of this scale (prepared once, then reused)")
    return parser


def run(args: Namespace) -> None:
    """Print churn and lifetime-value figures for `args.accounts` accounts, then the public and demo data."""
    run_churn(args)
    run_public_churn(args)
    run_demo_churn(args)
    run_clv(args)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000, help="accounts to train and score on")
    parser.add_argument("--seed", type=int, default=0)
    run(add_options(parser).parse_args(argv))


if __name__ == "__main__":
    main()
