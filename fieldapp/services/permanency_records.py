"""Recording permanency decisions and events (R3, R4, R10, R11, R12). Each function checks who
may record it (`scope.may_record`), validates with the pure rules in `permanency.py`, appends
the record (never edits one, R8), keeps the child's mirror of its current goal up to date and
writes an audit event. Services never commit: the request owns the transaction.

The caller has already found `child` through `scope.find_child`, so it is in the user's scope.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..models import (
    Agency,
    CaseManagementRetention,
    CasePlanGoalRecord,
    CaseResponsibilityTransfer,
    Child,
    CohortReview,
    CohortReviewChild,
    ConsultationAction,
    ConsultationRequest,
    CulturalConsultation,
    GoalExtension,
    GoalReview,
    PermanencyConsultation,
    User,
    YouthJusticeRecord,
)
from ..models.child import CasePlanGoal, YouthJusticeStatus
from ..models.permanency import (
    ConsultationKind,
    ConsultationTrigger,
    CulturalConsultant,
    ReviewProgress,
    TransferBasis,
)
from . import permanency as rules
from . import record_fields
from .audit import record_event
from .errors import Forbidden, ValidationError
from .scope import may_record

TEXT_LIMIT = record_fields.NARRATIVE  # the limits every record's text has
NAME_LIMIT = record_fields.NAME


class _Errors(dict):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self:
            raise ValidationError(dict(self))


def _appended(session: Session, user: User, record, object_type: str, child_id, **detail):
    """Adds a new record (never an edit, R8) and audits its creation."""
    session.add(record)
    session.flush()
    record_event(
        session,
        user_id=user.id,
        action="create",
        object_type=object_type,
        object_id=record.id,
        detail={"child_id": str(child_id), **detail},
    )
    return record


def _require(user: User, what: str) -> None:
    if not may_record(user, what):
        raise Forbidden(f"Your role cannot record this ({what.replace('_', ' ')}).")


def _text(errors: _Errors, field: str, value: str | None, *, required: bool, limit=TEXT_LIMIT):
    text = (value or "").strip()
    if required and not text:
        errors.add(field, "This field is required.")
    elif len(text) > limit:
        errors.add(field, f"At most {limit:,} characters.")
    return text or None


def _past_or_today(errors: _Errors, field: str, value: date | None, today: date) -> None:
    if value is None:
        errors.add(field, "Enter a date (YYYY-MM-DD).")
    elif value > today:
        errors.add(field, "Cannot be in the future.")


def _choice(errors: _Errors, field: str, value: str | None, choices) -> None:
    if value not in {c.value for c in choices}:
        errors.add(field, "Choose one of the options.")


# ---------------------------------------------------------------- goals


def goal_in_force(session: Session, child_id: uuid.UUID, on: date) -> CasePlanGoalRecord | None:
    """R3: the goal set most recently on or before `on` (goals are superseded, never edited)."""
    return session.scalar(
        select(CasePlanGoalRecord)
        .where(CasePlanGoalRecord.child_id == child_id, CasePlanGoalRecord.date_set <= on)
        .order_by(CasePlanGoalRecord.date_set.desc(), CasePlanGoalRecord.recorded_at.desc())
        .limit(1)
    )


def goal_history(session: Session, child_id: uuid.UUID) -> list[CasePlanGoalRecord]:
    return list(
        session.scalars(
            select(CasePlanGoalRecord)
            .where(CasePlanGoalRecord.child_id == child_id)
            .order_by(CasePlanGoalRecord.date_set.desc(), CasePlanGoalRecord.recorded_at.desc())
        )
    )


def refresh_permanency_mirror(session: Session, child: Child, today: date) -> None:
    """Keep the child's mirror of its goal in force today (R3) up to date: `current_goal_id`,
    `case_plan_goal`, `goal_set_date`, `permanency_unlikely` and `last_review_date` (the latest
    review of that goal on or after the date it was set, as `last_review_date(...)`).

    This is the only writer of those five columns: call it after adding a goal or a review of
    the child (`record_goal`, `record_review`, `import-children`, `import-permanency`, the demo
    data, the test factories). The dashboard "as at" today (`permanency_report.py`), lists,
    the tablet's pull read them instead of the history. Goals and reviews are never dated after
    today (validated where they are written), so the mirror stays right on later days until the
    next goal or review is added."""
    session.flush()
    current = goal_in_force(session, child.id, today)
    child.current_goal_id = current.id if current else None
    child.case_plan_goal = current.goal if current else None
    child.goal_set_date = current.date_set if current else None
    child.permanency_unlikely = current.permanency_unlikely if current else False
    child.last_review_date = last_review_date(session, current, today) if current else None


def _dates(session: Session, column, child_id: uuid.UUID) -> list[date]:
    return list(session.scalars(select(column).where(column.table.c.child_id == child_id)))


def record_goal(
    session: Session,
    user: User,
    child: Child,
    *,
    goal: str | None,
    date_set: date | None,
    permanency_unlikely: bool,
    reason: str | None,
    coordinator_recommendation: str | None,
    today: date,
    coordinators_decide: bool = False,
) -> CasePlanGoalRecord:
    """A new case plan goal supersedes the one in force (R3). R4's order of preference and the
    cultural consultation gate, and R11's consultation gate for NGOs, must pass first."""
    if not may_record(user, "goal", coordinators_decide=coordinators_decide):
        raise Forbidden("Only the delegated decision-maker (the team leader) changes the goal.")
    errors = _Errors()
    _choice(errors, "case_plan_goal", goal, CasePlanGoal)
    _past_or_today(errors, "date_set", date_set, today)
    reason_text = _text(errors, "reason", reason, required=False)
    recommendation = _text(
        errors, "coordinator_recommendation", coordinator_recommendation, required=False
    )
    errors.raise_if_any()
    current = goal_in_force(session, child.id, today)
    if current is not None and date_set < current.date_set:
        errors.add("date_set", f"The goal in force was set on {current.date_set:%d/%m/%Y}.")
    for field, messages in rules.goal_change_problems(
        goal=goal,
        date_set=date_set,
        reason=reason_text or "",
        aboriginal_status=child.aboriginal_status,
        cultural_consultation_dates=_dates(
            session, CulturalConsultation.consultation_date, child.id
        ),
        agency_kind=child.primary_agency.kind,
        permanency_consultation_dates=_dates(
            session, PermanencyConsultation.consultation_date, child.id
        ),
    ).items():
        for message in messages:
            errors.add(field, message)
    errors.raise_if_any()
    record = CasePlanGoalRecord(
        child_id=child.id,
        goal=goal,
        date_set=date_set,
        permanency_unlikely=permanency_unlikely,
        reason=reason_text,
        coordinator_recommendation=recommendation,
        decided_by_id=user.id,
        recorded_by_id=user.id,
    )
    _appended(session, user, record, "case_plan_goal", child.id, goal=goal)
    refresh_permanency_mirror(session, child, today)
    return record


