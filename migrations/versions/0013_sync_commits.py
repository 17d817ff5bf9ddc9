"""The transactions that changed synced records (issue 14): on PostgreSQL the pull's horizon
moves with every transaction of the server (autovacuum's included), most of which change
nothing a tablet holds; one row per transaction that did lets a pull with nothing new tell so
in one indexed read instead of a query per record type.

Revision ID: 0013_sync_commits
Revises: 0012_change_transactions
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_sync_commits"
down_revision = "0012_change_transactions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_commits",
        sa.Column("xid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("xid", name=op.f("pk_sync_commits")),
    )
    op.create_index(
        op.f("ix_sync_commits_committed_at"), "sync_commits", ["committed_at"], unique=False
    )
    # Transactions that changed synced records before this table existed (since 0012): a pull
    # must not take their window for an idle one.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "INSERT INTO sync_commits (xid, committed_at) "
            "SELECT DISTINCT xid, now() FROM ("
            " SELECT change_xid AS xid FROM children UNION"
            " SELECT change_xid FROM contacts UNION"
            " SELECT change_xid FROM return_visits UNION"
            " SELECT change_xid FROM addenda UNION"
            " SELECT xid FROM sync_tombstones"
            ") AS changed WHERE xid IS NOT NULL"
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_sync_commits_committed_at"), table_name="sync_commits")
    op.drop_table("sync_commits")
