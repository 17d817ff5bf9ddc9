"""Push when things break (SPEC §4, §7 Reliability): the server dies half-way through a batch, the
database goes away, and the refusals a tablet must be able to act on (revoked device, another
user's device, wrong content type, too many mutations).

A batch is applied in one transaction with a savepoint per mutation and answered after the
commit (SPEC change log 2026-11-23): a crash leaves a prefix of what was sent, here always the
requests committed before it, and the retry applies the rest exactly once, in order."""

from __future__ import annotations

import sqlite3
import uuid

import psycopg
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from fieldapp.models import AuditEvent, Contact, Device, SyncMutation, SyncState
from fieldapp.models.base import utcnow
from fieldapp.services import change_seq
from fieldapp.services.sync import handlers as sync_handlers
from fieldapp.services.sync import pushing as sync_pushing

from .sync_helpers import (
    Tablet,
    count,
    sign_in,
    statuses,
)


class ServerKilled(BaseException):
    """The process dies (kill -9, power): nothing after this line runs, no handler sees it."""


class Fault:
    """Breaks the storing of a new contact as the push calls it (`new_contact_rows` on the
    batch's set-based path, `save_contact` when the batch is redone a mutation at a time): from
    call number `after + 1` on, every call raises `error()` while `active` (a disk or a bug that
    stays broken until someone fixes it); `once=True` raises only at that one call (a process
    that died and was restarted)."""

    def __init__(self, monkeypatch, after: int, error, once: bool = False):
        self.after, self.error, self.once = after, error, once
        self.calls = 0
        self.active = True
        for name in ("save_contact", "new_contact_rows"):
            monkeypatch.setattr(sync_handlers, name, self._breaking(getattr(sync_handlers, name)))

    def _breaking(self, real):
        def faulty(*args, **kwargs):
            self.calls += 1
            if self.active and self.calls > self.after:
                if self.once:
                    self.active = False
                raise self.error()
            return real(*args, **kwargs)

        return faulty


def hundred_contacts(tablet: Tablet, org) -> list[dict]:
    children = (org.child.id, org.interstate_child.id)
    return [
        tablet.create_contact(children[n % 2], child_views=f"Visit number {n + 1}")
        for n in range(100)
    ]


def assert_stored_exactly_once_in_order(session, tablet: Tablet, mutations: list[dict]) -> None:
    ids = [uuid.UUID(m["record_id"]) for m in mutations]
    stored = session.execute(
        select(Contact.id, Contact.child_views)
        .where(Contact.id.in_(ids))
        .order_by(Contact.change_seq)
    ).all()
    # One row per mutation, numbered in the order the tablet made them (what other tablets
    # will replay), each with its own text.
    assert [row.id for row in stored] == ids
    assert [row.child_views for row in stored] == [m["data"]["child_views"] for m in mutations]
    processed = session.execute(
        select(SyncMutation.seq, SyncMutation.mutation_id)
        .where(SyncMutation.device_id == tablet.device_id)
        .order_by(SyncMutation.seq)
    ).all()
    assert [(row.seq, str(row.mutation_id)) for row in processed] == [
        (m["seq"], m["mutation_id"]) for m in mutations
    ]
    assert count(
        session,
        AuditEvent,
        AuditEvent.action == "create",
        AuditEvent.object_id.in_([str(i) for i in ids]),
    ) == len(ids)
    assert session.get(Device, tablet.device_id).last_seq == mutations[-1]["seq"]


def assert_nothing_of(session, mutations: list[dict], tablet: Tablet) -> None:
    ids = [uuid.UUID(m["record_id"]) for m in mutations]
    assert count(session, Contact, Contact.id.in_(ids)) == 0
    assert (
        count(
            session,
            SyncMutation,
            SyncMutation.device_id == tablet.device_id,
            SyncMutation.seq.in_([m["seq"] for m in mutations]),
        )
        == 0
    )


def test_a_fault_after_mutation_37_of_100_leaves_nothing_and_the_retry_stores_all_once(
    app, client, org, db, monkeypatch
):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500 as in production
    tablet = Tablet.signed_in(client, "pat@example.org")
    outbox = hundred_contacts(tablet, org)
    fault = Fault(monkeypatch, after=37, error=lambda: RuntimeError("disk on fire"))
    assert tablet.push(outbox, expect=500).status_code == 500
    assert fault.calls >= 38
    assert_nothing_of(db(), outbox, tablet)  # the prefix left is empty
    assert db().get(Device, tablet.device_id).last_seq == 0

    fault.active = False
    body = tablet.push(outbox).get_json()
    assert statuses_of(body) == ["applied"] * 100
    assert_stored_exactly_once_in_order(db(), tablet, outbox)


def statuses_of(body: dict) -> list[str]:
    return [result["status"] for result in body["results"]]


