"""The permanency minimum data set for a quarter (`002` § Record keeping) and the long-term care
cohort a coordinator reviews (`002` § Cohort reviews).

`002` § Record keeping: coordinators "maintain local recording systems … recording permanency
goal reviews and consultations to meet minimum data set requirements", and managers report
quarterly. One row per agency holding primary case responsibility.

**Agency.** Every figure is grouped by `children.primary_agency_id`, the agency holding primary
case responsibility *now* (R10), not the one that held it on the day of the event: a child
transferred during the quarter is counted, with all their events, under the agency that holds
them today. Rows list every agency holding at least one child of the caller's scope.

**Reviews due and completed on time** (R3, `002` § Permanency Goal Reviews). Only children whose
primary case responsibility is with a non-government agency (`reviews_required`). For each case
plan goal the reviews form *cycles*:

- the first cycle is anchored on the goal set date; its due date is anchor + the review interval
  (`review_interval_months` of the goal and its `permanency_unlikely`, calendar months);
- a cycle is closed by the first review of that goal dated strictly after its anchor (reviews
  dated before the goal was set, or on the anchor itself, close nothing); that review is the
  anchor of the next cycle, whether it came on time or late;
- a cycle is *completed on time* when its closing review is on or before its due date;
- a cycle counts only if, on its due date, the goal is still in force (no later goal set on or
  before that date) and the child is still in care; a cycle never closed counts once, as not on
  time, and starts no further cycle (R3's next due date stays where it was);
- a quarter's `reviews_due` is the number of cycles whose due date falls in the quarter (and on
  or before `today` for the current quarter), `reviews_completed_on_time` those completed on time.

This is exactly R3's "next review due" as at each due date: on day `due` the latest review of the
goal in force was the cycle's anchor. The goal and review rows are fetched with two queries for
the whole scope; `review_cycles` is a pure function of those rows.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..models import (
    Agency,
    CasePlanGoalRecord,
    CaseResponsibilityTransfer,
    Child,
    CohortReview,
    CohortReviewChild,
    CulturalConsultation,
    GoalExtension,
    GoalReview,
    PermanencyConsultation,
)
from ..models.child import CasePlanGoal
from ..models.org import AgencyKind
from ..models.permanency import ConsultationKind, ConsultationTrigger
from .compliance_report import in_care_condition
from .permanency import (
    TWO_YEAR_MONTHS,
    add_months,
    review_interval_months,
    reviews_required,
)

QUARTER_FORMAT = "YYYY-Qn"
_QUARTER = re.compile(r"([0-9]{4})-Q([1-4])")
EARLIEST_YEAR = 2000
TRIGGERS = tuple(t.value for t in ConsultationTrigger)
GOALS = tuple(g.value for g in CasePlanGoal)
KINDS = tuple(k.value for k in ConsultationKind)

# The data set's figures in report order: (snake_case column, label). The CSV and the page both
# use this list, so they cannot disagree.
MEASURES: tuple[tuple[str, str], ...] = (
    ("consultations_formal", "Formal permanency consultations"),
    ("consultations_informal", "Informal permanency consultations"),
    *(
        (f"consultations_{t}", f"Consultations triggered by: {t.replace('_', ' ')}")
        for t in TRIGGERS
    ),
    ("reviews_due", "Goal reviews due"),
    ("reviews_completed_on_time", "Goal reviews completed on time"),
    *((f"goal_changes_{g}", f"Goals set: {g.replace('_', ' ')}") for g in GOALS),
    ("children_past_two_years", "Children past the two-year timeframe at quarter end"),
    ("extension_applications", "Extension applications"),
    ("cultural_consultations", "Cultural consultations"),
    ("transfers", "Transfers of case responsibility"),
)
MEASURE_KEYS = tuple(key for key, _ in MEASURES)


# ---------------------------------------------------------------- quarters


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """`"2026-Q3"` → (1 July 2026, 30 September 2026). ValueError names the format."""
    match = _QUARTER.fullmatch(quarter or "")
    if match is None or int(match.group(1)) < EARLIEST_YEAR:
        shown = (quarter or "")[:20]
        raise ValueError(
            f"quarter must be {QUARTER_FORMAT} (e.g. 2026-Q3, from {EARLIEST_YEAR}), not {shown!r}."
        )
    year, number = int(match.group(1)), int(match.group(2))
    start = date(year, 3 * number - 2, 1)
    return start, add_months(start, 3) - timedelta(days=1)


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def previous_quarter(quarter: str) -> str:
    start, _ = quarter_bounds(quarter)
    return quarter_of(add_months(start, -3))


def last_complete_quarter(today: date) -> str:
    """The quarter before the one `today` falls in."""
    return previous_quarter(quarter_of(today))


def quarters_ending(last: str, count: int) -> list[str]:
    """`count` consecutive quarters ending with `last`, oldest first."""
    quarters = [last]
    while len(quarters) < count:
        quarters.append(previous_quarter(quarters[-1]))
    return quarters[::-1]


# ---------------------------------------------------------------- reviews: the pure part


@dataclass(frozen=True)
class GoalSpan:
    """A case plan goal of a child whose reviews are required, with the date a later goal
    superseded it (None while in force)."""

    agency_id: int
    child_id: uuid.UUID
    goal_id: uuid.UUID
    goal: str
    date_set: date
    permanency_unlikely: bool
    superseded_on: date | None
    care_end_date: date | None = None


@dataclass(frozen=True)
class ReviewCycle:
    agency_id: int
    child_id: uuid.UUID
    goal_id: uuid.UUID
    due: date
    reviewed_on: date | None
    on_time: bool


def review_cycles(span: GoalSpan, review_dates: list[date], until: date) -> list[ReviewCycle]:
    """The review cycles of one goal whose due date is on or before `until` (module docstring)."""
    interval = review_interval_months(span.goal, span.permanency_unlikely)
    reviews = sorted(d for d in review_dates if d >= span.date_set)
    cycles: list[ReviewCycle] = []
    anchor, index = span.date_set, 0
    while True:
        while index < len(reviews) and reviews[index] <= anchor:
            index += 1
        due = add_months(anchor, interval)
        in_force = span.superseded_on is None or due < span.superseded_on
        in_care = span.care_end_date is None or span.care_end_date > due
        if due > until or not in_force or not in_care:
            return cycles
        closing = reviews[index] if index < len(reviews) else None
        cycles.append(
            ReviewCycle(
                agency_id=span.agency_id,
                child_id=span.child_id,
                goal_id=span.goal_id,
                due=due,
                reviewed_on=closing,
                on_time=closing is not None and closing <= due,
            )
        )
        if closing is None:
            return cycles
        anchor = closing


def goal_spans(rows) -> list[GoalSpan]:
    """Goal rows `(agency_id, child_id, goal_id, goal, date_set, permanency_unlikely,
    recorded_at, care_end_date)` → spans; each goal is superseded by the child's next goal in
    (date_set, recorded_at) order (the goal in force on D is the latest set on or before D)."""
    by_child: dict[uuid.UUID, list] = defaultdict(list)
    for row in rows:
        by_child[row[1]].append(row)
    spans = []
    for goals in by_child.values():
        goals.sort(key=lambda r: (r[4], r[6] or datetime.min))
        for position, row in enumerate(goals):
            following = goals[position + 1] if position + 1 < len(goals) else None
            spans.append(
                GoalSpan(
                    agency_id=row[0],
                    child_id=row[1],
                    goal_id=row[2],
                    goal=row[3],
                    date_set=row[4],
                    permanency_unlikely=bool(row[5]),
                    superseded_on=following[4] if following else None,
                    care_end_date=row[7],
                )
            )
    return spans


def all_review_cycles(
    spans: list[GoalSpan], reviews: dict[uuid.UUID, list[date]], until: date
) -> list[ReviewCycle]:
    return [c for s in spans for c in review_cycles(s, reviews.get(s.goal_id, []), until)]


# ---------------------------------------------------------------- reviews: the queries


def _scope_ids(children_select: Select) -> Select:
    return children_select.with_only_columns(Child.id)


def fetch_review_cycles(
    session: Session, children_select: Select, until: date
) -> list[ReviewCycle]:
    """Two queries for the whole scope (goals, then their reviews), then `review_cycles`."""
    required_kinds = [kind.value for kind in AgencyKind if reviews_required(kind.value)]
    ngo_children = (
        select(Child.id)
        .join(Agency, Agency.id == Child.primary_agency_id)
        .where(Child.id.in_(_scope_ids(children_select)), Agency.kind.in_(required_kinds))
    )
    goal_rows = session.execute(
        select(
            Child.primary_agency_id,
            CasePlanGoalRecord.child_id,
            CasePlanGoalRecord.id,
            CasePlanGoalRecord.goal,
            CasePlanGoalRecord.date_set,
            CasePlanGoalRecord.permanency_unlikely,
            CasePlanGoalRecord.recorded_at,
            Child.care_end_date,
        )
        .join(Child, Child.id == CasePlanGoalRecord.child_id)
        .where(CasePlanGoalRecord.child_id.in_(ngo_children))
    ).all()
    reviews: dict[uuid.UUID, list[date]] = defaultdict(list)
    for goal_id, review_date in session.execute(
        select(GoalReview.goal_id, GoalReview.review_date).where(
            GoalReview.child_id.in_(ngo_children)
        )
    ):
        reviews[goal_id].append(review_date)
    return all_review_cycles(goal_spans(goal_rows), reviews, until)


# ---------------------------------------------------------------- the data set


@dataclass
class AgencyRow:
    """One agency's figures for the quarter (`002` § Record keeping)."""

    agency_id: int
    agency_name: str
    agency_kind: str
    figures: dict[str, int] = field(default_factory=lambda: dict.fromkeys(MEASURE_KEYS, 0))

    def __getattr__(self, name: str) -> int:
        figures = self.__dict__.get("figures", {})
        if name in figures:
            return figures[name]
        raise AttributeError(name)

    @property
    def consultations_by_trigger(self) -> dict[str, int]:
        return {t: self.figures[f"consultations_{t}"] for t in TRIGGERS}

    @property
    def goal_changes(self) -> dict[str, int]:
        return {g: self.figures[f"goal_changes_{g}"] for g in GOALS}


