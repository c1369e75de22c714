"""Benchmark the intelligence models; prints figures.

    python bench/models.py [--accounts 100000] [--only churn,forecast,attribution] [--telco FILE] [--demo small]

Each section lives in its own module beside this one and exposes `run(args) -> None`, which
prints its own figures: bench/churn_clv.py (churn training and scoring, the churn model on public
telco data and on demo data, lifetime value), bench/forecasts.py (the nightly forecasts) and
bench/attribution.py (attribution over 1 M paths). Each section also runs on its own.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent
# The repository first, so `import models` is the package, not this script; the sections import
# each other by name from this folder.
sys.path.insert(0, str(BENCH_DIR.parent))
if str(BENCH_DIR) not in sys.path:
    sys.path.append(str(BENCH_DIR))

SECTIONS = {"churn": "churn_clv", "forecast": "forecasts", "attribution": "attribution"}


def load_section(name: str) -> ModuleType:
    """The section's module, imported by name rather than executed from a file spec, so it is
    registered in sys.modules (dataclasses look their module up there) and sections share one copy
    of each other."""
    return importlib.import_module(SECTIONS[name])


def main(argv: list[str] | None = None) -> None:
    from churn_clv import add_options

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000, help="accounts to train and score on")
    parser.add_argument("--paths", type=int, default=1_000_000, help="journeys for attribution")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    args = add_options(parser).parse_args(argv)
    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in names if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {', '.join(SECTIONS)}")
    for name in names:
        module = load_section(name)
        print(f"== {name}")
        module.run(args)


if __name__ == "__main__":
    main()