def test_a_set_based_insert_that_fails_redoes_the_batch_one_mutation_at_a_time(
    client, org, db, monkeypatch
):
    """New contacts are written together at the end of the batch. If that write fails (here a
    unique violation, as when another request stored the same id meanwhile), nothing of it is
    kept and the batch is applied again, each mutation in its own savepoint: all stored once."""
    tablet = Tablet.signed_in(client, "pat@example.org")
    outbox = hundred_contacts(tablet, org)[:30]
    real = sync_pushing.BatchContext.write_pending
    failures = []

    def fails_once(self, session):
        if self.set_based and self._contacts and not failures:
            failures.append(len(self._contacts))
            raise IntegrityError("INSERT INTO contacts ...", {}, Exception("duplicate key"))
        return real(self, session)

    monkeypatch.setattr(sync_pushing.BatchContext, "write_pending", fails_once)
    assert statuses(tablet.push(outbox)) == ["applied"] * 30
    assert failures == [30]
    assert_stored_exactly_once_in_order(db(), tablet, outbox)


def test_the_server_killed_at_mutation_38_leaves_nothing_and_the_retry_stores_all_once(
    client, org, db, monkeypatch
):
    tablet = Tablet.signed_in(client, "pat@example.org")
    outbox = hundred_contacts(tablet, org)
    Fault(monkeypatch, after=37, error=ServerKilled, once=True)
    with pytest.raises(ServerKilled):
        tablet.push(outbox)
    assert_nothing_of(db(), outbox, tablet)

    body = tablet.push(outbox).get_json()  # the tablet never got an answer: it sends it all again
    assert statuses_of(body) == ["applied"] * 100
    assert_stored_exactly_once_in_order(db(), tablet, outbox)


def test_a_batch_sent_as_37_and_63_whose_second_request_fails_once(
    app, client, org, db, monkeypatch
):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    tablet = Tablet.signed_in(client, "pat@example.org")
    outbox = hundred_contacts(tablet, org)
    first, second = outbox[:37], outbox[37:]
    assert statuses(tablet.push(first)) == ["applied"] * 37

    fault = Fault(monkeypatch, after=20, error=lambda: RuntimeError("worker died"))
    assert tablet.push(second, expect=500).status_code == 500
    session = db()
    assert_stored_exactly_once_in_order(session, tablet, first)  # exactly 1–37
    assert_nothing_of(session, second, tablet)

    fault.active = False
    body = tablet.push(second).get_json()
    assert statuses_of(body) == ["applied"] * 63
    assert body["last_seq"] == 100
    assert_stored_exactly_once_in_order(db(), tablet, outbox)  # 38–100 once, after 1–37

    # Had the tablet resent everything instead, nothing more would be stored.
    assert statuses_of(tablet.push(outbox).get_json()) == ["duplicate"] * 100
    assert_stored_exactly_once_in_order(db(), tablet, outbox)


TRANSIENT = {
    "postgresql connection lost": lambda: OperationalError(
        "INSERT INTO contacts ...", {}, psycopg.OperationalError("server closed the connection")
    ),
    "sqlite database is locked": lambda: OperationalError(
        "INSERT INTO contacts ...", {}, sqlite3.OperationalError("database is locked")
    ),
}


@pytest.mark.parametrize("kind", TRANSIENT)
def test_a_transient_database_failure_answers_503_and_the_retry_applies(
    client, org, db, monkeypatch, kind
):
    tablet = Tablet.signed_in(client, "pat@example.org")
    outbox = hundred_contacts(tablet, org)[:50]
    fault = Fault(monkeypatch, after=37, error=TRANSIENT[kind])
    response = tablet.push(outbox, expect=503)
    assert response.get_json()["error"]
    assert int(response.headers["Retry-After"]) > 0
    assert_nothing_of(db(), outbox, tablet)

    fault.active = False
    assert statuses(tablet.push(outbox)) == ["applied"] * 50
    assert_stored_exactly_once_in_order(db(), tablet, outbox)


def test_a_database_error_that_is_not_transient_answers_500_not_503(
    app, client, org, db, monkeypatch
):
    """A bug (a missing table, say) is not worth a retry: 503 would have the tablet retry it for
    ever. It answers 500 and keeps nothing, like any other unforeseen failure."""
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer 500 as in production
    tablet = Tablet.signed_in(client, "pat@example.org")
    outbox = hundred_contacts(tablet, org)[:10]
    Fault(
        monkeypatch,
        after=3,
        error=lambda: OperationalError(
            "INSERT INTO contacts ...", {}, sqlite3.OperationalError("no such table: contacts")
        ),
    )
    assert tablet.push(outbox, expect=500).status_code == 500
    assert_nothing_of(db(), outbox, tablet)


