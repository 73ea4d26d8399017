"""upstream identities (issue 4) and the kind / identity of each login

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
import binding.models


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'upstream_identities',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.String(length=64), nullable=False),
        sa.Column('issuer', sa.String(length=255), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('account_kind', sa.String(length=16), nullable=False),
        sa.Column('cert_level', sa.Integer(), nullable=False),
        sa.Column('login_name', sa.String(length=128), nullable=True),
        sa.Column('display_name', sa.String(length=128), nullable=True),
        sa.Column('phone', sa.String(length=32), nullable=True),
        sa.Column('phone_verified', sa.Boolean(), nullable=False),
        sa.Column('enterprise_name', sa.String(length=200), nullable=True),
        sa.Column('uscc', sa.String(length=18), nullable=True),
        sa.Column('link_method', sa.String(length=16), nullable=False),
        sa.Column('linked_at', binding.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_login_at', binding.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('provider_id', 'issuer', 'subject', name='uq_upstream_identity_key'),
        sa.UniqueConstraint('account_id', 'provider_id', 'account_kind', name='uq_upstream_identity_kind'),
    )
    with op.batch_alter_table('upstream_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_upstream_identities_account_id'), ['account_id'], unique=False)
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_kind', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('upstream_identity_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_column('upstream_identity_id')
        batch_op.drop_column('account_kind')
    with op.batch_alter_table('upstream_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_upstream_identities_account_id'))
    op.drop_table('upstream_identities')
