"""Permanency forms and the one home of their choice labels (R3, R4, R10, R11, R12).

Labels are the accessible names of SPEC §5. Goal labels, retention criteria and transfer bases
come from `services/permanency.py`; every other readable label lives here, and both the forms
and the templates (through `LABELS`) read them from this module. Field names equal the field
names the services in `services/permanency_records.py` report errors under, so each message is
shown beside its field.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from ..forms import select_choices
from ..services.permanency import (
    GOAL_LABELS,
    PREFERENCE_RANK,
    RETENTION_CRITERIA,
    TRANSFER_BASES,
    YOUTH_JUSTICE_STATUS_LABELS,
    YOUTH_JUSTICE_TEAM_LABELS,
)
from ..services.permanency_records import NAME_LIMIT, TEXT_LIMIT

CHOOSE = ("", "Choose…")
REPEATS = 3  # follow-up actions, Youth Justice officers and plan actions offered per form

# R3 (`002` § Permanency Goal Reviews): progress towards the goal.
PROGRESS_LABELS = {
    "on_track": "On track",
    "progress_concerns": "Progress concerns",
    "goal_change_recommended": "Goal change recommended",
}
REVIEW_STATUS_LABELS = {
    "overdue": "Overdue",
    "due_soon": "Due soon",
    "on_track": "On track",
    "not_required": "Not counted (government agency)",
}
TIMEFRAME_STATUS_LABELS = {
    "within": "Within two years",
    "approaching": "Approaching",
    "exceeded": "Exceeded",
    "not_applicable": "Not applicable (long-term care)",
}
# R11 (`002` § Permanency Consultations): kinds and triggers.
KIND_LABELS = {"formal": "Formal", "informal": "Informal"}
TRIGGER_LABELS = {
    "goal_change_considered": "A change of case plan goal is considered",
    "legal_action_or_short_term_orders": "Legal action or short-term orders",
    "significant_change": "A significant change in the child's circumstances",
    "requested": "Requested by the practitioner or team leader",
    "rosh_report_in_care": "A risk of significant harm report while in care",
    "cohort_review": "Cohort review",
    "preservation_support": "Support for family preservation",
}
# R4 (`002` § Legal, cultural or specialist consultations): who gives cultural advice.
CONSULTANT_LABELS = {
    "aboriginal_consultant": "An Aboriginal consultant",
    "consultation_panel": "An Aboriginal Advisory or Consultation Panel",
    "group_supervision": "Group Supervision with an Aboriginal consultant",
}
# `002` § Upskilling: an extension application is approved or declined, once.
DECISION_LABELS = {"approved": "Approved", "declined": "Declined"}
# R12 (`004` § Child Protection and Youth Justice).
AGENCY_KIND_LABELS = {"government": "Government agency", "ngo": "Non-government agency"}

# Everything a template needs to turn a stored value into words.
LABELS = {
    "goal": GOAL_LABELS,
    "progress": PROGRESS_LABELS,
    "review_status": REVIEW_STATUS_LABELS,
    "timeframe_status": TIMEFRAME_STATUS_LABELS,
    "kind": KIND_LABELS,
    "trigger": TRIGGER_LABELS,
    "consultant": CONSULTANT_LABELS,
    "decision": DECISION_LABELS,
    "youth_justice_status": YOUTH_JUSTICE_STATUS_LABELS,
    "youth_justice_team": YOUTH_JUSTICE_TEAM_LABELS,
    "agency_kind": AGENCY_KIND_LABELS,
    "transfer_basis": TRANSFER_BASES,
    "retention_criteria": RETENTION_CRITERIA,
}


def _choices(labels: dict[str, str], blank: bool = True):
    return select_choices([CHOOSE, *labels.items()] if blank else labels.items())


def goal_choices():
    """R4 (`000` § Case planning, s10A): goals offered in the order of preference."""
    ordered = sorted(GOAL_LABELS, key=lambda goal: PREFERENCE_RANK[goal])
    return select_choices([CHOOSE, *((goal, GOAL_LABELS[goal]) for goal in ordered)])


def _blank(form: Form) -> bool:
    return not any(
        (field.data or "").strip() if isinstance(field.data, str) else field.data for field in form
    )


class GoalForm(FlaskForm):
    """R3, R4: a new case plan goal (`000` § Case planning; `002` § Approving changes)."""

    case_plan_goal = SelectField("Case plan goal", choices=goal_choices(), validate_choice=False)
    date_set = DateField("Date set", validators=[Optional()])
    reason = TextAreaField("Reason", validators=[Length(max=TEXT_LIMIT)])
    permanency_unlikely = BooleanField("Permanency unlikely within two years")
    coordinator_recommendation = TextAreaField(
        "Coordinator's recommendation", validators=[Length(max=TEXT_LIMIT)]
    )


class ReviewForm(FlaskForm):
    """R3 (`002` § Permanency Goal Reviews)."""

    review_date = DateField("Review date", validators=[Optional()])
    progress = SelectField("Progress", choices=_choices(PROGRESS_LABELS), validate_choice=False)
    psp_package_reviewed = BooleanField("PSP package reviewed")
    recommendation = TextAreaField("Recommendation", validators=[Length(max=TEXT_LIMIT)])
    next_steps = TextAreaField("Next steps", validators=[Length(max=TEXT_LIMIT)])
    participants = TextAreaField("Who took part", validators=[Length(max=TEXT_LIMIT)])


class ActionForm(Form):
    description = TextAreaField("What", validators=[Length(max=TEXT_LIMIT)])
    responsible = StringField("Who", validators=[Length(max=NAME_LIMIT)])
    due_date = DateField("By when", validators=[Optional()])

    def is_blank(self) -> bool:
        return _blank(self)


class ConsultationForm(FlaskForm):
    """R11 (`002` § Permanency Consultations; § Record keeping)."""

    consultation_date = DateField("Date", validators=[Optional()])
    kind = SelectField("Kind", choices=_choices(KIND_LABELS), validate_choice=False)
    trigger = SelectField("Trigger", choices=_choices(TRIGGER_LABELS), validate_choice=False)
    participants = TextAreaField("Who took part", validators=[Length(max=TEXT_LIMIT)])
    discussion = TextAreaField("Discussion", validators=[Length(max=TEXT_LIMIT)])
    recommendations = TextAreaField("Recommendations", validators=[Length(max=TEXT_LIMIT)])
    actions = FieldList(FormField(ActionForm), min_entries=REPEATS, max_entries=REPEATS)
    request_id = SelectField("Answers the request", validate_choice=False)


class RequestForm(FlaskForm):
    """R11: a practitioner or team leader asks the coordinator for a consultation."""

    reason = TextAreaField("Reason", validators=[Length(max=TEXT_LIMIT)])


class CulturalConsultationForm(FlaskForm):
    """R4 (`000` § Case planning, s10A(3)(e); `002` § Legal, cultural or specialist
    consultations)."""

    consultation_date = DateField("Date", validators=[Optional()])
    consultant_kind = SelectField(
        "Consultant", choices=_choices(CONSULTANT_LABELS), validate_choice=False
    )
    consultant_name = StringField("Consultant's name", validators=[Length(max=NAME_LIMIT)])
    advice = TextAreaField("Advice", validators=[Length(max=TEXT_LIMIT)])


class TransferForm(FlaskForm):
    """R10 (`000` § Case planning; `003` § OOHC)."""

    to_agency_id = SelectField("To agency", validate_choice=False)
    transfer_date = DateField("Date", validators=[Optional()])
    basis = SelectField("Basis", choices=_choices(TRANSFER_BASES), validate_choice=False)
    reason = TextAreaField("Reason", validators=[Length(max=TEXT_LIMIT)])


class RetentionForm(FlaskForm):
    """R10 (`003` § OOHC): the three criteria, all of which must hold."""

    complex_needs = BooleanField(f"The child {RETENTION_CRITERIA['complex_needs']}")
    high_risk = BooleanField(f"The child {RETENTION_CRITERIA['high_risk']}")
    collaboration = BooleanField(f"The child's {RETENTION_CRITERIA['collaboration']}")
    decision_date = DateField("Decision date", validators=[Optional()])
    reason = TextAreaField("Reason", validators=[Length(max=TEXT_LIMIT)])

    def criteria(self) -> dict[str, bool]:
        return {name: bool(getattr(self, name).data) for name in RETENTION_CRITERIA}


class ExtensionForm(FlaskForm):
    """`002` § Upskilling: an application to extend past two years."""

    applied_date = DateField("Date applied", validators=[Optional()])
    reason = TextAreaField("Reason", validators=[Length(max=TEXT_LIMIT)])


class ExtensionDecisionForm(FlaskForm):
    """`002` § Upskilling: the decision on an application, recorded once."""

    extension_id = HiddenField()
    decision = SelectField("Decision", choices=_choices(DECISION_LABELS), validate_choice=False)
    decision_date = DateField("Decision date", validators=[Optional()])


class OfficerForm(Form):
    name = StringField("Name", validators=[Length(max=NAME_LIMIT)])
    team = SelectField("Team", choices=_choices(YOUTH_JUSTICE_TEAM_LABELS), validate_choice=False)
    contact = StringField("Contact", validators=[Length(max=NAME_LIMIT)])

    def is_blank(self) -> bool:
        return _blank(self)


class PlanActionForm(Form):
    description = TextAreaField("What", validators=[Length(max=TEXT_LIMIT)])
    due_date = DateField("By when", validators=[Optional()])

    def is_blank(self) -> bool:
        return _blank(self)


class YouthJusticeForm(FlaskForm):
    """R12 (`004` § Child Protection and Youth Justice)."""

    youth_justice_status = SelectField(
        "Youth Justice status",
        choices=_choices(YOUTH_JUSTICE_STATUS_LABELS, blank=False),
        validate_choice=False,
    )
    lead_practitioner = StringField("Lead practitioner", validators=[Length(max=NAME_LIMIT)])
    officers = FieldList(FormField(OfficerForm), min_entries=REPEATS, max_entries=REPEATS)
    court_order_conditions = TextAreaField(
        "Court order conditions", validators=[Length(max=TEXT_LIMIT)]
    )
    plan_actions = FieldList(FormField(PlanActionForm), min_entries=REPEATS, max_entries=REPEATS)
