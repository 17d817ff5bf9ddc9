"""The contact validation vectors (tests/vectors/contact_validation.json) through the server's
push validation: a contact's `data` parsed as push parses it, then checked by validate_contact,
the rules every path applies. The tablet runs the same vectors (tests/browser/
test_tablet_fields.py). No database: the child is built in memory."""

from __future__ import annotations

from datetime import date

import pytest

from fieldapp.models import Child
from fieldapp.services.contacts import validate_contact
from fieldapp.services.sync_records import parse_contact_data

from ..vectors import CONTACT_VALIDATION, contact_validation_record

CASES = CONTACT_VALIDATION["cases"]


def push_validation(data: dict, submitting: bool) -> list[str]:
    """The fields the server names when this contact is pushed (create, as draft or submitted)."""
    child = Child(
        care_start_date=date.fromisoformat(CONTACT_VALIDATION["child"]["care_start_date"])
    )
    values, errors = parse_contact_data(data)
    if errors:  # sync.py refuses the mutation on parse errors before validating
        return sorted(errors)
    today = date.fromisoformat(CONTACT_VALIDATION["today"])
    return sorted(validate_contact(values, child, today, submitting=submitting))


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_push_validation_names_the_expected_fields(case):
    assert push_validation(contact_validation_record(case), case["submitting"]) == case["expected"]


def test_there_are_cases_for_the_tablet_and_for_the_server_alone():
    assert sum("server_only" not in case for case in CASES) >= 12
    assert any("server_only" in case for case in CASES)