def _count_by_agency(
    session: Session,
    scope: Select,
    child_column,
    date_column,
    start: date,
    end: date,
    buckets: dict[str, object],
) -> dict[int, dict[str, int]]:
    """One GROUP BY query: per agency of the child, how many rows of a table dated in
    [start, end] satisfy each bucket's condition (`True` counts every row)."""
    columns = [
        func.sum(case((condition, 1), else_=0)).label(name)
        if condition is not True
        else func.count().label(name)
        for name, condition in buckets.items()
    ]
    query = (
        select(Child.primary_agency_id, *columns)
        .select_from(child_column.table)
        .join(Child, Child.id == child_column)
        .where(Child.id.in_(scope), date_column >= start, date_column <= end)
        .group_by(Child.primary_agency_id)
    )
    return {
        row[0]: {name: int(row[i + 1] or 0) for i, name in enumerate(buckets)}
        for row in session.execute(query)
    }


def _goal_in_force(goal, on: date):
    """SQL: `goal` (an aliased case_plan_goals) is the child's goal in force on `on`."""
    later = aliased(CasePlanGoalRecord)
    return and_(
        goal.date_set <= on,
        ~exists().where(
            later.child_id == goal.child_id,
            later.id != goal.id,
            later.date_set <= on,
            or_(
                later.date_set > goal.date_set,
                and_(later.date_set == goal.date_set, later.recorded_at > goal.recorded_at),
            ),
        ),
    )


