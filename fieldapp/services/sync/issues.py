"""What sync could not settle on its own: field conflicts and records waiting for a team
leader's review, each found by a scoped query."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...models import (
    AuditEvent,
    Child,
    Contact,
    Role,
    SyncConflict,
    SyncReviewItem,
    User,
)
from ...models.base import utcnow
from .. import scope
from ..errors import Forbidden


def conflicts_for(
    session: Session, user: User, include_resolved: bool = False
) -> list[SyncConflict]:
    """A practitioner's own conflicts; a team leader's team's."""
    query = select(SyncConflict).order_by(SyncConflict.created_at.desc())
    if user.role == Role.team_leader.value:
        children = scope.visible_children(user).with_only_columns(Child.id)
        query = query.where(
            or_(SyncConflict.child_id.in_(children), SyncConflict.user_id == user.id)
        )
    else:
        query = query.where(SyncConflict.user_id == user.id)
    if not include_resolved:
        query = query.where(SyncConflict.resolved_at.is_(None))
    return list(session.scalars(query))


def review_items_for(session: Session, user: User) -> list[SyncReviewItem]:
    query = (
        select(SyncReviewItem)
        .where(SyncReviewItem.resolved_at.is_(None))
        .order_by(SyncReviewItem.created_at)
    )
    if user.role == Role.team_leader.value:
        return list(
            session.scalars(
                query.where(
                    or_(
                        SyncReviewItem.team_id.in_(user.team_ids or [-1]),
                        SyncReviewItem.user_id == user.id,
                    )
                )
            )
        )
    return list(session.scalars(query.where(SyncReviewItem.user_id == user.id)))


def resolve_conflict(session: Session, user: User, conflict_id: uuid.UUID) -> SyncConflict:
    conflict = next((c for c in conflicts_for(session, user) if c.id == conflict_id), None)
    if conflict is None:
        raise Forbidden("No such open conflict.")
    conflict.resolved_at = utcnow()
    conflict.resolved_by_id = user.id
    return conflict


CHOICE_TEXT = {
    "mine": "kept the words from the tablet",
    "server": "kept the server's text",
    "merged": "merged the two texts",
    "marked": "marked it resolved",
}


@dataclass
class Resolution:
    """A resolved conflict as the pages show it: both texts, what was chosen, by whom, when."""

    conflict: SyncConflict
    choice: str  # mine | server | merged | marked
    by: str
    at: datetime
    text_now: str | None  # the field as the record holds it now (the merged text, if unchanged)

    @property
    def choice_text(self) -> str:
        return CHOICE_TEXT.get(self.choice, self.choice)


def resolved_conflicts_for(session: Session, user: User, limit: int = 50) -> list[Resolution]:
    """The most recently resolved conflicts of children the user still sees (a practitioner's
    own; a team leader's team's), newest first, with the choice recorded when each was closed.
    A child that has left the user's scope takes its conflicts' texts with it (SPEC §2)."""
    query = select(SyncConflict).where(
        SyncConflict.resolved_at.is_not(None),
        SyncConflict.child_id.in_(scope.visible_children(user).with_only_columns(Child.id)),
    )
    if user.role != Role.team_leader.value:
        query = query.where(SyncConflict.user_id == user.id)
    resolved = list(session.scalars(query.order_by(SyncConflict.resolved_at.desc()).limit(limit)))
    if not resolved:
        return []
    events = {
        event.object_id: event
        for event in session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "resolve_conflict",
                AuditEvent.object_type == "sync_conflict",
                AuditEvent.object_id.in_([str(c.id) for c in resolved]),
            )
        )
    }
    names = dict(
        session.execute(
            select(User.id, User.name).where(User.id.in_({c.resolved_by_id for c in resolved}))
        ).all()
    )
    contacts = {
        contact.id: contact
        for contact in session.scalars(
            scope.visible_contacts(user).where(
                Contact.id.in_([c.record_id for c in resolved if c.record_type == "contact"])
            )
        )
    }
    out = []
    for conflict in resolved:
        event = events.get(str(conflict.id))
        contact = contacts.get(conflict.record_id)
        now = getattr(contact, conflict.field, None) if contact is not None else None
        out.append(
            Resolution(
                conflict=conflict,
                choice=(event.detail or {}).get("choice", "marked") if event else "marked",
                by=names.get(conflict.resolved_by_id, "—"),
                at=conflict.resolved_at,
                text_now=now if isinstance(now, str) else None,
            )
        )
    return out
