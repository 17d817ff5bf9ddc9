"""Administration: users, teams, importing children, devices and the audit log. Admins manage
accounts; they never see case content (SPEC §2)."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..access import deny, require_role, session, today
from ..forms import select_choices
from ..models import AuditEvent, Device, DeviceHolding, Team, User
from ..services import accounts, review
from ..services.children_import import ImportFailed
from ..services.children_import import import_children as run_import
from ..services.errors import Forbidden, ValidationError
from .forms import ImportForm, TeamForm, UserForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _admins_only():
    require_role("admin")


def _team_choices():
    return select_choices(
        (team.name, f"{team.name} ({team.agency.name})")
        for team in session().scalars(select(Team).order_by(Team.name))
    )


@bp.route("/users", methods=["GET", "POST"])
def users():
    form = UserForm()
    form.teams.choices = _team_choices()
    errors: dict[str, list[str]] = {}
    if form.is_submitted():
        try:
            user = accounts.create_user(
                session(),
                email=form.email.data or "",
                name=form.name.data or "",
                role=form.role.data or "",
                password=form.password.data or "",
                team_names=form.teams.data or [],
            )
        except ValidationError as exc:
            session().rollback()
            errors = {"teams" if key == "team" else key: value for key, value in exc.errors.items()}
        else:
            from ..access import audit

            audit("create", "user", user.id)
            session().commit()
            flash(f"Created {user.email}.")
            return redirect(url_for("admin.users"))
    all_users = session().scalars(select(User).order_by(User.name)).all()
    return render_template("admin/users.html", users=all_users, form=form, errors=errors), (
        422 if errors else 200
    )


@bp.route("/teams", methods=["GET", "POST"])
def teams():
    form = TeamForm()
    errors: dict[str, list[str]] = {}
    if form.is_submitted():
        try:
            team = accounts.create_team(
                session(),
                form.name.data or "",
                form.agency.data or "",
                form.agency_kind.data or "government",
            )
        except ValidationError as exc:
            session().rollback()
            errors = exc.errors
        else:
            session().commit()
            flash(f"Created team {team.name}.")
            return redirect(url_for("admin.teams"))
    all_teams = session().scalars(select(Team).order_by(Team.name)).all()
    return render_template("admin/teams.html", teams=all_teams, form=form, errors=errors), (
        422 if errors else 200
    )


@bp.route("/import", methods=["GET", "POST"])
def import_children():
    form = ImportForm()
    row_errors = []
    errors: dict[str, list[str]] = {}
    result = None
    if form.is_submitted():
        upload = form.file.data
        if not upload or not getattr(upload, "filename", ""):
            errors["file"] = ["Choose a CSV file to import."]
        else:
            try:
                text = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                errors["file"] = [
                    "The file is not UTF-8 text. Export it from the old system as CSV (UTF-8)."
                ]
            else:
                try:
                    result = run_import(session(), text, today(), current_user.id)
                except ImportFailed as failure:
                    session().rollback()
                    row_errors = failure.errors
                else:
                    session().commit()
    status = 422 if (errors or row_errors) else 200
    return render_template(
        "admin/import.html", form=form, errors=errors, row_errors=row_errors, result=result
    ), status


@bp.get("/devices")
def devices():
    rows = session().scalars(select(Device).order_by(Device.registered_at.desc())).all()
    held = dict(
        session()
        .execute(
            select(DeviceHolding.device_id, func.count())
            .where(DeviceHolding.removed_in.is_(None))
            .group_by(DeviceHolding.device_id)
        )
        .all()
    )
    return render_template("admin/devices.html", devices=rows, held=held)


@bp.post("/devices/<uuid:device_id>/revoke")
def revoke_device(device_id: uuid.UUID):
    try:
        device = review.revoke_device(session(), current_user, device_id)
    except Forbidden:
        deny("device", device_id)
    session().commit()
    flash(f"{device.name} is revoked: it will wipe its data the next time it syncs.")
    return redirect(url_for("admin.devices"))


@bp.get("/audit")
def audit_log():
    events = session().scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(200)).all()
    return render_template("admin/audit.html", events=events)
