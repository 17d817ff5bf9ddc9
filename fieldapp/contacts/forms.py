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

MODE_CHOICES = [("face_to_face", "Face-to-face"), ("video", "Video"), ("phone", "Phone")]
MADE_BY_CHOICES = [("practitioner", "Me"), ("third_party", "Third party")]
LOCATION_CHOICES = [
    ("", "Choose…"), ("placement", "Placement (where the child lives)"), ("school", "School"),
    ("office", "Office"), ("community", "Community"), ("interstate", "Interstate"),
    ("other", "Other"),
]  # fmt: skip
VIEWS_METHOD_CHOICES = [
    ("", "Choose…"), ("conversation", "Conversation"), ("play_or_drawing", "Play or drawing"),
    ("observation", "Observation"),
    ("advocate_or_interpreter", "Through an advocate or interpreter"),
    ("other", "Other"),
]  # fmt: skip
PARTICIPANT_ROLE_CHOICES = [
    ("", "Choose…"), ("child", "Child"), ("parent", "Parent"), ("family_member", "Family member"),
    ("carer", "Carer"), ("natural_support", "Natural support"),
    ("significant_other", "Significant other"),
    ("aboriginal_community_worker", "Aboriginal Community Worker"),
    ("aboriginal_practice_advisor", "Aboriginal Practice Advisor"),
    ("interpreter", "Interpreter"), ("youth_justice_officer", "Youth Justice Officer"),
    ("other_professional", "Other professional"),
]  # fmt: skip
TEXT_LIMIT = 20000


class ParticipantForm(Form):
    role = SelectField(
        "Role", choices=select_choices(PARTICIPANT_ROLE_CHOICES), validate_choice=False
    )
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    took_part_in_decisions = BooleanField("Took part in decisions")
    views_and_wishes = TextAreaField("Views and wishes", validators=[Length(max=TEXT_LIMIT)])
    feedback = TextAreaField("Feedback", validators=[Length(max=TEXT_LIMIT)])
    concerns = TextAreaField("Concerns or worries", validators=[Length(max=TEXT_LIMIT)])

    def is_blank(self) -> bool:
        return not any(
            (field.data or "").strip() if isinstance(field.data, str) else field.data
            for field in self
        )


class ActionForm(Form):
    description = TextAreaField("What", validators=[Length(max=TEXT_LIMIT)])
    responsible = StringField("Who", validators=[Optional(), Length(max=200)])
    due_date = DateField("By when", validators=[Optional()])

    def is_blank(self) -> bool:
        return (
            not (self.description.data or "").strip()
            and not (self.responsible.data or "").strip()
            and self.due_date.data is None
        )


class ContactForm(FlaskForm):
    contact_date = DateField("Date of contact", validators=[Optional()])
    start_time = TimeField("Start time", validators=[Optional()])
    duration_minutes = IntegerField("Duration (minutes)", validators=[Optional()])
    mode = SelectField("Contact type", choices=select_choices(MODE_CHOICES), validate_choice=False)
    made_by = SelectField("Made by", choices=select_choices(MADE_BY_CHOICES), validate_choice=False)
    third_party_name = StringField("Third party name", validators=[Optional(), Length(max=200)])
    third_party_role = StringField("Third party role", validators=[Optional(), Length(max=200)])
    child_seen = BooleanField("Child seen")
    seen_alone = BooleanField("Seen alone")
    location = SelectField(
        "Location", choices=select_choices(LOCATION_CHOICES), validate_choice=False
    )
    location_detail = StringField("Location details", validators=[Optional(), Length(max=500)])
    child_views = TextAreaField(
        "Child's views (in their own words)", validators=[Length(max=TEXT_LIMIT)]
    )
    views_method = SelectField(
        "How the views were gathered",
        choices=select_choices(VIEWS_METHOD_CHOICES),
        validate_choice=False,
    )
    views_not_recorded_reason = TextAreaField(
        "Reason views were not recorded", validators=[Length(max=TEXT_LIMIT)]
    )
    language_used = StringField("Language used", validators=[Optional(), Length(max=100)])
    interpreter_used = BooleanField("Interpreter used")
    worries = TextAreaField("Worries", validators=[Length(max=TEXT_LIMIT)])
    working_well = TextAreaField("What's working well", validators=[Length(max=TEXT_LIMIT)])
    needs_to_happen = TextAreaField("What needs to happen", validators=[Length(max=TEXT_LIMIT)])
    safety_scale = IntegerField("Safety scale", validators=[Optional()])
    notes = TextAreaField("Other notes", validators=[Length(max=TEXT_LIMIT)])
    participants = FieldList(FormField(ParticipantForm), min_entries=0, max_entries=30)
    actions = FieldList(FormField(ActionForm), min_entries=0, max_entries=30)

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
    reason = StringField("Reason for the addendum", validators=[Length(max=500)])
    text = TextAreaField("Addendum", validators=[Length(max=TEXT_LIMIT)])
    submit = SubmitField("Add addendum")


class ReturnVisitForm(FlaskForm):
    arrival_date = DateField("Arrival date", validators=[Optional()])
    departure_date = DateField("Departure date", validators=[Optional()])
    arrangement_note = TextAreaField(
        "Arrangement (as documented in My Care Plan)", validators=[Length(max=TEXT_LIMIT)]
    )
    submit = SubmitField("Save return visit")
