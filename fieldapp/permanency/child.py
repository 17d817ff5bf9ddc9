"""The child page's Permanency section and the forms that record goals, reviews,
consultations, cultural consultations, transfers, retention, extensions and the Youth Justice
collaboration.

Sources: `000` § Case planning (s10A, s10A(3)(e)); `002` § Permanency Goal Reviews,
§ Permanency Consultations, § Legal, cultural or specialist consultations, § Upskilling
(extensions); `003` § OOHC; `004` § Child Protection and Youth Justice.

Every route finds the child through `child_or_404` (out of scope: 404 and a `denied` audit
event, SPEC §2), refuses a role that may not record the thing with 403 (`scope.may_record`),
parses the form, calls one service in `services/permanency_records.py` (which validates,
appends and audits) and commits, or re-renders the form with each message beside its field.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from types import SimpleNamespace

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access import audit, child_or_404, session, today, works_in_the_app
from ..forms import select_choices
from ..models import (
    Agency,
    CaseManagementRetention,
    CasePlanGoalRecord,
    Child,
    ConsultationRequest,
    CulturalConsultation,
    GoalExtension,
    GoalReview,
    PermanencyConsultation,
    User,
    YouthJusticeRecord,
)
from ..services import permanency as rules
from ..services import permanency_records as records
from ..services.clock import today_in
from ..services.errors import Forbidden, ValidationError
from ..services.scope import can_read_case_notes, may_record
from . import forms
from .forms import LABELS

bp = Blueprint("permanency_child", __name__)

PREFIX = "/children/<uuid:child_id>/permanency"
TRUTHY = {"1", "true", "yes", "on"}


def coordinators_decide() -> bool:
    """The pilot of `002` § Approving changes: FIELDAPP_COORDINATORS_DECIDE_GOALS=1."""
    value = current_app.config.get("FIELDAPP_COORDINATORS_DECIDE_GOALS", False)
    return value is True or str(value).strip().lower() in TRUTHY


def may(user: User, what: str) -> bool:
    return may_record(user, what, coordinators_decide=coordinators_decide())


# ---------------------------------------------------------------- the section


@dataclass(frozen=True)
class PermanencySection:
    """What the child page shows under "Permanency" (R3, R4, R10, R11, R12)."""

    goal: CasePlanGoalRecord | None
    position: rules.PermanencyPosition | None
    history: list[CasePlanGoalRecord]
    extensions: list[GoalExtension]
    pending_extension: GoalExtension | None
    reviews: list[GoalReview]
    consultations: list[PermanencyConsultation]
    open_requests: list[ConsultationRequest]
    requested_days: dict[uuid.UUID, date]  # each open request's day in the organisation
    cultural_consultations: list[CulturalConsultation]
    retentions: list[CaseManagementRetention]
    youth_justice: YouthJusticeRecord | None
    youth_justice_visible: bool  # the collaboration's details are case content (SPEC §2)
    youth_justice_actions: list[SimpleNamespace]  # the plan's actions with `date` due dates
    can: dict[str, bool]
    labels: dict


def _rows(db: Session, model, order, child_id: uuid.UUID) -> list:
    return list(db.scalars(select(model).where(model.child_id == child_id).order_by(*order)))


def open_requests(db: Session, child_id: uuid.UUID) -> list[ConsultationRequest]:
    """R11: requests no consultation has answered yet."""
    query = records.open_requests_query().where(ConsultationRequest.child_id == child_id)
    return list(db.scalars(query.order_by(ConsultationRequest.requested_at)))


def requested_on(request_: ConsultationRequest) -> date:
    """The organisation's calendar day of a request (SPEC §3; stored as a UTC time)."""
    at = request_.requested_at
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return today_in(current_app.config["FIELDAPP_TIMEZONE"], now=at)


