"""Administration: users, teams, importing children, devices and the audit log. Admins manage
accounts; they never see case content (SPEC §2)."""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, logout_user
from sqlalchemy import select

from ..access import audit, client_ip, deny, require_role, session, today
from ..csv_export import csv_response
from ..forms import select_choices
from ..models import Team, User
from ..services import accounts, user_admin
from ..services.audit_log import PAGE_SIZE, AuditFilters, audit_page, export_rows
from ..services.children_import import ImportFailed
from ..services.children_import import import_children as run_import
from ..services.clock import local_time
from ..services.devices import device_rows
from ..services.errors import Forbidden, ValidationError
from ..services.sync import devices as sync_devices
from .forms import (
    AuditFilterForm,
    ImportForm,
    TeamForm,
    TemporaryPasswordForm,
    UserEditForm,
    UserForm,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _admins_only():
    require_role("admin")


@bp.context_processor
def _account_helpers():
    return {"roles": user_admin.ROLE_LABELS, "is_locked": user_admin.is_locked}


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
            # The admin chose this password, so it is a temporary one (ASVS 2.3.1): the user
            # sets their own at the first sign-in.
            user.must_change_password = True
            audit("create", "user", user.id)
            session().commit()
            flash(f"Created {user.email}. They choose their own password when they first sign in.")
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
    return render_template("admin/devices.html", rows=device_rows(session()))


@bp.post("/devices/<uuid:device_id>/revoke")
def revoke_device(device_id: uuid.UUID):
    try:
        device = sync_devices.revoke_device(session(), current_user, device_id)
    except Forbidden:
        deny("device", device_id)
    session().commit()
    flash(f"{device.user.name}'s tablet is revoked: it wipes its data the next time it syncs.")
    return redirect(url_for("admin.devices"))


# ---------------------------------------------------------------- one account


def _whole_number(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 9:
        return int(raw)
    return None


def _account() -> User:
    """The account named by `?id=` (an admin sees every account; an unknown one is 404)."""
    user_id = _whole_number(request.args.get("id"))
    user = user_admin.find_user(session(), user_id) if user_id is not None else None
    if user is None:
        abort(404)
    return user


def _actor() -> user_admin.Actor:
    return user_admin.Actor(current_user, client_ip())


def _render_account(
    user: User,
    *,
    edit_form: UserEditForm | None = None,
    password_form: TemporaryPasswordForm | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
):
    if edit_form is None:
        edit_form = UserEditForm(
            formdata=None, name=user.name, role=user.role, teams=[t.name for t in user.teams]
        )
    edit_form.teams.choices = _team_choices()
    return render_template(
        "admin/user.html",
        user=user,
        edit_form=edit_form,
        password_form=password_form or TemporaryPasswordForm(formdata=None),
        errors=errors or {},
        devices=device_rows(session(), user_id=user.id),
    ), status


@bp.route("/user", methods=["GET", "POST"])
def user():
    account = _account()
    if request.method == "GET":
        return _render_account(account)
    form = UserEditForm()
    form.teams.choices = _team_choices()
    try:
        changes = user_admin.update_user(
            session(),
            _actor(),
            account,
            name=form.name.data or "",
            role=form.role.data or "",
            team_names=form.teams.data or [],
        )
    except ValidationError as exc:
        session().rollback()
        return _render_account(account, edit_form=form, errors=exc.errors, status=422)
    session().commit()
    flash(f"Saved the changes to {account.name}." if changes else "Nothing was changed.")
    return redirect(url_for("admin.user", id=account.id))


@bp.post("/user/unlock")
def unlock_user():
    account = _account()
    if user_admin.unlock_user(session(), _actor(), account):
        session().commit()
        flash(f"{account.name} can sign in again: the failed sign-ins are cleared.")
    else:
        flash(f"{account.name}'s account was not locked.")
    return redirect(url_for("admin.user", id=account.id))


@bp.post("/user/temporary-password")
def temporary_password():
    account = _account()
    form = TemporaryPasswordForm()
    try:
        user_admin.set_temporary_password(session(), _actor(), account, form.password.data or "")
    except ValidationError as exc:
        session().rollback()
        return _render_account(account, password_form=form, errors=exc.errors, status=422)
    session().commit()
    if account.id == current_user.id:
        logout_user()
        flash("Your password is now the temporary one: sign in with it and choose your own.")
        return redirect(url_for("auth.login"))
    flash(
        f"{account.name} has a temporary password and is signed out everywhere. Give it to them "
        "in person or by phone: they must choose their own when they sign in."
    )
    return redirect(url_for("admin.user", id=account.id))


@bp.route("/user/deactivate", methods=["GET", "POST"])
def deactivate_user():
    """First a page that says what deactivation does, and warns of any tablet of the user's
    that has not synced for over a day or said at its last sync that it held changes not yet
    sent; then, posted, it."""
    account = _account()
    if request.method == "POST":
        try:
            deactivated = user_admin.deactivate_user(session(), _actor(), account)
        except ValidationError as exc:
            session().rollback()
            flash(exc.errors["account"][0], "error")
            return redirect(url_for("admin.user", id=account.id))
        if not deactivated:
            flash(f"{account.name} was already deactivated.")
            return redirect(url_for("admin.user", id=account.id))
        session().commit()
        if account.id == current_user.id:
            logout_user()
            flash("Your account is deactivated and you are signed out.")
            return redirect(url_for("auth.login"))
        flash(f"{account.name} is deactivated and signed out everywhere.")
        return redirect(url_for("admin.user", id=account.id))
    if not account.active:
        return redirect(url_for("admin.user", id=account.id))
    problem = user_admin.last_admin_problem(session(), current_user, account)
    rows = device_rows(session(), user_id=account.id)
    return render_template(
        "admin/deactivate.html",
        user=account,
        problem=problem,
        at_risk=[row for row in rows if row.may_hold_unsent_work],
    )


@bp.post("/user/reactivate")
def reactivate_user():
    account = _account()
    if user_admin.reactivate_user(session(), _actor(), account):
        session().commit()
        flash(f"{account.name} is active again and can sign in.")
    return redirect(url_for("admin.user", id=account.id))


# ---------------------------------------------------------------- the audit log

AUDIT_CSV_COLUMNS = [
    "at",
    "user",
    "user_email",
    "action",
    "outcome",
    "record",
    "detail",
    "ip",
    "event_id",
]


def _audit_filters() -> tuple[AuditFilterForm, AuditFilters | None, dict[str, list[str]]]:
    form = AuditFilterForm(request.args)
    form.user.choices = select_choices(
        [
            ("", "Anyone"),
            *(
                (str(u.id), f"{u.name} ({u.email})")
                for u in session().scalars(select(User).order_by(User.name, User.email))
            ),
        ]
    )
    if not form.validate():
        return form, None, {name: list(messages) for name, messages in form.errors.items()}
    user_id = _whole_number(form.user.data)
    if form.user.data and user_id is None:
        return form, None, {"user": ["Choose a user from the list."]}
    filters = AuditFilters(
        user_id=user_id,
        child=(form.child.data or "").strip(),
        action=(form.action.data or "").strip(),
        outcome=(form.outcome.data or "").strip(),
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )
    return form, filters, {}


AUDIT_FILTERS = ("user", "child", "action", "outcome", "date_from", "date_to")


def _filter_args() -> dict[str, str]:
    """The filters as the query string gave them, without the page cursor: for the pager's
    links and the export's own audit event."""
    return {key: request.args[key] for key in AUDIT_FILTERS if request.args.get(key)}


@bp.get("/audit")
def audit_log():
    form, filters, errors = _audit_filters()
    page = None
    if filters is not None:
        try:
            page = audit_page(
                session(),
                filters,
                current_app.config["FIELDAPP_TIMEZONE"],
                older_than=_whole_number(request.args.get("older_than")),
                newer_than=_whole_number(request.args.get("newer_than")),
            )
        except ValidationError as exc:
            errors = exc.errors
    return _render_audit(form, page, errors)


def _render_audit(form: AuditFilterForm, page, errors: dict[str, list[str]]):
    return render_template(
        "admin/audit.html",
        form=form,
        page=page,
        errors=errors,
        filter_args=_filter_args(),
        page_size=PAGE_SIZE,
    ), (400 if errors else 200)


@bp.get("/audit.csv")
def audit_csv():
    """The events the filters match (not only one page), newest first; the export is itself
    audited, with the filters it used."""
    form, filters, errors = _audit_filters()
    if filters is not None:
        tz_name = current_app.config["FIELDAPP_TIMEZONE"]
        try:
            rows = list(export_rows(session(), filters, tz_name))
        except ValidationError as exc:
            errors = exc.errors
        else:
            audit("export", "audit_log", None, detail={**_filter_args(), "rows": len(rows)})
            session().commit()
            records = (
                {
                    "at": local_time(row.event.at, tz_name).isoformat(timespec="seconds"),
                    "user": row.who_name,
                    "user_email": row.who_email,
                    "action": row.action,
                    "outcome": row.outcome,
                    "record": row.record,
                    "detail": row.detail,
                    "ip": row.event.ip,
                    "event_id": row.event.id,
                }
                for row in rows
            )
            return csv_response(AUDIT_CSV_COLUMNS, records, f"audit-log-{today().isoformat()}.csv")
    return _render_audit(form, None, errors)
