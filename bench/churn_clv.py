"""Churn training and scoring, and lifetime-value fits, at benchmark scale.

Run through the runner: python bench/models.py --only churn [--accounts 100000] [--seed 0]
"""

from __future__ import annotations

import importlib.util
import sys
import time
from argparse import Namespace
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd


def _import_models_package() -> None:
    """Make `models` the repository's package: the runner bench/models.py shadows it on sys.path."""
    if getattr(sys.modules.get("models"), "__path__", None) is not None:
        return
    package_dir = Path(__file__).resolve().parent.parent / "models"
    spec = importlib.util.spec_from_file_location("models", package_dir / "__init__.py",
                                                  submodule_search_locations=[str(package_dir)])
    package = importlib.util.module_from_spec(spec)
    sys.modules["models"] = package
    spec.loader.exec_module(package)


_import_models_package()

from models.churn import (  # noqa: E402
    ChurnModel,
    churn_risk_score,
    make_synthetic_accounts,
    train_churn_model,
)
from models.clv import (  # noqa: E402
    customer_lifetime_value,
    fit_bgnbd,
    fit_gamma_gamma,
    simulate_bgnbd,
    simulate_gamma_gamma,
)

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


def run(args: Namespace) -> None:
    """Print churn and lifetime-value figures for `args.accounts` accounts."""
    run_churn(args)
    run_clv(args)