def section(db: Session, user: User, child: Child, on: date) -> PermanencySection:
    """The section's data for a child already in the user's scope."""
    goal = records.goal_in_force(db, child.id, on)
    position = None
    extensions: list[GoalExtension] = []
    if goal is not None:
        position = rules.assess_goal(
            goal.goal,
            goal.date_set,
            goal.permanency_unlikely,
            records.last_review_date(db, goal, on),
            child.primary_agency.kind,
            on,
        )
        extensions = list(
            db.scalars(
                select(GoalExtension)
                .where(GoalExtension.goal_id == goal.id)
                .order_by(GoalExtension.applied_date.desc())
            )
        )
    # R12's collaboration (court order conditions, officers, the release plan) is case content:
    # the child's practitioner and team leader see it; a coordinator sees the status only (SPEC §2).
    youth_justice_visible = can_read_case_notes(user)
    youth_justice = records.current_youth_justice(db, child.id) if youth_justice_visible else None
    requests = open_requests(db, child.id)
    what = ("goal", "review", "consultation", "request", "cultural_consultation", "transfer",
            "retention", "extension", "youth_justice")  # fmt: skip
    return PermanencySection(
        goal=goal,
        position=position,
        history=records.goal_history(db, child.id),
        extensions=extensions,
        pending_extension=next((e for e in extensions if e.decision is None), None),
        reviews=_rows(
            db, GoalReview, (GoalReview.review_date.desc(), GoalReview.recorded_at.desc()), child.id
        ),
        consultations=_rows(
            db,
            PermanencyConsultation,
            (PermanencyConsultation.consultation_date.desc(),),
            child.id,
        ),
        open_requests=requests,
        requested_days={r.id: requested_on(r) for r in requests},
        cultural_consultations=_rows(
            db, CulturalConsultation, (CulturalConsultation.consultation_date.desc(),), child.id
        ),
        retentions=_rows(
            db,
            CaseManagementRetention,
            (CaseManagementRetention.decision_date.desc(),),
            child.id,
        ),
        youth_justice=youth_justice,
        youth_justice_visible=youth_justice_visible,
        youth_justice_actions=_plan_actions(youth_justice),
        can={name: may(user, name) for name in what},
        labels=LABELS,
    )


def pending_extension(db: Session, child_id: uuid.UUID, on: date) -> GoalExtension | None:
    """The application for the goal in force still waiting for its decision."""
    goal = records.goal_in_force(db, child_id, on)
    if goal is None:
        return None
    return db.scalar(
        select(GoalExtension)
        .where(GoalExtension.goal_id == goal.id, GoalExtension.decision.is_(None))
        .order_by(GoalExtension.applied_date)
        .limit(1)
    )


# ---------------------------------------------------------------- the form pages


def _form_errors(form) -> dict[str, list[str]]:
    """WTForms' parse errors flattened to field ids (actions-0-due_date, …)."""
    flat: dict[str, list[str]] = {}

    def walk(errors, prefix: str) -> None:
        if isinstance(errors, dict):
            for key, value in errors.items():
                walk(value, f"{prefix}-{key}" if prefix else str(key))
        elif isinstance(errors, list) and errors and not isinstance(errors[0], str):
            for index, value in enumerate(errors):
                walk(value, f"{prefix}-{index}")
        elif errors:
            flat[prefix] = list(errors)

    walk(form.errors, "")
    return flat


def _refused(message: str):
    """In scope but not this role's to record: 403, written to the audit trail like a 404."""
    session().rollback()
    audit("access", "child", request.view_args.get("child_id"), outcome="denied",
          detail={"path": request.path})  # fmt: skip
    session().commit()
    return render_template("error.html", status=403, message=message), 403


