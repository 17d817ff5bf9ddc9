"""One definition of the record fields (services/record_fields.py): push validation and the
server's addendum form enforce exactly its limits, ranges and choices, field by field. The cases
are built from the definition, so a new field is covered without touching this file."""

from __future__ import annotations

import uuid
from datetime import date
from unittest.mock import MagicMock

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from fieldapp.contacts import forms
from fieldapp.models import Child, Contact, User
from fieldapp.services import record_fields as fields
from fieldapp.services.contacts import add_addendum, validate_contact
from fieldapp.services.errors import ValidationError
from fieldapp.services.record_fields import RECORDS
from fieldapp.services.sync_records import parse_contact_data, parse_return_visit_data

LIMITED = [
    (record, name, spec.max_length)
    for record, specs in RECORDS.items()
    for name, spec in specs.items()
    if spec.max_length is not None
]
RANGED = [
    (record, name, spec)
    for record, specs in RECORDS.items()
    for name, spec in specs.items()
    if spec.kind == fields.INT
]
CHOICES = [
    (record, name, spec)
    for record, specs in RECORDS.items()
    for name, spec in specs.items()
    if spec.kind == fields.CHOICE
]


def _ids(cases):
    return [f"{record}.{name}" for record, name, *_ in cases]


def push_errors(record: str, name: str, value) -> dict[str, list[str]]:
    """The errors push validation gives for one field of a record, keyed as on the wire."""
    if record == "contact":
        return parse_contact_data({name: value})[1]
    if record == "participant":
        return parse_contact_data({"participants": [{"role": "carer", name: value}]})[1]
    if record == "action":
        return parse_contact_data({"actions": [{"description": "Call", name: value}]})[1]
    if record == "return_visit":
        return parse_return_visit_data({name: value})[1]
    if record == "addendum":
        # sync.py's `_create_addendum` hands reason and text to add_addendum, which checks them.
        given = {"reason": "Typo", "text": "Corrected", name: value}
        contact = Contact(id=uuid.uuid4(), status="submitted")
        try:
            add_addendum(MagicMock(), User(id=1, role="practitioner"), contact, **given)
        except ValidationError as error:
            return error.errors
        return {}
    raise AssertionError(f"teach push_errors the record {record!r}")


def wire_name(record: str, name: str) -> str:
    return {"participant": "participants-0-", "action": "actions-0-"}.get(record, "") + name


@pytest.mark.parametrize(("record", "name", "limit"), LIMITED, ids=_ids(LIMITED))
def test_push_accepts_the_limit_and_refuses_one_character_over(record, name, limit):
    assert push_errors(record, name, "x" * limit) == {}, f"{record}.{name} at {limit}"
    assert push_errors(record, name, "x" * (limit + 1)) == {
        wire_name(record, name): [f"At most {limit} characters."]
    }, f"{record}.{name} over {limit}"


def test_the_limits_chosen():
    """What users were told on the web and the tablet is what push enforces (until 2026-12
    push allowed 20,000 for the location's details and no limit on an addendum's reason)."""
    assert RECORDS["contact"]["location_detail"].max_length == 500
    assert RECORDS["addendum"]["reason"].max_length == 500
    assert RECORDS["addendum"]["text"].max_length == 20_000
    every_text = [
        (r, n)
        for r, specs in RECORDS.items()
        for n, f in specs.items()
        if f.kind in fields.TEXT_KINDS
    ]
    assert every_text == [(r, n) for r, n, _ in LIMITED], "every text field has a limit"


CHILD = Child(care_start_date=date(2025, 1, 1))


@pytest.mark.parametrize(("record", "name", "spec"), RANGED, ids=_ids(RANGED))
def test_push_keeps_whole_numbers_in_range(record, name, spec):
    assert record == "contact", "teach this test the record"
    for value in (spec.min, spec.max):
        values, errors = parse_contact_data({name: value})
        assert (
            errors == {}
            and validate_contact(values, CHILD, date(2026, 1, 1), submitting=False) == {}
        )
    for value in (spec.min - 1, spec.max + 1):
        values, _ = parse_contact_data({name: value})
        assert list(validate_contact(values, CHILD, date(2026, 1, 1), submitting=False)) == [name]


@pytest.mark.parametrize(("record", "name", "spec"), CHOICES, ids=_ids(CHOICES))
def test_push_accepts_every_choice_and_nothing_else(record, name, spec):
    def errors(value):
        if record == "contact":
            values = {name: value}
        elif record == "participant":
            values = {"participants": [{name: value}]}
        else:
            raise AssertionError("teach this test the record")
        return validate_contact(values, CHILD, date(2026, 1, 1), submitting=False)

    for value, _label in spec.choices:
        assert errors(value) == {}, value
    assert list(errors("not_a_choice")) == [wire_name(record, name)]


# --- the server's forms --------------------------------------------------------------------------

# The one server form left for these records: a team leader's addendum. Contacts and return
# visits are recorded in the offline app, whose limits tests/browser/test_tablet_fields.py checks.
FORMS = {"addendum": forms.AddendumForm}
NOT_FIELDS = {"csrf_token", "submit"}
FORM_LIMITED = [case for case in LIMITED if case[0] in FORMS]


@pytest.fixture
def request_context():
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=False)
    with app.test_request_context(method="POST"):
        yield


def form_of(record, data=None):
    return FORMS[record](formdata=MultiDict(data or {}))


@pytest.mark.parametrize("record", list(FORMS))
def test_each_form_has_the_definitions_fields_and_no_other(request_context, record):
    form = form_of(record)
    on_form = {name for name in form._fields if name not in NOT_FIELDS}
    defined = {n for n, f in RECORDS[record].items() if f.kind != fields.ID}
    assert on_form == defined
    for name in on_form:
        spec = RECORDS[record][name]
        if spec.kind == fields.ROWS:
            assert form[name].max_entries == spec.max_rows
            continue
        assert form[name].label.text == spec.label, name
        if spec.kind == fields.CHOICE:
            assert [(c.value, c.label) for c in form[name].choices] == spec.form_choices


@pytest.mark.parametrize(("record", "name", "limit"), FORM_LIMITED, ids=_ids(FORM_LIMITED))
def test_the_form_accepts_the_limit_and_refuses_one_character_over(
    request_context, record, name, limit
):
    at = form_of(record, {name: "x" * limit})
    assert at[name].validate(at), f"{record}.{name} at {limit}: {at[name].errors}"
    over = form_of(record, {name: "x" * (limit + 1)})
    assert not over[name].validate(over), f"{record}.{name} over {limit}"
