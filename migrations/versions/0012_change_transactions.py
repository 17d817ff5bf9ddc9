"""No global hot row on PostgreSQL (issue 14): every synced change records the transaction that
made it (`change_xid`), change numbers come from a sequence no writer waits on, and a pull
reads only changes of transactions below the oldest one still running, so a change that commits
late is never skipped and writers no longer queue on `sync_state`.

SQLite keeps its counter row (it has one writer at a time): there `change_xid` is the change
number itself. Changes made before this migration belong to transactions long ended: on
PostgreSQL they get transaction 0, so they order before every later one.

Revision ID: 0012_change_transactions
Revises: 0011_device_user_agent
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_change_transactions"
down_revision = "0011_device_user_agent"
branch_labels = None
depends_on = None

SYNCED_TABLES = ("children", "contacts", "return_visits", "addenda")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in SYNCED_TABLES:
        op.add_column(table, sa.Column("change_xid", sa.BigInteger(), nullable=True))
        op.execute(
            f"UPDATE {table} SET change_xid = {'0' if postgresql else 'change_seq'} "
            "WHERE change_seq IS NOT NULL"
        )
    op.add_column("sync_tombstones", sa.Column("xid", sa.BigInteger(), nullable=True))
    op.execute(f"UPDATE sync_tombstones SET xid = {'0' if postgresql else 'seq'}")
    if postgresql:
        op.execute("CREATE SEQUENCE sync_change_numbers")
        # Numbers go on from the counter's, so they keep growing across the change.
        op.execute(
            "SELECT setval('sync_change_numbers', GREATEST(last_seq, 1), last_seq > 0) "
            "FROM sync_state WHERE id = 1"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "UPDATE sync_state SET last_seq = (SELECT last_value FROM sync_change_numbers) "
            "WHERE id = 1"
        )
        op.execute("DROP SEQUENCE sync_change_numbers")
    with op.batch_alter_table("sync_tombstones") as batch:
        batch.drop_column("xid")
    for table in SYNCED_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("change_xid")
