"""A sync with nothing to do writes nothing (issue 14): a tablet polling every few minutes must
not add an audit row, a device update or a holdings statement per poll. What it still reads is
the cost measured in docs/performance.md."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, func, select

from fieldapp.models import AuditEvent, Device

from .sync_helpers import Tablet


@contextmanager
def recorded(app, which):
    """The statements the app runs meanwhile that `which` picks (the first line of each)."""
    engine = app.extensions["fieldapp_db"]["engine"]
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if which(statement):
            seen.append(statement.split("\n", 1)[0][:120])

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def writes(app):
    """The INSERT, UPDATE and DELETE statements."""
    return recorded(
        app,
        lambda sql: sql.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"),
    )


def reads_of_records(app):
    """The queries for records changed since a cursor (they bound the transaction)."""
    return recorded(app, lambda sql: "change_xid <" in sql or "sync_tombstones.xid <" in sql)


def test_an_empty_pull_writes_nothing(app, client, org, db):
    tablet = Tablet.signed_in(client, "pat@example.org")
    tablet.pull_all()
    audit_rows = db().scalar(select(func.count()).select_from(AuditEvent))
    device = db().get(Device, tablet.device_id)
    pull_number, seen_at = device.pull_number, device.last_seen_at
    with writes(app) as statements:
        for _ in range(3):
            page = tablet.pull()
            assert page["changes"] == [] and page["purge"] == [] and not page["has_more"]
    assert statements == []
    assert db().scalar(select(func.count()).select_from(AuditEvent)) == audit_rows
    device = db().get(Device, tablet.device_id)
    assert (device.pull_number, device.last_seen_at) == (pull_number, seen_at)


def test_a_pull_that_sends_something_is_still_audited_and_confirmed(app, client, org, db):
    tablet = Tablet.signed_in(client, "pat@example.org")
    tablet.pull_all()
    before = db().scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "sync_pull")
    )
    # A new contact for a child the tablet holds: the next pull sends it and is audited.
    tablet.push([tablet.create_contact(org.child.id)])
    page = tablet.pull()
    assert "contact" in [change["record_type"] for change in page["changes"]]
    after = db().scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "sync_pull")
    )
    assert after == before + 1
    # And the next poll, with nothing new, is silent again.
    with writes(app) as statements:
        assert tablet.pull()["changes"] == []
    assert statements == []


def test_other_work_on_the_server_does_not_make_an_idle_pull_read_records(
    app, client, org, db, engine
):
    """On PostgreSQL the pull's horizon moves whenever any transaction ends, and most change
    nothing a tablet holds (a sign-in's audit row, autovacuum, another application): a pull
    then asks one indexed question (did a transaction since the cursor change synced records?)
    and reads no records. A change to a synced record makes it read them again."""
    tablet = Tablet.signed_in(client, "pat@example.org")
    tablet.pull_all()
    with engine.begin() as conn:  # a transaction that writes, and touches nothing synced
        conn.execute(
            AuditEvent.__table__.insert().values(action="elsewhere", outcome="ok", at=func.now())
        )
    with reads_of_records(app) as reads:
        assert tablet.pull()["changes"] == []
    assert reads == []

    tablet.another().push([tablet.create_contact(org.child.id)])
    with reads_of_records(app) as reads:
        assert [c["record_type"] for c in tablet.pull()["changes"]] == ["contact", "child"]
    assert reads
