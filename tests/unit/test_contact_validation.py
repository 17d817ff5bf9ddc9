"""`validate_contact`: the rules a contact must meet to be saved (a draft: never wrong) or
submitted (also complete). R1 third parties, R5 participation, R6 the child's views, R7 Signs of
Safety; no database: the child is built in memory."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from fieldapp.models import Child
from fieldapp.services.contacts import MAX_ACTIONS, MAX_PARTICIPANTS, validate_contact

TODAY = date(2026, 11, 24)
CARE_START = date(2025, 3, 1)


@pytest.fixture
def child() -> Child:
    return Child(
        given_name="Mia",
        family_name="Anderson",
        date_of_birth=date(2016, 5, 4),
        care_start_date=CARE_START,
        residence="nt",
    )


def complete(**changes):
    values = {
        "contact_date": TODAY - timedelta(days=1), "start_time": "10:15", "duration_minutes": 60,
        "mode": "face_to_face", "made_by": "practitioner", "third_party_name": None,
        "third_party_role": None, "child_seen": True, "seen_alone": True, "location": "placement",
        "location_detail": None, "child_views": "I want to stay with Aunty.",
        "views_method": "conversation", "views_not_recorded_reason": None,
        "language_used": "English", "interpreter_used": False, "worries": "Sleep",
        "working_well": "School", "needs_to_happen": "Family time", "safety_scale": 6,
        "notes": None,
        "participants": [{"role": "child", "name": "Mia"}, {"role": "carer", "name": "Aunty"}],
        "actions": [{"description": "Book family time", "responsible": "Pat", "due_date": None}],
    }  # fmt: skip
    values.update(changes)
    return values


def check(child, submitting=True, **changes):
    return validate_contact(complete(**changes), child, TODAY, submitting=submitting)


def test_a_complete_contact_has_no_errors(child):
    assert check(child) == {}
    assert check(child, submitting=False) == {}


def test_an_empty_draft_may_be_saved_but_not_submitted(child):
    assert validate_contact({}, child, TODAY, submitting=False) == {}
    assert list(validate_contact({}, child, TODAY, submitting=True)) == ["contact_date"]


# --- the date of contact -----------------------------------------------------------------------


@pytest.mark.parametrize("submitting", [True, False], ids=["submit", "draft"])
def test_a_contact_date_in_the_future_is_refused(child, submitting):
    errors = check(child, submitting, contact_date=TODAY + timedelta(days=1))
    assert errors == {"contact_date": ["The date of contact cannot be in the future."]}


def test_today_and_the_care_start_date_are_allowed(child):
    assert check(child, contact_date=TODAY) == {}
    assert check(child, contact_date=CARE_START) == {}


@pytest.mark.parametrize("submitting", [True, False], ids=["submit", "draft"])
def test_a_contact_before_the_child_came_into_care_is_refused(child, submitting):
    errors = check(child, submitting, contact_date=CARE_START - timedelta(days=1))
    assert errors == {
        "contact_date": [
            "The date of contact cannot be before the child came into care (01/03/2025)."
        ]
    }


# --- R1: contacts made by a third party --------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "role", "fields"),
    [
        (None, None, ["third_party_name", "third_party_role"]),
        ("Dana Reid", None, ["third_party_role"]),
        (None, "Caseworker", ["third_party_name"]),
        ("  ", "Caseworker", ["third_party_name"]),
        ("Dana Reid", "Caseworker", []),
    ],
)
def test_submitting_a_third_party_contact_needs_their_name_and_role(child, name, role, fields):
    errors = check(child, made_by="third_party", third_party_name=name, third_party_role=role)
    assert sorted(errors) == fields
    assert (
        check(child, False, made_by="third_party", third_party_name=name, third_party_role=role)
        == {}
    )


def test_a_staff_contact_needs_no_third_party(child):
    assert check(child, made_by="practitioner", third_party_name=None, third_party_role=None) == {}


# --- R6: the child's views ---------------------------------------------------------------------

NO_VIEWS = {"child_views": None, "views_method": None, "views_not_recorded_reason": None}


def test_a_face_to_face_contact_without_views_needs_a_reason(child):
    errors = check(child, **NO_VIEWS)
    assert list(errors) == ["views_not_recorded_reason"]
    assert "give the reason they were not recorded" in errors["views_not_recorded_reason"][0]
    assert list(check(child, **{**NO_VIEWS, "child_views": "   "})) == ["views_not_recorded_reason"]


def test_a_reason_stands_in_for_the_views(child):
    assert check(child, **{**NO_VIEWS, "views_not_recorded_reason": "Infant, 4 months"}) == {}


@pytest.mark.parametrize("mode", ["phone", "video"])
def test_views_are_not_required_when_not_face_to_face(child, mode):
    assert check(child, mode=mode, child_seen=False, seen_alone=False, **NO_VIEWS) == {}


def test_a_draft_may_leave_the_views_for_later(child):
    assert check(child, False, **NO_VIEWS) == {}


def test_views_need_to_say_how_they_were_gathered(child):
    assert list(check(child, views_method=None)) == ["views_method"]
    assert check(child, False, views_method=None) == {}


def test_seen_alone_needs_the_child_seen(child):
    assert list(check(child, False, child_seen=False, seen_alone=True)) == ["seen_alone"]


# --- R7: Signs of Safety and other numbers -----------------------------------------------------


@pytest.mark.parametrize("scale", [0, 5, 10, None])
def test_safety_scale_from_0_to_10_or_none(child, scale):
    assert check(child, safety_scale=scale) == {}


@pytest.mark.parametrize("scale", [-1, 11, 100])
@pytest.mark.parametrize("submitting", [True, False], ids=["submit", "draft"])
def test_safety_scale_outside_0_to_10_is_refused(child, scale, submitting):
    assert check(child, submitting, safety_scale=scale) == {
        "safety_scale": ["The safety scale must be a whole number from 0 to 10."]
    }


@pytest.mark.parametrize(
    ("minutes", "ok"), [(1, True), (1440, True), (0, False), (-5, False), (1441, False)]
)
def test_duration_is_between_a_minute_and_a_day(child, minutes, ok):
    assert (check(child, duration_minutes=minutes) == {}) is ok


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("mode", "carrier_pigeon"),
        ("made_by", "robot"),
        ("location", "moon"),
        ("views_method", "telepathy"),
    ],
)
def test_choices_outside_the_lists_are_refused(child, field, value):
    errors = check(child, False, **{field: value})
    assert errors == {field: [f"{value!r} is not a valid choice."]}


# --- R5: who took part, and actions ------------------------------------------------------------


def test_every_participant_needs_a_known_role(child):
    participants = [{"role": "child"}, {"role": None, "name": "Aunty"}, {"role": "wizard"}]
    errors = check(child, False, participants=participants)
    assert errors == {
        "participants-1-role": ["Participant 2: choose a role."],
        "participants-2-role": ["Participant 3: choose a role."],
    }


def test_every_participant_role_of_the_spec_is_accepted(child):
    roles = [
        "child",
        "parent",
        "family_member",
        "carer",
        "natural_support",
        "significant_other",
        "aboriginal_community_worker",
        "aboriginal_practice_advisor",
        "interpreter",
        "youth_justice_officer",
        "other_professional",
    ]
    assert check(child, participants=[{"role": role} for role in roles]) == {}


def test_at_most_30_participants_and_30_actions(child):
    assert check(child, participants=[{"role": "carer"}] * MAX_PARTICIPANTS) == {}
    assert list(check(child, participants=[{"role": "carer"}] * (MAX_PARTICIPANTS + 1))) == [
        "participants"
    ]
    action = {"description": "Do it"}
    assert check(child, actions=[action] * MAX_ACTIONS) == {}
    assert list(check(child, actions=[action] * (MAX_ACTIONS + 1))) == ["actions"]
    assert MAX_PARTICIPANTS == MAX_ACTIONS == 30


def test_every_action_says_what_will_happen(child):
    actions = [{"description": "Book family time"}, {"description": "  ", "responsible": "Pat"}]
    assert check(child, False, actions=actions) == {
        "actions-1-description": ["Action 2: describe what will happen."]
    }


def test_all_errors_are_reported_together(child):
    errors = check(
        child,
        contact_date=TODAY + timedelta(days=2),
        made_by="third_party",
        safety_scale=12,
        **NO_VIEWS,
    )
    assert sorted(errors) == [
        "contact_date",
        "safety_scale",
        "third_party_name",
        "third_party_role",
        "views_not_recorded_reason",
    ]
