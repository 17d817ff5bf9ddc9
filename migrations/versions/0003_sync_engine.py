"""Sync engine: change sequence, tombstones, processed mutations, conflicts, review queue,
device holdings

Revision ID: 0003_sync_engine
Revises: 0002_compliance_indexes
Create Date: 2026-11-23 21:03:42.013523
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003_sync_engine"
down_revision = "0002_compliance_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.String(length=32), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_state")),
    )
    # The epoch names this database's history: a cursor from another epoch (say, taken before a
    # restore from backup into a fresh database) is refused with reset_required.
    op.execute(
        sa.text("INSERT INTO sync_state (id, epoch, last_seq) VALUES (1, :epoch, 0)").bindparams(
            epoch=secrets.token_hex(16)
        )
    )
    op.create_table(
        "sync_tombstones",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("record_type", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_sync_tombstones")),
    )
    with op.batch_alter_table("sync_tombstones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_tombstones_child_id"), ["child_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sync_tombstones_deleted_at"), ["deleted_at"], unique=False
        )

    op.create_table(
        "sync_conflicts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("record_type", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("field", sa.String(length=60), nullable=False),
        sa.Column("base_value", sa.Text(), nullable=True),
        sa.Column("server_value", sa.Text(), nullable=True),
        sa.Column("device_value", sa.Text(), nullable=True),
        sa.Column("device_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("mutation_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["users.id"], name=op.f("fk_sync_conflicts_resolved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sync_conflicts_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
    )
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sync_conflicts_child_id"), ["child_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sync_conflicts_record_id"), ["record_id"], unique=False
        )

    op.create_table(
        "sync_review_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("mutation_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("record_type", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["resolved_by_id"], ["users.id"], name=op.f("fk_sync_review_items_resolved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_sync_review_items_team_id_teams")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_sync_review_items_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_review_items")),
    )
    with op.batch_alter_table("sync_review_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_review_items_child_id"), ["child_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sync_review_items_team_id"), ["team_id"], unique=False)

    op.create_table(
        "device_holdings",
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("child_id", sa.Uuid(), nullable=False),
        sa.Column("added_in", sa.Integer(), nullable=False),
        sa.Column("removed_in", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["child_id"], ["children.id"], name=op.f("fk_device_holdings_child_id_children")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_device_holdings_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", "child_id", name=op.f("pk_device_holdings")),
    )
    with op.batch_alter_table("device_holdings", schema=None) as batch_op:
        batch_op.create_index("ix_device_holdings_child", ["child_id"], unique=False)

    op.create_table(
        "sync_mutations",
        sa.Column("device_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("mutation_id", sa.Uuid(), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_sync_mutations_device_id_devices")
        ),
        sa.PrimaryKeyConstraint("device_id", "seq", name=op.f("pk_sync_mutations")),
    )
    with op.batch_alter_table("sync_mutations", schema=None) as batch_op:
        batch_op.create_index("ix_sync_mutations_mutation_id", ["mutation_id"], unique=False)

    with op.batch_alter_table("addenda", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_seq", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_addenda_change_seq"), ["change_seq"], unique=False)

    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_seq", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_children_change_seq"), ["change_seq"], unique=False)

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_seq", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_contacts_change_seq"), ["change_seq"], unique=False)

    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pull_number", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.alter_column(
            "last_seq", existing_type=sa.INTEGER(), type_=sa.BigInteger(), existing_nullable=False
        )

    with op.batch_alter_table("return_visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("change_seq", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_return_visits_change_seq"), ["change_seq"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("return_visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_visits_change_seq"))
        batch_op.drop_column("change_seq")

    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.alter_column(
            "last_seq", existing_type=sa.BigInteger(), type_=sa.INTEGER(), existing_nullable=False
        )
        batch_op.drop_column("pull_number")

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_change_seq"))
        batch_op.drop_column("change_seq")

    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_children_change_seq"))
        batch_op.drop_column("change_seq")

    with op.batch_alter_table("addenda", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_addenda_change_seq"))
        batch_op.drop_column("change_seq")

    with op.batch_alter_table("sync_mutations", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_mutations_mutation_id")

    op.drop_table("sync_mutations")
    with op.batch_alter_table("device_holdings", schema=None) as batch_op:
        batch_op.drop_index("ix_device_holdings_child")

    op.drop_table("device_holdings")
    with op.batch_alter_table("sync_review_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_review_items_team_id"))
        batch_op.drop_index(batch_op.f("ix_sync_review_items_child_id"))

    op.drop_table("sync_review_items")
    with op.batch_alter_table("sync_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_conflicts_record_id"))
        batch_op.drop_index(batch_op.f("ix_sync_conflicts_child_id"))

    op.drop_table("sync_conflicts")
    with op.batch_alter_table("sync_tombstones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_tombstones_deleted_at"))
        batch_op.drop_index(batch_op.f("ix_sync_tombstones_child_id"))

    op.drop_table("sync_tombstones")
    op.drop_table("sync_state")
