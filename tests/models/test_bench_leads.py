"""bench/leads.py's BG/NBD fit on the public CDNOW sample gives the published parameters (Fader,
Hardie and Lee 2005). Needs the sample: the lifetimes repository mirror, or C360_CDNOW_SAMPLE."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from models import clv

BENCH = Path(__file__).resolve().parent.parent.parent / "bench" / "leads.py"
_spec = importlib.util.spec_from_file_location("bench_leads", BENCH)
bench_leads = importlib.util.module_from_spec(_spec)
sys.modules["bench_leads"] = bench_leads
_spec.loader.exec_module(bench_leads)


@pytest.fixture(scope="module")
def cdnow():
    given = os.environ.get("C360_CDNOW_SAMPLE")
    transactions = bench_leads.cdnow_transactions(Path(given) if given else None)
    if transactions is None:
        pytest.skip("the CDNOW sample is not here (set C360_CDNOW_SAMPLE to CDNOW_sample.txt)")
    return bench_leads.cdnow_summary(transactions)


def test_bgnbd_on_cdnow_gives_the_published_parameters(cdnow):
    assert len(cdnow) == 2357
    model = clv.fit_bgnbd(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    for name, published in bench_leads.PUBLISHED.items():
        assert getattr(model, name) == pytest.approx(published, abs=0.001), name
    assert model.log_likelihood == pytest.approx(bench_leads.PUBLISHED_LOG_LIKELIHOOD, abs=0.1)
