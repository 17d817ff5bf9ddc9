"""A temporary password must be changed at the next sign-in (issue 13, admins): the flag
`users.must_change_password`, set when an admin gives a user a temporary password and cleared
when the user changes it (services/accounts.py `change_password`). Until then every page leads
to /account/password and the API answers 403 `password_change_required`
(fieldapp/auth/password_required.py). Existing accounts need no change.

Revision ID: 0009_must_change_password
Revises: 0008_audit_append_only
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_must_change_password"
down_revision = "0008_audit_append_only"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases (no SQLite table rebuild): existing rows take the
    # server default, false.
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change_password")
