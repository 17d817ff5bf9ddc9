"""The API refuses what it does not define, naming it, instead of ignoring it (issue 12 item 7;
SPEC §7 "unknown JSON fields answer 422"), and answers as its OpenAPI document says: a field a
body does not define is a 422 for the request; one a mutation's `data` does not define is that
mutation's `rejected` result, naming the field, and the queue moves on (SPEC §4). What the tablet
sends (static/js/tablet: contact_form.js, screens.js, sync.js) is all defined."""

from __future__ import annotations

import random
import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from fieldapp.api.openapi import range_pattern
from fieldapp.models import AuditEvent, Contact, Device, ReturnVisit
from fieldapp.services.record_fields import CONTACT

from ..factories import PASSWORD, org_today
from .sync_helpers import Tablet, contact_fields, statuses


def unknown(response, *names: str) -> None:
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert body["field"] == names[0] and body["fields"] == list(names)
    assert all(name in body["error"] for name in names)


def test_a_sign_in_with_a_field_it_does_not_define_is_refused(client, org, db):
    body = {"email": "pat@example.org", "password": PASSWORD, "remember_me": True}
    unknown(client.post("/api/auth/login", json=body), "remember_me")
    assert client.get("/api/me").status_code == 401  # not signed in
    assert db().scalars(select(AuditEvent).where(AuditEvent.action == "login")).all() == []
    empty = client.post("/api/auth/login", json={"email": "", "password": PASSWORD})
    assert empty.status_code == 400 and empty.get_json()["fields"] == ["email"]


def test_a_device_with_a_field_it_does_not_define_is_not_registered(client, org, db):
    tablet = Tablet.signed_in(client, "pat@example.org", register=False)
    body = {"device_id": str(tablet.device_id), "name": "Tablet", "model": "X200", "os": "14"}
    unknown(tablet.post("/api/sync/devices", body), "model", "os")
    assert db().get(Device, tablet.device_id) is None


def test_device_names(client, org, db):
    tablet = Tablet.signed_in(client, "pat@example.org", register=False)
    for name in ("", "   ", "\u3000\x1c", "Pat\x00s tablet", None, 5):
        refused = tablet.post("/api/sync/devices", {"device_id": str(uuid.uuid4()), "name": name})
        assert refused.status_code == 400 and refused.get_json()["field"] == "name", repr(name)
    long = tablet.post("/api/sync/devices", {"device_id": str(tablet.device_id), "name": "T" * 300})
    assert long.status_code == 201 and long.get_json()["name"] == "T" * 200


def test_a_push_with_a_field_it_does_not_define_applies_nothing(client, org, db):
    tablet = Tablet.signed_in(client, "pat@example.org")
    body = {"device_id": str(tablet.device_id), "mutations": [], "client_time": "2026-12-01"}
    unknown(tablet.post("/api/sync/push", body), "client_time")

    first = tablet.create_contact(org.child.id)
    second = dict(tablet.create_contact(org.child.id), client_time="2026-12-01T10:00:00Z")
    body = {"device_id": str(tablet.device_id), "mutations": [first, second]}
    unknown(tablet.post("/api/sync/push", body), "mutations[1].client_time")
    session = db()
    assert session.get(Contact, uuid.UUID(first["record_id"])) is None  # not even the first
    assert session.get(Device, tablet.device_id).last_seq == 0
    null = dict(second, client_time=None)  # still a field the mutation does not define
    unknown(tablet.push([first, null], expect=None), "mutations[1].client_time")
    del second["client_time"]
    assert statuses(tablet.push([first, second])) == ["applied", "applied"]


def test_a_field_a_mutations_data_does_not_define_is_rejected_naming_it(client, org, db):
    tablet = Tablet.signed_in(client, "pat@example.org")
    visit_data = {
        "child_id": str(org.interstate_child.id),
        "arrival_date": (org_today() - timedelta(days=4)).isoformat(),
        "departure_date": (org_today() - timedelta(days=2)).isoformat(),
        "arrangement_note": None,
    }
    participant = dict(contact_fields(org.child.id)["participants"][0], mood="calm")
    refused = [
        tablet.create_contact(org.child.id, mood="calm", created_at="2026-12-01T10:00:00Z"),
        tablet.create_contact(org.child.id, participants=[participant]),
        tablet.update_contact(org.draft.id, mood=(None, "calm")),
        tablet.mutation(
            "update",
            "contact",
            org.draft.id,
            {"notes": {"old": None, "new": "Seen at school", "at": "10:00"}},
        ),
        tablet.mutation("submit", "contact", org.draft.id, {"confirm": True}),
        tablet.mutation("delete", "contact", org.draft.id, {"reason": "typo"}),
        tablet.mutation(
            "create",
            "addendum",
            uuid.uuid4(),
            {"contact_id": str(org.contact.id), "reason": "R", "text": "T", "author_id": 1},
        ),
        tablet.mutation("create", "return_visit", uuid.uuid4(), visit_data | {"nights": 2}),
    ]
    draft = tablet.create_contact(org.child.id, status="draft")  # and after them, one that goes
    response = tablet.push([*refused, draft])
    results = response.get_json()["results"]
    assert [result["status"] for result in results] == ["rejected"] * len(refused) + ["applied"]
    assert [result["errors"] for result in results[:-1]] == [
        {"created_at": ["Unknown field."], "mood": ["Unknown field."]},
        {"participants-0-mood": ["Unknown field."]},
        {"mood": ["Unknown field."]},
        {"notes-at": ["Unknown field."]},
        {"confirm": ["Unknown field."]},
        {"reason": ["Unknown field."]},
        {"author_id": ["Unknown field."]},
        {"nights": ["Unknown field."]},
    ]
    assert response.get_json()["last_seq"] == draft["seq"]  # the queue moved on
    session = db()
    assert session.get(Contact, org.draft.id).status == "draft"  # not submitted, not deleted
    assert session.get(ReturnVisit, uuid.UUID(refused[-1]["record_id"])) is None


