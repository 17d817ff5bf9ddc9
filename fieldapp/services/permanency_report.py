"""The permanency dashboard (R3, R11): every child in a scope with the goal in force, its
reviews and the two-year timeframe, and the open consultation requests.

One statement does the work in the database, as the compliance page does
(`compliance_report.py`). A materialised CTE reads every child in care in the scope with, per
child (index lookups, so the cost grows with children, not with their history): the goal in
force on `as_of` (a LATERAL join on PostgreSQL, a correlated subquery on SQLite), the latest
review of that goal up to `as_of` and the latest extension application for it. The review and
two-year statuses are computed in SQL by comparing the anchor (latest review, or the date the
goal was set) and the set date with a few dates computed once here (`Cutoffs`): `add_months`
never moves a later date earlier, so "next review due before `as_of`" is "anchor before a
date". The same statement counts the statuses (one GROUP BY) and returns only the page's rows,
sorted and paged by the database; the R3 rules of `permanency.py` are then applied in Python to
those rows only. The exports run the same statement without the page limit.

"As at" today (`as_of` equal to the `today` the caller passes) the goal in force and its latest
review are read from the child's mirror (`children.current_goal_id`, `case_plan_goal`,
`goal_set_date`, `permanency_unlikely`, `last_review_date`, kept by
`permanency_records.refresh_permanency_mirror`) instead of being looked up: the same rows
(`test_permanency_dashboard.py` holds them equal), without two index lookups per child.

Sources: `002_5948617ce4de628e.txt` § Permanency Goal Reviews (intervals, NGO reviews, the
two-year timeframe), § Upskilling caseworkers (extensions), § Permanency Consultations
(requests); `000_5fb06aeedc1c67a2.txt` § Case planning.

Children in care with no goal in force on `as_of` are kept, never dropped: their goal is empty,
`review_status` is `no_goal` ("No goal recorded") and `two_year_status` `not_applicable`. They
sort after the urgent rows (overdue, timeframe exceeded, due soon, approaching) and before the
rest, because a child in care with no goal is itself something to follow up.

Limitation: the primary agency (and so whether reviews are required) is the child's current
one, even "as at" a past date; the goal and reviews are those in force on that date (SPEC §3).
Reconstructing the agency from `case_responsibility_transfers` is not done here.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, Select, case, extract, func, literal, select, true
from sqlalchemy.orm import Session, aliased

from ..models import (
    Agency,
    CasePlanGoalRecord,
    Child,
    GoalExtension,
    GoalReview,
    User,
)
from ..models.child import CasePlanGoal
from . import permanency as rules
from .compliance_report import in_care_condition
from .permanency_records import open_requests_query

NO_GOAL = "no_goal"
REVIEW_STATUSES = (*(status.value for status in rules.ReviewStatus), NO_GOAL)
TWO_YEAR_STATUSES = tuple(status.value for status in rules.TimeframeStatus)
INTERVALS = sorted({months for pair in rules.REVIEW_INTERVAL_MONTHS.values() for months in pair})

_DATE = {"type": ["string", "null"], "format": "date"}
# SPEC §6: the row of `/api/permanency` and `/permanency.csv`, in column order, with each
# column's JSON Schema (the OpenAPI document and the CSV header are derived from this).
ROW_COLUMNS: dict[str, dict] = {
    "child_id": {"type": "string", "format": "uuid"},
    "external_id": {"type": "string"},
    "child_name": {"type": "string"},
    "primary_agency": {"type": ["string", "null"]},
    "case_plan_goal": {"type": ["string", "null"]},
    "goal_set_date": _DATE,
    "permanency_unlikely": {"type": ["boolean", "null"]},
    "reviews_required": {"type": "boolean"},
    "last_review_date": _DATE,
    "next_review_due": _DATE,
    "review_status": {"enum": list(REVIEW_STATUSES)},
    "two_year_deadline": _DATE,
    "two_year_status": {"enum": list(TWO_YEAR_STATUSES)},
    "days_to_deadline": {"type": ["integer", "null"]},
}


@dataclass(frozen=True)
class PermanencyRow:
    child_id: uuid.UUID
    external_id: str
    child_name: str
    primary_agency_id: int
    primary_agency: str
    agency_kind: str
    case_plan_goal: str | None
    goal_set_date: date | None
    permanency_unlikely: bool | None
    reviews_required: bool
    last_review_date: date | None
    next_review_due: date | None
    review_status: str
    days_overdue: int
    two_year_deadline: date | None
    two_year_status: str
    days_to_deadline: int | None
    # The latest extension application for the goal made on or before `as_of`:
    # None, or "pending" / "approved" / "declined" as the decision stood on `as_of`.
    extension: str | None
    extension_applied_date: date | None

    def as_dict(self) -> dict:
        """The SPEC §6 row (`/api/permanency`, `/permanency.csv`)."""

        def iso(value: date | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "child_id": str(self.child_id),
            "external_id": self.external_id,
            "child_name": self.child_name,
            "primary_agency": self.primary_agency,
            "case_plan_goal": self.case_plan_goal,
            "goal_set_date": iso(self.goal_set_date),
            "permanency_unlikely": self.permanency_unlikely,
            "reviews_required": self.reviews_required,
            "last_review_date": iso(self.last_review_date),
            "next_review_due": iso(self.next_review_due),
            "review_status": self.review_status,
            "two_year_deadline": iso(self.two_year_deadline),
            "two_year_status": self.two_year_status,
            "days_to_deadline": self.days_to_deadline,
        }


def first_anchor_reaching(months: int, target: date) -> date:
    """The earliest date `d` with `add_months(d, months) >= target`. `add_months(·, months)`
    never decreases (month-end clamping makes it flat, never backwards), so for every anchor
    `add_months(anchor, months) < target` exactly when `anchor < first_anchor_reaching(...)`."""
    # add_months(low) < target <= add_months(high): a month adds at most 31 days.
    low, high = target - timedelta(days=31 * (months + 1)), target
    while (high - low).days > 1:
        middle = low + (high - low) / 2
        if rules.add_months(middle, months) >= target:
            high = middle
        else:
            low = middle
    return high


@dataclass(frozen=True)
class Cutoffs:
    """The dates the SQL compares anchors with, for one `as_of` (R3, SPEC §6):

    - review overdue (`as_of > next due`): anchor < `overdue_before[months]`;
    - due soon (next due within 14 days): anchor < `due_soon_before[months]`;
    - timeframe exceeded (`as_of > date set + 24 months`): date set < `exceeded_before`;
    - approaching (90 days or fewer left): date set < `approaching_before`.

    `review_status` and `two_year_status` are the same comparisons in Python; the property test
    (`tests/unit/test_permanency_cutoffs.py`) holds them to `permanency.assess_goal`."""

    overdue_before: dict[int, date]
    due_soon_before: dict[int, date]
    exceeded_before: date
    approaching_before: date

    @classmethod
    def on(cls, as_of: date) -> Cutoffs:
        due_soon_from = as_of + timedelta(days=rules.DUE_SOON_DAYS + 1)
        approaching_from = as_of + timedelta(days=rules.APPROACHING_DAYS + 1)
        return cls(
            overdue_before={n: first_anchor_reaching(n, as_of) for n in INTERVALS},
            due_soon_before={n: first_anchor_reaching(n, due_soon_from) for n in INTERVALS},
            exceeded_before=first_anchor_reaching(rules.TWO_YEAR_MONTHS, as_of),
            approaching_before=first_anchor_reaching(rules.TWO_YEAR_MONTHS, approaching_from),
        )

    def review_status(self, months: int, anchor: date, required: bool) -> str:
        if not required:
            return rules.ReviewStatus.not_required.value
        if anchor < self.overdue_before[months]:
            return rules.ReviewStatus.overdue.value
        if anchor < self.due_soon_before[months]:
            return rules.ReviewStatus.due_soon.value
        return rules.ReviewStatus.on_track.value

    def two_year_status(self, goal: str, date_set: date) -> str:
        if goal == CasePlanGoal.long_term_care:
            return rules.TimeframeStatus.not_applicable.value
        if date_set < self.exceeded_before:
            return rules.TimeframeStatus.exceeded.value
        if date_set < self.approaching_before:
            return rules.TimeframeStatus.approaching.value
        return rules.TimeframeStatus.within.value


def _interval_sql(goal, unlikely):
    """`permanency.review_interval_months` as SQL."""
    usual = {g.value: pair[0] for g, pair in rules.REVIEW_INTERVAL_MONTHS.items()}
    intensified = {g.value: pair[1] for g, pair in rules.REVIEW_INTERVAL_MONTHS.items()}
    return case((unlikely, case(intensified, value=goal)), else_=case(usual, value=goal))


def _goal_in_force(in_scope: Select, as_of: date, dialect: str):
    """`in_scope` (a select of children) with the columns of the goal set most recently on or
    before `as_of` (R3), if any: one backward step in `ix_case_plan_goals_child_set` per
    child."""
    goal = CasePlanGoalRecord
    latest = (
        select(goal.id, goal.goal, goal.date_set, goal.permanency_unlikely)
        .where(goal.child_id == Child.id, goal.date_set <= as_of)
        .order_by(goal.date_set.desc(), goal.recorded_at.desc())
        .limit(1)
    )
    if dialect == "postgresql":
        current = latest.lateral("current_goal")
        return (
            in_scope.add_columns(
                current.c.id.label("goal_id"),
                current.c.goal,
                current.c.date_set,
                current.c.permanency_unlikely,
            )
            .outerjoin(current, true())
            .subquery("in_force")
        )
    # SQLite has no LATERAL: the goal's id by a correlated subquery, then the goal by its key.
    ids = in_scope.add_columns(
        latest.with_only_columns(goal.id).correlate(Child).scalar_subquery().label("goal_id")
    ).cte("goal_ids")
    current = aliased(CasePlanGoalRecord, name="current_goal")
    return (
        select(*ids.c, current.goal, current.date_set, current.permanency_unlikely)
        .select_from(ids)
        .outerjoin(current, current.id == ids.c.goal_id)
        .subquery("in_force")
    )


def _mirrored_goal(in_scope: Select):
    """`in_scope` with the goal in force today and its latest review as the child mirrors them
    (`permanency_records.refresh_permanency_mirror`): no lookup in the history."""
    return in_scope.add_columns(
        Child.current_goal_id.label("goal_id"),
        Child.case_plan_goal.label("goal"),
        Child.goal_set_date.label("date_set"),
        Child.permanency_unlikely,
        Child.last_review_date.label("last_review"),
    ).subquery("in_force")


def _month_day(value, months):
    """Sort key of `add_months(value, months)`: (month number of the result, day of `value`).
    It orders exactly as (`add_months(value, months)`, day of `value`) does, so the database
    sorts by due date without date arithmetic (`urgency` is the same order in Python)."""
    month_number = (
        extract("year", value).cast(Integer) * 12 + extract("month", value).cast(Integer) + months
    )
    return month_number, extract("day", value).cast(Integer)


def _assessed_cte(
    session: Session,
    children_select: Select,
    as_of: date,
    *,
    goal: str | None,
    agency_id: int | None,
    with_extension: bool,
    mirrored: bool,
):
    """The materialised CTE `assessed`: one row per child in care in the scope with its goal
    in force, the latest review of that goal up to `as_of` (`anchor` is that review or the set
    date), optionally the latest extension application, and both statuses, so that the
    per-child lookups run once for the page and the counts alike. With `mirrored` (`as_of` is
    today), the goal and its latest review are the child's mirror columns, not lookups.

    Two narrow materialised steps: the lookups (`looked_up`), then the statuses over their
    results (in one step the planner would copy the review lookup into every expression that
    uses it, and each expression is evaluated once per row). Names and agencies are joined
    after sorting and paging (`_with_details`)."""
    cutoffs = Cutoffs.on(as_of)
    in_scope = (
        select(
            Child.id.label("child_id"),
            Agency.kind.label("agency_kind"),
            func.lower(
                func.coalesce(Child.preferred_name, Child.given_name)
                + literal(" ")
                + Child.family_name
            ).label("sort_name"),
        )
        .join(Agency, Agency.id == Child.primary_agency_id)
        .where(in_care_condition(as_of))
    )
    if children_select.whereclause is not None:
        in_scope = in_scope.where(children_select.whereclause)
    if agency_id is not None:
        in_scope = in_scope.where(Child.primary_agency_id == agency_id)
    if mirrored:
        in_force = _mirrored_goal(in_scope)
        last_review = in_force.c.last_review
        goal_columns = [column for column in in_force.c if column.name != "last_review"]
    else:
        in_force = _goal_in_force(in_scope, as_of, session.get_bind().dialect.name)
        last_review = (
            select(func.max(GoalReview.review_date))
            .where(
                GoalReview.goal_id == in_force.c.goal_id,
                GoalReview.review_date <= as_of,
                GoalReview.review_date >= in_force.c.date_set,
            )
            .correlate(in_force)
            .scalar_subquery()
        )
        goal_columns = list(in_force.c)
    latest_extension = (
        select(GoalExtension.id)
        .where(GoalExtension.goal_id == in_force.c.goal_id, GoalExtension.applied_date <= as_of)
        .order_by(GoalExtension.applied_date.desc(), GoalExtension.recorded_at.desc())
        .limit(1)
        .correlate(in_force)
        .scalar_subquery()
    )
    no_extension = literal(None, type_=GoalExtension.id.type)
    looked_up = select(
        *goal_columns,
        last_review.label("last_review"),
        (latest_extension if with_extension else no_extension).label("extension_id"),
    )
    if goal is not None:
        looked_up = looked_up.where(in_force.c.goal == goal)
    # The mirror has nothing to look up: one step, the children's columns read as `assessed`
    # computes the statuses (PostgreSQL inlines a CTE read once).
    looked_up = looked_up.cte("looked_up")
    if not mirrored:
        looked_up = looked_up.prefix_with("MATERIALIZED")
    c = looked_up.c

    # `Cutoffs.review_status` and `Cutoffs.two_year_status` in SQL: comparisons of columns with
    # dates computed in Python, no date arithmetic, so the same SQL runs on both databases.
    anchor = func.coalesce(c.last_review, c.date_set)
    months = _interval_sql(c.goal, c.permanency_unlikely)
    review = case(
        (c.goal.is_(None), literal(NO_GOAL)),
        (c.agency_kind != "ngo", literal(rules.ReviewStatus.not_required.value)),
        (
            anchor < case(cutoffs.overdue_before, value=months),
            literal(rules.ReviewStatus.overdue.value),
        ),
        (
            anchor < case(cutoffs.due_soon_before, value=months),
            literal(rules.ReviewStatus.due_soon.value),
        ),
        else_=literal(rules.ReviewStatus.on_track.value),
    )
    timeframe = case(
        (c.goal.is_(None), literal(rules.TimeframeStatus.not_applicable.value)),
        (
            c.goal == CasePlanGoal.long_term_care.value,
            literal(rules.TimeframeStatus.not_applicable.value),
        ),
        (c.date_set < cutoffs.exceeded_before, literal(rules.TimeframeStatus.exceeded.value)),
        (
            c.date_set < cutoffs.approaching_before,
            literal(rules.TimeframeStatus.approaching.value),
        ),
        else_=literal(rules.TimeframeStatus.within.value),
    )
    return (
        select(
            *c,
            anchor.label("anchor"),
            months.label("interval_months"),
            review.label("review_status"),
            timeframe.label("two_year_status"),
        )
        .cte("assessed")
        .prefix_with("MATERIALIZED")
    )


def _urgency_order(assessed) -> tuple:
    """`urgency` in SQL: the group, then the date the row is sorted on (next review due or
    two-year deadline) as (month number, day of the anchor or set date), then the name."""
    c = assessed.c
    overdue = c.review_status == rules.ReviewStatus.overdue.value
    due_soon = c.review_status == rules.ReviewStatus.due_soon.value
    exceeded = c.two_year_status == rules.TimeframeStatus.exceeded.value
    approaching = c.two_year_status == rules.TimeframeStatus.approaching.value
    group = case(
        (overdue, 0),
        (exceeded, 1),
        (due_soon, 2),
        (approaching, 3),
        (c.review_status == NO_GOAL, 4),
        else_=5,
    )
    by_deadline = ~overdue & (exceeded | (~due_soon & approaching))
    month_number, day = _month_day(
        case((by_deadline, c.date_set), else_=c.anchor),
        case((by_deadline, rules.TWO_YEAR_MONTHS), else_=c.interval_months),
    )
    return (group, func.coalesce(month_number, 0), func.coalesce(day, 0), c.sort_name, c.child_id)


def _ranked(assessed, review_status: str | None, limit: int | None = None, offset: int = 0):
    """The CTE's rows, filtered by review status, most urgent first, with their `position`;
    paged when `limit` is given."""
    order = _urgency_order(assessed)
    if limit is not None:
        # A page: ORDER BY with LIMIT lets the database keep only the first `offset + limit`
        # rows (a top-N sort) instead of sorting every row for `row_number()`; the positions
        # are then numbered on the page's rows alone.
        page = select(assessed).order_by(*order).limit(limit).offset(offset)
        if review_status is not None:
            page = page.where(assessed.c.review_status == review_status)
        page = page.subquery("page")
        position = func.row_number().over(order_by=_urgency_order(page)) + offset
        return select(page, position.label("position")).subquery("ranked")
    query = select(assessed, func.row_number().over(order_by=order).label("position")).order_by(
        *order
    )
    if review_status is not None:
        query = query.where(assessed.c.review_status == review_status)
    return query.subquery("ranked")


def _with_details(ranked, *extra) -> Select:
    """The ranked rows with the child's and the agency's details."""
    return (
        select(
            *extra,
            *ranked.c,
            Child.external_id,
            Child.given_name,
            Child.preferred_name,
            Child.family_name,
            Agency.id.label("agency_id"),
            Agency.name.label("agency_name"),
        )
        .select_from(ranked)
        .join(Child, Child.id == ranked.c.child_id)
        .join(Agency, Agency.id == Child.primary_agency_id)
    )


def _extension_state(record, as_of: date) -> str | None:
    if record.extension_applied is None:
        return None
    if record.extension_decision and record.extension_decided and record.extension_decided <= as_of:
        return record.extension_decision
    return "pending"


def _row(record, as_of: date, extension=None) -> PermanencyRow:
    required = rules.reviews_required(record.agency_kind)
    common = dict(
        child_id=record.child_id,
        external_id=record.external_id,
        child_name=f"{record.preferred_name or record.given_name} {record.family_name}",
        primary_agency_id=record.agency_id,
        primary_agency=record.agency_name,
        agency_kind=record.agency_kind,
        reviews_required=required,
    )
    if record.goal is None:
        return PermanencyRow(
            **common,
            case_plan_goal=None,
            goal_set_date=None,
            permanency_unlikely=None,
            last_review_date=None,
            next_review_due=None,
            review_status=NO_GOAL,
            days_overdue=0,
            two_year_deadline=None,
            two_year_status=rules.TimeframeStatus.not_applicable.value,
            days_to_deadline=None,
            extension=None,
            extension_applied_date=None,
        )
    position = rules.assess_goal(
        record.goal,
        record.date_set,
        bool(record.permanency_unlikely),
        record.last_review,
        record.agency_kind,
        as_of,
    )
    overdue = position.review_status == rules.ReviewStatus.overdue
    return PermanencyRow(
        **common,
        case_plan_goal=record.goal,
        goal_set_date=record.date_set,
        permanency_unlikely=bool(record.permanency_unlikely),
        last_review_date=record.last_review,
        next_review_due=position.next_review_due,
        review_status=position.review_status.value,
        days_overdue=(as_of - position.next_review_due).days if overdue else 0,
        two_year_deadline=position.two_year_deadline,
        two_year_status=position.two_year_status.value,
        days_to_deadline=position.days_to_deadline,
        extension=_extension_state(extension, as_of) if extension else None,
        extension_applied_date=extension.extension_applied if extension else None,
    )


def _extension_columns():
    return (
        GoalExtension.applied_date.label("extension_applied"),
        GoalExtension.decision.label("extension_decision"),
        GoalExtension.decision_date.label("extension_decided"),
    )


def _page_extensions(session: Session, records, as_of: date) -> dict:
    """The latest extension application up to `as_of` of each page row's goal, by goal id."""
    goal_ids = {record.goal_id for record in records} - {None}
    if not goal_ids:
        return {}
    latest = {}
    for record in session.execute(
        select(GoalExtension.goal_id, *_extension_columns())
        .where(GoalExtension.goal_id.in_(goal_ids), GoalExtension.applied_date <= as_of)
        .order_by(GoalExtension.applied_date, GoalExtension.recorded_at)
    ):
        latest[record.goal_id] = record
    return latest


