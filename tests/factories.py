"""`gen_*` factories (CTFd style): each adds a valid record to a plain session and flushes.

Dates default to the organisation's "today" (SPEC §3), never the test machine's, so the suite
passes at any hour in any timezone."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from sqlalchemy.orm import Session

from fieldapp.config import DEFAULT_TIMEZONE
from fieldapp.models import (
    Agency,
    CasePlanGoalRecord,
    Child,
    Contact,
    GoalReview,
    ReturnVisit,
    Team,
    User,
)
from fieldapp.services.accounts import hash_password
from fieldapp.services.allocation import allocate
from fieldapp.services.clock import today_in
from fieldapp.services.permanency_records import refresh_permanency_mirror

PASSWORD = "correct horse battery"
_PASSWORD_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose; hash once per run
_counter = itertools.count(1)
TIMEZONE = DEFAULT_TIMEZONE  # every test app is built with this FIELDAPP_TIMEZONE


def org_today() -> date:
    """The organisation's date now (SPEC §3)."""
    return today_in(TIMEZONE)


def gen_agency(session: Session, name: str | None = None, kind: str = "government") -> Agency:
    agency = Agency(name=name or f"Agency {next(_counter)}", kind=kind)
    session.add(agency)
    session.flush()
    return agency


def gen_team(session: Session, name: str | None = None, agency: Agency | None = None) -> Team:
    team = Team(name=name or f"Team {next(_counter)}", agency=agency or gen_agency(session))
    session.add(team)
    session.flush()
    return team


def gen_user(
    session: Session,
    role: str = "practitioner",
    team: Team | None = None,
    email: str | None = None,
    name: str | None = None,
    **fields,
) -> User:
    number = next(_counter)
    teams = [team] if team is not None else []
    user = User(
        email=email or f"user{number}@example.org",
        name=name or f"User {number}",
        role=role,
        password_hash=_PASSWORD_HASH,
        teams=teams,
        agency=team.agency if team is not None else fields.pop("agency", None),
        **fields,
    )
    session.add(user)
    session.flush()
    return user


def gen_child(
    session: Session,
    team: Team,
    practitioner: User | None = None,
    care_start_date: date | None = None,
    **fields,
) -> Child:
    number = next(_counter)
    care_start = care_start_date or org_today() - timedelta(days=365)
    child = Child(
        external_id=fields.pop("external_id", f"EXT-{number}"),
        given_name=fields.pop("given_name", f"Child{number}"),
        family_name=fields.pop("family_name", "Tester"),
        date_of_birth=fields.pop("date_of_birth", care_start - timedelta(days=3000)),
        care_start_date=care_start,
        team=team,
        primary_agency=fields.pop("primary_agency", team.agency),
        **fields,
    )
    session.add(child)
    session.flush()
    if practitioner is not None:
        allocate(session, child, practitioner, care_start)
    return child


def gen_contact(session: Session, child: Child, author: User, **fields) -> Contact:
    values = dict(
        status="submitted",
        contact_date=org_today() - timedelta(days=3),
        mode="face_to_face",
        made_by="practitioner",
        child_seen=True,
        child_views="I am fine.",
        views_method="conversation",
    )
    values.update(fields)
    contact = Contact(child=child, author_id=author.id, **values)
    session.add(contact)
    session.flush()
    return contact


def gen_return_visit(session: Session, child: Child, author: User, **fields) -> ReturnVisit:
    arrival = fields.pop("arrival_date", org_today() - timedelta(days=10))
    visit = ReturnVisit(
        child=child,
        created_by_id=author.id,
        arrival_date=arrival,
        departure_date=fields.pop("departure_date", arrival + timedelta(days=5)),
        **fields,
    )
    session.add(visit)
    session.flush()
    return visit


def gen_goal(
    session: Session, child: Child, goal: str = "restoration", **fields
) -> CasePlanGoalRecord:
    """A case plan goal in the child's history, mirrored onto the child as the goal in force."""
    record = CasePlanGoalRecord(
        child_id=child.id,
        goal=goal,
        date_set=fields.pop("date_set", org_today() - timedelta(days=30)),
        reason=fields.pop("reason", "Set at the case plan meeting."),
        **fields,
    )
    session.add(record)
    refresh_permanency_mirror(session, child, org_today())
    return record


def gen_review(session: Session, child: Child, goal: CasePlanGoalRecord, **fields) -> GoalReview:
    """A review of `goal`, mirrored onto the child when it is of the goal in force."""
    review = GoalReview(
        child_id=child.id,
        goal_id=goal.id,
        review_date=fields.pop("review_date", org_today() - timedelta(days=1)),
        progress=fields.pop("progress", "on_track"),
        recommendation=fields.pop("recommendation", "Continue the plan."),
        **fields,
    )
    session.add(review)
    refresh_permanency_mirror(session, child, org_today())
    return review
