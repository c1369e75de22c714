"""the Shapley attribution model: gold.attribution_monthly and gold.attribution_campaign accept 'shapley'

Revision ID: 0038
Revises: 0037

Issue 19. The nightly attribution job credits channels and campaigns by data-driven Shapley attribution too,
beside the rule-based and Markov models, so the model CHECK constraints of both tables gain 'shapley'.
The tables are the job's, not the gold build's: its next run writes the new rows, so the gold
pending marker is left alone.
"""
from __future__ import annotations

from alembic import op

revision = '0038'
down_revision = '0037'
branch_labels = None
depends_on = None

_OLD_MODELS = ('first_touch', 'last_touch', 'linear', 'time_decay', 'position_based', 'markov')
_NEW_MODELS = (*_OLD_MODELS, 'shapley')
_TABLES = ('attribution_monthly', 'attribution_campaign')


def _models_check(models: tuple[str, ...]) -> str:
    return "model IN (" + ", ".join(f"'{m}'" for m in models) + ")"


def _replace_checks(models: tuple[str, ...]) -> None:
    for table in _TABLES:
        op.drop_constraint(op.f(f'ck_{table}_model'), table, schema='gold', type_='check')
        op.create_check_constraint(op.f(f'ck_{table}_model'), table, _models_check(models), schema='gold')


def upgrade() -> None:
    _replace_checks(_NEW_MODELS)


def downgrade() -> None:
    for table in _TABLES:
        op.execute(f"DELETE FROM gold.{table} WHERE model = 'shapley'")
    _replace_checks(_OLD_MODELS)