def _extensions_by_id(session: Session, records) -> dict:
    """The extension applications the CTE looked up (`extension_id`), by goal id."""
    ids = {record.extension_id for record in records} - {None}
    if not ids:
        return {}
    return {
        record.goal_id: record
        for record in session.execute(
            select(GoalExtension.goal_id, *_extension_columns()).where(GoalExtension.id.in_(ids))
        )
    }


def urgency(row: PermanencyRow) -> tuple:
    """Most urgent first: reviews overdue (most days overdue first), two-year timeframe
    exceeded (longest past first), reviews due soon, timeframe approaching, no goal recorded,
    then the rest by next review due. Equal dates are ordered by the day of the month of the
    date they were counted from (the last review or set date: they differ where a month end
    was clamped, 29 to 31 August + 6 months all being 28 February), then by name and id. The
    database sorts the same way (`_assessed_cte`), its name tie-break being its ordering of
    lower-cased names."""
    anchor = row.last_review_date or row.goal_set_date
    if row.review_status == rules.ReviewStatus.overdue:
        group, when, start = 0, row.next_review_due, anchor
    elif row.two_year_status == rules.TimeframeStatus.exceeded:
        group, when, start = 1, row.two_year_deadline, row.goal_set_date
    elif row.review_status == rules.ReviewStatus.due_soon:
        group, when, start = 2, row.next_review_due, anchor
    elif row.two_year_status == rules.TimeframeStatus.approaching:
        group, when, start = 3, row.two_year_deadline, row.goal_set_date
    elif row.review_status == NO_GOAL:
        group, when, start = 4, date.min, None
    else:
        group, when, start = 5, row.next_review_due, anchor
    return (group, when, start.day if start else 0, row.child_name.casefold(), str(row.child_id))


