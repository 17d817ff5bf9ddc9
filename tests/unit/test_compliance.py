"""R1, the six-weekly face-to-face contact rule (`004` § Contact with child), as pure functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from fieldapp.services.compliance import (
    ComplianceStatus,
    ContactFacts,
    child_compliance,
    compliance_on,
    due_date,
    is_qualifying_contact,
)

CARE_START = date(2026, 1, 5)
LAST_CONTACT = date(2026, 3, 2)


# --- the due date ------------------------------------------------------------------------------


def test_due_date_is_42_days_after_the_last_qualifying_contact():
    assert due_date(LAST_CONTACT, CARE_START) == date(2026, 4, 13)


def test_without_a_qualifying_contact_the_due_date_counts_from_care_start():
    assert due_date(None, CARE_START) == date(2026, 2, 16)


def test_due_date_crosses_month_and_year_ends():
    assert due_date(date(2025, 12, 20), CARE_START) == date(2026, 1, 31)
    assert due_date(date(2028, 1, 20), CARE_START) == date(2028, 3, 2)  # 2028 is a leap year


# --- status on a given day ---------------------------------------------------------------------


def test_exactly_42_days_after_the_contact_is_due_soon_not_overdue():
    status = child_compliance(LAST_CONTACT, CARE_START, LAST_CONTACT + timedelta(days=42))
    assert status.status is ComplianceStatus.due_soon
    assert status.days_overdue == 0
    assert status.due_date == LAST_CONTACT + timedelta(days=42)


def test_day_43_is_overdue_by_one_day():
    status = child_compliance(LAST_CONTACT, CARE_START, LAST_CONTACT + timedelta(days=43))
    assert status.status is ComplianceStatus.overdue
    assert status.days_overdue == 1


def test_days_overdue_keeps_counting():
    status = child_compliance(None, CARE_START, CARE_START + timedelta(days=42 + 30))
    assert (status.status, status.days_overdue) == (ComplianceStatus.overdue, 30)


@pytest.mark.parametrize(
    ("days_before_due", "expected"),
    [
        (0, ComplianceStatus.due_soon),
        (1, ComplianceStatus.due_soon),
        (7, ComplianceStatus.due_soon),  # the threshold itself is due soon
        (8, ComplianceStatus.on_track),
        (41, ComplianceStatus.on_track),
        (42, ComplianceStatus.on_track),  # the day of the contact
    ],
)
def test_due_soon_within_seven_days_of_the_due_date(days_before_due, expected):
    due = date(2026, 6, 30)
    status = compliance_on(due, due - timedelta(days=days_before_due))
    assert status.status is expected
    assert status.days_overdue == 0
    assert status.due_date == due


def test_the_due_soon_threshold_is_configurable():
    due = date(2026, 6, 30)
    assert (
        compliance_on(due, due - timedelta(days=10), due_soon_days=14).status
        is ComplianceStatus.due_soon
    )
    assert (
        compliance_on(due, due - timedelta(days=10), due_soon_days=7).status
        is ComplianceStatus.on_track
    )
    assert (
        compliance_on(due, due - timedelta(days=1), due_soon_days=0).status
        is ComplianceStatus.on_track
    )
    assert compliance_on(due, due, due_soon_days=0).status is ComplianceStatus.due_soon
    assert (
        child_compliance(None, CARE_START, CARE_START + timedelta(days=30), due_soon_days=14).status
        is ComplianceStatus.due_soon
    )


def test_status_values_are_the_spec_names():
    assert [status.value for status in ComplianceStatus] == ["overdue", "due_soon", "on_track"]


# --- which contacts count ----------------------------------------------------------------------

SEEN_BY_STAFF = ContactFacts(
    status="submitted",
    mode="face_to_face",
    child_seen=True,
    made_by="practitioner",
    contact_date=LAST_CONTACT,
)


def test_a_submitted_face_to_face_contact_by_staff_with_the_child_seen_qualifies():
    assert is_qualifying_contact(SEEN_BY_STAFF) is True


@pytest.mark.parametrize(
    "changes",
    [
        {"mode": "phone"},
        {"mode": "video"},
        {"child_seen": False},
        {"status": "draft"},
        {"contact_date": None},
    ],
    ids=["phone", "video", "child not seen", "draft", "no date"],
)
def test_contacts_that_do_not_qualify(changes):
    assert is_qualifying_contact(replace(SEEN_BY_STAFF, **changes)) is False


@pytest.mark.parametrize(
    ("name", "role", "qualifies"),
    [
        ("Dana Reid", "Interstate caseworker", True),
        ("Dana Reid", None, False),
        (None, "Interstate caseworker", False),
        (None, None, False),
        ("   ", "Interstate caseworker", False),
        ("Dana Reid", "  ", False),
    ],
    ids=["named with role", "no role", "no name", "neither", "blank name", "blank role"],
)
def test_a_third_party_contact_qualifies_only_with_name_and_role(name, role, qualifies):
    contact = replace(
        SEEN_BY_STAFF, made_by="third_party", third_party_name=name, third_party_role=role
    )
    assert is_qualifying_contact(contact) is qualifies


def test_a_third_party_phone_call_does_not_qualify_even_with_name_and_role():
    contact = replace(
        SEEN_BY_STAFF,
        made_by="third_party",
        mode="phone",
        third_party_name="Dana Reid",
        third_party_role="Interstate caseworker",
    )
    assert is_qualifying_contact(contact) is False


def test_an_unknown_maker_does_not_qualify():
    assert (
        is_qualifying_contact(
            replace(
                SEEN_BY_STAFF, made_by="someone_else", third_party_name="A", third_party_role="B"
            )
        )
        is False
    )
