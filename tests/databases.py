"""The two databases every database test runs on. SQLite is always there; PostgreSQL must be
reachable at FIELDAPP_TEST_PG_URL (default the local server). With CI=true a missing PostgreSQL
fails the run instead of skipping it."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from fieldapp.extensions import build_engine, writing_transactions
from fieldapp.migrate import upgrade
from fieldapp.models import Base

PG_ADMIN_URL = os.environ.get(
    "FIELDAPP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


@dataclass
class TestDatabase:
    kind: str
    url: str
    engine: Engine


def unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: PostgreSQL tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


def create_sqlite(tmp_dir: Path) -> TestDatabase:
    url = f"sqlite:///{tmp_dir / 'test.sqlite3'}"
    engine = build_engine(url)
    upgrade(engine)
    return TestDatabase("sqlite", url, engine)


def create_postgresql() -> tuple[TestDatabase, callable]:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "not available"
        admin.dispose()
        unavailable(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}")
    name = f"fieldapp_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    engine = build_engine(url)
    upgrade(engine)

    def drop() -> None:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return TestDatabase("postgresql", url, engine), drop


def empty_all_tables(engine: Engine) -> None:
    """Every table emptied between tests, past the triggers that keep the audit trail
    append-only (migration 0008), which stay in place for the tests themselves: on PostgreSQL
    no user trigger fires while this transaction plays the replication role; on SQLite, which
    cannot switch triggers off, they are dropped and created again, as the database stated
    them, in the same transaction, which takes the write lock at BEGIN (a live server's request
    may still be writing as the test ends)."""
    with writing_transactions(), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            names = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            triggers = conn.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            for name, _sql in triggers:
                conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())
            for _name, sql in triggers:
                conn.exec_driver_sql(sql)