def permanency_rows(
    session: Session,
    children_select: Select,
    as_of: date,
    *,
    goal: str | None = None,
    review_status: str | None = None,
    agency_id: int | None = None,
    today: date | None = None,
) -> list[PermanencyRow]:
    """Children of `children_select` (the caller's scope, `scope.visible_children`) in care on
    `as_of`, most urgent first (`urgency`), optionally filtered by goal in force, review status
    and primary agency: every row, for the exports, from the page's statement. `today` is the
    organisation's: "as at" today reads the children's mirror of their goal in force."""
    assessed = _assessed_cte(
        session,
        children_select,
        as_of,
        goal=goal,
        agency_id=agency_id,
        with_extension=True,
        mirrored=as_of == today,
    )
    ranked = _ranked(assessed, review_status)
    records = session.execute(_with_details(ranked).order_by(ranked.c.position)).all()
    extensions = _extensions_by_id(session, records)
    return [_row(record, as_of, extensions.get(record.goal_id)) for record in records]


@dataclass(frozen=True)
class StatusCounts:
    overdue: int
    due_soon: int
    exceeded: int
    approaching: int
    no_goal: int


@dataclass(frozen=True)
class Overview:
    counts: StatusCounts  # over the rows before the review-status filter
    matching: int  # the rows with the review-status filter applied
    rows: list[PermanencyRow]  # the page's


