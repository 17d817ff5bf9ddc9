"""The fields of the records practitioners write (SPEC §4 record shapes, §5 accessible names),
said once: wire name, label, kind, limit or range, choices with their labels, and whether the
field is required. Everything else is derived from here: the push validation
(`sync_records`, `contacts`), the server forms (`contacts/forms.py`) and the tablet's module
(`tablet_module`, served as /tablet/fields.js and re-exported by static/js/tablet/choices.js).

Limits: narrative text 20,000 characters; names and roles 200 (their columns are sized so);
the language 100; a location's details and an addendum's reason 500, the limit the web and the
tablet have always shown (push allowed 20,000 and no limit respectively until 2026-12)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from ..models.contact import ContactMode, Location, MadeBy, ParticipantRole, ViewsMethod
from . import permanency

TEXT = "text"  # one line
LONG_TEXT = "long_text"  # a text area
DATE = "date"
TIME = "time"
INT = "int"
BOOL = "bool"
CHOICE = "choice"
ROWS = "rows"  # repeated rows of another record (a contact's participants and actions)
ID = "id"  # the record another belongs to: on the wire, never typed by anyone

TEXT_KINDS = (TEXT, LONG_TEXT)
NARRATIVE = 20_000  # free text: a page or two of words
NAME = 200
SHORT = 500
CHOOSE = "Choose…"  # the prompt of a choice that may be left unset


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    kind: str
    max_length: int | None = None  # text: characters, counted as stored (trimmed)
    min: int | None = None  # int: the range, both ends allowed
    max: int | None = None
    choices: tuple[tuple[str, str], ...] = ()  # choice: (value, label) in the order shown
    prompt: str | None = None  # choice: the blank first option, when the field may be unset
    required: str | None = None  # "always" (even on a draft) or "submit"; None: optional
    free_text: bool = False  # someone's own words: shown in full, never merged automatically
    max_rows: int | None = None  # rows: how many at most
    rows_of: str | None = None  # rows: the record of each row

    @property
    def form_choices(self) -> list[tuple[str, str]]:
        """The options a form offers, the prompt first."""
        return ([("", self.prompt)] if self.prompt else []) + list(self.choices)

    @cached_property
    def values(self) -> frozenset[str]:
        # Asked for every choice of every contact a push validates: made once.
        return frozenset(value for value, _label in self.choices)


def _choices(enum_type: type[StrEnum], labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """An enum's values in its order, each with its label; every member must have one."""
    assert set(labels) == {m.value for m in enum_type}, enum_type
    return tuple((member.value, labels[member.value]) for member in enum_type)


MODE = _choices(ContactMode, {"face_to_face": "Face-to-face", "video": "Video", "phone": "Phone"})
MADE_BY = _choices(MadeBy, {"practitioner": "Me", "third_party": "Third party"})
LOCATION = _choices(
    Location,
    {
        "placement": "Placement (where the child lives)", "school": "School", "office": "Office",
        "community": "Community", "interstate": "Interstate", "other": "Other",
    },
)  # fmt: skip
VIEWS_METHOD = _choices(
    ViewsMethod,
    {
        "conversation": "Conversation", "play_or_drawing": "Play or drawing",
        "observation": "Observation",
        "advocate_or_interpreter": "Through an advocate or interpreter", "other": "Other",
    },
)  # fmt: skip
PARTICIPANT_ROLE = _choices(
    ParticipantRole,
    {
        "child": "Child", "parent": "Parent", "family_member": "Family member", "carer": "Carer",
        "natural_support": "Natural support", "significant_other": "Significant other",
        "aboriginal_community_worker": "Aboriginal Community Worker",
        "aboriginal_practice_advisor": "Aboriginal Practice Advisor",
        "interpreter": "Interpreter", "youth_justice_officer": "Youth Justice Officer",
        "other_professional": "Other professional",
    },
)  # fmt: skip


def _record(*fields: FieldSpec) -> dict[str, FieldSpec]:
    return {f.name: f for f in fields}


