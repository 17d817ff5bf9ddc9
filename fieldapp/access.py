"""Request helpers shared by the blueprints: the request's session, the organisation's today,
and loading records through the scope helper, answering 404 with a `denied` audit event."""

from __future__ import annotations

import uuid
from typing import NoReturn

from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy.orm import Session

from .extensions import db
from .models import Child, Contact
from .services import scope
from .services.audit import record_event
from .services.clock import today_in


def session() -> Session:
    return db.session


def today():
    return today_in(current_app.config["FIELDAPP_TIMEZONE"])


def client_ip() -> str | None:
    return request.remote_addr


def audit(
    action: str,
    object_type: str | None = None,
    object_id=None,
    outcome: str = "ok",
    detail: dict | None = None,
) -> None:
    user_id = current_user.id if current_user.is_authenticated else None
    record_event(
        db.session,
        user_id=user_id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        outcome=outcome,
        ip=client_ip(),
        detail=detail,
    )


def deny(object_type: str, object_id) -> NoReturn:
    """Out of scope looks exactly like missing (SPEC §2), and is recorded."""
    db.session.rollback()
    audit("access", object_type, object_id, outcome="denied", detail={"path": request.path})
    db.session.commit()
    abort(404)


def child_or_404(child_id: uuid.UUID) -> Child:
    child = scope.find_child(db.session, current_user, child_id)
    if child is None:
        deny("child", child_id)
    return child


def contact_or_404(contact_id: uuid.UUID) -> Contact:
    contact = scope.find_contact(db.session, current_user, contact_id)
    if contact is None:
        deny("contact", contact_id)
    return contact


def require_role(*roles: str) -> None:
    if current_user.role not in roles:
        audit("access", outcome="denied", detail={"path": request.path})
        db.session.commit()
        abort(404)


def signed_in_user(user) -> dict:
    """The signed-in user as the JSON sign-in and /api/me give it (SPEC §4). The tablet reads
    `must_change_password` to send a user with a temporary password to /account/password
    before it opens or creates anything on the device with that password."""
    return {
        "id": user.id,
        "name": user.name,
        "role": user.role,
        "must_change_password": bool(user.must_change_password),
    }


def works_in_the_app() -> bool:
    """Practitioners have one app, the offline one (SPEC §5 Pages): their caseload, child and
    contact pages are its screens, and their online-only forms lead back to it."""
    return current_user.role == "practitioner"
