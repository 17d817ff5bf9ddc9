"""The migrated database's CHECK constraints and indexes, as the database itself states them, must
match what the models create.

`test_migrations.py` compares through Alembic's `compare_metadata`, which does not look at CHECK
constraints at all and compares an index by its name and columns only: a partial index whose
`sqlite_where` / `postgresql_where` predicate changed in the model but not in a migration (or the
other way round) passes it, and so does a CHECK whose expression changed. Here both schemas are
read back from the catalogs (`sqlite_master` on SQLite, `pg_get_constraintdef` / `pg_indexes` on
PostgreSQL), one from the migrated database and one from a database made by `create_all`, and
compared per (table, name).

SQLite keeps the text of each CREATE statement, so a whole CREATE TABLE differs cosmetically
after an Alembic batch rebuild (the table name quoted, constraints in another order, added columns
on the same line); each CHECK clause is therefore cut out by name. Only runs of whitespace, double
quotes around lower-case identifiers and padding inside parentheses are normalised away, never
anything inside a string literal: the predicate and the check expression are compared as written.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, create_engine, text

from fieldapp.extensions import build_engine
from fieldapp.models import Base

from ..databases import PG_ADMIN_URL

Definitions = dict[tuple[str, str], str]

NOT_MODEL_TABLES = {"alembic_version"}

SQL_STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
QUOTED_IDENTIFIER = re.compile(r'"([a-z_][a-z0-9_$]*)"')
CHECK_CLAUSE = re.compile(
    r'(?:\bCONSTRAINT\s+("(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|\w+)\s+)?\bCHECK\s*\(',
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def models_engine(database, tmp_path_factory) -> Iterator[Engine]:
    """A database of the same kind as `database`, made from the models alone."""
    if database.kind == "sqlite":
        engine = build_engine(f"sqlite:///{tmp_path_factory.mktemp('models') / 'models.sqlite3'}")
        Base.metadata.create_all(engine)
        yield engine
        engine.dispose()
    else:
        yield from models_only_postgresql()


def models_only_postgresql() -> Iterator[Engine]:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"fieldapp_models_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = build_engine(admin.url.set(database=name).render_as_string(hide_password=False))
    try:
        Base.metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def cosmetic_form(sql: str) -> str:
    """`sql` with whitespace collapsed, needless identifier quotes dropped and no padding inside
    parentheses; string literals are kept byte for byte."""
    pieces = []
    position = 0
    for literal in SQL_STRING_LITERAL.finditer(sql):
        pieces.append(cosmetic_form_outside_literals(sql[position : literal.start()]))
        pieces.append(literal.group())
        position = literal.end()
    pieces.append(cosmetic_form_outside_literals(sql[position:]))
    return "".join(pieces).strip()


def cosmetic_form_outside_literals(sql: str) -> str:
    sql = QUOTED_IDENTIFIER.sub(r"\1", sql)
    sql = re.sub(r"\s+", " ", sql)
    return re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", sql))


def unquoted_identifier(name: str) -> str:
    if name[0] == '"':
        return name[1:-1].replace('""', '"')
    if name[0] in "`[":
        return name[1:-1]
    return name


def with_literals_blanked(sql: str) -> str:
    """`sql` with every string literal's content replaced by underscores, at the same offsets, so
    parentheses and keywords inside literals cannot be mistaken for syntax."""
    return SQL_STRING_LITERAL.sub(lambda m: "'" + "_" * (len(m.group()) - 2) + "'", sql)


def closing_parenthesis(blanked_sql: str, opening: int) -> int:
    depth = 0
    for position in range(opening, len(blanked_sql)):
        if blanked_sql[position] == "(":
            depth += 1
        elif blanked_sql[position] == ")":
            depth -= 1
            if depth == 0:
                return position
    raise ValueError(f"unbalanced parentheses in {blanked_sql!r}")


def checks_in_create_table(create_table: str) -> dict[str, str]:
    """CHECK clauses of a SQLite CREATE TABLE statement by constraint name; an unnamed one is
    keyed by its own text."""
    blanked = with_literals_blanked(create_table)
    checks = {}
    for clause in CHECK_CLAUSE.finditer(blanked):
        opening = clause.end() - 1
        expression = create_table[opening : closing_parenthesis(blanked, opening) + 1]
        definition = cosmetic_form(f"CHECK {expression}")
        name = (
            unquoted_identifier(clause.group(1)) if clause.group(1) else f"<unnamed {definition}>"
        )
        checks[name] = definition
    return checks


def sqlite_check_constraints(conn: Connection) -> Definitions:
    rows = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
    return {
        (table, name): definition
        for table, create_table in rows
        if is_model_table(table)
        for name, definition in checks_in_create_table(create_table).items()
    }


def sqlite_indexes(conn: Connection) -> Definitions:
    rows = conn.execute(
        text("SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' AND sql NOT NULL")
    )
    return {(table, name): cosmetic_form(sql) for table, name, sql in rows if is_model_table(table)}


def postgresql_check_constraints(conn: Connection) -> Definitions:
    rows = conn.execute(
        text(
            "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid)"
            " FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid"
            " WHERE c.contype = 'c' AND t.relnamespace = current_schema()::regnamespace"
        )
    )
    return {
        (table, name): cosmetic_form(definition)
        for table, name, definition in rows
        if is_model_table(table)
    }


def postgresql_indexes(conn: Connection) -> Definitions:
    rows = conn.execute(
        text(
            "SELECT tablename, indexname, indexdef FROM pg_indexes"
            " WHERE schemaname = current_schema()"
        )
    )
    return {
        (table, name): cosmetic_form(definition)
        for table, name, definition in rows
        if is_model_table(table)
    }


def is_model_table(table: str) -> bool:
    return table not in NOT_MODEL_TABLES and not table.startswith("sqlite_")


CATALOG_READERS = {
    "sqlite": {"CHECK constraints": sqlite_check_constraints, "indexes": sqlite_indexes},
    "postgresql": {
        "CHECK constraints": postgresql_check_constraints,
        "indexes": postgresql_indexes,
    },
}


def read_definitions(engine: Engine, what: str) -> Definitions:
    with engine.connect() as conn:
        return CATALOG_READERS[engine.dialect.name][what](conn)


def drift_between(migrated: Definitions, models: Definitions) -> list[str]:
    return [
        f"{table}.{name}:\n"
        f"    migrated: {migrated.get((table, name), '(missing)')}\n"
        f"    models:   {models.get((table, name), '(missing)')}"
        for table, name in sorted(migrated.keys() | models.keys())
        if migrated.get((table, name)) != models.get((table, name))
    ]


@pytest.mark.parametrize("what", ["CHECK constraints", "indexes"])
def test_migrated_ddl_matches_the_models(database, models_engine, what):
    migrated = read_definitions(database.engine, what)
    models = read_definitions(models_engine, what)
    drift = drift_between(migrated, models)
    assert not drift, (
        f"{database.kind}: the migrated database's {what} differ from the models'; "
        "write a migration (or fix the model):\n" + "\n".join(drift)
    )


def test_the_catalog_readers_see_the_partial_index_predicate_and_the_named_check(models_engine):
    checks = read_definitions(models_engine, "CHECK constraints")
    indexes = read_definitions(models_engine, "indexes")
    assert " WHERE " in indexes[("contacts", "ix_contacts_qualifying")]
    assert checks[("contacts", "ck_contacts_third_party_named")].startswith("CHECK (")
