"""Where a contact came from (issue 13): `contacts.source`, `app` for every contact made in
fieldapp and `import` for the last face-to-face contact that `import-children` brings from the
previous system, so R1 counts from it on day one. Existing contacts were all made in the app.

Revision ID: 0010_contact_source
Revises: 0009_must_change_password
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_contact_source"
down_revision = "0009_must_change_password"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "contacts",
        sa.Column("source", sa.String(length=10), nullable=False, server_default="app"),
    )


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("source")
