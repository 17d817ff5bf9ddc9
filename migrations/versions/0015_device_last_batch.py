"""A resent batch answered from one row (issue 14): `devices.last_batch_digest` (SHA-256 of the
last push body answered in full) and `devices.last_batch_results` (its answer if sent again,
every result `duplicate`), so a tablet resending after a dropped response costs one lookup.

Revision ID: 0015_device_last_batch
Revises: 0014_device_unsent_changes
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_device_last_batch"
down_revision = "0014_device_unsent_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("devices", sa.Column("last_batch_digest", sa.String(length=64), nullable=True))
    op.add_column("devices", sa.Column("last_batch_results", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("last_batch_results")
        batch.drop_column("last_batch_digest")
