"""The pull cursor under concurrent writers (SPEC §4: "a reader can never skip a row that commits
later"). Eight tablets push at once while a ninth pulls in a loop; when the writers are done the
puller drains, and must hold exactly the contacts the database holds.

PostgreSQL only: SQLite has one writer at a time, so commits cannot overtake each other there."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from fieldapp.models import Child, Contact
from fieldapp.services import change_seq

from .sync_helpers import Tablet, statuses, tablets_of_one_user

WRITERS = 8
BATCHES = 8
BATCH_SIZE = 10
# Tablets do not push back to back; the pause also lets the puller (one thread among nine, all
# sharing one interpreter lock) pull often enough to land between other writers' commits.
PAUSE = 0.1


# Concurrent writers need PostgreSQL (SQLite has one writer at a time): these run on it only.
pytestmark = pytest.mark.parametrize("database", ["postgresql"], indirect=True)


def test_concurrent_writers_never_make_a_puller_skip_a_contact(app, database, org, db):
    *writers, puller = tablets_of_one_user(app, WRITERS + 1)
    seen: set[str] = set()

    def collect(page: dict) -> None:
        for change in page["changes"]:
            if change["record_type"] == "contact":
                assert change["op"] == "upsert"
                seen.add(change["record_id"])

    collect_all = lambda: [collect(page) for page in puller.pull_all(limit=50)]  # noqa: E731
    collect_all()
    start = threading.Barrier(WRITERS + 1)
    writers_done = threading.Event()
    failures: list[BaseException] = []
    answers: list[list[str]] = []

    def write(tablet: Tablet, number: int) -> None:
        try:
            start.wait()
            children = (org.child.id, org.interstate_child.id)
            for batch in range(BATCHES):
                mutations = [
                    tablet.create_contact(
                        children[(number + i) % 2],
                        child_views=f"Writer {number} batch {batch} #{i}",
                    )
                    for i in range(BATCH_SIZE)
                ]
                answers.append([r["status"] for r in tablet.push(mutations).get_json()["results"]])
                time.sleep(PAUSE)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    def pull_until_done() -> None:
        try:
            start.wait()
            pulls = 0
            while not writers_done.is_set() or pulls == 0:
                collect(puller.pull(limit=25))
                pulls += 1
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(tablet, n)) for n, tablet in enumerate(writers)]
    reader = threading.Thread(target=pull_until_done)
    for thread in threads + [reader]:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    writers_done.set()
    reader.join(timeout=120)
    assert not failures, failures
    assert not any(thread.is_alive() for thread in threads + [reader])
    assert answers and all(status == "applied" for batch in answers for status in batch)

    collect_all()  # drain what committed after the last pull in the loop
    session = db()
    held = select(Child.id).where(Child.practitioner_id == org.practitioner.id)
    in_database = {
        str(i) for i in session.scalars(select(Contact.id).where(Contact.child_id.in_(held)))
    }
    assert len(in_database) == 2 + WRITERS * BATCHES * BATCH_SIZE  # org's own two, plus ours
    assert seen == in_database  # none skipped, none extra


def test_a_writer_holding_numbers_holds_back_the_puller_but_no_other_writer(
    app, database, org, db, monkeypatch
):
    """The race itself, made to happen: one writer has its transaction and its change numbers
    and has not committed. A second writer goes ahead and commits (no writer queues on another:
    issue 14), but a pull meanwhile must not move its cursor past the first writer's changes, or
    those contacts would never reach the tablet: it reads nothing until the first commits, then
    both, in the order the writers began."""
    slow, fast, puller = tablets_of_one_user(app, 3)
    puller.pull_all()
    numbered, release = threading.Event(), threading.Event()
    real_take_numbers = change_seq.take_numbers

    def take_numbers_then_stall(session, count):
        numbers = real_take_numbers(session, count)
        if threading.current_thread().name == "slow writer":
            session.execute(text("SELECT pg_current_xact_id()"))  # it has its transaction id
            numbered.set()
            release.wait(30)
        return numbers

    monkeypatch.setattr(change_seq, "take_numbers", take_numbers_then_stall)
    slow_batch = [slow.create_contact(org.child.id) for _ in range(5)]
    fast_batch = [fast.create_contact(org.interstate_child.id) for _ in range(5)]
    answers: dict[str, list[str]] = {}

    def push(tablet: Tablet, batch: list[dict], name: str) -> None:
        answers[name] = statuses(tablet.push(batch))

    slow_thread = threading.Thread(target=push, args=(slow, slow_batch, "slow"), name="slow writer")
    fast_thread = threading.Thread(target=push, args=(fast, fast_batch, "fast"), name="fast writer")
    slow_thread.start()
    try:
        assert numbered.wait(10)
        fast_thread.start()
        fast_thread.join(timeout=10)
        assert not fast_thread.is_alive()  # committed while the slow writer still holds its own
        assert answers == {"fast": ["applied"] * 5}
        page = puller.pull()
        assert page["changes"] == []  # the fast writer's contacts wait behind the slow one
    finally:
        release.set()
        slow_thread.join(timeout=30)
        fast_thread.join(timeout=30)
    assert answers == {"slow": ["applied"] * 5, "fast": ["applied"] * 5}
    changes = [
        c for page in puller.pull_all() for c in page["changes"] if c["record_type"] == "contact"
    ]  # (each batch re-sends its child too)
    assert [c["record_id"] for c in changes] == [m["record_id"] for m in slow_batch + fast_batch]