def test_everything_the_tablet_sends_is_defined(client, org, db):
    """The tablet's shapes: a contact as its form builds it (every field, null when unset, no
    author_id), an update of changed fields and a submit, an addendum and a return visit."""
    tablet = Tablet.signed_in(client, "pat@example.org")
    contact = {name: None for name in CONTACT} | contact_fields(org.child.id, status="draft")
    contact_id = uuid.uuid4()
    visit = {
        "child_id": str(org.interstate_child.id),
        "arrival_date": (org_today() - timedelta(days=4)).isoformat(),
        "departure_date": (org_today() - timedelta(days=2)).isoformat(),
        "arrangement_note": None,
    }
    mutations = [
        tablet.mutation("create", "contact", contact_id, contact),
        tablet.update_contact(contact_id, notes=(None, "More"), safety_scale=(7, 8)),
        tablet.mutation("submit", "contact", contact_id, {}),
        tablet.mutation(
            "create",
            "addendum",
            uuid.uuid4(),
            {"contact_id": str(contact_id), "reason": "Correction", "text": "It was Tuesday."},
        ),
        tablet.mutation("create", "return_visit", uuid.uuid4(), visit),
        tablet.mutation("delete", "contact", org.draft.id, {}),
    ]
    response = tablet.push(mutations)
    assert statuses(response) == ["applied"] * len(mutations)
    stored = db().get(Contact, contact_id)
    assert (stored.status, stored.notes, stored.safety_scale) == ("submitted", "More", 8)


def test_a_seq_written_with_a_fraction_part_is_that_number(client, org, db):
    """JSON Schema counts 255.0 as an integer, and so does the server."""
    tablet = Tablet.signed_in(client, "pat@example.org")
    mutation = tablet.create_contact(org.child.id)
    response = tablet.push([dict(mutation, seq=1.0)])
    assert statuses(response) == ["applied"] and response.get_json()["last_seq"] == 1
    assert statuses(tablet.push([mutation])) == ["duplicate"]  # the same mutation as seq 1
    fraction = tablet.push([dict(tablet.create_contact(org.child.id), seq=2.5)], expect=400)
    assert set(fraction.get_json()["fields"]) == {"mutations[0].seq"}


def test_an_api_request_without_a_session_is_asked_to_sign_in(app, client, org):
    """Not `csrf_failed`: without a session the CSRF check guards nothing, and the tablet must
    know to sign in (issue 12 item 7)."""
    stranger = app.test_client()
    for path, body in (
        ("/api/sync/push", {"device_id": str(uuid.uuid4()), "mutations": []}),
        ("/api/sync/devices", {"device_id": str(uuid.uuid4()), "name": "Tablet"}),
        ("/api/auth/logout", None),
    ):
        for headers in ({}, {"X-CSRFToken": "not-a-token"}):
            answer = stranger.post(path, json=body, headers=headers)
            assert answer.status_code == 401, (path, headers, answer.get_data(as_text=True))
            assert answer.get_json() == {"error": "Sign in first."}
    # Signed in, a missing token is still the CSRF failure the tablet acts on.
    tablet = Tablet.signed_in(client, "pat@example.org")
    missing = client.post("/api/sync/push", json={"device_id": str(tablet.device_id)})
    assert missing.status_code == 400 and missing.get_json()["code"] == "csrf_failed"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/api/sync/push", {"POST", "OPTIONS"}),
        ("DELETE", "/api/sync/pull", {"GET", "HEAD", "OPTIONS"}),
        ("TRACE", "/api/auth/login", {"POST", "OPTIONS"}),
        ("PUT", "/login", {"GET", "HEAD", "POST", "OPTIONS"}),
    ],
)
def test_a_405_says_which_methods_the_address_takes(client, method, path, allowed):
    answer = client.open(path, method=method)
    assert answer.status_code == 405
    assert {m.strip() for m in answer.headers["Allow"].split(",")} == allowed


def test_ids_are_read_as_the_document_writes_them(client, org):
    """format: uuid is 8-4-4-4-12 hex digits; Python alone would also take braces, `urn:uuid:`
    or no dashes."""
    tablet = Tablet.signed_in(client, "pat@example.org")
    for written in (tablet.device_id.hex, f"{{{tablet.device_id}}}", tablet.device_id.urn):
        pulled = client.get("/api/sync/pull", query_string={"device_id": written})
        assert pulled.status_code == 400 and pulled.get_json()["field"] == "device_id", written
    upper = client.get("/api/sync/pull", query_string={"device_id": str(tablet.device_id).upper()})
    assert upper.status_code == 200


def test_the_date_ranges_of_the_document():
    """`range_pattern` (the as_of parameters' patterns) matches exactly the dates in its range."""
    rng = random.Random(7)
    days = [date(1990, 1, 1) + timedelta(days=n) for n in range(0, 40_000, 3)]
    for _ in range(200):
        first, last = sorted(rng.sample(days, 2))
        pattern = re.compile(f"^{range_pattern(first.isoformat(), last.isoformat())}$")
        for day in [*rng.sample(days, 100), first, last, first - timedelta(1), last + timedelta(1)]:
            assert bool(pattern.match(day.isoformat())) == (first <= day <= last), (
                first,
                last,
                day,
            )
