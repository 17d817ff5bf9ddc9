"""Alembic migrations are the only source of the schema: the migrated database must match the
models exactly, and every migration must be reversible."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from fieldapp import migrate
from fieldapp.models import Base


def test_migrations_match_the_models(database):
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], (
        f"models and migrations differ; run `flask db revision`: {differences}"
    )


def test_downgrade_to_base_and_upgrade_again(database):
    migrate.downgrade(database.engine, "base")
    try:
        with database.engine.connect() as conn:
            assert set(conn.dialect.get_table_names(conn)) <= {"alembic_version"}
    finally:
        migrate.upgrade(database.engine, "head")
    with database.engine.connect() as conn:
        assert "contacts" in conn.dialect.get_table_names(conn)
