"""Index for the permanency dashboard: goal reviews per goal by date, replacing the index on
goal_id alone, so the latest review of a goal up to a date is one backward index-only step.

Revision ID: 0005_permanency_indexes
Revises: 0004_permanency
Create Date: 2026-12-01
"""

from alembic import op

revision = "0005_permanency_indexes"
down_revision = "0004_permanency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("goal_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_goal_reviews_goal_id"))
        batch_op.create_index("ix_goal_reviews_goal_date", ["goal_id", "review_date"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("goal_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_goal_reviews_goal_date")
        batch_op.create_index(batch_op.f("ix_goal_reviews_goal_id"), ["goal_id"], unique=False)