def permanency_overview(
    session: Session,
    children_select: Select,
    as_of: date,
    *,
    goal: str | None = None,
    review_status: str | None = None,
    agency_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
    today: date | None = None,
) -> Overview:
    """The dashboard in one statement: the counts for the scope (agency and goal filters
    applied) and one page of rows with the review-status filter applied too, sorted and paged
    by the database (a UNION ALL of the page and a GROUP BY over the materialised CTE). The R3
    rules then run in Python on the page's rows only. `today` is the organisation's, as for
    `permanency_rows`."""
    assessed = _assessed_cte(
        session,
        children_select,
        as_of,
        goal=goal,
        agency_id=agency_id,
        with_extension=False,
        mirrored=as_of == today,
    )
    page = _with_details(
        _ranked(assessed, review_status, limit, offset),
        literal("row").label("kind"),
        literal(0).label("n"),
    )
    counted = {
        "review_status": assessed.c.review_status,
        "two_year_status": assessed.c.two_year_status,
    }
    count_query = select(
        literal("count").label("kind"),
        func.count().label("n"),
        *(
            counted[column.name]
            if column.name in counted
            else literal(None, type_=column.type).label(column.name)
            for column in page.selected_columns[2:]
        ),
    ).group_by(assessed.c.review_status, assessed.c.two_year_status)
    result = session.execute(page.union_all(count_query)).all()
    tallies: dict[tuple[str, str], int] = defaultdict(int)
    records = []
    for record in result:
        if record.kind == "count":
            tallies[(record.review_status, record.two_year_status)] += record.n
        else:
            records.append(record)
    records.sort(key=lambda record: record.position)

    def total(review: str | None = None, timeframe: str | None = None) -> int:
        return sum(
            n
            for (r, t), n in tallies.items()
            if (review is None or r == review) and (timeframe is None or t == timeframe)
        )

    counts = StatusCounts(
        overdue=total(review=rules.ReviewStatus.overdue.value),
        due_soon=total(review=rules.ReviewStatus.due_soon.value),
        exceeded=total(timeframe=rules.TimeframeStatus.exceeded.value),
        approaching=total(timeframe=rules.TimeframeStatus.approaching.value),
        no_goal=total(review=NO_GOAL),
    )
    extensions = _page_extensions(session, records, as_of)
    rows = [_row(record, as_of, extensions.get(record.goal_id)) for record in records]
    return Overview(counts, total(review=review_status), rows)


