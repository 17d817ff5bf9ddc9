"""What browser a tablet runs (issue 13, devices): `devices.user_agent`, the User-Agent header of
its registration and syncs, so the admin's Devices page can say "Chrome 131 on Android 14" even
after the practitioner has given the tablet a name of their own. Existing tablets registered
with their user agent as their name, which the page still reads.

Revision ID: 0011_device_user_agent
Revises: 0010_contact_source
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_device_user_agent"
down_revision = "0010_contact_source"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("devices", sa.Column("user_agent", sa.String(length=400), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("user_agent")
