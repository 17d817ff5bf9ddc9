"""The team leader's contact compliance report (R1, R2, R9), computed in SQL.

Each child costs a few index lookups (its latest qualifying contact up to `as_of`, its
practitioner on that date, its return visits), so the cost grows with the number of children,
not with the number of contacts they have accumulated. The status rules themselves live in
`compliance.py`, shared with the CSV export, the API and the tablet's test vectors.

Sources: `../shared/policy/004_dcb78a5a5aa9b296.txt` § Contact with child (R1, R2) and
§ Participation in decision making (R9).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from ..models import Allocation, Child, Contact, ContactParticipant, ReturnVisit, User
from ..models.child import FIRST_NATIONS_STATUSES, INTERSTATE_RESIDENCES
from .caseload import qualifying_contact_condition
from .compliance import (
    CONTACT_INTERVAL_DAYS,
    CULTURAL_SUPPORT_ROLES,
    VisitStatus,
    child_compliance,
    gaps,
    month_ends,
    return_visit_status,
)

CULTURAL_PERIOD_DAYS = 90
VISIT_LOOKBACK_DAYS = 365


@dataclass(frozen=True)
class VisitRow:
    visit_id: uuid.UUID
    arrival_date: date
    departure_date: date
    status: str


@dataclass
class ComplianceRow:
    child_id: uuid.UUID
    external_id: str
    child_name: str
    practitioner_id: int | None
    practitioner_name: str | None
    practitioner_email: str | None
    last_contact_date: date | None
    due_date: date
    status: str
    days_overdue: int
    first_nations: bool
    cultural_support: (
        bool | None
    )  # None for children who are not Aboriginal or Torres Strait Islander
    return_visits: list[VisitRow] = field(default_factory=list)

    @property
    def return_visits_missed(self) -> int:
        """R2: return visits in the 12 months to the date asked about without a staff
        member's face-to-face contact (`004` § Contact with child)."""
        return sum(1 for visit in self.return_visits if visit.status == VisitStatus.missed.value)


def in_care_condition(on: date):
    return and_(
        Child.care_start_date <= on, or_(Child.care_end_date.is_(None), Child.care_end_date > on)
    )


def _last_qualifying(on: date):
    return (
        select(func.max(Contact.contact_date))
        .where(
            Contact.child_id == Child.id, qualifying_contact_condition(), Contact.contact_date <= on
        )
        .correlate(Child)
        .scalar_subquery()
    )


def _practitioner_on(on: date):
    """Who held the child on `on`, from the allocation history."""
    return (
        select(Allocation.practitioner_id)
        .where(
            Allocation.child_id == Child.id,
            Allocation.start_date <= on,
            or_(Allocation.end_date.is_(None), Allocation.end_date > on),
        )
        .order_by(Allocation.start_date.desc(), Allocation.id.desc())
        .limit(1)
        .correlate(Child)
        .scalar_subquery()
    )


def _cultural_support(on: date, period_days: int):
    """R9: an Aboriginal Community Worker or Aboriginal Practice Advisor took part in a submitted
    contact in the period."""
    took_part = exists(
        select(literal(1))
        .select_from(ContactParticipant)
        .join(Contact, Contact.id == ContactParticipant.contact_id)
        .where(
            Contact.child_id == Child.id,
            Contact.status == "submitted",
            Contact.contact_date > on - timedelta(days=period_days),
            Contact.contact_date <= on,
            ContactParticipant.role.in_(CULTURAL_SUPPORT_ROLES),
        )
        .correlate(Child)
    )
    return case((Child.aboriginal_status.in_(FIRST_NATIONS_STATUSES), took_part), else_=None)