def _past_two_years(session: Session, scope: Select, quarter_end: date) -> dict[int, int]:
    """Children in care at quarter end whose goal in force then has a two-year timeframe that
    had passed (R3: deadline = date set + 24 months; `exceeded` when the day is after it).
    For a quarter end E (31 Mar, 30 Jun, 30 Sep, 31 Dec), add_months(set, 24) < E exactly when
    set < E − 24 months, a day that always exists, so the test is a plain date comparison."""
    cutoff = add_months(quarter_end, -TWO_YEAR_MONTHS)
    goal = aliased(CasePlanGoalRecord)
    query = (
        select(Child.primary_agency_id, func.count(func.distinct(Child.id)))
        .select_from(goal)
        .join(Child, Child.id == goal.child_id)
        .where(
            Child.id.in_(scope),
            in_care_condition(quarter_end),
            _goal_in_force(goal, quarter_end),
            goal.goal != CasePlanGoal.long_term_care.value,
            goal.date_set < cutoff,
        )
        .group_by(Child.primary_agency_id)
    )
    return {agency_id: count for agency_id, count in session.execute(query)}


def minimum_data_set(
    session: Session, children_select: Select, quarter: str, today: date | None = None
) -> list[AgencyRow]:
    """`002` § Record keeping: the quarter's figures for the children of `children_select`
    (a `scope.visible_children` select), one row per agency holding primary case
    responsibility now (module docstring), ordered by agency name. `today` stops the current
    quarter's reviews due at today. A bad quarter raises ValueError."""
    start, end = quarter_bounds(quarter)
    scope = _scope_ids(children_select)
    agencies = session.execute(
        select(Agency.id, Agency.name, Agency.kind)
        .where(Agency.id.in_(select(Child.primary_agency_id).where(Child.id.in_(scope))))
        .order_by(Agency.name)
    ).all()
    rows = {a.id: AgencyRow(a.id, a.name, a.kind) for a in agencies}

    def merge(counts: dict[int, dict[str, int]]) -> None:
        for agency_id, figures in counts.items():
            if agency_id in rows:
                rows[agency_id].figures.update(figures)

    consultation = PermanencyConsultation
    merge(
        _count_by_agency(
            session,
            scope,
            consultation.child_id,
            consultation.consultation_date,
            start,
            end,
            {f"consultations_{k}": consultation.kind == k for k in KINDS}
            | {f"consultations_{t}": consultation.trigger == t for t in TRIGGERS},
        )
    )
    merge(
        _count_by_agency(
            session,
            scope,
            CasePlanGoalRecord.child_id,
            CasePlanGoalRecord.date_set,
            start,
            end,
            {f"goal_changes_{g}": CasePlanGoalRecord.goal == g for g in GOALS},
        )
    )
    for name, child_column, date_column in (
        ("extension_applications", GoalExtension.child_id, GoalExtension.applied_date),
        (
            "cultural_consultations",
            CulturalConsultation.child_id,
            CulturalConsultation.consultation_date,
        ),
        (
            "transfers",
            CaseResponsibilityTransfer.child_id,
            CaseResponsibilityTransfer.transfer_date,
        ),
    ):
        merge(_count_by_agency(session, scope, child_column, date_column, start, end, {name: True}))
    merge(
        {
            agency_id: {"children_past_two_years": count}
            for agency_id, count in _past_two_years(session, scope, end).items()
        }
    )
    until = min(end, today) if today else end
    for cycle in fetch_review_cycles(session, children_select, until):
        if start <= cycle.due <= end and cycle.agency_id in rows:
            rows[cycle.agency_id].figures["reviews_due"] += 1
            rows[cycle.agency_id].figures["reviews_completed_on_time"] += int(cycle.on_time)
    return list(rows.values())