# ---------------------------------------------------------------- reviews


def record_review(
    session: Session,
    user: User,
    child: Child,
    *,
    review_date: date | None,
    participants: str | None,
    progress: str | None,
    psp_package_reviewed: bool,
    recommendation: str | None,
    next_steps: str | None,
    today: date,
) -> GoalReview:
    """R3 (`002` § Permanency Goal Reviews): a review of the goal in force on its date; the
    latest review drives the next due date."""
    _require(user, "review")
    errors = _Errors()
    _past_or_today(errors, "review_date", review_date, today)
    _choice(errors, "progress", progress, ReviewProgress)
    participants_text = _text(errors, "participants", participants, required=False)
    recommendation_text = _text(errors, "recommendation", recommendation, required=True)
    next_steps_text = _text(errors, "next_steps", next_steps, required=False)
    errors.raise_if_any()
    goal = goal_in_force(session, child.id, review_date)
    if goal is None:
        errors.add("review_date", "The child had no case plan goal on this date.")
        errors.raise_if_any()
    review = GoalReview(
        child_id=child.id,
        goal_id=goal.id,
        review_date=review_date,
        reviewed_by_id=user.id,
        participants=participants_text,
        progress=progress,
        psp_package_reviewed=psp_package_reviewed,
        recommendation=recommendation_text,
        next_steps=next_steps_text,
        recorded_by_id=user.id,
    )
    _appended(session, user, review, "goal_review", child.id)
    refresh_permanency_mirror(session, child, today)
    return review


def last_review_date(session: Session, goal: CasePlanGoalRecord, on: date) -> date | None:
    """The latest review of `goal` up to `on`, on or after the date it was set (R3)."""
    return session.scalar(
        select(GoalReview.review_date)
        .where(
            GoalReview.goal_id == goal.id,
            GoalReview.review_date <= on,
            GoalReview.review_date >= goal.date_set,
        )
        .order_by(GoalReview.review_date.desc())
        .limit(1)
    )