def _staff_contact_in_visit(on: date):
    """R2's test of a return visit in SQL: a staff member's qualifying contact within it, made
    by `on` (the `staff_contact_dates` of `compliance.return_visit_status`)."""
    return and_(
        Contact.child_id == ReturnVisit.child_id,
        qualifying_contact_condition(),
        Contact.made_by == "practitioner",
        Contact.contact_date >= ReturnVisit.arrival_date,
        Contact.contact_date <= ReturnVisit.departure_date,
        Contact.contact_date <= on,
    )


def _missed_visits(on: date):
    """R2 in SQL: the child's return visits that ended in the 12 months to `on` with no staff
    contact within them (`compliance.return_visit_status` says `missed`; a visit still under
    way on `on` is pending, not missed). Interstate and boarding-school children only, as the
    rows show their visits."""
    missed = (
        select(func.count())
        .select_from(ReturnVisit)
        .where(
            ReturnVisit.child_id == Child.id,
            ReturnVisit.departure_date >= on - timedelta(days=VISIT_LOOKBACK_DAYS),
            ReturnVisit.departure_date < on,
            ~exists(select(literal(1)).where(_staff_contact_in_visit(on)).correlate(ReturnVisit)),
        )
        .correlate(Child)
        .scalar_subquery()
    )
    return case((Child.residence.in_(INTERSTATE_RESIDENCES), missed), else_=literal(0))


def missed_return_visits(
    session: Session, child_ids: list[uuid.UUID], on: date
) -> dict[uuid.UUID, int]:
    """Each child's return visits missed in the 12 months to `on` (R2, `004` § Contact with
    child), for the children that have any: the same SQL as the compliance report's."""
    if not child_ids:
        return {}
    missed = _missed_visits(on)
    return {
        child_id: count
        for child_id, count in session.execute(
            select(Child.id, missed).where(Child.id.in_(child_ids))
        )
        if count
    }


def _status_expression(anchor, as_of: date, due_soon_days: int):
    """R1 status in SQL. With due = anchor + 42 days, every comparison is of the anchor with a
    date computed here, so the same SQL runs on SQLite and PostgreSQL and uses no date
    arithmetic on columns. Must agree with `compliance.compliance_on` (the vectors and the
    property test hold both to it)."""
    overdue_before = as_of - timedelta(days=CONTACT_INTERVAL_DAYS)
    due_soon_until = overdue_before + timedelta(days=due_soon_days)
    return case(
        (anchor < overdue_before, literal("overdue")),
        (anchor <= due_soon_until, literal("due_soon")),
        else_=literal("on_track"),
    )


def _children_in_care(team_ids: list[int], as_of: date, current: bool):
    """One row per child in care on `as_of`: anchor (latest qualifying contact or care start)
    and practitioner on that date, as a subquery to filter, count or page.

    For today (`current`) the open allocation is the child's `practitioner_id`; the allocation
    history is read only for a past date.
    """
    last_contact = _last_qualifying(as_of)
    anchor = func.coalesce(last_contact, Child.care_start_date)
    practitioner = Child.practitioner_id if current else _practitioner_on(as_of)
    return (
        select(
            Child.id.label("child_id"),
            last_contact.label("last_contact"),
            anchor.label("anchor"),
            practitioner.label("practitioner_id"),
            _missed_visits(as_of).label("visits_missed"),
            Child.family_name,
            Child.given_name,
        )
        .where(Child.team_id.in_(team_ids or [-1]), in_care_condition(as_of))
        .subquery("in_care")
    )


