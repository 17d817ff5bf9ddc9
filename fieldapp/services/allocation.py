"""Allocation of children to practitioners, with history (who held each child from when to
when). Team leaders reallocate within their team (SPEC §2)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Allocation, Child, Role, User
from .audit import record_event
from .errors import Forbidden, ValidationError


def allocate(
    session: Session,
    child: Child,
    practitioner: User,
    on: date,
    *,
    by: User | None = None,
    reason: str | None = None,
) -> Allocation:
    """Ends the current allocation (if any) on `on` and opens a new one from `on`."""
    current = session.scalar(
        select(Allocation).where(Allocation.child_id == child.id, Allocation.end_date.is_(None))
    )
    if current is not None:
        current.end_date = on
    allocation = Allocation(
        child=child,
        practitioner_id=practitioner.id,
        start_date=on,
        allocated_by_id=by.id if by else None,
        reason=reason,
    )
    session.add(allocation)
    child.practitioner_id = practitioner.id
    child.version += 1
    session.flush()
    return allocation


def eligible_practitioners(session: Session, child: Child) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(User.role == Role.practitioner.value, User.active.is_(True))
            .where(User.teams.any(id=child.team_id))
            .order_by(User.name)
        )
    )


def reallocate(
    session: Session, leader: User, child: Child, practitioner_id: int, on: date, reason: str
) -> Allocation:
    """A team leader moves a child of their team to another practitioner of the same team."""
    if leader.role != Role.team_leader.value or child.team_id not in leader.team_ids:
        raise Forbidden("Only the child's team leader can reallocate the child.")
    practitioner = session.get(User, practitioner_id)
    eligible = {user.id for user in eligible_practitioners(session, child)}
    if practitioner is None or practitioner.id not in eligible:
        raise ValidationError({"practitioner_id": ["Choose a practitioner of the child's team."]})
    if practitioner.id == child.practitioner_id:
        raise ValidationError({"practitioner_id": ["The child is already allocated to them."]})
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Give the reason for the reallocation."]})
    allocation = allocate(session, child, practitioner, on, by=leader, reason=reason.strip())
    record_event(
        session,
        user_id=leader.id,
        action="reallocate",
        object_type="child",
        object_id=child.id,
        detail={"to_practitioner_id": practitioner.id},
    )
    return allocation


def was_allocated_on(session: Session, child_id, practitioner_id: int, on: date) -> bool:
    """Whether the practitioner held the child on that date (used for offline contacts of a child
    who has since left the caseload, SPEC §4)."""
    return (
        session.scalar(
            select(Allocation.id)
            .where(
                Allocation.child_id == child_id,
                Allocation.practitioner_id == practitioner_id,
                Allocation.start_date <= on,
                (Allocation.end_date.is_(None)) | (Allocation.end_date >= on),
            )
            .limit(1)
        )
        is not None
    )