F = FieldSpec
# fmt: off
CONTACT = _record(
    F("child_id", "Child", ID),
    F("contact_date", "Date of contact", DATE, required="submit"),
    F("start_time", "Start time", TIME),
    F("duration_minutes", "Duration (minutes)", INT, min=1, max=24 * 60),
    F("mode", "Contact type", CHOICE, choices=MODE, required="always"),
    F("made_by", "Made by", CHOICE, choices=MADE_BY, required="always"),
    F("third_party_name", "Third party name", TEXT, max_length=NAME),
    F("third_party_role", "Third party role", TEXT, max_length=NAME),
    F("child_seen", "Child seen", BOOL),
    F("seen_alone", "Seen alone", BOOL),
    F("location", "Location", CHOICE, choices=LOCATION, prompt=CHOOSE),
    F("location_detail", "Location details", TEXT, max_length=SHORT, free_text=True),
    F("child_views", "Child's views (in their own words)", LONG_TEXT, NARRATIVE, free_text=True),
    F("views_method", "How the views were gathered", CHOICE, choices=VIEWS_METHOD, prompt=CHOOSE),
    F("views_not_recorded_reason", "Reason views were not recorded", LONG_TEXT, NARRATIVE,
      free_text=True),
    F("language_used", "Language used", TEXT, max_length=100),
    F("interpreter_used", "Interpreter used", BOOL),
    F("worries", "Worries", LONG_TEXT, NARRATIVE, free_text=True),
    F("working_well", "What's working well", LONG_TEXT, NARRATIVE, free_text=True),
    F("needs_to_happen", "What needs to happen", LONG_TEXT, NARRATIVE, free_text=True),
    F("safety_scale", "Safety scale", INT, min=0, max=10),
    F("notes", "Other notes", LONG_TEXT, NARRATIVE, free_text=True),
    F("participants", "Participants", ROWS, max_rows=30, rows_of="participant"),
    F("actions", "Actions", ROWS, max_rows=30, rows_of="action"),
)
PARTICIPANT = _record(
    F("role", "Role", CHOICE, choices=PARTICIPANT_ROLE, prompt=CHOOSE, required="always"),
    F("name", "Name", TEXT, max_length=NAME),
    F("took_part_in_decisions", "Took part in decisions", BOOL),
    F("views_and_wishes", "Views and wishes", LONG_TEXT, NARRATIVE),
    F("feedback", "Feedback", LONG_TEXT, NARRATIVE),
    F("concerns", "Concerns or worries", LONG_TEXT, NARRATIVE),
)
ACTION = _record(
    F("description", "What", LONG_TEXT, NARRATIVE, required="always"),
    F("responsible", "Who", TEXT, max_length=NAME),
    F("due_date", "By when", DATE),
)
ADDENDUM = _record(
    F("contact_id", "Contact", ID),
    F("reason", "Reason for the addendum", TEXT, max_length=SHORT, required="always",
      free_text=True),
    F("text", "Addendum", LONG_TEXT, NARRATIVE, required="always", free_text=True),
)
RETURN_VISIT = _record(
    F("child_id", "Child", ID),
    F("arrival_date", "Arrival date", DATE, required="always"),
    F("departure_date", "Departure date", DATE, required="always"),
    F("arrangement_note", "Arrangement (as documented in My Care Plan)", LONG_TEXT, NARRATIVE,
      free_text=True),
)
# fmt: on
RECORDS = {
    "contact": CONTACT,
    "participant": PARTICIPANT,
    "action": ACTION,
    "addendum": ADDENDUM,
    "return_visit": RETURN_VISIT,
}
# The records of the wire whose fields are named on their own in errors ("reason"); a
# participant's and an action's are named by their row ("participants-0-name").
TOP_LEVEL = ("contact", "addendum", "return_visit")


def too_long(spec: FieldSpec, value: object) -> str | None:
    """The error for text over the field's limit, counted as it is stored (trimmed)."""
    if spec.max_length is not None and isinstance(value, str):
        if len(value.strip()) > spec.max_length:
            return f"At most {spec.max_length} characters."
    return None


def out_of_range(spec: FieldSpec, value: object) -> bool:
    return value is not None and not (spec.min <= value <= spec.max)


# --- the tablet's module -------------------------------------------------------------------------


def _js_field(spec: FieldSpec) -> dict:
    out: dict = {"label": spec.label, "kind": spec.kind}
    for key, value in (
        ("maxLength", spec.max_length), ("min", spec.min), ("max", spec.max),
        ("required", spec.required), ("maxRows", spec.max_rows), ("rowsOf", spec.rows_of),
    ):  # fmt: skip
        if value is not None:
            out[key] = value
    if spec.kind == CHOICE:
        out["choices"] = [list(pair) for pair in spec.form_choices]
    if spec.free_text:
        out["freeText"] = True
    return out


def field_labels() -> dict[str, str]:
    """Wire names of the top-level records to their labels, for field-named errors."""
    return {name: f.label for record in TOP_LEVEL for name, f in RECORDS[record].items()}


def free_text() -> list[str]:
    return list(dict.fromkeys(n for r in TOP_LEVEL for n, f in RECORDS[r].items() if f.free_text))


def tablet_module() -> str:
    """static/js/tablet/choices.js's definitions as an ES module, with the export names it has
    always had: FIELDS (every record's fields), the option lists, FIELD_LABELS and FREE_TEXT."""

    def const(name: str, value) -> str:
        return f"export const {name} = {json.dumps(value, ensure_ascii=False)};\n"

    fields = {
        record: {n: _js_field(f) for n, f in specs.items()} for record, specs in RECORDS.items()
    }
    return (
        "// Generated by the server from fieldapp/services/record_fields.py: do not copy.\n"
        + const("FIELDS", fields)
        + const("MODE", [list(p) for p in CONTACT["mode"].form_choices])
        + const("MADE_BY", [list(p) for p in CONTACT["made_by"].form_choices])
        + const("LOCATION", [list(p) for p in CONTACT["location"].form_choices])
        + const("VIEWS_METHOD", [list(p) for p in CONTACT["views_method"].form_choices])
        + const("PARTICIPANT_ROLE", [list(p) for p in PARTICIPANT["role"].form_choices])
        + const("FIELD_LABELS", field_labels())
        + const("FREE_TEXT", free_text())
        # Permanency (R3, R12): the labels the server pages use and the timeframe's numbers.
        + const("GOAL_LABELS", dict(permanency.GOAL_LABELS))
        + const("YOUTH_JUSTICE_STATUS", permanency.YOUTH_JUSTICE_STATUS_LABELS)
        + const("YOUTH_JUSTICE_TEAM", permanency.YOUTH_JUSTICE_TEAM_LABELS)
        + const("TWO_YEAR_MONTHS", permanency.TWO_YEAR_MONTHS)
        + const("APPROACHING_DAYS", permanency.APPROACHING_DAYS)
    )
