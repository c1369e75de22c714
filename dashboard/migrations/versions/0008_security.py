"""security and administration tables

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# The audit trail is append-only in the database itself, so no code path (or SQL console) can
# rewrite history: UPDATE, DELETE and TRUNCATE on app.audit_event raise an error.
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION app.audit_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'app.audit_event is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$
"""


def upgrade() -> None:
    op.add_column('users', sa.Column('must_change_password', sa.Boolean(), server_default='false',
                                     nullable=False), schema='app')
    op.add_column('users', sa.Column('password_changed_at', sa.DateTime(timezone=True), nullable=True),
                  schema='app')
    op.add_column('users', sa.Column('totp_secret', sa.Text(), nullable=True), schema='app')
    op.add_column('users', sa.Column('totp_last_step', sa.BigInteger(), nullable=True), schema='app')
    op.create_table('user_session',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sid_hash', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ip_address', sa.Text(), nullable=False),
    sa.Column('user_agent', sa.Text(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app.users.id'], name=op.f('fk_user_session_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('sid_hash', name=op.f('uq_user_session_sid_hash')),
    schema='app'
    )
    op.create_index(op.f('ix_app_user_session_user_id'), 'user_session', ['user_id'], unique=False,
                    schema='app')
    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('token_hash', sa.Text(), nullable=False),
    sa.Column('token_prefix', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['app.users.id'], name=op.f('fk_api_token_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash')),
    schema='app'
    )
    op.create_index(op.f('ix_app_api_token_user_id'), 'api_token', ['user_id'], unique=False, schema='app')
    op.execute(APPEND_ONLY_FUNCTION)
    op.execute("CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON app.audit_event "
               "FOR EACH ROW EXECUTE FUNCTION app.audit_event_append_only()")
    op.execute("CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON app.audit_event "
               "FOR EACH STATEMENT EXECUTE FUNCTION app.audit_event_append_only()")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON app.audit_event")
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_update_delete ON app.audit_event")
    op.execute("DROP FUNCTION IF EXISTS app.audit_event_append_only()")
    op.drop_index(op.f('ix_app_api_token_user_id'), table_name='api_token', schema='app')
    op.drop_table('api_token', schema='app')
    op.drop_index(op.f('ix_app_user_session_user_id'), table_name='user_session', schema='app')
    op.drop_table('user_session', schema='app')
    op.drop_column('users', 'totp_last_step', schema='app')
    op.drop_column('users', 'totp_secret', schema='app')
    op.drop_column('users', 'password_changed_at', schema='app')
    op.drop_column('users', 'must_change_password', schema='app')
