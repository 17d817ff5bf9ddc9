"""Gap-free pull (SPEC §4): children entering scope in full, purges for those leaving, then
changes since the cursor in change order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, or_, select, tuple_, update
from sqlalchemy.orm import Session

from ...models import (
    Child,
    Device,
    DeviceHolding,
    SyncTombstone,
    User,
)
from ...models.base import utcnow
from .. import scope
from ..audit import record_event
from ..change_seq import Horizon, changed_between, current_horizon, purge_old_commits
from ..synced_types import SYNCED_TYPES, SyncedType
from .errors import ResetRequired

MAX_PULL_LIMIT = 500
DEFAULT_PULL_LIMIT = 200
TOMBSTONE_RETENTION = timedelta(days=180)
PURGE_MARGIN = timedelta(days=1)


# Where a device has read up to in the change order: (transaction, change number). See
# services/change_seq.py. A first pull starts before every change.
Position = tuple[int, int]
START: Position = (-1, 0)


@dataclass(frozen=True)
class Cursor:
    epoch: str
    seq: int
    device_id: str
    pull: int
    issued: str  # ISO timestamp
    xid: int

    @property
    def position(self) -> Position:
        return (self.xid, self.seq)

    def as_dict(self) -> dict:
        return {
            "e": self.epoch,
            "x": self.xid,
            "s": self.seq,
            "d": self.device_id,
            "p": self.pull,
            "t": self.issued,
        }

    @classmethod
    def from_dict(cls, raw: dict) -> Cursor:
        # A cursor without "x" was issued before changes recorded their transaction: KeyError,
        # and the tablet refetches everything (reset_required) once.
        return cls(raw["e"], int(raw["s"]), raw["d"], int(raw["p"]), raw["t"], int(raw["x"]))


def check_cursor(
    cursor: Cursor | None, device: Device, now: datetime, horizon: Horizon
) -> Position:
    """The position to pull from, or ResetRequired (another epoch, a cursor older than
    tombstone retention, or one ahead of this database, as after a restore from backup)."""
    if cursor is None:
        return START
    issued = datetime.fromisoformat(cursor.issued)
    if (
        cursor.epoch != horizon.epoch
        or cursor.xid > horizon.xid_limit
        or now - issued > TOMBSTONE_RETENTION
        or cursor.device_id != str(device.id)
    ):
        raise ResetRequired()
    return cursor.position


def _visible_child_ids(session: Session, user: User) -> set[uuid.UUID]:
    if not scope.can_read_case_notes(user):
        return set()
    return set(session.scalars(scope.visible_children(user).with_only_columns(Child.id)))


def _confirm_holdings(session: Session, device: Device, confirmed_pull: int) -> set[uuid.UUID]:
    """The device applied pull `confirmed_pull` (it presents that pull's cursor): what later
    pulls promised is undone, what that pull removed is gone. Returns what the device holds.
    When nothing is pending (the usual poll), it only reads."""
    rows = session.execute(
        select(DeviceHolding.child_id, DeviceHolding.added_in, DeviceHolding.removed_in).where(
            DeviceHolding.device_id == device.id
        )
    ).all()
    if all(row.added_in <= confirmed_pull and row.removed_in is None for row in rows):
        if device.pull_number != confirmed_pull:
            device.pull_number = confirmed_pull
        return {row.child_id for row in rows}
    session.execute(
        delete(DeviceHolding).where(
            DeviceHolding.device_id == device.id, DeviceHolding.added_in > confirmed_pull
        )
    )
    session.execute(
        update(DeviceHolding)
        .where(DeviceHolding.device_id == device.id, DeviceHolding.removed_in > confirmed_pull)
        .values(removed_in=None)
    )
    session.execute(
        delete(DeviceHolding).where(
            DeviceHolding.device_id == device.id, DeviceHolding.removed_in <= confirmed_pull
        )
    )
    device.pull_number = confirmed_pull
    return set(
        session.scalars(
            select(DeviceHolding.child_id).where(
                DeviceHolding.device_id == device.id, DeviceHolding.removed_in.is_(None)
            )
        )
    )


def _entering_page(
    session: Session, user: User, entering: list[uuid.UUID], limit: int, already: int
) -> list[uuid.UUID]:
    """The children, in order, whose records fill this page after the `already` records on it:
    children are taken while the page holds fewer than `limit` records (an empty page takes at
    least one), and a child's records never split across pages (so a page may end with more
    than `limit`). Counted with one grouped query per record type, then loaded together, not a
    child at a time."""
    if not entering or already >= limit:
        return []
    sizes = dict.fromkeys(entering, 1)  # the child's own record
    for kind in SYNCED_TYPES:
        if kind.model is Child:
            continue
        rows = kind.rows(user, entering).subquery()
        for child_id, count in session.execute(
            select(rows.c.child_id, func.count()).group_by(rows.c.child_id)
        ):
            sizes[child_id] += count
    taken: list[uuid.UUID] = []
    records = already
    for child_id in entering:
        if records and records >= limit:
            break
        taken.append(child_id)
        records += sizes[child_id]
    return taken


def _on_the_wire(session: Session, kind: SyncedType, rows: list, today: date) -> list[dict]:
    return [
        {
            "record_type": kind.name,
            "record_id": str(row.id),
            "version": row.version,
            "op": "upsert",
            "data": data,
            "order": (row.change_xid or 0, row.change_seq or 0),
        }
        for row, data in zip(rows, kind.wire(session, rows, today), strict=True)
    ]


def _full_records(
    session: Session, user: User, child_ids: list[uuid.UUID], today: date
) -> list[dict]:
    """Everything of these children the user may see, at the current state: the children
    first, then each record type in turn."""
    if not child_ids:
        return []
    changes = []
    for kind in SYNCED_TYPES:
        query = kind.rows(user, child_ids).options(*kind.load).order_by(kind.model.id)
        changes += _on_the_wire(session, kind, list(session.scalars(query)), today)
    return changes


def _changes_since(
    session: Session,
    user: User,
    child_ids: set[uuid.UUID],
    after: Position,
    horizon: Horizon,
    limit: int,
    today: date,
) -> tuple[list[dict], bool]:
    """Records of these children changed after `after` by transactions below the horizon, in
    change order, at most `limit`. When no transaction has ended since the cursor was issued,
    nothing new can be read: no query then (the tablet's poll with nothing new, issue 14)."""
    if not child_ids or after[0] >= horizon.xid_limit:
        return [], False
    if not changed_between(session, after[0], horizon.xid_limit):
        return [], False  # transactions have ended since, none of them changing synced records
    ids = list(child_ids)

    def changed(query, xid, seq):
        """The query's rows changed after the cursor and below the horizon."""
        return query.where(tuple_(xid, seq) > tuple_(*after), xid < horizon.xid_limit)

    queries = [
        (kind, changed(kind.rows(user, ids), kind.model.change_xid, kind.model.change_seq))
        for kind in SYNCED_TYPES
    ]
    deletions = select(SyncTombstone).where(SyncTombstone.child_id.in_(ids))
    if not scope.sees_all_drafts(user):
        # Only drafts are ever deleted (R8): a tablet hears of the deletions of its user's own.
        deletions = deletions.where(
            or_(SyncTombstone.record_type != "contact", SyncTombstone.author_id == user.id)
        )
    deletions = changed(deletions, SyncTombstone.xid, SyncTombstone.seq)
    # Often nothing of these children has changed even though other transactions have ended
    # (on PostgreSQL any transaction moves the horizon): one query says so, not one per type.
    if not session.scalar(select(or_(*(q.exists() for _kind, q in queries), deletions.exists()))):
        return [], False
    found: list[dict] = []
    for kind, query in queries:
        model = kind.model
        in_order = query.order_by(model.change_xid, model.change_seq).limit(limit + 1)
        found += _on_the_wire(
            session, kind, list(session.scalars(in_order.options(*kind.load))), today
        )
    found += [
        {
            "record_type": t.record_type,
            "record_id": str(t.record_id),
            "version": None,
            "op": "delete",
            "data": None,
            "order": (t.xid or 0, t.seq),
        }
        for t in session.scalars(
            deletions.order_by(SyncTombstone.xid, SyncTombstone.seq).limit(limit + 1)
        )
    ]
    found.sort(key=lambda change: change["order"])
    return found[:limit], len(found) > limit


def _purges(session: Session, leaving: set[uuid.UUID]) -> list[dict]:
    """Purge entries for every record of children that left the device's scope, whoever may
    see them: the device must keep none of them."""
    if not leaving:
        return []
    ids = sorted(leaving, key=str)
    purge = []
    for kind in SYNCED_TYPES:
        query = kind.rows(None, ids).with_only_columns(kind.model.id)
        record_ids = ids if kind.model is Child else session.scalars(query)
        purge += [{"record_type": kind.name, "record_id": str(i)} for i in record_ids]
    return purge


def pull(
    session: Session,
    user: User,
    device: Device,
    cursor: Cursor | None,
    limit: int,
    today: date,
    now: datetime | None = None,
) -> tuple[dict, Cursor]:
    """One page of changes. Children entering scope arrive in full first; children leaving it
    arrive as purge entries; then changes since the cursor, in change order. `today` (SPEC §3,
    the organisation's date) picks each child's goal in force."""
    now = now or utcnow()
    horizon = current_horizon(session)
    after = check_cursor(cursor, device, now, horizon)
    confirmed = cursor.pull if cursor else 0
    held = _confirm_holdings(session, device, confirmed)
    in_scope = _visible_child_ids(session, user)
    entering = sorted(in_scope - held, key=str)
    leaving = held - in_scope
    # Changes to the children the device already holds come first, so the cursor moves on with
    # every page; children entering then fill the rest of the page, sent in full as they are
    # now (with every change below the horizon), so what later changes them is after the
    # cursor too. (Sending
    # them first kept the cursor still until all had arrived, and then sent every record of
    # theirs a second time as a change since that old cursor.)
    changes, truncated = _changes_since(
        session, user, held & in_scope, after, horizon, limit, today
    )
    if truncated:
        position = changes[-1]["order"]
        taken: list[uuid.UUID] = []
    else:
        position = (horizon.xid_limit, -1)  # every change below the horizon is read
        taken = _entering_page(session, user, entering, limit, already=len(changes))
        changes += _full_records(session, user, taken, today)
    has_more = truncated or len(taken) < len(entering)
    # A pull that moves no child in or out needs no number of its own: its cursor confirms the
    # same pull as the one presented, and the device row is not written (issue 14).
    this_pull = confirmed + 1 if taken or leaving else confirmed
    for child_id in taken:
        session.add(DeviceHolding(device_id=device.id, child_id=child_id, added_in=this_pull))
    if leaving:
        session.execute(
            update(DeviceHolding)
            .where(DeviceHolding.device_id == device.id, DeviceHolding.child_id.in_(list(leaving)))
            .values(removed_in=this_pull)
        )
    if device.pull_number != this_pull:
        device.pull_number = this_pull
    # A cursor's age is the age of its seq: a page that does not move the seq keeps the old time,
    # so a stale position cannot outlive tombstone retention by being re-issued.
    issued = cursor.issued if cursor is not None and position == after else now.isoformat()
    next_cursor = Cursor(
        horizon.epoch, position[1], str(device.id), this_pull, issued, xid=position[0]
    )
    if changes or taken or leaving:
        # One row per page of records actually sent, none per empty poll (issue 14).
        record_event(
            session,
            user_id=user.id,
            action="sync_pull",
            object_type="device",
            object_id=device.id,
            detail={
                "children_added": len(taken),
                "children_removed": len(leaving),
                "changes": len(changes),
            },
        )
    for change in changes:
        del change["order"]
    return {
        "changes": changes,
        "purge": _purges(session, leaving),
        "has_more": has_more,
    }, next_cursor


def purge_expired_tombstones(session: Session, now: datetime | None = None) -> int:
    """Tombstones, and the record of which transactions changed synced records, older than a
    cursor may be (older cursors answer reset_required). A day more than that: a change can be
    read after a cursor issued later than it committed, while a long transaction held the
    horizon back."""
    cutoff = (now or utcnow()) - TOMBSTONE_RETENTION - PURGE_MARGIN
    purge_old_commits(session, cutoff)
    return session.execute(delete(SyncTombstone).where(SyncTombstone.deleted_at < cutoff)).rowcount
