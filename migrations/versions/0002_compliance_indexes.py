"""Indexes for the compliance report: a partial index of qualifying contacts per child,
contacts per child by date, allocations per child by start date; and the R1 rule that a
submitted third-party contact names the third party and their role, as a CHECK constraint.

Revision ID: 0002_compliance_indexes
Revises: 0001_initial
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_compliance_indexes"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

QUALIFYING_PG = "status = 'submitted' AND mode = 'face_to_face' AND child_seen"
QUALIFYING_SQLITE = "status = 'submitted' AND mode = 'face_to_face' AND child_seen = 1"
THIRD_PARTY_NAMED = (
    "status <> 'submitted' OR made_by = 'practitioner' "
    "OR (third_party_name IS NOT NULL AND third_party_role IS NOT NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocations_child_id"))
        batch_op.create_index(
            "ix_allocations_child_start", ["child_id", "start_date"], unique=False
        )

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_child_qualifying"))
        batch_op.create_index("ix_contacts_child_date", ["child_id", "contact_date"], unique=False)
        batch_op.create_index(
            "ix_contacts_qualifying",
            ["child_id", "contact_date"],
            unique=False,
            postgresql_where=sa.text(QUALIFYING_PG),
            sqlite_where=sa.text(QUALIFYING_SQLITE),
        )
        batch_op.create_check_constraint("third_party_named", THIRD_PARTY_NAMED)


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_contacts_third_party_named"), type_="check")
        batch_op.drop_index("ix_contacts_qualifying")
        batch_op.drop_index("ix_contacts_child_date")
        batch_op.create_index(
            batch_op.f("ix_contacts_child_qualifying"),
            ["child_id", "status", "mode", "contact_date"],
            unique=False,
        )

    with op.batch_alter_table("allocations", schema=None) as batch_op:
        batch_op.drop_index("ix_allocations_child_start")
        batch_op.create_index(batch_op.f("ix_allocations_child_id"), ["child_id"], unique=False)
