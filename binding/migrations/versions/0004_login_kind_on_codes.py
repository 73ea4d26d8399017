"""the account kind of the login on authorization codes and grants (issue 4: the
``account_kind`` claim describes THIS login)

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('oauth_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_kind', sa.String(length=16), nullable=True))
    with op.batch_alter_table('oauth_grants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_kind', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('oauth_grants', schema=None) as batch_op:
        batch_op.drop_column('account_kind')
    with op.batch_alter_table('oauth_codes', schema=None) as batch_op:
        batch_op.drop_column('account_kind')
