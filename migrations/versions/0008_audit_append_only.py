"""The audit trail is append-only for the application (SPEC §7): the database refuses every
UPDATE and DELETE of an `audit_events` row, and on PostgreSQL a TRUNCATE of the table too,
whoever asks. On PostgreSQL the app's role should also hold only SELECT and INSERT on the table
(docs/deployment.md § PostgreSQL); the triggers hold even for a role that owns it.

Nothing in the app changes or deletes an audit row: `services/audit.record_event` only inserts,
and `audit_events.user_id` has no ON DELETE action (a user with audit events cannot be deleted).

SQLite drops a table's triggers with the table, so a later migration that rebuilds
`audit_events` in batch mode must create them again (tests/integration/
test_audit_append_only.py fails if it does not).

Revision ID: 0008_audit_append_only
Revises: 0007_session_activity
Create Date: 2026-12-02
"""

from alembic import op

revision = "0008_audit_append_only"
down_revision = "0007_session_activity"
branch_labels = None
depends_on = None

MESSAGE = "audit_events is append-only"

# RAISE(ABORT) is SQLite's constraint error; on PostgreSQL restrict_violation (23001) is the
# same class of error (an integrity error to the driver), so both databases refuse alike.
SQLITE_UP = [
    f"""CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
    "DROP TRIGGER IF EXISTS audit_events_no_update",
]

POSTGRESQL_UP = [
    f"""CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}: % refused', TG_OP USING ERRCODE = 'restrict_violation';
    END
    $$""",
    """CREATE TRIGGER audit_events_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
    # TRUNCATE fires no row trigger; it has its own, once per statement.
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()""",
]
POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    "DROP TRIGGER IF EXISTS audit_events_no_update_or_delete ON audit_events",
    "DROP FUNCTION IF EXISTS audit_events_append_only()",
]


def _statements(up: bool) -> list[str]:
    if op.get_bind().dialect.name == "postgresql":
        return POSTGRESQL_UP if up else POSTGRESQL_DOWN
    return SQLITE_UP if up else SQLITE_DOWN


def upgrade() -> None:
    for statement in _statements(up=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(up=False):
        op.execute(statement)
