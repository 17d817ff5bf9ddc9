"""Audit events (R8: every create, submit, addendum, view of a child and export is recorded;
SPEC §2: every out-of-scope request is recorded as `denied`).

Events are only ever added (SPEC §7): the database refuses to change or delete one (migration
0008_audit_append_only), and on PostgreSQL the app's role may only read and add them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ..models import AuditEvent
from ..models.base import utcnow


def event_row(
    *,
    user_id: int | None,
    action: str,
    object_type: str | None = None,
    object_id: object | None = None,
    outcome: str = "ok",
    ip: str | None = None,
    detail: dict | None = None,
) -> dict:
    """An audit event's columns, stamped now: for `record_event`, and for a caller that writes
    many events in one statement (a tablet's push)."""
    return {
        "at": utcnow(),
        "user_id": user_id,
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "outcome": outcome,
        "ip": ip,
        "detail": detail,
    }


def record_event(session: Session, **fields) -> AuditEvent:
    """Adds an audit event to the session; `fields` as `event_row` takes them."""
    event = AuditEvent(**event_row(**fields))
    session.add(event)
    return event
