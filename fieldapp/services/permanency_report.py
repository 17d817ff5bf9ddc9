"""The permanency dashboard (R3, R11): every child in a scope with the goal in force, its
reviews and the two-year timeframe, and the open consultation requests.

One statement reads every child in care in the scope with, by correlated subqueries (index
lookups per child, so the cost grows with children, not with their history): the goal in force
on `as_of`, the latest review of that goal up to `as_of`, and the latest extension application
for it. The R3 rules are then applied per row by the pure functions of `permanency.py`; no
query runs per child.

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
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from ..models import (
    Agency,
    CasePlanGoalRecord,
    Child,
    GoalExtension,
    GoalReview,
    User,
)
from . import permanency as rules
from .compliance_report import in_care_condition
from .permanency_records import open_requests_query

NO_GOAL = "no_goal"
REVIEW_STATUSES = (*(status.value for status in rules.ReviewStatus), NO_GOAL)
TWO_YEAR_STATUSES = tuple(status.value for status in rules.TimeframeStatus)


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


def _goal_in_force_id(as_of: date):
    """R3: the goal set most recently on or before `as_of` (as `goal_in_force`)."""
    return (
        select(CasePlanGoalRecord.id)
        .where(CasePlanGoalRecord.child_id == Child.id, CasePlanGoalRecord.date_set <= as_of)
        .order_by(CasePlanGoalRecord.date_set.desc(), CasePlanGoalRecord.recorded_at.desc())
        .limit(1)
        .correlate(Child)
        .scalar_subquery()
    )


def _rows_query(children_select: Select, as_of: date, goal: str | None, agency_id: int | None):
    """Two layers, so that every join is on an equality the planner can hash or look up: the
    children in care in the scope with the id of their goal in force, then that goal, its
    latest review and its latest extension application."""
    in_scope = children_select.with_only_columns(Child.id).order_by(None)
    in_care = select(Child.id.label("child_id"), _goal_in_force_id(as_of).label("goal_id")).where(
        Child.id.in_(in_scope), in_care_condition(as_of)
    )
    if agency_id is not None:
        in_care = in_care.where(Child.primary_agency_id == agency_id)
    in_care = in_care.subquery("in_care")
    current = aliased(CasePlanGoalRecord, name="current_goal")
    last_review = (
        select(func.max(GoalReview.review_date))
        .where(
            GoalReview.goal_id == current.id,
            GoalReview.review_date <= as_of,
            GoalReview.review_date >= current.date_set,
        )
        .correlate(current)
        .scalar_subquery()
    )
    latest_extension = (
        select(GoalExtension.id)
        .where(GoalExtension.goal_id == current.id, GoalExtension.applied_date <= as_of)
        .order_by(GoalExtension.applied_date.desc(), GoalExtension.recorded_at.desc())
        .limit(1)
        .correlate(current)
        .scalar_subquery()
    )
    assessed = (
        select(
            in_care.c.child_id,
            current.goal,
            current.date_set,
            current.permanency_unlikely,
            last_review.label("last_review"),
            latest_extension.label("extension_id"),
        )
        .select_from(in_care)
        .outerjoin(current, current.id == in_care.c.goal_id)
    )
    if goal is not None:
        assessed = assessed.where(current.goal == goal)
    assessed = assessed.subquery("assessed")
    extension = aliased(GoalExtension, name="extension")
    return (
        select(
            Child.id,
            Child.external_id,
            Child.given_name,
            Child.preferred_name,
            Child.family_name,
            Agency.id.label("agency_id"),
            Agency.name.label("agency_name"),
            Agency.kind.label("agency_kind"),
            assessed.c.goal,
            assessed.c.date_set,
            assessed.c.permanency_unlikely,
            assessed.c.last_review,
            extension.applied_date.label("extension_applied"),
            extension.decision.label("extension_decision"),
            extension.decision_date.label("extension_decided"),
        )
        .select_from(assessed)
        .join(Child, Child.id == assessed.c.child_id)
        .join(Agency, Agency.id == Child.primary_agency_id)
        .outerjoin(extension, extension.id == assessed.c.extension_id)
    )


def _extension_state(record, as_of: date) -> str | None:
    if record.extension_applied is None:
        return None
    if record.extension_decision and record.extension_decided and record.extension_decided <= as_of:
        return record.extension_decision
    return "pending"


def _row(record, as_of: date) -> PermanencyRow:
    required = rules.reviews_required(record.agency_kind)
    common = dict(
        child_id=record.id,
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
        extension=_extension_state(record, as_of),
        extension_applied_date=record.extension_applied,
    )


def urgency(row: PermanencyRow) -> tuple:
    """Most urgent first: reviews overdue (most days overdue first), two-year timeframe
    exceeded (longest past first), reviews due soon, timeframe approaching, no goal recorded,
    then the rest by next review due."""
    if row.review_status == rules.ReviewStatus.overdue:
        group, when = 0, row.next_review_due
    elif row.two_year_status == rules.TimeframeStatus.exceeded:
        group, when = 1, row.two_year_deadline
    elif row.review_status == rules.ReviewStatus.due_soon:
        group, when = 2, row.next_review_due
    elif row.two_year_status == rules.TimeframeStatus.approaching:
        group, when = 3, row.two_year_deadline
    elif row.review_status == NO_GOAL:
        group, when = 4, date.min
    else:
        group, when = 5, row.next_review_due
    return (group, when, row.child_name.casefold(), str(row.child_id))


def permanency_rows(
    session: Session,
    children_select: Select,
    as_of: date,
    *,
    goal: str | None = None,
    review_status: str | None = None,
    agency_id: int | None = None,
) -> list[PermanencyRow]:
    """Children of `children_select` (the caller's scope, `scope.visible_children`) in care on
    `as_of`, most urgent first (`urgency`), optionally filtered by goal in force, review status
    and primary agency."""
    records = session.execute(_rows_query(children_select, as_of, goal, agency_id)).all()
    rows = [_row(record, as_of) for record in records]
    if review_status is not None:
        rows = [row for row in rows if row.review_status == review_status]
    rows.sort(key=urgency)
    return rows


@dataclass(frozen=True)
class StatusCounts:
    overdue: int
    due_soon: int
    exceeded: int
    approaching: int
    no_goal: int


def status_counts(rows: list[PermanencyRow]) -> StatusCounts:
    reviews = Counter(row.review_status for row in rows)
    timeframes = Counter(row.two_year_status for row in rows)
    return StatusCounts(
        overdue=reviews[rules.ReviewStatus.overdue.value],
        due_soon=reviews[rules.ReviewStatus.due_soon.value],
        exceeded=timeframes[rules.TimeframeStatus.exceeded.value],
        approaching=timeframes[rules.TimeframeStatus.approaching.value],
        no_goal=reviews[NO_GOAL],
    )


@dataclass(frozen=True)
class Overview:
    counts: StatusCounts  # over the rows before the review-status filter
    rows: list[PermanencyRow]


def permanency_overview(
    session: Session,
    children_select: Select,
    as_of: date,
    *,
    goal: str | None = None,
    review_status: str | None = None,
    agency_id: int | None = None,
) -> Overview:
    """The dashboard: counts for the scope (agency and goal filters applied) and its rows with
    the review-status filter applied too, from one query."""
    rows = permanency_rows(session, children_select, as_of, goal=goal, agency_id=agency_id)
    counts = status_counts(rows)
    if review_status is not None:
        rows = [row for row in rows if row.review_status == review_status]
    return Overview(counts, rows)


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