def compliance_rows(
    session: Session,
    team_ids: list[int],
    as_of: date,
    due_soon_days: int,
    *,
    practitioner_id: int | None = None,
    status: str | None = None,
    visit_missed: bool = False,
    limit: int | None = None,
    offset: int = 0,
    current: bool = False,
    cultural_period_days: int = CULTURAL_PERIOD_DAYS,
) -> list[ComplianceRow]:
    """Children in care on `as_of` in the teams, most overdue first (earliest due date), with
    optional filters (`visit_missed`: only children with a return visit missed in the 12
    months to `as_of`) and paging done by the database."""
    base = _children_in_care(team_ids, as_of, current)
    status_sql = _status_expression(base.c.anchor, as_of, due_soon_days)
    query = (
        select(
            base.c.child_id,
            base.c.last_contact,
            base.c.practitioner_id,
            Child.external_id,
            Child.given_name,
            Child.preferred_name,
            Child.family_name,
            Child.care_start_date,
            Child.residence,
            Child.aboriginal_status,
            _cultural_support(as_of, cultural_period_days).label("cultural"),
        )
        .join(Child, Child.id == base.c.child_id)
        .order_by(base.c.anchor, Child.family_name, Child.given_name, Child.id)
        .offset(offset)
    )
    if practitioner_id is not None:
        query = query.where(base.c.practitioner_id == practitioner_id)
    if status:
        query = query.where(status_sql == status)
    if visit_missed:
        query = query.where(base.c.visits_missed > 0)
    if limit is not None:
        query = query.limit(limit)
    return _build_rows(session, session.execute(query).all(), as_of, due_soon_days)


def _build_rows(session: Session, records, as_of: date, due_soon_days: int) -> list[ComplianceRow]:
    users = {
        user.id: user
        for user in session.scalars(
            select(User).where(User.id.in_({r.practitioner_id for r in records} - {None}))
        )
    }
    visits = _return_visits(
        session, [r.child_id for r in records if r.residence in INTERSTATE_RESIDENCES], as_of
    )
    rows = []
    for record in records:
        result = child_compliance(record.last_contact, record.care_start_date, as_of, due_soon_days)
        user = users.get(record.practitioner_id)
        rows.append(
            ComplianceRow(
                child_id=record.child_id,
                external_id=record.external_id,
                child_name=f"{record.preferred_name or record.given_name} {record.family_name}",
                practitioner_id=record.practitioner_id,
                practitioner_name=user.name if user else None,
                practitioner_email=user.email if user else None,
                last_contact_date=record.last_contact,
                due_date=result.due_date,
                status=result.status.value,
                days_overdue=result.days_overdue,
                first_nations=record.aboriginal_status in FIRST_NATIONS_STATUSES,
                cultural_support=None if record.cultural is None else bool(record.cultural),
                return_visits=visits.get(record.child_id, []),
            )
        )
    return rows


def _return_visits(
    session: Session, child_ids: list[uuid.UUID], as_of: date
) -> dict[uuid.UUID, list[VisitRow]]:
    """R2: each return visit with whether a staff member's qualifying contact fell within it."""
    if not child_ids:
        return {}
    staff_contact = (
        select(func.min(Contact.contact_date))
        .where(_staff_contact_in_visit(as_of))
        .correlate(ReturnVisit)
        .scalar_subquery()
    )
    query = (
        select(
            ReturnVisit.id,
            ReturnVisit.child_id,
            ReturnVisit.arrival_date,
            ReturnVisit.departure_date,
            staff_contact.label("staff_contact"),
        )
        .where(
            ReturnVisit.child_id.in_(child_ids),
            ReturnVisit.departure_date >= as_of - timedelta(days=VISIT_LOOKBACK_DAYS),
        )
        .order_by(ReturnVisit.arrival_date)
    )
    result: dict[uuid.UUID, list[VisitRow]] = defaultdict(list)
    for visit in session.execute(query):
        contacts = [visit.staff_contact] if visit.staff_contact else []
        status = return_visit_status(visit.arrival_date, visit.departure_date, contacts, as_of)
        result[visit.child_id].append(
            VisitRow(visit.id, visit.arrival_date, visit.departure_date, status.value)
        )
    return result


@dataclass(frozen=True)
class PractitionerSummary:
    practitioner_id: int | None
    name: str
    children: int
    overdue: int
    due_soon: int
    on_track: int
    visits_missed: int = 0  # R2: return visits missed in the 12 months to the date asked about
    children_missed: int = 0  # children with at least one of them


