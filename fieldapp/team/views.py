"""Team leader actions: reallocating a child within the team."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user, login_required

from ..access import child_or_404, require_role, session, today
from ..services.allocation import reallocate
from ..services.errors import Forbidden, ValidationError
from .forms import ReallocateForm

bp = Blueprint("team", __name__)


@bp.post("/children/<uuid:child_id>/reallocate")
@login_required
def reallocate_child(child_id: uuid.UUID):
    child = child_or_404(child_id)
    require_role("team_leader")
    form = ReallocateForm()
    form.validate()
    try:
        reallocate(
            session(),
            current_user,
            child,
            form.practitioner_id.data or 0,
            today(),
            form.reason.data or "",
        )
    except ValidationError as exc:
        session().rollback()
        for field, messages in exc.errors.items():
            label = "New practitioner" if field == "practitioner_id" else "Reason"
            for message in messages:
                flash(f"{label}: {message}", "error")
        return redirect(url_for("caseload.child", child_id=child.id))
    except Forbidden as exc:
        session().rollback()
        flash(str(exc), "error")
        return redirect(url_for("caseload.child", child_id=child.id))
    session().commit()
    flash(f"{child.display_name} is now allocated to {child.practitioner.name}.")
    return redirect(url_for("caseload.child", child_id=child.id))
