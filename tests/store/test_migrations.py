"""The migrations are the schema: one head, and at head they match the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from store.database import Database, heads
from store.models import Base


def test_one_head():
    assert len(heads()) == 1, f"branches to merge: {heads()}"


def test_migrated_schema_matches_the_models(migrated: Database):
    with migrated.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ (write a migration): {diff}"
