"""The contact form: labels are the accessible names of SPEC §5."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import Length, Optional

from ..forms import select_choices
from ..services import record_fields as fields
from ..services.record_fields import ACTION, ADDENDUM, CONTACT, PARTICIPANT, RETURN_VISIT

# The options, labels and limits are record_fields' (one definition for the web, push and the
# tablet); the names below are kept for the code that reads them.
MODE_CHOICES = CONTACT["mode"].form_choices
MADE_BY_CHOICES = CONTACT["made_by"].form_choices
LOCATION_CHOICES = CONTACT["location"].form_choices
VIEWS_METHOD_CHOICES = CONTACT["views_method"].form_choices
PARTICIPANT_ROLE_CHOICES = PARTICIPANT["role"].form_choices
TEXT_LIMIT = fields.NARRATIVE


def _field(spec: fields.FieldSpec):
    """The WTForms field of one field of the definition: its label, limit and options. Ranges
    and required fields are checked by services/contacts.py, naming the field."""
    if spec.kind == fields.TEXT:
        return StringField(spec.label, validators=[Optional(), Length(max=spec.max_length)])
    if spec.kind == fields.LONG_TEXT:
        return TextAreaField(spec.label, validators=[Length(max=spec.max_length)])
    if spec.kind == fields.CHOICE:
        return SelectField(
            spec.label, choices=select_choices(spec.form_choices), validate_choice=False
        )
    if spec.kind == fields.BOOL:
        return BooleanField(spec.label)
    kinds = {fields.DATE: DateField, fields.TIME: TimeField, fields.INT: IntegerField}
    return kinds[spec.kind](spec.label, validators=[Optional()])


class ParticipantForm(Form):
    role = _field(PARTICIPANT["role"])
    name = _field(PARTICIPANT["name"])
    took_part_in_decisions = _field(PARTICIPANT["took_part_in_decisions"])
    views_and_wishes = _field(PARTICIPANT["views_and_wishes"])
    feedback = _field(PARTICIPANT["feedback"])
    concerns = _field(PARTICIPANT["concerns"])

    def is_blank(self) -> bool:
        return not any(
            (field.data or "").strip() if isinstance(field.data, str) else field.data
            for field in self
        )


class ActionForm(Form):
    description = _field(ACTION["description"])
    responsible = _field(ACTION["responsible"])
    due_date = _field(ACTION["due_date"])

    def is_blank(self) -> bool:
        return (
            not (self.description.data or "").strip()
            and not (self.responsible.data or "").strip()
            and self.due_date.data is None
        )


class ContactForm(FlaskForm):
    contact_date = _field(CONTACT["contact_date"])
    start_time = _field(CONTACT["start_time"])
    duration_minutes = _field(CONTACT["duration_minutes"])
    mode = _field(CONTACT["mode"])
    made_by = _field(CONTACT["made_by"])
    third_party_name = _field(CONTACT["third_party_name"])
    third_party_role = _field(CONTACT["third_party_role"])
    child_seen = _field(CONTACT["child_seen"])
    seen_alone = _field(CONTACT["seen_alone"])
    location = _field(CONTACT["location"])
    location_detail = _field(CONTACT["location_detail"])
    child_views = _field(CONTACT["child_views"])
    views_method = _field(CONTACT["views_method"])
    views_not_recorded_reason = _field(CONTACT["views_not_recorded_reason"])
    language_used = _field(CONTACT["language_used"])
    interpreter_used = _field(CONTACT["interpreter_used"])
    worries = _field(CONTACT["worries"])
    working_well = _field(CONTACT["working_well"])
    needs_to_happen = _field(CONTACT["needs_to_happen"])
    safety_scale = _field(CONTACT["safety_scale"])
    notes = _field(CONTACT["notes"])
    participants = FieldList(
        FormField(ParticipantForm), min_entries=0, max_entries=CONTACT["participants"].max_rows
    )
    actions = FieldList(
        FormField(ActionForm), min_entries=0, max_entries=CONTACT["actions"].max_rows
    )

    add_participant = SubmitField("Add participant")
    add_action = SubmitField("Add action")
    save_draft = SubmitField("Save draft")
    submit = SubmitField("Submit")

    def to_values(self) -> dict[str, Any]:
        """Plain values keyed by the SPEC §4 field names, for `services.contacts`."""
        values: dict[str, Any] = {
            name: getattr(self, name).data
            for name in (
                "contact_date", "duration_minutes", "mode", "made_by", "third_party_name",
                "third_party_role", "child_seen", "seen_alone", "location", "location_detail",
                "child_views", "views_method", "views_not_recorded_reason", "language_used",
                "interpreter_used", "worries", "working_well", "needs_to_happen", "safety_scale",
                "notes",
            )
        }  # fmt: skip
        values["start_time"] = (
            self.start_time.data.strftime("%H:%M") if self.start_time.data else None
        )
        for name in ("location", "views_method"):
            values[name] = values[name] or None
        values["participants"] = [
            {
                "role": entry.form.role.data or None,
                "name": entry.form.name.data,
                "took_part_in_decisions": entry.form.took_part_in_decisions.data,
                "views_and_wishes": entry.form.views_and_wishes.data,
                "feedback": entry.form.feedback.data,
                "concerns": entry.form.concerns.data,
            }
            for entry in self.participants
            if not entry.form.is_blank()
        ]
        values["actions"] = [
            {
                "description": entry.form.description.data,
                "responsible": entry.form.responsible.data,
                "due_date": entry.form.due_date.data,
            }
            for entry in self.actions
            if not entry.form.is_blank()
        ]
        return values

    def load(self, contact) -> None:
        """Fills the form from a saved draft."""
        for name in (
            "contact_date", "duration_minutes", "mode", "made_by", "third_party_name",
            "third_party_role", "child_seen", "seen_alone", "location_detail", "child_views",
            "views_not_recorded_reason", "language_used", "interpreter_used", "worries",
            "working_well", "needs_to_happen", "safety_scale", "notes",
        ):  # fmt: skip
            getattr(self, name).data = getattr(contact, name)
        self.location.data = contact.location or ""
        self.views_method.data = contact.views_method or ""
        if contact.start_time:
            from datetime import time

            hours, minutes = contact.start_time.split(":")
            self.start_time.data = time(int(hours), int(minutes))
        for participant in contact.participants:
            self.participants.append_entry(
                {
                    "role": participant.role, "name": participant.name,
                    "took_part_in_decisions": participant.took_part_in_decisions,
                    "views_and_wishes": participant.views_and_wishes,
                    "feedback": participant.feedback, "concerns": participant.concerns,
                }
            )  # fmt: skip
        for action in contact.actions:
            self.actions.append_entry(
                {"description": action.description, "responsible": action.responsible,
                 "due_date": action.due_date}
            )  # fmt: skip


class AddendumForm(FlaskForm):
    reason = _field(ADDENDUM["reason"])
    text = _field(ADDENDUM["text"])
    submit = SubmitField("Add addendum")


class ReturnVisitForm(FlaskForm):
    arrival_date = _field(RETURN_VISIT["arrival_date"])
    departure_date = _field(RETURN_VISIT["departure_date"])
    arrangement_note = _field(RETURN_VISIT["arrangement_note"])
    submit = SubmitField("Save return visit")