# ---------------------------------------------------------------- consultations


@dataclass(frozen=True)
class ActionInput:
    description: str | None
    responsible: str | None
    due_date: date | None


def request_consultation(
    session: Session, user: User, child: Child, *, reason: str | None
) -> ConsultationRequest:
    """R11: a practitioner or team leader asks the coordinator for a consultation."""
    _require(user, "request")
    errors = _Errors()
    reason_text = _text(errors, "reason", reason, required=True)
    errors.raise_if_any()
    request = ConsultationRequest(child_id=child.id, requested_by_id=user.id, reason=reason_text)
    return _appended(session, user, request, "consultation_request", child.id)


def open_requests_query():
    """Requests no consultation has answered yet."""
    answered = exists().where(PermanencyConsultation.request_id == ConsultationRequest.id)
    return select(ConsultationRequest).where(~answered)


def record_consultation(
    session: Session,
    user: User,
    child: Child,
    *,
    consultation_date: date | None,
    kind: str | None,
    trigger: str | None,
    participants: str | None,
    discussion: str | None,
    recommendations: str | None,
    actions: list[ActionInput],
    request_id: uuid.UUID | None,
    today: date,
    cohort_review_id: uuid.UUID | None = None,
) -> PermanencyConsultation:
    """R11 (`002` § Permanency Consultations; § Record keeping)."""
    _require(user, "consultation")
    errors = _Errors()
    _past_or_today(errors, "consultation_date", consultation_date, today)
    _choice(errors, "kind", kind, ConsultationKind)
    _choice(errors, "trigger", trigger, ConsultationTrigger)
    participants_text = _text(errors, "participants", participants, required=False)
    discussion_text = _text(errors, "discussion", discussion, required=False)
    recommendations_text = _text(errors, "recommendations", recommendations, required=True)
    clean_actions = []
    for index, action in enumerate(actions):
        description = _text(errors, f"actions-{index}-description", action.description,
                            required=True)  # fmt: skip
        responsible = _text(errors, f"actions-{index}-responsible", action.responsible,
                            required=False, limit=NAME_LIMIT)  # fmt: skip
        clean_actions.append((description, responsible, action.due_date))
    if request_id is not None:
        request = session.scalar(
            open_requests_query().where(
                ConsultationRequest.id == request_id, ConsultationRequest.child_id == child.id
            )
        )
        if request is None:
            errors.add("request_id", "That request is not open for this child.")
    errors.raise_if_any()
    consultation = PermanencyConsultation(
        child_id=child.id,
        consultation_date=consultation_date,
        kind=kind,
        trigger=trigger,
        participants=participants_text,
        discussion=discussion_text,
        recommendations=recommendations_text,
        request_id=request_id,
        cohort_review_id=cohort_review_id,
        recorded_by_id=user.id,
    )
    consultation.actions = [
        ConsultationAction(position=i, description=d, responsible=r, due_date=due)
        for i, (d, r, due) in enumerate(clean_actions)
    ]
    return _appended(
        session, user, consultation, "permanency_consultation", child.id, trigger=trigger
    )


def record_cultural_consultation(
    session: Session,
    user: User,
    child: Child,
    *,
    consultation_date: date | None,
    consultant_kind: str | None,
    consultant_name: str | None,
    advice: str | None,
    today: date,
) -> CulturalConsultation:
    """R4 (`000` § Case planning, s10A(3)(e); `002` § Legal, cultural or specialist
    consultations): cultural advice from an Aboriginal consultant, panel or Group Supervision
    with an Aboriginal consultant."""
    _require(user, "cultural_consultation")
    errors = _Errors()
    _past_or_today(errors, "consultation_date", consultation_date, today)
    _choice(errors, "consultant_kind", consultant_kind, CulturalConsultant)
    name = _text(errors, "consultant_name", consultant_name, required=False, limit=NAME_LIMIT)
    advice_text = _text(errors, "advice", advice, required=True)
    errors.raise_if_any()
    record = CulturalConsultation(
        child_id=child.id,
        consultation_date=consultation_date,
        consultant_kind=consultant_kind,
        consultant_name=name,
        advice=advice_text,
        recorded_by_id=user.id,
    )
    return _appended(session, user, record, "cultural_consultation", child.id)


# ---------------------------------------------------------------- case responsibility


