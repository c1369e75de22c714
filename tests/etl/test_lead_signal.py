"""The demo generator plants a real signal in lead conversion: the lead model, trained on the earlier
leads of the landing files, ranks the later ones well; generated without the signal it does no
better than chance. This test fails if the planted signal is switched off or lost."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from etl.demo_data import generate
from models.leads import decided_leads, is_converted, lead_features, train_lead_model
from tests.etl.reference import raw_rows

AS_OF = date(2026, 11, 23)


def _validation_auc(out: Path, lead_signal: bool) -> float:
    generate(out, scale="small", seed=11, as_of=AS_OF, progress=False, lead_signal=lead_signal)
    leads = raw_rows(out, "crm/leads").fillna("")
    decided = leads[decided_leads(leads, AS_OF)]
    model = train_lead_model(lead_features(decided), is_converted(decided), decided["created_at"])
    return model.validation_auc


@pytest.fixture(scope="module")
def aucs(tmp_path_factory) -> dict[bool, float]:
    return {signal: _validation_auc(tmp_path_factory.mktemp(f"leads-{signal}"), signal) for signal in (True, False)}


def test_the_planted_signal_makes_later_leads_predictable(aucs):
    assert aucs[True] > 0.7, aucs


def test_without_the_signal_the_model_does_no_better_than_chance(aucs):
    assert abs(aucs[False] - 0.5) < 0.15, aucs
    assert aucs[True] - aucs[False] > 0.2, aucs