@dataclass(frozen=True)
class TeamOverview:
    summaries: list[PractitionerSummary]
    matching: int
    rows: list[ComplianceRow]

    @property
    def visits_missed(self) -> int:
        return sum(summary.visits_missed for summary in self.summaries)

    @property
    def children_missed(self) -> int:
        return sum(summary.children_missed for summary in self.summaries)


def team_overview(
    session: Session,
    team_ids: list[int],
    as_of: date,
    due_soon_days: int,
    *,
    practitioner_id: int | None = None,
    status: str | None = None,
    visit_missed: bool = False,
    limit: int = 100,
    offset: int = 0,
    current: bool = False,
    cultural_period_days: int = CULTURAL_PERIOD_DAYS,
) -> TeamOverview:
    """The dashboard in one pass over the teams' children: each practitioner's counts and one
    page of rows, from a single statement whose per-child lookups run once (a materialised
    CTE read by both halves of a UNION ALL)."""
    base = _children_in_care(team_ids, as_of, current)
    assessed = (
        select(*base.c, _status_expression(base.c.anchor, as_of, due_soon_days).label("status"))
        .cte("assessed")
        .prefix_with("MATERIALIZED")
    )
    page = select(
        literal("row").label("kind"),
        assessed.c.child_id,
        assessed.c.practitioner_id,
        assessed.c.status,
        literal(0).label("n"),
        literal(0).label("visits"),
        literal(0).label("children_missed"),
    )
    if practitioner_id is not None:
        page = page.where(assessed.c.practitioner_id == practitioner_id)
    if status:
        page = page.where(assessed.c.status == status)
    if visit_missed:
        page = page.where(assessed.c.visits_missed > 0)
    page = (
        page.order_by(
            assessed.c.anchor, assessed.c.family_name, assessed.c.given_name, assessed.c.child_id
        )
        .limit(limit)
        .offset(offset)
        .subquery("page")
    )
    counts = select(
        literal("count").label("kind"),
        literal(None, type_=Child.id.type).label("child_id"),
        assessed.c.practitioner_id,
        assessed.c.status,
        func.count().label("n"),
        func.coalesce(func.sum(assessed.c.visits_missed), 0).label("visits"),
        func.count(case((assessed.c.visits_missed > 0, 1))).label("children_missed"),
    ).group_by(assessed.c.practitioner_id, assessed.c.status)
    result = session.execute(select(page).union_all(counts)).all()

    tallies: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    missed: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    visits: dict[int | None, int] = defaultdict(int)
    page_ids = []
    for kind, child_id, pid, child_status, number, visit_count, children_missed in result:
        if kind == "count":
            tallies[pid][child_status] += number
            missed[pid][child_status] += children_missed
            visits[pid] += visit_count
        else:
            page_ids.append(child_id)
    names = dict(
        session.execute(select(User.id, User.name).where(User.id.in_(set(tallies) - {None}))).all()
    )
    summaries = sorted(
        (
            PractitionerSummary(
                pid,
                names.get(pid, "Unallocated"),
                sum(c.values()),
                c["overdue"],
                c["due_soon"],
                c["on_track"],
                visits[pid],
                sum(missed[pid].values()),
            )
            for pid, c in tallies.items()
        ),
        key=lambda summary: (-summary.overdue, summary.name),
    )
    matching = sum(
        n
        for pid, by_status in (missed if visit_missed else tallies).items()
        for st, n in by_status.items()
        if (practitioner_id is None or pid == practitioner_id) and (status is None or st == status)
    )
    rows = []
    if page_ids:
        last_contact = _last_qualifying(as_of).label("last_contact")
        practitioner = Child.practitioner_id if current else _practitioner_on(as_of)
        records = session.execute(
            select(
                Child.id.label("child_id"),
                last_contact,
                practitioner.label("practitioner_id"),
                Child.external_id,
                Child.given_name,
                Child.preferred_name,
                Child.family_name,
                Child.care_start_date,
                Child.residence,
                Child.aboriginal_status,
                _cultural_support(as_of, cultural_period_days).label("cultural"),
            ).where(Child.id.in_(page_ids))
        ).all()
        order = {child_id: index for index, child_id in enumerate(page_ids)}
        records.sort(key=lambda record: order[record.child_id])
        rows = _build_rows(session, records, as_of, due_soon_days)
    return TeamOverview(summaries, matching, rows)