def record_transfer(
    session: Session,
    user: User,
    child: Child,
    *,
    to_agency_id: int | None,
    transfer_date: date | None,
    basis: str | None,
    reason: str | None,
    today: date,
) -> CaseResponsibilityTransfer:
    """R10 (`003` § OOHC): a transfer of primary case responsibility, logged and never edited.
    A transfer to a non-government agency names its basis."""
    _require(user, "transfer")
    errors = _Errors()
    _past_or_today(errors, "transfer_date", transfer_date, today)
    reason_text = _text(errors, "reason", reason, required=True)
    agency = session.get(Agency, to_agency_id) if to_agency_id is not None else None
    if agency is None:
        errors.add("to_agency_id", "Choose the agency taking responsibility.")
    elif agency.id == child.primary_agency_id:
        errors.add("to_agency_id", "That agency already holds primary case responsibility.")
    elif agency.kind == "ngo":
        _choice(errors, "basis", basis, TransferBasis)
    errors.raise_if_any()
    transfer = CaseResponsibilityTransfer(
        child_id=child.id,
        from_agency_id=child.primary_agency_id,
        to_agency_id=agency.id,
        transfer_date=transfer_date,
        basis=basis if agency.kind == "ngo" else None,
        reason=reason_text,
        recorded_by_id=user.id,
    )
    child.primary_agency_id = agency.id
    return _appended(
        session, user, transfer, "case_responsibility_transfer", child.id, to_agency_id=agency.id
    )


def record_retention(
    session: Session,
    user: User,
    child: Child,
    *,
    decision_date: date | None,
    criteria: dict[str, bool],
    reason: str | None,
    today: date,
) -> CaseManagementRetention:
    """R10 (`003` § OOHC): case management stays with the government agency only where all
    three criteria hold."""
    _require(user, "retention")
    errors = _Errors()
    _past_or_today(errors, "decision_date", decision_date, today)
    reason_text = _text(errors, "reason", reason, required=True)
    for field, messages in rules.retention_problems(criteria).items():
        for message in messages:
            errors.add(field, message)
    errors.raise_if_any()
    record = CaseManagementRetention(
        child_id=child.id,
        decision_date=decision_date,
        complex_needs=True,
        high_risk=True,
        collaboration=True,
        reason=reason_text,
        recorded_by_id=user.id,
    )
    return _appended(session, user, record, "case_management_retention", child.id)


# ---------------------------------------------------------------- extensions


def apply_for_extension(
    session: Session,
    user: User,
    child: Child,
    *,
    applied_date: date | None,
    reason: str | None,
    today: date,
) -> GoalExtension:
    """`002` § Upskilling: an application to extend the goal past two years (exceptional
    circumstances), recorded against the goal in force."""
    _require(user, "extension")
    errors = _Errors()
    _past_or_today(errors, "applied_date", applied_date, today)
    reason_text = _text(errors, "reason", reason, required=True)
    errors.raise_if_any()
    goal = goal_in_force(session, child.id, applied_date)
    if goal is None or rules.two_year_deadline(goal.goal, goal.date_set) is None:
        errors.add("applied_date", "Only a goal with a two-year timeframe can be extended.")
        errors.raise_if_any()
    extension = GoalExtension(
        child_id=child.id,
        goal_id=goal.id,
        applied_date=applied_date,
        reason=reason_text,
        recorded_by_id=user.id,
    )
    return _appended(session, user, extension, "goal_extension", child.id)


def decide_extension(
    session: Session,
    user: User,
    child: Child,
    extension_id: uuid.UUID,
    *,
    decision: str | None,
    decision_date: date | None,
    today: date,
) -> GoalExtension:
    """The decision on an application is recorded once and never changed."""
    _require(user, "extension")
    extension = session.scalar(
        select(GoalExtension).where(
            GoalExtension.id == extension_id, GoalExtension.child_id == child.id
        )
    )
    errors = _Errors()
    if extension is None:
        errors.add("extension_id", "Choose an application of this child's.")
        errors.raise_if_any()
    if extension.decision is not None:
        errors.add("decision", "The decision on this application is already recorded.")
    if decision not in ("approved", "declined"):
        errors.add("decision", "Choose approved or declined.")
    _past_or_today(errors, "decision_date", decision_date, today)
    if decision_date is not None and decision_date < extension.applied_date:
        errors.add("decision_date", "Cannot be before the application.")
    errors.raise_if_any()
    extension.decision = decision
    extension.decision_date = decision_date
    record_event(
        session,
        user_id=user.id,
        action="decide",
        object_type="goal_extension",
        object_id=extension.id,
        detail={"child_id": str(child.id), "decision": decision},
    )
    return extension


