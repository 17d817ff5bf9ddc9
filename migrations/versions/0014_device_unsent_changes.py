"""What a tablet holds and has not sent (issue 13, devices): `devices.unsent_changes`, the count
of changes (queued, or being typed) the tablet reported at its last sync, shown on the admin's
Devices page and weighed before an account is deactivated. Null until the tablet first says.

Revision ID: 0014_device_unsent_changes
Revises: 0013_sync_commits
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_device_unsent_changes"
down_revision = "0013_sync_commits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("devices", sa.Column("unsent_changes", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("unsent_changes")
