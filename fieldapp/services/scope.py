"""Who may see what (SPEC §2). The one place that decides scope: every query for a child or a
record of a child starts from these selects, never from hidden links."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session

from ..models import Child, Contact, Role, Team, User


def visible_children(user: User) -> Select[tuple[Child]]:
    """Children the user may open.

    - practitioner: their caseload (children currently allocated to them);
    - team leader: every child of their teams;
    - coordinator: children of their agency's teams, and those their agency holds primary case
      responsibility for (permanency data only; see `can_read_case_notes`);
    - admin: none (admins manage accounts, not case content).
    """
    query = select(Child)
    if user.role == Role.practitioner.value:
        return query.where(Child.practitioner_id == user.id)
    if user.role == Role.team_leader.value:
        return query.where(Child.team_id.in_(user.team_ids or [-1]))
    if user.role == Role.coordinator.value and user.agency_id is not None:
        agency_teams = select(Team.id).where(Team.agency_id == user.agency_id)
        return query.where(
            or_(Child.team_id.in_(agency_teams), Child.primary_agency_id == user.agency_id)
        )
    return query.where(false())


def can_read_case_notes(user: User) -> bool:
    """Coordinators see permanency data, not contact narratives (SPEC §2)."""
    return user.role in (Role.practitioner.value, Role.team_leader.value)


def visible_contacts(user: User) -> Select[tuple[Contact]]:
    """Contacts of visible children. A draft is its author's work in progress: only its author
    and the team leader see it."""
    return select(Contact).where(*contact_visibility(user))


def contact_visibility(user: User) -> list[ColumnElement[bool]]:
    """The conditions on a contact (or a query joined to one) that `visible_contacts` applies."""
    if not can_read_case_notes(user):
        return [false()]
    children = visible_children(user).with_only_columns(Child.id)
    conditions = [Contact.child_id.in_(children)]
    if not sees_all_drafts(user):
        conditions.append(or_(Contact.status == "submitted", Contact.author_id == user.id))
    return conditions


def sees_all_drafts(user: User) -> bool:
    """A draft is its author's work in progress: besides its author, only the team leader sees
    it (and learns that it was deleted)."""
    return user.role == Role.team_leader.value


def find_child(session: Session, user: User, child_id: uuid.UUID) -> Child | None:
    return session.scalar(visible_children(user).where(Child.id == child_id))


def find_contact(session: Session, user: User, contact_id: uuid.UUID) -> Contact | None:
    return session.scalar(visible_contacts(user).where(Contact.id == contact_id))


# Who records which permanency record (SPEC §2), for children already in their scope. The team
# leader is the delegated decision-maker for goals (`002` § Approving changes to case plan
# goals); coordinators record reviews, consultations and cohort reviews, and decide goals only
# in the pilot that makes them the decision-maker (FIELDAPP_COORDINATORS_DECIDE_GOALS=1).
PERMANENCY_RECORDERS: dict[str, frozenset[str]] = {
    "goal": frozenset({Role.team_leader.value}),
    "review": frozenset({Role.coordinator.value}),
    "consultation": frozenset({Role.coordinator.value}),
    "cohort_review": frozenset({Role.coordinator.value}),
    "request": frozenset({Role.practitioner.value, Role.team_leader.value}),
    "cultural_consultation": frozenset({Role.team_leader.value, Role.coordinator.value}),
    "transfer": frozenset({Role.team_leader.value}),
    "retention": frozenset({Role.team_leader.value}),
    "extension": frozenset({Role.team_leader.value}),
    "youth_justice": frozenset({Role.practitioner.value, Role.team_leader.value}),
}


def may_record(user: User, what: str, *, coordinators_decide: bool = False) -> bool:
    if what == "goal" and coordinators_decide and user.role == Role.coordinator.value:
        return True
    return user.role in PERMANENCY_RECORDERS[what]
