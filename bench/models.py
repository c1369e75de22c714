"""Benchmark the intelligence models; prints figures.

    python bench/models.py [--accounts 100000] [--only churn,clv,forecast,attribution]

Each section lives in its own module beside this one and exposes `run(args) -> None`, which
prints its own figures: bench/churn_clv.py (churn training and scoring, lifetime value),
bench/forecasts.py (the nightly forecasts) and bench/attribution.py (attribution over 1 M paths).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
# The repository first, so `import models` is the package, not this script.
sys.path.insert(0, str(BENCH_DIR.parent))

SECTIONS = {"churn": "churn_clv", "forecast": "forecasts", "attribution": "attribution"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000, help="accounts to train and score on")
    parser.add_argument("--paths", type=int, default=1_000_000, help="journeys for attribution")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    args = parser.parse_args()
    for name in args.only.split(","):
        spec = importlib.util.spec_from_file_location(SECTIONS[name.strip()], BENCH_DIR / f"{SECTIONS[name.strip()]}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        print(f"== {name}")
        module.run(args)


if __name__ == "__main__":
    main()