def _form_page(
    child: Child,
    what: str,
    form,
    template: str,
    save: Callable[[], object],
    done: str,
    **context,
):
    """GET shows the form; POST parses it and calls `save` (one service call). A role that may
    not record `what` gets 403; a ValidationError re-renders with status 400, nothing saved and
    the typed values kept; success commits and returns to the child page (for a practitioner,
    whose child page is the offline app's, a page that says so and links back to it)."""
    if not may(current_user, what):
        return _refused(f"Your role cannot record this ({what.replace('_', ' ')}).")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        errors = _form_errors(form) if not form.validate() else {}
        if not errors:
            try:
                save()
            except ValidationError as exc:
                errors = exc.errors
            except Forbidden as exc:
                session().rollback()
                return _refused(str(exc))
            else:
                session().commit()
                flash(done)
                if works_in_the_app():
                    # Their child page is the offline app's: a page says it is saved and
                    # links back to the app (a redirect, so a reload cannot send it twice).
                    return redirect(url_for("permanency_child.saved", child_id=child.id))
                return redirect(url_for("caseload.child", child_id=child.id))
        session().rollback()
    page = render_template(
        template, form=form, child=child, errors=errors, labels=LABELS, **context
    )
    return page, (400 if errors else 200)


def _actions(entries) -> list[records.ActionInput]:
    return [
        records.ActionInput(e.description.data, e.responsible.data, e.due_date.data)
        for e in (entry.form for entry in entries)
        if not e.is_blank()
    ]


def _optional_uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return uuid.UUID(int=0)  # names no request: the service answers "not open"


def _optional_int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@bp.get(f"{PREFIX}/saved")
@login_required
def saved(child_id: uuid.UUID):
    """Where a practitioner's online-only form ends (its message is flashed): their child page
    is the offline app's, which this links back to."""
    child = child_or_404(child_id)
    return render_template("permanency/recorded.html", child=child)


@bp.route(f"{PREFIX}/goal", methods=["GET", "POST"])
@login_required
def goal(child_id: uuid.UUID):
    """R3, R4 (`000` § Case planning, s10A and s10A(3)(e)), R11 (`002` § Permanency
    Consultations): a new case plan goal supersedes the one in force."""
    child = child_or_404(child_id)
    form = forms.GoalForm()
    db, on = session(), today()
    window = on - timedelta(days=rules.CONSULTATION_WINDOW_DAYS)
    recent = [
        c
        for c in _rows(db, PermanencyConsultation, (), child.id)
        if window <= c.consultation_date <= on
    ]
    return _form_page(
        child,
        "goal",
        form,
        "permanency/goal.html",
        lambda: records.record_goal(
            db,
            current_user,
            child,
            goal=form.case_plan_goal.data or None,
            date_set=form.date_set.data,
            permanency_unlikely=form.permanency_unlikely.data,
            reason=form.reason.data,
            coordinator_recommendation=form.coordinator_recommendation.data,
            today=on,
            coordinators_decide=coordinators_decide(),
        ),
        "Case plan goal recorded.",
        current=records.goal_in_force(db, child.id, on),
        cultural=_rows(db, CulturalConsultation, (), child.id),
        recent_consultations=recent,
        adoption_reason=rules.ADOPTION_CULTURAL_CONSULTATION_REASON,
        window_days=rules.CONSULTATION_WINDOW_DAYS,
        can_record_cultural=may(current_user, "cultural_consultation"),
    )


@bp.route(f"{PREFIX}/review", methods=["GET", "POST"])
@login_required
def review(child_id: uuid.UUID):
    """R3 (`002` § Permanency Goal Reviews): the latest review drives the next due date."""
    child = child_or_404(child_id)
    form = forms.ReviewForm()
    return _form_page(
        child,
        "review",
        form,
        "permanency/review.html",
        lambda: records.record_review(
            session(),
            current_user,
            child,
            review_date=form.review_date.data,
            participants=form.participants.data,
            progress=form.progress.data or None,
            psp_package_reviewed=form.psp_package_reviewed.data,
            recommendation=form.recommendation.data,
            next_steps=form.next_steps.data,
            today=today(),
        ),
        "Goal review recorded.",
        current=records.goal_in_force(session(), child.id, today()),
    )


