"""The migrations build exactly the schema the models describe (a column or index added to one
and not the other is caught here, on SQLite and on PostgreSQL)."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import binding.oauth.models  # noqa: F401  (registers the OIDC tables on Base.metadata)
import binding.upstream_models  # noqa: F401
from binding.models import Base


def test_migrated_schema_matches_the_models(engine):
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert differences == []
