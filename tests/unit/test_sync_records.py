"""The pure parts of the sync engine (SPEC §4): push `data` parsed into typed values with
field-named errors, values compared the way the field merge compares them, records turned into
the wire's record shapes, and the push envelope, payload identity and pull cursor. No database:
records are built in memory."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from fieldapp.models import Addendum, Child, Contact, ContactAction, ContactParticipant, ReturnVisit
from fieldapp.services.contacts import CONTACT_FIELDS
from fieldapp.services.sync import (
    MAX_SEQ,
    Cursor,
    MutationResult,
    check_envelope,
    payload_hash,
)
from fieldapp.services.sync_records import (
    TEXT_LIMIT,
    ChildPermanency,
    FieldErrors,
    addendum_data,
    child_data,
    comparable,
    contact_data,
    parse_contact_data,
    parse_contact_value,
    parse_date,
    parse_return_visit_data,
    parse_uuid,
    return_visit_data,
    storable,
    unstorable_fields,
)

CHILD_ID = uuid.UUID("6f1d2a50-3c9e-4d0f-9a57-2f0c1b7e8a11")


def parsed(field: str, value):
    errors = FieldErrors()
    return parse_contact_value(field, value, errors), dict(errors)


# ---------------------------------------------------------------- parsing push data


@pytest.mark.parametrize(
    "value, expected", [("2026-11-20", date(2026, 11, 20)), (None, None), ("", None)]
)
def test_dates_parse_from_iso_text(value, expected):
    errors = FieldErrors()
    assert parse_date(value, "contact_date", errors) == expected
    assert errors == {}


@pytest.mark.parametrize(
    "value", ["20/11/2026", "2026-13-01", "yesterday", 20261120, True, [], {"y": 2026}]
)
def test_anything_else_is_not_a_date(value):
    errors = FieldErrors()
    assert parse_date(value, "contact_date", errors) is None
    assert errors == {"contact_date": ["Must be a date as YYYY-MM-DD."]}


def test_uuids():
    errors = FieldErrors()
    assert parse_uuid(str(CHILD_ID), "child_id", errors) == CHILD_ID
    assert parse_uuid(CHILD_ID, "child_id", errors) == CHILD_ID
    assert errors == {}
    for bad in (None, "", "not-a-uuid", 12, [], {}):
        errors = FieldErrors()
        assert parse_uuid(bad, "child_id", errors) is None
        assert errors == {"child_id": ["Must be a UUID."]}


@pytest.mark.parametrize(
    "field, value, expected",
    [
        ("safety_scale", 7, 7),
        ("safety_scale", 0, 0),
        ("safety_scale", None, None),
        ("duration_minutes", "", None),
        ("child_seen", True, True),
        ("seen_alone", False, False),
        ("interpreter_used", None, False),  # null is how a tablet says "not given"
        ("start_time", "09:05", "09:05"),
        ("start_time", "23:59", "23:59"),
        ("start_time", "", None),
        ("child_views", "  In her words  ", "  In her words  "),
        ("notes", None, None),
        ("participants", None, []),
        ("actions", None, []),
    ],
)
def test_valid_values_parse(field, value, expected):
    assert parsed(field, value) == (expected, {})


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("safety_scale", True, "Must be a whole number."),  # a bool is an int in Python, not here
        ("safety_scale", 7.5, "Must be a whole number."),
        ("duration_minutes", "45", "Must be a whole number."),
        ("child_seen", "yes", "Must be true or false."),
        ("child_seen", 1, "Must be true or false."),
        ("start_time", "24:00", "Must be a time as HH:MM."),
        ("start_time", "9:05", "Must be a time as HH:MM."),
        ("start_time", 905, "Must be a time as HH:MM."),
        ("child_views", 42, "Must be text."),
        ("worries", ["a"], "Must be text."),
        ("participants", "Sam", "Must be a list."),
        ("actions", {"description": "x"}, "Must be a list."),
    ],
)
def test_wrong_types_are_field_errors(field, value, message):
    assert parsed(field, value)[1] == {field: [message]}


def test_text_limits_follow_the_columns():
    # Sized columns: a longer value would fail in PostgreSQL on every retry.
    assert parsed("third_party_name", "N" * 200)[1] == {}
    assert parsed("third_party_name", "N" * 201)[1] == {
        "third_party_name": ["At most 200 characters."]
    }
    assert parsed("third_party_role", "R" * 201)[1] == {
        "third_party_role": ["At most 200 characters."]
    }
    assert parsed("language_used", "L" * 101)[1] == {"language_used": ["At most 100 characters."]}
    assert parsed("language_used", " " + "L" * 100 + "  ")[1] == {}  # stored trimmed
    assert parsed("child_views", "v" * TEXT_LIMIT)[1] == {}
    assert parsed("child_views", "v" * (TEXT_LIMIT + 1))[1] == {
        "child_views": [f"At most {TEXT_LIMIT} characters."]
    }


def test_participants_and_actions_parse_item_by_item():
    value, errors = parsed(
        "participants",
        [
            {"role": "carer", "name": "Sam", "took_part_in_decisions": True, "feedback": "Good"},
            "not an object",
            {"role": "parent", "name": 7, "concerns": "N" * 10},
            {"role": "child", "name": "M" * 201},
        ],
    )
    assert value[0] == {
        "role": "carer",
        "name": "Sam",
        "took_part_in_decisions": True,
        "views_and_wishes": None,
        "feedback": "Good",
        "concerns": None,
    }
    assert value[1]["name"] is None and value[1]["concerns"] == "N" * 10
    assert errors == {
        "participants-1": ["Must be an object."],
        "participants-2-name": ["Must be text."],
        "participants-3-name": ["At most 200 characters."],
    }

    value, errors = parsed(
        "actions",
        [
            {"description": "Book dentist", "responsible": "Carer", "due_date": "2026-12-01"},
            {"description": None, "due_date": "next week", "responsible": "R" * 201},
        ],
    )
    assert value[0] == {
        "description": "Book dentist",
        "responsible": "Carer",
        "due_date": date(2026, 12, 1),
    }
    assert value[1]["description"] == ""  # left for validate_contact to name
    assert errors == {
        "actions-1-due_date": ["Must be a date as YYYY-MM-DD."],
        "actions-1-responsible": ["At most 200 characters."],
    }


def test_contact_data_keeps_editable_fields_only_and_names_each_error():
    values, errors = parse_contact_data(
        {
            "child_id": str(CHILD_ID),
            "status": "submitted",
            "client_time": "2026-11-25T08:00:00Z",
            "created_at": "2031-01-01T00:00:00Z",
            "author_id": 99,
            "contact_date": "2026-11-20",
            "safety_scale": "high",
            "child_seen": True,
            "participants": [{"role": "carer"}],
        }
    )
    assert set(values) == {"contact_date", "safety_scale", "child_seen", "participants"}
    assert values["contact_date"] == date(2026, 11, 20) and values["child_seen"] is True
    assert errors == {"safety_scale": ["Must be a whole number."]}


def test_return_visit_data_parses_dates_and_names_bad_ones():
    values, errors = parse_return_visit_data(
        {
            "arrival_date": "2026-12-20",
            "departure_date": "2027-01-10",
            "arrangement_note": "Plan 4.2",
        }
    )
    assert (
        values
        == {
            "arrival_date": date(2026, 12, 20),
            "departure_date": date(2027, 1, 10),
            "arrangement_note": "Plan 4.2",
        }
        and not errors
    )
    values, errors = parse_return_visit_data(
        {"arrival_date": "20/12/2026", "departure_date": None, "arrangement_note": ["not", "text"]}
    )
    assert set(errors) == {"arrival_date"}
    assert values["arrangement_note"] is None and values["departure_date"] is None


def test_text_the_databases_cannot_store_is_found_wherever_it_is():
    assert storable("Plain words, and an emoji 😀") and not storable("a\x00b")
    assert not storable("cut in half \ud83d")  # a lone surrogate: no driver encodes it
    assert unstorable_fields({"child_views": "fine 😀", "notes": None, "safety_scale": 3}) == []
    assert unstorable_fields(
        {
            "child_views": "a\x00b",
            "participants": [{"name": "ok"}, {"name": "S\ud83dm"}],
            "worries": {"old": None, "new": "x\x00"},
            "k\x00ey": "value",
        }
    ) == ["child_views", "participants-1-name", "worries-new", "k\\x00ey"]


# ---------------------------------------------------------------- what the merge compares


def test_comparable_values_are_what_the_server_would_store():
    assert comparable("contact_date", date(2026, 11, 20)) == "2026-11-20"
    assert comparable("contact_date", "2026-11-20") == "2026-11-20"
    # Saving trims text and stores "" as null: the tablet's own spacing is not someone's edit.
    assert comparable("worries", "Sleeps badly ") == comparable("worries", "Sleeps badly")
    assert comparable("notes", "") == comparable("notes", None) == comparable("notes", "   ")
    assert comparable("worries", "Sleeps badly") != comparable("worries", "Sleeps well")
    assert comparable("safety_scale", 6) == 6 and comparable("safety_scale", 6) != 7
    assert comparable("interpreter_used", None) == comparable("interpreter_used", False)
    # A participant as the tablet holds it (keys left out) is the one the server sends back.
    short = [{"role": "carer", "name": "Sam "}]
    full = [
        {
            "role": "carer",
            "name": "Sam",
            "took_part_in_decisions": False,
            "views_and_wishes": None,
            "feedback": "",
            "concerns": None,
        }
    ]
    assert comparable("participants", short) == comparable("participants", full)
    assert comparable("participants", short) != comparable("participants", [])
    # What does not parse is compared as sent, so it never matches a stored value by accident.
    assert comparable("safety_scale", "6") == "6" != comparable("safety_scale", 6)


# ---------------------------------------------------------------- record shapes for pull


def test_contact_data_has_the_spec_record_shape():
    contact = Contact(
        id=uuid.uuid4(),
        child_id=CHILD_ID,
        author_id=5,
        status="draft",
        contact_date=date(2026, 11, 20),
        start_time="10:30",
        mode="face_to_face",
        made_by="practitioner",
        child_seen=True,
        seen_alone=False,
        child_views="I'm OK.",
        safety_scale=6,
        interpreter_used=False,
        participants=[
            ContactParticipant(role="carer", name="Sam", took_part_in_decisions=True, position=0)
        ],
        actions=[
            ContactAction(
                description="Book dentist",
                responsible="Carer",
                due_date=date(2026, 12, 1),
                position=0,
            )
        ],
    )
    data = contact_data(contact)
    assert set(CONTACT_FIELDS) | {"child_id", "status", "participants", "actions"} <= set(data)
    assert data["child_id"] == str(CHILD_ID) and data["status"] == "draft"
    assert data["contact_date"] == "2026-11-20" and data["safety_scale"] == 6
    assert data["participants"] == [
        {
            "role": "carer",
            "name": "Sam",
            "took_part_in_decisions": True,
            "views_and_wishes": None,
            "feedback": None,
            "concerns": None,
        }
    ]
    assert data["actions"] == [
        {"description": "Book dentist", "responsible": "Carer", "due_date": "2026-12-01"}
    ]
    # What the server sends is what a tablet can send back as `old` without a conflict.
    for field in [*CONTACT_FIELDS, "participants", "actions"]:
        assert comparable(field, data[field]) == comparable(
            field, getattr(contact, field) if field in CONTACT_FIELDS else data[field]
        )


def test_child_return_visit_and_addendum_shapes():
    child = Child(
        id=CHILD_ID,
        external_id="C-1",
        given_name="Mia",
        family_name="Anderson",
        date_of_birth=date(2016, 5, 4),
        aboriginal_status="aboriginal",
        residence="nt",
        care_start_date=date(2025, 3, 1),
        youth_justice_status="none",
        team_id=3,
        practitioner_id=5,
    )
    data = child_data(child, date(2026, 11, 1), date(2026, 12, 13))
    assert data == {
        "id": str(CHILD_ID),
        "external_id": "C-1",
        "given_name": "Mia",
        "family_name": "Anderson",
        "preferred_name": None,
        "date_of_birth": "2016-05-04",
        "aboriginal_status": "aboriginal",
        "residence": "nt",
        "care_start_date": "2025-03-01",
        "care_end_date": None,
        "youth_justice_status": "none",
        "team_id": 3,
        "practitioner_id": 5,
        "last_qualifying_contact_date": "2026-11-01",
        "due_date": "2026-12-13",
        "case_plan_goal": None,
        "goal_set_date": None,
        "permanency_unlikely": False,
        "last_review_date": None,
        "primary_agency": None,
        "next_review_due": None,
        "two_year_deadline": None,
        "youth_justice": None,
    }
    assert child_data(child, None, None)["last_qualifying_contact_date"] is None

    visit = ReturnVisit(
        child_id=CHILD_ID,
        arrival_date=date(2026, 12, 20),
        departure_date=date(2027, 1, 10),
        arrangement_note="My Care Plan 4.2",
    )
    assert return_visit_data(visit) == {
        "child_id": str(CHILD_ID),
        "arrival_date": "2026-12-20",
        "departure_date": "2027-01-10",
        "arrangement_note": "My Care Plan 4.2",
    }
    contact_id = uuid.uuid4()
    addendum = Addendum(
        contact_id=contact_id,
        contact=Contact(id=contact_id, child_id=CHILD_ID),
        author_id=5,
        reason="Date",
        text="It was Monday.",
        created_at=datetime(2026, 11, 21, 3, 0, tzinfo=UTC),
    )
    assert addendum_data(addendum) == {
        "contact_id": str(contact_id),
        "child_id": str(CHILD_ID),
        "reason": "Date",
        "text": "It was Monday.",
        "author_id": 5,
        "created_at": "2026-11-21T03:00:00+00:00",
    }


# ---------------------------------------------------------------- envelope, identity, cursor


def mutation(**changes) -> dict:
    base = {
        "mutation_id": str(uuid.uuid4()),
        "seq": 1,
        "op": "create",
        "record_type": "contact",
        "record_id": str(uuid.uuid4()),
        "base_version": None,
        "data": {"child_id": str(CHILD_ID), "child_views": "Hi"},
    }
    base.update(changes)
    return base


def test_payload_identity_is_the_content_not_the_mutation_id():
    first = mutation()
    same_content = dict(first, mutation_id=str(uuid.uuid4()))
    reordered = {key: first[key] for key in reversed(list(first))}
    reordered["data"] = {key: first["data"][key] for key in reversed(list(first["data"]))}
    assert payload_hash(first) == payload_hash(same_content) == payload_hash(reordered)
    assert payload_hash(first) != payload_hash(dict(first, seq=2))
    assert payload_hash(first) != payload_hash(dict(first, data={"child_id": str(CHILD_ID)}))
    assert payload_hash(first) == payload_hash(dict(first, client_time="2031-01-01"))
    assert len(payload_hash(first)) == 64


def test_the_envelope_needs_a_mutation_id_and_a_seq_from_1():
    assert check_envelope(mutation(), 0) == {}
    assert check_envelope(mutation(seq=MAX_SEQ), 0) == {}
    assert check_envelope("text", 3) == {"mutations[3]": ["Must be an object."]}
    for seq in (0, -1, 1.5, "1", True, None, MAX_SEQ + 1, float(MAX_SEQ), float("inf")):
        assert set(check_envelope(mutation(seq=seq), 2)) == {"mutations[2].seq"}, seq
    # JSON Schema counts 255.0 as an integer, and so does the server: read as 255.
    whole = mutation(seq=255.0)
    assert check_envelope(whole, 0) == {} and type(whole["seq"]) is int and whole["seq"] == 255
    assert set(check_envelope(mutation(mutation_id="m-1"), 0)) == {"mutations[0].mutation_id"}
    # The rest is checked per mutation (a rejection, not a refused batch).
    assert check_envelope(mutation(op="explode", record_type=None, data=[]), 0) == {}


def test_cursor_round_trip_and_results():
    cursor = Cursor("a" * 32, 41, str(uuid.uuid4()), 3, "2026-11-24T01:02:03+00:00", xid=907)
    assert Cursor.from_dict(cursor.as_dict()) == cursor
    assert cursor.position == (907, 41)
    with pytest.raises(KeyError):
        Cursor.from_dict({"e": "x"})
    # A cursor issued before changes recorded their transaction cannot be read (the tablet is
    # told reset_required and refetches once).
    with pytest.raises(KeyError):
        Cursor.from_dict({k: v for k, v in cursor.as_dict().items() if k != "x"})

    assert MutationResult("m", 4, "applied").as_dict() == {
        "mutation_id": "m",
        "seq": 4,
        "status": "applied",
    }
    assert MutationResult("m", 4, "rejected", errors={"x": ["bad"]}, version=None).as_dict() == {
        "mutation_id": "m",
        "seq": 4,
        "status": "rejected",
        "errors": {"x": ["bad"]},
    }
    assert MutationResult("m", 4, "conflict", 2, {}, {"review": True}).as_dict() == {
        "mutation_id": "m",
        "seq": 4,
        "status": "conflict",
        "version": 2,
        "review": True,
    }


@pytest.mark.parametrize(
    "goal, unlikely, reviewed, next_due, deadline",
    [
        # R3: the latest review of the goal in force drives the next due date.
        ("restoration", False, date(2026, 8, 31), "2027-02-28", "2027-01-31"),
        ("restoration", True, None, "2025-04-30", "2027-01-31"),
        # A review before the goal was set belongs to an earlier goal.
        ("family_preservation", False, date(2024, 12, 1), "2025-04-30", "2027-01-31"),
        ("long_term_care", False, None, "2026-01-31", None),
    ],
)
def test_child_permanency_shape(goal, unlikely, reviewed, next_due, deadline):
    """SPEC §4 `child` since 2026-12-01: computed with the R3 rules of services/permanency.py."""
    child = Child(id=CHILD_ID, external_id="C-1", given_name="Mia", family_name="Anderson")
    yj = {"status": "engaged", "lead_practitioner": "Pat", "officers": [],
          "court_order_conditions": None, "plan_actions": []}  # fmt: skip
    permanency = ChildPermanency(
        primary_agency="Top End Kids",
        goal=goal,
        goal_set_date=date(2025, 1, 31),
        permanency_unlikely=unlikely,
        last_review_date=reviewed,
        youth_justice=yj,
    )
    data = child_data(child, None, None, permanency)
    assert data["case_plan_goal"] == goal
    assert data["goal_set_date"] == "2025-01-31"
    assert data["permanency_unlikely"] is unlikely
    assert data["primary_agency"] == "Top End Kids"
    assert data["next_review_due"] == next_due
    assert data["two_year_deadline"] == deadline
    assert data["youth_justice"] == yj
