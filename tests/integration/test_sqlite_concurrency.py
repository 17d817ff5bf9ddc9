"""Several tablets syncing at once against the embedded SQLite database. Every request may write
(its session, audit events, sync), and a SQLite transaction that reads first and writes later
fails at once if another request wrote in between; requests take the write lock up front
(extensions.py), so they wait their turn and every sync succeeds, with no 503."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from fieldapp.models import Contact

from .sync_helpers import Tablet, tablets_of_one_user

TABLETS = 6
ROUNDS = 5

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


def test_tablets_syncing_at_once_on_sqlite_all_succeed(app, database, org, db):
    tablets = tablets_of_one_user(app, TABLETS)
    start = threading.Barrier(TABLETS)
    outcomes: list[int] = []
    failures: list[BaseException] = []

    def sync(tablet: Tablet, number: int) -> None:
        try:
            start.wait()
            for round_ in range(ROUNDS):
                mutations = [
                    tablet.create_contact(
                        org.child.id, child_views=f"Tablet {number} round {round_} #{i}"
                    )
                    for i in range(5)
                ]
                outcomes.append(tablet.push(mutations, expect=None).status_code)
                outcomes.append(
                    tablet.client.get(
                        f"/api/sync/pull?device_id={tablet.device_id}&limit=200"
                    ).status_code
                )
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=sync, args=(tablet, n)) for n, tablet in enumerate(tablets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a sync hung"
    assert not failures, failures
    assert outcomes == [200] * (TABLETS * ROUNDS * 2)
    stored = db().scalar(
        select(func.count()).select_from(Contact).where(Contact.child_views.like("Tablet %"))
    )
    assert stored == TABLETS * ROUNDS * 5