def test_a_database_lost_at_commit_answers_503_and_keeps_nothing(client, org, db, monkeypatch):
    tablet = Tablet.signed_in(client, "pat@example.org")
    outbox = hundred_contacts(tablet, org)[:10]
    before = db().scalar(select(SyncState.last_seq))

    def lost(*_args, **_kwargs):
        raise OperationalError(
            "UPDATE sync_state ...", {}, psycopg.OperationalError("terminating connection")
        )

    monkeypatch.setattr(change_seq, "take_numbers", lost)
    tablet.push(outbox, expect=503)
    session = db()
    assert_nothing_of(session, outbox, tablet)
    assert session.scalar(select(SyncState.last_seq)) == before

    monkeypatch.undo()
    assert statuses(tablet.push(outbox)) == ["applied"] * 10
    assert_stored_exactly_once_in_order(db(), tablet, outbox)


# ---------------------------------------------------------------- refusals a tablet acts on


def test_device_registration(app, client, org, db, engine):
    tablet = Tablet.signed_in(client, "pat@example.org")  # registered: 201
    again = tablet.register("Pat's tablet, renamed")
    assert again.status_code == 200
    assert again.get_json()["device_id"] == str(tablet.device_id)

    colleague = app.test_client()
    other = Tablet(colleague, sign_in(colleague, "col@example.org"), register=False)
    other.device_id = tablet.device_id
    taken = other.register()
    assert taken.status_code == 409 and taken.get_json()["error"]
    # Nor can the colleague use it.
    assert other.push([], expect=None).status_code == 404
    assert other.pull_once(expect=None).status_code == 404

    for bad in (
        {"device_id": "not-a-uuid", "name": "x"},
        {"device_id": str(uuid.uuid4())},
        {"device_id": str(uuid.uuid4()), "name": "   "},
        {"device_id": str(uuid.uuid4()), "name": "a\x00b"},
        ["a list"],
    ):
        response = tablet.post("/api/sync/devices", bad)
        assert response.status_code == 400, bad
        assert response.get_json()["error"]
    assert count(db(), Device) == 1


def test_a_revoked_device_gets_410_on_every_sync_call(client, org, db, engine):
    tablet = Tablet.signed_in(client, "pat@example.org")
    assert statuses(tablet.push([tablet.create_contact(org.child.id)])) == ["applied"]
    tablet.pull_all()
    with engine.begin() as conn:
        conn.execute(
            update(Device).where(Device.id == tablet.device_id).values(revoked_at=utcnow())
        )
    late = tablet.create_contact(org.child.id)
    assert tablet.push([late], expect=410).get_json()["error"]
    assert tablet.pull_once(tablet.cursor, expect=410).get_json()["error"]
    assert tablet.pull_once(expect=410).status_code == 410
    assert tablet.register().status_code == 410
    assert db().get(Contact, uuid.UUID(late["record_id"])) is None


def test_requests_the_api_refuses(app, client, org, db):
    tablet = Tablet.signed_in(client, "pat@example.org")
    device = str(tablet.device_id)

    form = tablet.post("/api/sync/push", data={"device_id": device, "mutations": "[]"})
    assert form.status_code == 415
    text = tablet.post(
        "/api/sync/push", data='{"device_id": "x"}', headers={"Content-Type": "text/plain"}
    )
    assert text.status_code == 415
    no_csrf = client.post("/api/sync/push", json={"device_id": device, "mutations": []})
    assert no_csrf.status_code == 400 and no_csrf.get_json()["code"] == "csrf_failed"

    too_many = [
        tablet.mutation("create", "contact", uuid.uuid4(), {}, seq=n) for n in range(1, 202)
    ]
    refused = tablet.post("/api/sync/push", {"device_id": device, "mutations": too_many})
    assert refused.status_code == 400 and refused.get_json()["field"] == "mutations"
    exactly_200 = tablet.post("/api/sync/push", {"device_id": device, "mutations": too_many[:200]})
    assert exactly_200.status_code == 200

    unreadable = tablet.post(
        "/api/sync/push",
        {
            "device_id": device,
            "mutations": [
                {"mutation_id": "nope", "seq": 0},
                "not an object",
                {"mutation_id": str(uuid.uuid4()), "seq": True},
            ],
        },
    )
    assert unreadable.status_code == 400
    assert set(unreadable.get_json()["fields"]) == {
        "mutations[0].mutation_id",
        "mutations[0].seq",
        "mutations[1]",
        "mutations[2].seq",
    }
    assert tablet.post("/api/sync/push", {"device_id": device}).status_code == 400
    assert tablet.post("/api/sync/push", [1, 2]).status_code == 400
    assert tablet.push([], expect=200).get_json() == {"results": [], "last_seq": 200}

    unknown = tablet.post("/api/sync/push", {"device_id": str(uuid.uuid4()), "mutations": []})
    assert unknown.status_code == 404
    for params in (
        {},
        {"device_id": "x"},
        {"device_id": device, "limit": "0"},
        {"device_id": device, "limit": "501"},
        {"device_id": device, "limit": "ten"},
        {"device_id": device, "limit": "²"},
    ):
        assert client.get("/api/sync/pull", query_string=params).status_code == 400, params

    anonymous = app.test_client()
    assert anonymous.get("/api/sync/pull", query_string={"device_id": device}).status_code == 401
    assert anonymous.get("/api/sync/conflicts").status_code == 401