# ---------------------------------------------------------------- cohort reviews


def record_cohort_review(
    session: Session,
    user: User,
    *,
    review_date: date | None,
    notes: str | None,
    flagged: set[uuid.UUID],
    children_in_cohort: list[Child],
    today: date,
    child_notes: dict[uuid.UUID, str] | None = None,
) -> CohortReview:
    """`002` § Cohort reviews: the coordinator's agency's children in long-term care, each
    flagged or not as needing a formal permanency consultation."""
    _require(user, "cohort_review")
    if user.agency_id is None:
        raise Forbidden("Your account is not linked to an agency; ask an admin to link it.")
    child_notes = child_notes or {}
    errors = _Errors()
    _past_or_today(errors, "review_date", review_date, today)
    notes_text = _text(errors, "notes", notes, required=False)
    cohort_ids = {child.id for child in children_in_cohort}
    if (set(flagged) | set(child_notes)) - cohort_ids:
        errors.add("flagged", "Only children of the cohort can be flagged.")
    errors.raise_if_any()
    review = CohortReview(
        agency_id=user.agency_id,
        review_date=review_date,
        notes=notes_text,
        recorded_by_id=user.id,
    )
    review.children = [
        CohortReviewChild(
            child_id=child.id,
            needs_formal_consultation=child.id in flagged,
            note=(child_notes.get(child.id) or "").strip()[:TEXT_LIMIT] or None,
        )
        for child in children_in_cohort
    ]
    session.add(review)
    session.flush()
    record_event(
        session,
        user_id=user.id,
        action="create",
        object_type="cohort_review",
        object_id=review.id,
        detail={"children": len(cohort_ids), "flagged": len(flagged)},
    )
    return review


# ---------------------------------------------------------------- Youth Justice


YOUTH_JUSTICE_TEAMS = ("detention_operations", "community_support_programs")


def record_youth_justice(
    session: Session,
    user: User,
    child: Child,
    *,
    status: str | None,
    lead_practitioner: str | None,
    officers: list[dict],
    court_order_conditions: str | None,
    plan_actions: list[dict],
) -> YouthJusticeRecord:
    """R12 (`004` § Child Protection and Youth Justice): the collaboration as it stands now; a
    new record supersedes the previous one."""
    _require(user, "youth_justice")
    errors = _Errors()
    _choice(errors, "youth_justice_status", status, YouthJusticeStatus)
    active = status not in (None, YouthJusticeStatus.none.value)
    lead = _text(errors, "lead_practitioner", lead_practitioner, required=active,
                 limit=NAME_LIMIT)  # fmt: skip
    conditions = _text(errors, "court_order_conditions", court_order_conditions, required=False)
    clean_officers = []
    for index, officer in enumerate(officers if active else []):
        name = _text(errors, f"officers-{index}-name", officer.get("name"), required=True,
                     limit=NAME_LIMIT)  # fmt: skip
        if officer.get("team") not in YOUTH_JUSTICE_TEAMS:
            errors.add(f"officers-{index}-team", "Choose the officer's team.")
        contact = _text(errors, f"officers-{index}-contact", officer.get("contact"),
                        required=False, limit=NAME_LIMIT)  # fmt: skip
        clean_officers.append({"name": name, "team": officer.get("team"), "contact": contact})
    clean_actions = []
    for index, action in enumerate(plan_actions if active else []):
        description = _text(errors, f"plan_actions-{index}-description",
                            action.get("description"), required=True)  # fmt: skip
        due = action.get("due_date")
        clean_actions.append(
            {"description": description, "due_date": due.isoformat() if due else None}
        )
    errors.raise_if_any()
    record = YouthJusticeRecord(
        child_id=child.id,
        status=status,
        lead_practitioner=lead if active else None,
        officers=clean_officers,
        court_order_conditions=conditions if active else None,
        plan_actions=clean_actions,
        recorded_by_id=user.id,
    )
    child.youth_justice_status = status
    return _appended(session, user, record, "youth_justice", child.id, status=status)


def current_youth_justice(session: Session, child_id: uuid.UUID) -> YouthJusticeRecord | None:
    return session.scalar(
        select(YouthJusticeRecord)
        .where(YouthJusticeRecord.child_id == child_id)
        .order_by(YouthJusticeRecord.recorded_at.desc())
        .limit(1)
    )