@dataclass(frozen=True)
class QuarterPoint:
    quarter: str
    reviews_due: int
    reviews_on_time: int

    @property
    def share_on_time(self) -> float | None:
        return self.reviews_on_time / self.reviews_due if self.reviews_due else None


def review_trend(
    session: Session,
    children_select: Select,
    last_quarter: str,
    count: int = 8,
    today: date | None = None,
) -> list[QuarterPoint]:
    """Reviews due and completed on time in each of `count` quarters ending with `last_quarter`
    (all agencies of the scope together), from one fetch of the review cycles."""
    quarters = quarters_ending(last_quarter, count)
    _, end = quarter_bounds(last_quarter)
    until = min(end, today) if today else end
    due: dict[str, int] = defaultdict(int)
    on_time: dict[str, int] = defaultdict(int)
    for cycle in fetch_review_cycles(session, children_select, until):
        quarter = quarter_of(cycle.due)
        due[quarter] += 1
        on_time[quarter] += int(cycle.on_time)
    return [QuarterPoint(q, due[q], on_time[q]) for q in quarters]


# ---------------------------------------------------------------- cohort reviews


@dataclass(frozen=True)
class CohortMember:
    child: Child
    goal_set_date: date
    last_review_date: date | None


def long_term_care_cohort(
    session: Session, children_select: Select, agency_id: int | None, today: date
) -> list[CohortMember]:
    """`002` § Cohort reviews: the children of `children_select` for whom `agency_id` holds
    primary case responsibility, in care today, whose goal in force today is long-term care,
    with the date it was set and its latest review (one query)."""
    if agency_id is None:
        return []
    goal = aliased(CasePlanGoalRecord)
    last_review = (
        select(func.max(GoalReview.review_date))
        .where(GoalReview.goal_id == goal.id, GoalReview.review_date >= goal.date_set)
        .where(GoalReview.review_date <= today)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Child, goal.date_set, last_review)
        .join(goal, goal.child_id == Child.id)
        .where(
            Child.id.in_(_scope_ids(children_select)),
            Child.primary_agency_id == agency_id,
            in_care_condition(today),
            _goal_in_force(goal, today),
            goal.goal == CasePlanGoal.long_term_care.value,
        )
        .order_by(Child.family_name, Child.given_name, Child.id)
    ).all()
    return [CohortMember(child, set_on, reviewed) for child, set_on, reviewed in rows]


