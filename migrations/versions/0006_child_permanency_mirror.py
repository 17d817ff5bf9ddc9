"""The child's mirror of its goal in force today: `children.current_goal_id` (with
`case_plan_goal`, `goal_set_date` and `permanency_unlikely`, mirrored since 0004) and
`children.last_review_date`, the latest review of that goal on or after the date it was set.
The permanency dashboard "as at" today reads them instead of two index lookups per child.
`current_goal_id` has no foreign key: case_plan_goals already refers to children (see the
model).

Backfilled here in SQL that runs on SQLite and PostgreSQL: the goal in force is the latest set
on or before the database's current date by (date_set, recorded_at), as
`permanency_records.goal_in_force`; the three columns mirrored since 0004 are rewritten from it
so that the four agree.

Revision ID: 0006_child_permanency_mirror
Revises: 0005_permanency_indexes
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_child_permanency_mirror"
down_revision = "0005_permanency_indexes"
branch_labels = None
depends_on = None

BACKFILL = (
    """
    UPDATE children SET current_goal_id = (
        SELECT g.id FROM case_plan_goals g
        WHERE g.child_id = children.id AND g.date_set <= CURRENT_DATE
        ORDER BY g.date_set DESC, g.recorded_at DESC
        LIMIT 1
    )
    """,
    """
    UPDATE children SET
        case_plan_goal = (
            SELECT g.goal FROM case_plan_goals g WHERE g.id = children.current_goal_id
        ),
        goal_set_date = (
            SELECT g.date_set FROM case_plan_goals g WHERE g.id = children.current_goal_id
        ),
        permanency_unlikely = COALESCE(
            (
                SELECT g.permanency_unlikely FROM case_plan_goals g
                WHERE g.id = children.current_goal_id
            ),
            :no
        ),
        last_review_date = (
            SELECT MAX(r.review_date)
            FROM goal_reviews r JOIN case_plan_goals g ON g.id = r.goal_id
            WHERE g.id = children.current_goal_id
                AND r.review_date >= g.date_set
                AND r.review_date <= CURRENT_DATE
        )
    """,
)


def upgrade() -> None:
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_goal_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("last_review_date", sa.Date(), nullable=True))
    goal_in_force, mirrored = BACKFILL
    op.execute(sa.text(goal_in_force))
    op.execute(sa.text(mirrored).bindparams(sa.bindparam("no", False, type_=sa.Boolean())))


def downgrade() -> None:
    with op.batch_alter_table("children", schema=None) as batch_op:
        batch_op.drop_column("last_review_date")
        batch_op.drop_column("current_goal_id")
