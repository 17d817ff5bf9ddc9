"""A team leader's contact pages: reading a contact, acknowledging it, adding an addendum.

Recording (contacts, drafts, return visits) happens in the offline app, which sends it through
the sync API; the recording addresses here open the app."""

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
    works_in_the_app,
)
from ..services import contacts as contact_service
from ..services.errors import Forbidden, ValidationError
from ..web import app_shell
from .forms import AddendumForm

bp = Blueprint("contacts", __name__)

RECORDING_ROLES = ("practitioner", "team_leader")


@bp.before_request
@login_required
def _signed_in():
    return None


def _form_errors(form) -> dict[str, list[str]]:
    return {name: list(errors) for name, errors in form.errors.items() if name != "csrf_token"}


@bp.get("/children/<uuid:child_id>/contacts/new")
def new(child_id: uuid.UUID):
    """Contacts are recorded in the offline app, by practitioners and by team leaders covering
    a caseload, so no typing is lost to a dropped connection: this address opens its form (the
    app finds the child among those it holds)."""
    child_or_404(child_id)
    require_role(*RECORDING_ROLES)
    return app_shell()


@bp.get("/children/<uuid:child_id>/return-visits/new")
def new_return_visit(child_id: uuid.UUID):
    """Return visits too are recorded in the offline app."""
    child_or_404(child_id)
    require_role(*RECORDING_ROLES)
    return app_shell()


@bp.get("/contacts/<uuid:contact_id>")
def show(contact_id: uuid.UUID):
    """A practitioner reads and continues their contacts in the offline app; a team leader
    reads one here, acknowledges it and may add an addendum."""
    contact = contact_or_404(contact_id)
    if works_in_the_app():
        return app_shell()
    audit("view", "contact", contact.id)
    session().commit()
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
        flash(contact_service.acknowledgement_refusal(exc), "error")
        return _render_view(contact, status=403 if isinstance(exc, Forbidden) else 409)
    session().commit()
    flash("Contact acknowledged.")
    return redirect(url_for("contacts.show", contact_id=contact.id))
