"""partial index for qualifying contacts

Revision ID: 0002_qualifying_index
Revises: 0001_initial
Create Date: 2026-11-23 20:39:51.094390
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_qualifying_index'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contacts_child_qualifying'))
        batch_op.create_index('ix_contacts_child_id', ['child_id'], unique=False)
        batch_op.create_index('ix_contacts_qualifying', ['child_id', 'contact_date'], unique=False, postgresql_where=sa.text("status = 'submitted' AND mode = 'face_to_face' AND child_seen"), sqlite_where=sa.text("status = 'submitted' AND mode = 'face_to_face' AND child_seen = 1"))




def downgrade() -> None:

    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_contacts_qualifying', postgresql_where=sa.text("status = 'submitted' AND mode = 'face_to_face' AND child_seen"), sqlite_where=sa.text("status = 'submitted' AND mode = 'face_to_face' AND child_seen = 1"))
        batch_op.drop_index('ix_contacts_child_id')
        batch_op.create_index(batch_op.f('ix_contacts_child_qualifying'), ['child_id', 'status', 'mode', 'contact_date'], unique=False)


