"""The team leader's caseload (their team's children) and the child page on the server.

A practitioner's `/` and `/children/<id>` open the offline app's screens instead (its shell
routes on the client): practitioners have one app, online or offline."""

from __future__ import annotations

import uuid

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..access import audit, child_or_404, session, today, works_in_the_app
from ..forms import select_choices
from ..models import Contact, ReturnVisit
from ..permanency.child import section as permanency_section
from ..services import contacts as contact_service
from ..services import scope
from ..services.allocation import eligible_practitioners
from ..services.caseload import caseload, last_qualifying_contact_dates
from ..services.compliance import child_compliance, in_care_on
from ..services.compliance_report import missed_return_visits
from ..team.forms import ReallocateForm
from ..web import app_shell

bp = Blueprint("caseload", __name__)


@bp.get("/")
@login_required
def index():
    if works_in_the_app():
        return app_shell()
    if current_user.role == "admin":
        return redirect(url_for("admin.users"))
    if current_user.role == "coordinator":
        # Coordinators work on permanency, not caseloads (SPEC §2).
        return redirect(url_for("permanency_dashboard.page"))
    rows = caseload(
        session(),
        scope.visible_children(current_user),
        today(),
        current_app.config["FIELDAPP_DUE_SOON_DAYS"],
    )
    waiting = contact_service.acknowledgement_queue(session(), current_user, limit=0).total
    # R2 beside R1: a child on track for contact may still have missed a return visit.
    missed = missed_return_visits(
        session(), [row.child.id for row in rows if row.compliance], today()
    )
    return render_template(
        "caseload/index.html",
        rows=rows,
        missed=missed,
        heading="My team's children",
        today=today(),
        to_acknowledge=waiting,
    )


@bp.get("/children/<uuid:child_id>")
@login_required
def child(child_id: uuid.UUID):
    child = child_or_404(child_id)
    if works_in_the_app():
        return app_shell()
    db_session = session()
    can_read_notes = scope.can_read_case_notes(current_user)
    contacts, visits = [], []
    if can_read_notes:
        contacts = list(
            db_session.scalars(
                scope.visible_contacts(current_user)
                .where(Contact.child_id == child.id)
                .order_by(Contact.contact_date.desc().nulls_first(), Contact.created_at.desc())
            )
        )
        visits = list(
            db_session.scalars(
                select(ReturnVisit)
                .where(ReturnVisit.child_id == child.id)
                .order_by(ReturnVisit.arrival_date.desc())
            )
        )
    last = last_qualifying_contact_dates(db_session, [child.id]).get(child.id)
    in_care = in_care_on(child.care_start_date, child.care_end_date, today())
    compliance = (
        child_compliance(
            last, child.care_start_date, today(), current_app.config["FIELDAPP_DUE_SOON_DAYS"]
        )
        if in_care
        else None
    )
    reallocate_form = None
    if current_user.role == "team_leader":
        reallocate_form = ReallocateForm()
        reallocate_form.practitioner_id.choices = select_choices(
            (user.id, user.name)
            for user in eligible_practitioners(db_session, child)
            if user.id != child.practitioner_id
        )
    permanency = permanency_section(db_session, current_user, child, today())
    audit("view", "child", child.id)
    db_session.commit()
    return render_template(
        "caseload/child.html",
        child=child,
        contacts=contacts,
        visits=visits,
        last_contact=last,
        compliance=compliance,
        in_care=in_care,
        can_read_notes=can_read_notes,
        can_record=current_user.role == "team_leader",
        reallocate_form=reallocate_form,
        permanency=permanency,
        today=today(),
    )
