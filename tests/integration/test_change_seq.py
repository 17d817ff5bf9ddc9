"""The change order at commit (services/change_seq.py) when a transaction's savepoint undoes
part of its work, as a push's per-mutation savepoints do."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.models import Contact, SyncTombstone


def test_a_deletion_rolled_back_keeps_the_change_made_before_it(org, engine):
    """A draft changed, then deleted in a savepoint that is rolled back: the draft is still
    there, changed, so it gets a new change number (tablets must hear of the change) and no
    tombstone."""
    with Session(engine) as session:
        before = session.get(Contact, org.draft.id).change_seq
    with Session(engine) as session:
        draft = session.get(Contact, org.draft.id)
        draft.child_views = "Changed before a deletion that was undone"
        session.flush()
        savepoint = session.begin_nested()
        session.delete(draft)
        session.flush()
        savepoint.rollback()
        session.commit()
    with Session(engine) as session:
        draft = session.get(Contact, org.draft.id)
        assert draft.child_views == "Changed before a deletion that was undone"
        assert draft.change_seq is not None and draft.change_seq > (before or 0)
        tombstones = select(SyncTombstone).where(SyncTombstone.record_id == org.draft.id)
        assert session.scalars(tombstones).all() == []
