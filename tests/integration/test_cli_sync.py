"""`flask sync purge-tombstones`: tombstones (and the record of which transactions changed synced
records) live 180 days (SPEC §4)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask.cli import FlaskGroup
from sqlalchemy import select

from fieldapp.models import SyncCommit, SyncTombstone
from fieldapp.models.base import utcnow


def test_purge_removes_only_expired_tombstones(app, runner, db):
    session = db()
    old, recent = uuid.uuid4(), uuid.uuid4()
    session.add_all(
        [
            SyncTombstone(
                seq=1,
                record_type="contact",
                record_id=old,
                child_id=uuid.uuid4(),
                deleted_at=utcnow() - timedelta(days=182),
            ),
            SyncTombstone(
                seq=2,
                record_type="contact",
                record_id=recent,
                child_id=uuid.uuid4(),
                deleted_at=utcnow() - timedelta(days=180),
            ),
            # Which transactions changed synced records: kept as long as tombstones.
            SyncCommit(xid=10, committed_at=utcnow() - timedelta(days=182)),
            SyncCommit(xid=20, committed_at=utcnow() - timedelta(days=180)),
        ]
    )
    session.commit()
    cli = FlaskGroup(create_app=lambda: app, load_dotenv=False, set_debug_flag=False)
    result = runner.invoke(cli, ["sync", "purge-tombstones"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 expired tombstone" in result.output
    assert db().scalars(select(SyncTombstone.record_id)).all() == [recent]
    assert db().scalars(select(SyncCommit.xid)).all() == [20]