@bp.route(f"{PREFIX}/consultation", methods=["GET", "POST"])
@login_required
def consultation(child_id: uuid.UUID):
    """R11 (`002` § Permanency Consultations; § Record keeping)."""
    child = child_or_404(child_id)
    form = forms.ConsultationForm()
    requests = open_requests(session(), child.id)
    form.request_id.choices = select_choices(
        [("", "None"), *((str(r.id), f"{requested_on(r):%d/%m/%Y}: {r.reason}") for r in requests)]
    )
    return _form_page(
        child,
        "consultation",
        form,
        "permanency/consultation.html",
        lambda: records.record_consultation(
            session(),
            current_user,
            child,
            consultation_date=form.consultation_date.data,
            kind=form.kind.data or None,
            trigger=form.trigger.data or None,
            participants=form.participants.data,
            discussion=form.discussion.data,
            recommendations=form.recommendations.data,
            actions=_actions(form.actions),
            request_id=_optional_uuid(form.request_id.data),
            today=today(),
        ),
        "Permanency consultation recorded.",
    )


@bp.route(f"{PREFIX}/request", methods=["GET", "POST"])
@login_required
def consultation_request(child_id: uuid.UUID):
    """R11: a practitioner or team leader asks the coordinator for a consultation."""
    child = child_or_404(child_id)
    form = forms.RequestForm()
    return _form_page(
        child,
        "request",
        form,
        "permanency/request.html",
        lambda: records.request_consultation(
            session(), current_user, child, reason=form.reason.data
        ),
        "Consultation requested from the permanency coordinator.",
    )


@bp.route(f"{PREFIX}/cultural-consultation", methods=["GET", "POST"])
@login_required
def cultural_consultation(child_id: uuid.UUID):
    """R4 (`000` § Case planning, s10A(3)(e); `002` § Legal, cultural or specialist
    consultations): never a permanency consultation."""
    child = child_or_404(child_id)
    form = forms.CulturalConsultationForm()
    return _form_page(
        child,
        "cultural_consultation",
        form,
        "permanency/cultural_consultation.html",
        lambda: records.record_cultural_consultation(
            session(),
            current_user,
            child,
            consultation_date=form.consultation_date.data,
            consultant_kind=form.consultant_kind.data or None,
            consultant_name=form.consultant_name.data,
            advice=form.advice.data,
            today=today(),
        ),
        "Cultural consultation recorded.",
    )


@bp.route(f"{PREFIX}/transfer", methods=["GET", "POST"])
@login_required
def transfer(child_id: uuid.UUID):
    """R10 (`000` § Case planning; `003` § OOHC): logged, never edited; a transfer to a
    non-government agency names its basis."""
    child = child_or_404(child_id)
    form = forms.TransferForm()
    agencies = session().scalars(select(Agency).order_by(Agency.name))
    form.to_agency_id.choices = select_choices(
        [
            forms.CHOOSE,
            *((str(a.id), f"{a.name} ({LABELS['agency_kind'][a.kind]})") for a in agencies),
        ]  # fmt: skip
    )
    return _form_page(
        child,
        "transfer",
        form,
        "permanency/transfer.html",
        lambda: records.record_transfer(
            session(),
            current_user,
            child,
            to_agency_id=_optional_int(form.to_agency_id.data),
            transfer_date=form.transfer_date.data,
            basis=form.basis.data or None,
            reason=form.reason.data,
            today=today(),
        ),
        "Transfer of case responsibility recorded.",
    )


@bp.route(f"{PREFIX}/retention", methods=["GET", "POST"])
@login_required
def retention(child_id: uuid.UUID):
    """R10 (`003` § OOHC): case management stays with the government agency only where all
    three criteria hold."""
    child = child_or_404(child_id)
    form = forms.RetentionForm()
    return _form_page(
        child,
        "retention",
        form,
        "permanency/retention.html",
        lambda: records.record_retention(
            session(),
            current_user,
            child,
            decision_date=form.decision_date.data,
            criteria=form.criteria(),
            reason=form.reason.data,
            today=today(),
        ),
        "Decision to keep case management recorded.",
    )


