"""the code a grant was created from, on the grant: a code exchange then writes the grant
once instead of also updating the code (issue 5, README "Performance"); a replayed code
finds its grant by this column (``oauth_codes.grant_id`` stays for grants made before)

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A foreign key that lets go when the code is purged: code ids can be reused (SQLite rowids),
    # and a later code with the same id must never find this grant.
    with op.batch_alter_table('oauth_grants') as batch:
        batch.add_column(sa.Column('code_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_oauth_grants_code_id', 'oauth_codes', ['code_id'], ['id'], ondelete='SET NULL')
        batch.create_index('ix_oauth_grants_code_id', ['code_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('oauth_grants') as batch:
        batch.drop_index('ix_oauth_grants_code_id')
        batch.drop_constraint('fk_oauth_grants_code_id', type_='foreignkey')
        batch.drop_column('code_id')
