"""an index on (client_id, nonce) of authorization codes: every /authorize asks whether the
client already used its nonce (``GrantStore.nonce_used``, OIDC Core §3.1.2.1 replay check)

Revision ID: 0005
Revises: 0004
"""
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_oauth_codes_client_nonce', 'oauth_codes', ['client_id', 'nonce'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_oauth_codes_client_nonce', table_name='oauth_codes')
