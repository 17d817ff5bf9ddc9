"""The team leader's side of sync: conflicts to resolve and records waiting for review
(SPEC §4: "shown to both authors and their team leader"; "never dropped")."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from ..models import Child, SyncReviewItem, User
from ..models.base import utcnow
from . import sync
from .audit import record_event
from .errors import Forbidden, ValidationError
from .sync_records import parse_contact_data, parse_return_visit_data


def _open_item(session: Session, leader: User, item_id: uuid.UUID) -> SyncReviewItem:
    if leader.role != "team_leader":
        raise Forbidden("Only team leaders review these records.")
    item = next((i for i in sync.review_items_for(session, leader) if i.id == item_id), None)
    if item is None or item.team_id not in leader.team_ids:
        raise Forbidden("No such record waiting for review.")
    return item


def accept_review_item(session: Session, leader: User, item_id: uuid.UUID, today: date) -> None:
    """Stores the record as its author made it, on the child's file."""
    from .contacts import record_return_visit, save_contact

    item = _open_item(session, leader, item_id)
    child = session.get(Child, item.child_id)
    author = session.get(User, item.user_id)
    data = item.payload.get("data") or {}
    if item.record_type == "contact":
        values, errors = parse_contact_data(data)
        if errors:
            raise ValidationError(errors)
        # Recorded by the author, so it stays theirs even though they no longer hold the child.
        save_contact(
            session,
            author,
            child,
            values,
            today,
            submit=data.get("status") == "submitted",
            contact_id=item.record_id,
        )
    elif item.record_type == "return_visit":
        values, errors = parse_return_visit_data(data)
        if errors:
            raise ValidationError(errors)
        record_return_visit(session, author, child, values, visit_id=item.record_id)
    item.resolved_at, item.resolved_by_id, item.outcome = utcnow(), leader.id, "accepted"
    record_event(
        session,
        user_id=leader.id,
        action="review_accept",
        object_type=item.record_type,
        object_id=item.record_id,
        detail={"child_id": str(item.child_id)},
    )


def decline_review_item(session: Session, leader: User, item_id: uuid.UUID) -> None:
    """Marks it seen and not filed. The item and its text stay in the database."""
    item = _open_item(session, leader, item_id)
    item.resolved_at, item.resolved_by_id, item.outcome = utcnow(), leader.id, "declined"
    record_event(
        session,
        user_id=leader.id,
        action="review_decline",
        object_type=item.record_type,
        object_id=item.record_id,
        detail={"child_id": str(item.child_id)},
    )
