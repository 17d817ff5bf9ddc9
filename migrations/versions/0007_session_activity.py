"""Sessions that end by themselves (SPEC §7): `user_sessions.last_seen_at`, the last request
the session made, for the idle timeout; the absolute lifetime reads `created_at`. Existing
sessions count as seen when they began, so a session left open before this migration expires
by the same rules as any other.

Revision ID: 0007_session_activity
Revises: 0006_child_permanency_mirror
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_session_activity"
down_revision = "0006_child_permanency_mirror"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_sessions") as batch:
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE user_sessions SET last_seen_at = created_at")
    with op.batch_alter_table("user_sessions") as batch:
        batch.alter_column("last_seen_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("user_sessions") as batch:
        batch.drop_column("last_seen_at")