def agencies_in_scope(session: Session, children_select: Select) -> list[tuple[int, str]]:
    """The primary agencies of the scope's children, for the agency filter."""
    in_scope = children_select.with_only_columns(Child.id).order_by(None)
    return list(
        session.execute(
            select(Agency.id, Agency.name)
            .where(Agency.id.in_(select(Child.primary_agency_id).where(Child.id.in_(in_scope))))
            .order_by(Agency.name)
        ).all()
    )


@dataclass(frozen=True)
class OpenRequest:
    request_id: uuid.UUID
    child_id: uuid.UUID
    child_name: str
    requested_by: str
    requested_at: datetime
    reason: str


def open_consultation_requests(session: Session, children_select: Select) -> list[OpenRequest]:
    """R11 (`002` § Permanency Consultations): requests no consultation has answered yet, for
    the scope's children, oldest first."""
    in_scope = children_select.with_only_columns(Child.id).order_by(None)
    requests = open_requests_query().subquery()
    query = (
        select(
            requests.c.id,
            requests.c.child_id,
            requests.c.requested_at,
            requests.c.reason,
            Child.given_name,
            Child.preferred_name,
            Child.family_name,
            User.name.label("requester"),
        )
        .join(Child, Child.id == requests.c.child_id)
        .join(User, User.id == requests.c.requested_by_id)
        .where(requests.c.child_id.in_(in_scope))
        .order_by(requests.c.requested_at, requests.c.id)
    )
    return [
        OpenRequest(
            request_id=record.id,
            child_id=record.child_id,
            child_name=f"{record.preferred_name or record.given_name} {record.family_name}",
            requested_by=record.requester,
            requested_at=record.requested_at,
            reason=record.reason,
        )
        for record in session.execute(query)
    ]
