"""Recording contacts, addenda, acknowledgements and return visits: parse, call the service,
render."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..access import (
    audit,
    child_or_404,
    contact_or_404,
    require_role,
    session,
    today,
)
from ..services import contacts as contact_service
from ..services.errors import Forbidden, ImmutableRecord, ValidationError
from .forms import AddendumForm, ContactForm, ReturnVisitForm

bp = Blueprint("contacts", __name__)

RECORDING_ROLES = ("practitioner", "team_leader")


@bp.before_request
@login_required
def _signed_in():
    return None


def _form_errors(form) -> dict[str, list[str]]:
    """WTForms' parse errors flattened to field ids (participants-0-role, …)."""
    flat: dict[str, list[str]] = {}

    def walk(errors, prefix=""):
        if isinstance(errors, dict):
            for key, value in errors.items():
                walk(value, f"{prefix}{key}" if not prefix else f"{prefix}-{key}")
        elif isinstance(errors, list) and errors and not isinstance(errors[0], str):
            for index, value in enumerate(errors):
                if value:
                    walk(value, f"{prefix}-{index}")
        elif errors:
            flat[prefix] = list(errors)

    walk(form.errors)
    flat.pop("csrf_token", None)
    return flat


def _handle_contact_form(form: ContactForm, child, contact=None):
    """Shared by new and edit. Returns a response, or None to re-render with errors."""
    if form.add_participant.data:
        if len(form.participants.entries) >= form.participants.max_entries:
            return None, {
                "participants": [f"At most {form.participants.max_entries} participants."]
            }
        form.participants.append_entry()
        return None, {}
    if form.add_action.data:
        if len(form.actions.entries) >= form.actions.max_entries:
            return None, {"actions": [f"At most {form.actions.max_entries} actions."]}
        form.actions.append_entry()
        return None, {}
    form.validate()  # parses dates and numbers; the service applies the rules
    errors = _form_errors(form)
    if errors:
        return None, errors
    submitting = bool(form.submit.data)
    try:
        saved = contact_service.save_contact(
            session(),
            current_user,
            child,
            form.to_values(),
            today(),
            submit=submitting,
            contact=contact,
        )
    except ValidationError as exc:
        session().rollback()
        return None, exc.errors
    session().commit()
    flash("Contact submitted." if submitting else "Draft saved.")
    return redirect(url_for("contacts.show", contact_id=saved.id)), {}


@bp.route("/children/<uuid:child_id>/contacts/new", methods=["GET", "POST"])
def new(child_id: uuid.UUID):
    child = child_or_404(child_id)
    require_role(*RECORDING_ROLES)
    form = ContactForm()
    errors: dict[str, list[str]] = {}
    if form.is_submitted():
        response, errors = _handle_contact_form(form, child)
        if response is not None:
            return response
    elif not form.participants.entries:
        form.contact_date.data = today()
        form.participants.append_entry({"role": "child", "name": child.display_name})
    return _render_form(form, child, None, errors)


def _render_form(form, child, contact, errors):
    status = 422 if errors else 200
    return render_template(
        "contacts/form.html", form=form, child=child, contact=contact, errors=errors
    ), status


@bp.route("/contacts/<uuid:contact_id>", methods=["GET", "POST"])
def show(contact_id: uuid.UUID):
    contact = contact_or_404(contact_id)
    child = contact.child
    editable = not contact.is_submitted and contact.author_id == current_user.id
    form = ContactForm()
    if form.is_submitted():
        if contact.is_submitted:
            flash(
                "This contact has been submitted and can no longer be edited. "
                "Add an addendum to correct or add to it.",
                "error",
            )
            return _render_view(contact, status=409)
        if not editable:
            flash("Only the author of a draft can edit it.", "error")
            return _render_view(contact, status=403)
        response, errors = _handle_contact_form(form, child, contact)
        if response is not None:
            return response
        return _render_form(form, child, contact, errors)
    audit("view", "contact", contact.id)
    session().commit()
    if editable:
        form = ContactForm(formdata=None)
        form.load(contact)
        return _render_form(form, child, contact, {})
    return _render_view(contact)


def _render_view(contact, addendum_form=None, errors=None, status=200):
    return render_template(
        "contacts/show.html",
        contact=contact,
        child=contact.child,
        addendum_form=addendum_form or AddendumForm(formdata=None),
        errors=errors or {},
    ), status


@bp.post("/contacts/<uuid:contact_id>/addenda")
def add_addendum(contact_id: uuid.UUID):
    contact = contact_or_404(contact_id)
    form = AddendumForm()
    if not form.validate():
        return _render_view(contact, form, _form_errors(form), status=422)
    try:
        contact_service.add_addendum(
            session(), current_user, contact, form.reason.data, form.text.data
        )
    except ValidationError as exc:
        session().rollback()
        if "contact_id" in exc.errors:  # a draft: the page has no addendum form to show it on
            flash(exc.errors["contact_id"][0], "error")
        return _render_view(contact, form, exc.errors, status=422)
    except Forbidden as exc:
        session().rollback()
        flash(str(exc), "error")
        return _render_view(contact, form, status=403)
    session().commit()
    flash("Addendum added.")
    return redirect(url_for("contacts.show", contact_id=contact.id))


@bp.post("/contacts/<uuid:contact_id>/acknowledge")
def acknowledge(contact_id: uuid.UUID):
    contact = contact_or_404(contact_id)
    try:
        contact_service.acknowledge_contact(session(), current_user, contact)
    except (Forbidden, ValidationError) as exc:
        session().rollback()
        message = exc.errors["contact_id"][0] if isinstance(exc, ValidationError) else str(exc)
        flash(message, "error")
        return _render_view(contact, status=403 if isinstance(exc, Forbidden) else 409)
    session().commit()
    flash("Contact acknowledged.")
    return redirect(url_for("contacts.show", contact_id=contact.id))


@bp.post("/contacts/<uuid:contact_id>/delete")
def delete(contact_id: uuid.UUID):
    contact = contact_or_404(contact_id)
    child_id = contact.child_id
    try:
        contact_service.delete_draft(session(), current_user, contact)
    except (ImmutableRecord, Forbidden) as exc:
        session().rollback()
        flash(str(exc), "error")
        return _render_view(contact, status=403 if isinstance(exc, Forbidden) else 409)
    session().commit()
    flash("Draft deleted.")
    return redirect(url_for("caseload.child", child_id=child_id))


@bp.route("/children/<uuid:child_id>/return-visits/new", methods=["GET", "POST"])
def new_return_visit(child_id: uuid.UUID):
    child = child_or_404(child_id)
    require_role(*RECORDING_ROLES)
    form = ReturnVisitForm()
    errors: dict[str, list[str]] = {}
    if form.is_submitted():
        errors = _form_errors(form) if not form.validate() else {}
        if not errors:
            try:
                contact_service.record_return_visit(
                    session(),
                    current_user,
                    child,
                    {
                        "arrival_date": form.arrival_date.data,
                        "departure_date": form.departure_date.data,
                        "arrangement_note": form.arrangement_note.data,
                    },
                )
            except ValidationError as exc:
                session().rollback()
                errors = exc.errors
            else:
                session().commit()
                flash("Return visit recorded.")
                return redirect(url_for("caseload.child", child_id=child.id))
    return render_template("contacts/return_visit.html", form=form, child=child, errors=errors), (
        422 if errors else 200
    )