@bp.route(f"{PREFIX}/extension", methods=["GET", "POST"])
@login_required
def extension(child_id: uuid.UUID):
    """`002` § Upskilling: an application to extend the goal past two years."""
    child = child_or_404(child_id)
    form = forms.ExtensionForm()
    return _form_page(
        child,
        "extension",
        form,
        "permanency/extension.html",
        lambda: records.apply_for_extension(
            session(),
            current_user,
            child,
            applied_date=form.applied_date.data,
            reason=form.reason.data,
            today=today(),
        ),
        "Extension application recorded.",
        current=records.goal_in_force(session(), child.id, today()),
    )


@bp.route(f"{PREFIX}/extension/decision", methods=["GET", "POST"])
@login_required
def extension_decision(child_id: uuid.UUID):
    """`002` § Upskilling: the decision on the pending application, recorded once."""
    child = child_or_404(child_id)
    form = forms.ExtensionDecisionForm()
    pending = pending_extension(session(), child.id, today())
    if request.method == "GET" and pending is not None:
        form.extension_id.data = str(pending.id)
    return _form_page(
        child,
        "extension",
        form,
        "permanency/extension_decision.html",
        lambda: records.decide_extension(
            session(),
            current_user,
            child,
            _optional_uuid(form.extension_id.data) or uuid.UUID(int=0),
            decision=form.decision.data or None,
            decision_date=form.decision_date.data,
            today=today(),
        ),
        "Extension decision recorded.",
        pending=pending,
    )


@bp.route(f"{PREFIX}/youth-justice", methods=["GET", "POST"])
@login_required
def youth_justice(child_id: uuid.UUID):
    """R12 (`004` § Child Protection and Youth Justice): a new record supersedes the last."""
    child = child_or_404(child_id)
    current = records.current_youth_justice(session(), child.id)
    starting = _youth_justice_data(current) if current and request.method == "GET" else None
    form = forms.YouthJusticeForm(data=starting)
    officers = [e.form for e in form.officers if not e.form.is_blank()]
    actions = [e.form for e in form.plan_actions if not e.form.is_blank()]
    return _form_page(
        child,
        "youth_justice",
        form,
        "permanency/youth_justice.html",
        lambda: records.record_youth_justice(
            session(),
            current_user,
            child,
            status=form.youth_justice_status.data or None,
            lead_practitioner=form.lead_practitioner.data,
            officers=[
                {"name": o.name.data, "team": o.team.data or None, "contact": o.contact.data}
                for o in officers
            ],
            court_order_conditions=form.court_order_conditions.data,
            plan_actions=[
                {"description": a.description.data, "due_date": a.due_date.data} for a in actions
            ],
        ),
        "Youth Justice collaboration recorded.",
    )


def _plan_actions(record: YouthJusticeRecord | None) -> list[SimpleNamespace]:
    """The release and reintegration plan's actions, due dates parsed (stored as ISO text)."""
    return [
        SimpleNamespace(
            description=action.get("description"),
            due_date=date.fromisoformat(action["due_date"]) if action.get("due_date") else None,
        )
        for action in (record.plan_actions if record else None) or []
    ]


def _youth_justice_data(current: YouthJusticeRecord) -> dict:
    """The current record as the form's starting values (GET only: a POST reads the form)."""
    return {
        "youth_justice_status": current.status,
        "lead_practitioner": current.lead_practitioner,
        "court_order_conditions": current.court_order_conditions,
        "officers": [SimpleNamespace(**officer) for officer in current.officers or []],
        "plan_actions": _plan_actions(current),
    }