@dataclass(frozen=True)
class PastCohortReview:
    review: CohortReview
    children: int
    flagged: list[tuple[Child, str | None]]
    flagged_out_of_scope: int


def past_cohort_reviews(
    session: Session, children_select: Select, agency_id: int | None, limit: int = 20
) -> list[PastCohortReview]:
    """The agency's cohort reviews, newest first, with the children flagged as needing a formal
    consultation; a flagged child no longer in the caller's scope is counted, not named."""
    if agency_id is None:
        return []
    reviews = list(
        session.scalars(
            select(CohortReview)
            .where(CohortReview.agency_id == agency_id)
            .order_by(CohortReview.review_date.desc(), CohortReview.recorded_at.desc())
            .limit(limit)
        )
    )
    if not reviews:
        return []
    ids = [r.id for r in reviews]
    sizes = dict(
        session.execute(
            select(CohortReviewChild.cohort_review_id, func.count())
            .where(CohortReviewChild.cohort_review_id.in_(ids))
            .group_by(CohortReviewChild.cohort_review_id)
        ).all()
    )
    flags = session.execute(
        select(CohortReviewChild.cohort_review_id, CohortReviewChild.note, Child)
        .join(Child, Child.id == CohortReviewChild.child_id)
        .where(
            CohortReviewChild.cohort_review_id.in_(ids),
            CohortReviewChild.needs_formal_consultation.is_(True),
        )
        .order_by(Child.family_name, Child.given_name)
    ).all()
    visible = set(
        session.scalars(
            _scope_ids(children_select).where(Child.id.in_({c.id for _, _, c in flags}))
        )
    )
    named: dict[uuid.UUID, list] = defaultdict(list)
    hidden: dict[uuid.UUID, int] = defaultdict(int)
    for review_id, note, child in flags:
        if child.id in visible:
            named[review_id].append((child, note))
        else:
            hidden[review_id] += 1
    return [PastCohortReview(r, sizes.get(r.id, 0), named[r.id], hidden[r.id]) for r in reviews]
