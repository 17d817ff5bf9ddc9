"""Sync conflicts and records waiting for review, for the team leader (SPEC §4)."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..access import audit, deny, require_role, session, today
from ..models import Child, Contact, User
from ..services import review, scope, sync
from ..services.errors import Forbidden, ValidationError

bp = Blueprint("sync_issues", __name__)


@bp.get("/team/sync-issues")
@login_required
def index():
    require_role("team_leader", "practitioner")
    conflicts = sync.conflicts_for(session(), current_user)
    items = sync.review_items_for(session(), current_user)
    resolved = sync.resolved_conflicts_for(session(), current_user)
    all_conflicts = conflicts + [r.conflict for r in resolved]
    children, contacts = _named(
        current_user,
        {c.child_id for c in all_conflicts} | {i.child_id for i in items},
        {c.record_id for c in all_conflicts if c.record_type == "contact"},
    )
    audit("view", "sync_issues", None)
    session().commit()
    return render_template(
        "team/sync_issues.html",
        conflicts=conflicts,
        items=items,
        resolved=resolved,
        children=children,
        contacts=contacts,
    )


def _named(user: User, child_ids: set, contact_ids: set) -> tuple[dict, dict]:
    """Which child and which contact each issue is about, as far as the user may see them: a
    child who has left the user's scope stays unnamed (SPEC §2)."""
    children = {
        child.id: child
        for child in session().scalars(
            scope.visible_children(user).where(Child.id.in_(child_ids or [None]))
        )
    }
    contacts = {
        contact.id: contact
        for contact in session().scalars(
            scope.visible_contacts(user).where(Contact.id.in_(contact_ids or [None]))
        )
    }
    return children, contacts


@bp.post("/team/sync-issues/conflicts/<uuid:conflict_id>/resolve")
@login_required
def resolve(conflict_id: uuid.UUID):
    require_role("team_leader", "practitioner")
    try:
        conflict = sync.resolve_conflict(session(), current_user, conflict_id)
    except Forbidden:
        deny("sync_conflict", conflict_id)
    audit("resolve", "sync_conflict", conflict.id)
    session().commit()
    flash("Conflict marked resolved. Both texts stay on record.")
    return redirect(url_for("sync_issues.index"))


@bp.post("/team/sync-issues/review/<uuid:item_id>/<any(accept, decline):decision>")
@login_required
def decide(item_id: uuid.UUID, decision: str):
    require_role("team_leader")
    if not any(item.id == item_id for item in sync.review_items_for(session(), current_user)):
        deny("sync_review_item", item_id)
    try:
        if decision == "accept":
            review.accept_review_item(session(), current_user, item_id, today())
        else:
            review.decline_review_item(session(), current_user, item_id)
    except (Forbidden, ValidationError) as exc:
        session().rollback()
        message = (
            str(exc)
            if isinstance(exc, Forbidden)
            else "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.errors.items())
        )
        flash(f"Could not {decision}: {message}", "error")
        return redirect(url_for("sync_issues.index"))
    session().commit()
    flash(
        "Filed on the child's record."
        if decision == "accept"
        else "Declined; the record is kept here."
    )
    return redirect(url_for("sync_issues.index"))
