"""The team leader's acknowledgement queue: submitted contacts not yet read and signed off."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..access import contact_or_404, require_role, session
from ..services import contacts as contact_service
from ..services.errors import Forbidden, ValidationError

bp = Blueprint("acknowledgements", __name__)

PAGE_SIZE = 50


def _page_number() -> int:
    raw = request.args.get("page", "1").strip() or "1"
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 100_000:
        return 1
    return int(raw)


@bp.get("/team/acknowledgements")
@login_required
def index():
    require_role("team_leader")
    page = _page_number()
    queue = contact_service.acknowledgement_queue(
        session(), current_user, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
    )
    return render_template(
        "team/acknowledgements.html",
        queue=queue,
        page=page,
        pages=max(1, -(-queue.total // PAGE_SIZE)),
        first=(page - 1) * PAGE_SIZE + 1,
    )


@bp.post("/team/acknowledgements/<uuid:contact_id>")
@login_required
def acknowledge(contact_id: uuid.UUID):
    contact = contact_or_404(contact_id)
    require_role("team_leader")
    try:
        contact_service.acknowledge_contact(session(), current_user, contact)
    except (Forbidden, ValidationError) as exc:
        session().rollback()
        flash(contact_service.acknowledgement_refusal(exc), "error")
        return redirect(url_for("acknowledgements.index"))
    session().commit()
    flash(
        f"Acknowledged {contact.child.display_name}'s contact of "
        f"{contact.contact_date:%d/%m/%Y} by {contact.author.name}."
    )
    return redirect(url_for("acknowledgements.index"))
