"""What the API answers when a request goes wrong, status and body exactly, from each place it can
go wrong: the services' refusals (unknown device, another user's device, a revoked device), the
API's own refusals of the request, inside a request's transaction and outside it (the sign-in's
body), and a database that is unavailable (issue 14: one table, api/errors.py, says them all). The
tablet acts on these (static/js/tablet/sync.js). Also pinned elsewhere: `reset_required`
(test_sync_pull.py), 422 for unknown fields (test_api_strict.py), 503 for a push
(test_sync_failures.py)."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from fieldapp.models import Device
from fieldapp.models.base import utcnow
from fieldapp.services import sync

from .sync_helpers import Tablet, sign_in

UNKNOWN_DEVICE = {"error": "Unknown device: register it first.", "field": "device_id"}
ANOTHER_USERS = {"error": "This device is registered to another user."}
REVOKED = {"error": "This device has been revoked. Its local data must be wiped."}
NOT_A_UUID = {"error": "device_id must be a UUID.", "field": "device_id"}
NOT_AN_OBJECT = {"error": "The body must be a JSON object.", "field": "body"}
UNAVAILABLE = {"error": "The database is unavailable; retry later."}


def answered(response, status: int, body: dict) -> None:
    assert (response.status_code, response.get_json()) == (status, body), response.get_data(
        as_text=True
    )


def test_a_device_never_registered_is_404_naming_device_id(client, org):
    tablet = Tablet.signed_in(client, "pat@example.org", register=False)
    answered(tablet.push([], expect=None), 404, UNKNOWN_DEVICE)
    answered(tablet.pull_once(expect=None), 404, UNKNOWN_DEVICE)


def test_another_users_device_is_409_to_register_and_unknown_to_sync(app, client, org, db):
    tablet = Tablet.signed_in(client, "pat@example.org")
    colleague = app.test_client()
    other = Tablet(colleague, sign_in(colleague, "col@example.org"), register=False)
    other.device_id = tablet.device_id

    answered(other.register("Taken"), 409, ANOTHER_USERS)
    answered(other.push([], expect=None), 404, UNKNOWN_DEVICE)
    answered(other.pull_once(expect=None), 404, UNKNOWN_DEVICE)
    device = db().get(Device, tablet.device_id)
    assert (device.user_id, device.name) == (org.practitioner.id, "Tablet")  # not taken over


def test_a_revoked_device_is_410_with_or_without_a_session(app, client, org, engine):
    tablet = Tablet.signed_in(client, "pat@example.org")
    tablet.pull_all()
    with engine.begin() as conn:
        conn.execute(
            update(Device).where(Device.id == tablet.device_id).values(revoked_at=utcnow())
        )
    answered(tablet.register(), 410, REVOKED)
    answered(tablet.push([], expect=None), 410, REVOKED)
    answered(tablet.pull_once(expect=None), 410, REVOKED)
    answered(tablet.pull_once(tablet.cursor, expect=None), 410, REVOKED)
    # Revoking ends the user's sessions: the tablet still learns it is revoked, to wipe itself.
    anonymous = app.test_client()
    answered(
        anonymous.get("/api/me", query_string={"device_id": str(tablet.device_id)}), 410, REVOKED
    )


def test_a_device_id_that_is_not_a_uuid_is_400_naming_it(client, org, db):
    tablet = Tablet.signed_in(client, "pat@example.org", register=False)
    answered(tablet.post("/api/sync/devices", {"device_id": "x", "name": "T"}), 400, NOT_A_UUID)
    answered(tablet.post("/api/sync/push", {"device_id": "x", "mutations": []}), 400, NOT_A_UUID)
    answered(client.get("/api/sync/pull", query_string={"device_id": "x"}), 400, NOT_A_UUID)
    assert db().scalars(select(Device)).all() == []


def test_a_body_that_is_not_an_object_is_400_in_a_transaction_and_outside_one(client, org):
    tablet = Tablet.signed_in(client, "pat@example.org")
    # Inside the request's transaction (views.py `transaction`)...
    answered(tablet.post("/api/sync/push", [1, 2]), 400, NOT_AN_OBJECT)
    answered(tablet.post("/api/sync/devices", "a string"), 400, NOT_AN_OBJECT)
    # ... and outside one: the sign-in reads its body before there is a user.
    answered(client.post("/api/auth/login", json=["pat@example.org"]), 400, NOT_AN_OBJECT)


def test_an_unknown_field_is_422_in_a_transaction_and_outside_one(client, org):
    tablet = Tablet.signed_in(client, "pat@example.org")
    body = {"device_id": str(tablet.device_id), "mutations": [], "extra": 1}
    unknown = {"error": "Unknown field: extra.", "field": "extra", "fields": ["extra"]}
    answered(tablet.post("/api/sync/push", body), 422, unknown)
    answered(
        client.post("/api/auth/login", json={"email": "e", "password": "p", "extra": 1}),
        422,
        unknown,
    )


TRANSIENT = {
    "postgresql connection lost": lambda: OperationalError(
        "SELECT ...", {}, psycopg.OperationalError("server closed the connection")
    ),
    "sqlite database is locked": lambda: OperationalError(
        "SELECT ...", {}, sqlite3.OperationalError("database is locked")
    ),
}


@pytest.mark.parametrize("kind", TRANSIENT)
def test_a_database_unavailable_to_a_pull_is_503_with_retry_after(client, org, monkeypatch, kind):
    tablet = Tablet.signed_in(client, "pat@example.org")

    def unavailable(*_args, **_kwargs):
        raise TRANSIENT[kind]()

    monkeypatch.setattr(sync, "pull", unavailable)
    response = tablet.pull_once(expect=None)
    answered(response, 503, UNAVAILABLE)
    assert response.headers["Retry-After"] == "5"


def test_a_database_error_that_is_not_transient_is_500_not_503(app, client, org, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500 as in production
    tablet = Tablet.signed_in(client, "pat@example.org")

    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT ...", {}, sqlite3.OperationalError("no such table: x"))

    monkeypatch.setattr(sync, "pull", broken)
    response = tablet.pull_once(expect=None)
    assert response.status_code == 500 and "Retry-After" not in response.headers
