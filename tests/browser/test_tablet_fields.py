"""The tablet's contact form against the server's one definition of the fields
(services/record_fields.py), both ways: every field the server defines is a control with the
same limit, range and options, and every control is a field the server defines. Then the
contact validation vectors (tests/vectors/contact_validation.json) through the tablet's own
offline check, which must name the fields the server names."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from fieldapp.services import record_fields as fields
from fieldapp.services.record_fields import RECORDS

from ..vectors import CONTACT_VALIDATION, contact_validation_record
from .tablet_pages import first_visit, unlock

pytestmark = pytest.mark.browser

# Every control of the form: its record (by the fieldset of its row), label, type and limits.
CONTROLS = """() => [...document.querySelectorAll("form.contact-form :is(input, select, textarea)")]
    .map((control) => {
        const row = control.closest("fieldset.repeat");
        const label = control.closest("label")
            || document.querySelector(`label[for="${control.id}"]`);
        return {
            row: row ? row.querySelector("legend").textContent : null,
            label: label ? label.textContent.trim() : null,
            tag: control.tagName.toLowerCase(),
            type: control.type,
            maxlength: control.getAttribute("maxlength"),
            min: control.getAttribute("min"),
            max: control.getAttribute("max"),
            options: control.tagName === "SELECT"
                ? [...control.options].map((o) => [o.value, o.text]) : null,
        };
    })"""
CONTROL_OF_KIND = {
    fields.TEXT: ("input", "text"),
    fields.LONG_TEXT: ("textarea", "textarea"),
    fields.DATE: ("input", "date"),
    fields.TIME: ("input", "time"),
    fields.INT: ("input", "number"),
    fields.BOOL: ("input", "checkbox"),
    fields.CHOICE: ("select", "select-one"),
}
ROW_RECORDS = {"Participant": "participant", "Action": "action"}


def _as_str(value) -> str | None:
    return None if value is None else str(value)


def test_every_control_of_the_contact_form_is_a_server_field_with_its_limits(context, caseload):
    page = context.new_page()
    first_visit(page)
    # Offline, from the worker's cache: the fields module is part of the shell.
    context.set_offline(True)
    page.reload()
    unlock(page)
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_role("button", name="Add action", exact=True).click()
    controls = page.evaluate(CONTROLS)

    seen: set[tuple[str, str]] = set()
    for control in controls:
        record = ROW_RECORDS[control["row"].split()[0]] if control["row"] else "contact"
        by_label = {spec.label: spec for spec in RECORDS[record].values()}
        spec = by_label.get(control["label"])
        assert spec is not None, f"{record} control {control['label']!r} is no server field"
        where = f"{record}.{spec.name}"
        seen.add((record, spec.name))
        assert (control["tag"], control["type"]) == CONTROL_OF_KIND[spec.kind], where
        assert control["maxlength"] == _as_str(spec.max_length), where
        if spec.kind == fields.INT:
            assert (control["min"], control["max"]) == (_as_str(spec.min), _as_str(spec.max)), where
        if spec.kind == fields.CHOICE:
            assert control["options"] == [list(pair) for pair in spec.form_choices], where

    defined = {
        (record, name)
        for record in ("contact", "participant", "action")
        for name, spec in RECORDS[record].items()
        if spec.kind not in (fields.ID, fields.ROWS)
    }
    assert defined - seen == set(), "server fields the tablet's form lacks"
    assert page.evaluate("navigator.onLine") is False


# --- the contact validation vectors ----------------------------------------------------------

CHECK = """async ({cases, child, today}) => {
    const { check } = await import("/static/js/tablet/contact_form.js");
    return cases.map((c) => check(c.record, child, c.submitting, today));
}"""
LABELS = {spec.label: name for name, spec in RECORDS["contact"].items()}


def field_of(message: str) -> str:
    """The field a message of the tablet's check names, by the label it starts with."""
    label = message.split(":", 1)[0]
    row = re.fullmatch(r"Participant (\d+) (\w+)", label)
    if row:
        return f"participants-{int(row[1]) - 1}-{row[2]}"
    row = re.fullmatch(r"Action (\d+)", label)
    if row:
        return f"actions-{int(row[1]) - 1}-description"
    assert label in LABELS, f"{message!r} names no field by its label"
    return LABELS[label]


def test_the_tablets_check_names_the_fields_the_server_names(page, live_server):
    page.goto("/tablet")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    cases = [case for case in CONTACT_VALIDATION["cases"] if "server_only" not in case]
    results = page.evaluate(
        CHECK,
        {
            "cases": [
                {"record": contact_validation_record(case), "submitting": case["submitting"]}
                for case in cases
            ],
            "child": CONTACT_VALIDATION["child"],
            "today": CONTACT_VALIDATION["today"],
        },
    )
    found = {
        case["name"]: sorted({field_of(m) for m in got})
        for case, got in zip(cases, results, strict=True)
    }
    assert found == {case["name"]: case["expected"] for case in cases}
