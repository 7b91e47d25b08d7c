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


def test_migration_0010_names_the_onss_numbers_two_enterprises_share_instead_of_failing_on_the_index(tmp_path):
    """Before 0010 two enterprises could hold one ONSS number; the index made `gga serve` fail at start with a raw
    IntegrityError. It now stops with the pairs to settle, and goes through once they are."""
    import pytest
    from alembic import command
    from sqlalchemy import create_engine, text

    from store.database import alembic_config, upgrade
    url = f"sqlite:///{tmp_path / 'gga.db'}"
    command.upgrade(alembic_config(url), "0009")
    engine = create_engine(url)
    with engine.begin() as conn:
        for number in ("0123456789", "0987654321"):
            conn.execute(text("INSERT INTO enterprises (number, name, address) VALUES (:n, 'E', '')"), {"n": number})
            conn.execute(text("INSERT INTO domains (enterprise_number, name, identifier, created_at) VALUES "
                              "(:n, 'Employeur ONSS', '1234567-89', CURRENT_TIMESTAMP)"), {"n": number})
    with pytest.raises(RuntimeError, match=r"1234567-89 in enterprise 0123456789; 1234567-89 in enterprise 0987654321"):
        upgrade(url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM domains WHERE enterprise_number = '0987654321'"))
    upgrade(url)
    engine.dispose()