def status_counts(summaries: list[PractitionerSummary]) -> dict[str, int]:
    return {
        "overdue": sum(s.overdue for s in summaries),
        "due_soon": sum(s.due_soon for s in summaries),
        "on_track": sum(s.on_track for s in summaries),
    }


@dataclass(frozen=True)
class MonthPoint:
    month_end: date
    children_in_care: int
    not_overdue: int
    gaps: int

    @property
    def share_not_overdue(self) -> float | None:
        return self.not_overdue / self.children_in_care if self.children_in_care else None


def monthly_trend(
    session: Session, team_ids: list[int], as_of: date, months: int = 12
) -> list[MonthPoint]:
    """R1 period measures for the last `months` month ends (the current month so far).

    Share not overdue: a child in care on the month end is overdue when its latest qualifying
    contact (or care start) is more than 42 days before it — a comparison with a parameter, so
    each month is one aggregate over the team's children.
    Gaps: stretches longer than 42 days that ended or were open in the month.
    """
    ends = month_ends(as_of, months)
    points = []
    team_filter = Child.team_id.in_(team_ids or [-1])
    gap_counts = _gap_counts(session, team_filter, ends)
    for month_end in ends:
        cutoff = month_end - timedelta(days=CONTACT_INTERVAL_DAYS)
        anchor = func.coalesce(_last_qualifying(month_end), Child.care_start_date)
        total, overdue = session.execute(
            select(func.count(), func.coalesce(func.sum(case((anchor < cutoff, 1), else_=0)), 0))
            .select_from(Child)
            .where(team_filter, in_care_condition(month_end))
        ).one()
        points.append(MonthPoint(month_end, total, total - overdue, gap_counts[month_end]))
    return points


def _gap_counts(session: Session, team_filter, ends: list[date]) -> dict[date, int]:
    """Reads only the qualifying contact dates inside the window plus, per child, the latest one
    before it: bounded by the window, however long the children's histories are."""
    window_start = ends[0].replace(day=1)
    as_of = ends[-1]
    children = session.execute(
        select(
            Child.id,
            Child.care_start_date,
            Child.care_end_date,
            _last_qualifying(window_start - timedelta(days=1)).label("before"),
        ).where(
            team_filter,
            Child.care_start_date <= as_of,
            or_(Child.care_end_date.is_(None), Child.care_end_date >= window_start),
        )
    ).all()
    dates: dict[uuid.UUID, list[date]] = defaultdict(list)
    for child_id, contact_date in session.execute(
        select(Contact.child_id, Contact.contact_date)
        .join(Child, Child.id == Contact.child_id)
        .where(
            team_filter,
            qualifying_contact_condition(),
            Contact.contact_date >= window_start,
            Contact.contact_date <= as_of,
        )
    ):
        dates[child_id].append(contact_date)
    counts = {month_end: 0 for month_end in ends}
    for child in children:
        until = min(as_of, child.care_end_date) if child.care_end_date else as_of
        anchor_dates = dates[child.id] + ([child.before] if child.before else [])
        for gap in gaps(child.care_start_date, anchor_dates, until):
            if gap.end is None and child.care_end_date and child.care_end_date <= as_of:
                gap = type(gap)(gap.start, child.care_end_date)  # care ended: so did the gap
            for month_end in ends:
                if gap.touches(month_end.replace(day=1), month_end):
                    counts[month_end] += 1
    return counts
