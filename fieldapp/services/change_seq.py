"""The server change order (SPEC §4: "a server-side change sequence ... taken so that a reader
can never skip a row that commits later"; on PostgreSQL "an order that writers do not queue on").

Every synced record a transaction creates, changes or deletes gets a change number and the id
of the transaction that made it (deletions leave tombstones that carry both). A pull reads
changes in (transaction, number) order, and only those of transactions below the *horizon*:

- PostgreSQL: numbers come from the `sync_change_numbers` sequence, which no writer waits on,
  and the transaction is `pg_current_xact_id()`. The horizon is the oldest transaction still
  running (`pg_snapshot_xmin(pg_current_snapshot())`): every transaction below it has ended, so
  no change below it can still appear, and one that commits late stays above the horizon until
  it has. This is the visibility horizon transactional outboxes use. A transaction left open
  anywhere in the cluster holds pulls back (it never loses a change), so operators set
  `idle_in_transaction_session_timeout` (docs/deployment.md).
  The horizon moves whenever any transaction ends, so each transaction that changes synced
  records also leaves its id in `sync_commits`: a pull whose window holds none of them has
  nothing to read, and says so in one indexed query.
- SQLite has one writer at a time: numbers come from `sync_state.last_seq`, the transaction is
  the number itself, and the horizon is one past the last number handed out.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, event, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from ..models import (
    CasePlanGoalRecord,
    CaseResponsibilityTransfer,
    Child,
    Contact,
    ContactAction,
    ContactParticipant,
    GoalExtension,
    GoalReview,
    YouthJusticeRecord,
)
from ..models.base import utcnow
from ..models.sync import CHANGE_NUMBERS, SyncCommit, SyncState, SyncTombstone
from .synced_types import BY_MODEL

# The synced record types, by table (services/synced_types.py).
SYNCED = {model: kind.name for model, kind in BY_MODEL.items()}
# Records the child's pulled record summarises (goal, next review due, two-year deadline,
# agency, Youth Justice collaboration): a new one sends the child again.
SUMMARISED_IN_CHILD = (
    CasePlanGoalRecord,
    GoalReview,
    GoalExtension,
    CaseResponsibilityTransfer,
    YouthJusticeRecord,
)
_TOUCHED = "sync_touched"
_XID = "sync_transaction_id"
_NUMBERED = "sync_numbered"  # rows numbered as they were inserted (number_rows)
_DELETED = "sync_deleted"


def _child_id(obj) -> object:
    return BY_MODEL[type(obj)].child_of(obj)


def _note_changes(session: Session, _flush_context) -> None:
    touched = session.info.setdefault(_TOUCHED, {})
    deleted = session.info.setdefault(_DELETED, {})
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, SUMMARISED_IN_CHILD) and obj.child_id is not None:
            touched[(Child, obj.child_id)] = True
            continue
        if isinstance(obj, (ContactParticipant, ContactAction)):
            obj = obj.contact
        if type(obj) in SYNCED and obj is not None and obj.id is not None:
            touched[(type(obj), obj.id)] = True
            if isinstance(obj, Contact) and obj.child_id is not None:
                # The child's record carries its last contact and due date: send it again too.
                touched[(Child, obj.child_id)] = True
    for obj in session.deleted:
        if type(obj) in SYNCED:
            author = getattr(obj, "author_id", None)
            deleted[(type(obj), obj.id)] = (_child_id(obj), author)


def take_numbers(session: Session, count: int) -> list[int]:
    """`count` new change numbers, increasing."""
    if _postgresql(session):
        return sorted(
            session.scalars(
                select(func.nextval(CHANGE_NUMBERS.name)).select_from(
                    func.generate_series(1, count)
                )
            )
        )
    last = session.execute(
        update(SyncState)
        .where(SyncState.id == 1)
        .values(last_seq=SyncState.last_seq + count)
        .returning(SyncState.last_seq)
    ).scalar()
    if last is None:  # a database emptied by hand (tests): start a new history
        session.execute(insert(SyncState).values(id=1, epoch=secrets.token_hex(16), last_seq=count))
        last = count
    return list(range(last - count + 1, last + 1))


def _transaction_ids(session: Session, numbers: list[int]) -> list[int]:
    """The change_xid stored with each of these numbers (see the module's docstring)."""
    if _postgresql(session):
        return [_transaction_id(session)] * len(numbers)
    return numbers


def _transaction_id(session: Session) -> int:
    """PostgreSQL's id of the (top-level) transaction, asked once per transaction: savepoints
    share it."""
    if _XID not in session.info:
        session.info[_XID] = session.scalar(select(text("pg_current_xact_id()::text::bigint")))
    return session.info[_XID]


def number_rows(session: Session, rows: list[dict]) -> None:
    """Numbers rows about to be written by a set-based insert (a push's new contacts), in the
    order given, so they need no numbering at commit."""
    if not rows:
        return
    numbers = take_numbers(session, len(rows))
    session.info[_NUMBERED] = True
    for row, number, xid in zip(rows, numbers, _transaction_ids(session, numbers), strict=True):
        row["change_seq"] = number
        row["change_xid"] = xid


def note_children_changed(session: Session, child_ids) -> None:
    """Children whose pulled record changed out of the unit of work's sight (their contacts
    written by a set-based insert): numbered at commit like any other change."""
    touched = session.info.setdefault(_TOUCHED, {})
    for child_id in child_ids:
        touched[(Child, child_id)] = True


@dataclass(frozen=True)
class Horizon:
    """How far a pull may read: every change of a transaction below `xid_limit` has ended."""

    epoch: str
    xid_limit: int


def current_horizon(session: Session) -> Horizon:
    if _postgresql(session):
        limit = text("pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
    else:
        limit = SyncState.last_seq + 1
    row = session.execute(select(SyncState.epoch, limit).where(SyncState.id == 1)).first()
    if row is None:
        session.execute(insert(SyncState).values(id=1, epoch=secrets.token_hex(16), last_seq=0))
        return current_horizon(session)
    return Horizon(row[0], row[1])


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _number_changes(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: numbers are taken once, when the real transaction commits
    # before_commit runs before commit's own flush: flush here, or what is still pending would
    # be written after the numbering and never get a number.
    session.flush()
    touched = session.info.pop(_TOUCHED, {})
    deleted = session.info.pop(_DELETED, {})
    # A record deleted after being touched is only a deletion; a rolled-back deletion (the row
    # still exists) is no deletion at all, and a change made before it still counts.
    for key in list(deleted):
        model, record_id = key
        if session.scalar(select(model.id).where(model.id == record_id)) is not None:
            del deleted[key]
        else:
            touched.pop(key, None)
    numbered_before = session.info.pop(_NUMBERED, False)
    total = len(touched) + len(deleted)
    if total or numbered_before:
        _mark_transaction(session)
    if not total:
        return
    numbers = take_numbers(session, total)
    xids = iter(_transaction_ids(session, numbers))
    numbers = iter(numbers)
    by_model: dict[type, list[dict]] = {}
    for model, record_id in touched:
        by_model.setdefault(model, []).append(
            {"record_id": record_id, "number": next(numbers), "xid": next(xids)}
        )
    connection = session.connection()
    for model, rows in sorted(by_model.items(), key=lambda item: item[0].__tablename__):
        table = model.__table__
        # Rows are locked in one order (table, then id): two transactions numbering the same
        # children (two tablets pushing for one caseload) then wait for each other instead of
        # deadlocking.
        rows.sort(key=lambda row: str(row["record_id"]))
        # One executemany per table (psycopg pipelines it), not a round trip per record.
        connection.execute(
            update(table)
            .where(table.c.id == bindparam("record_id"))
            .values(change_seq=bindparam("number"), change_xid=bindparam("xid")),
            rows,
        )
    tombstones = []
    for (model, record_id), (child_id, author_id) in deleted.items():
        tombstones.append(
            {
                "seq": next(numbers),
                "xid": next(xids),
                "record_type": SYNCED[model],
                "record_id": record_id,
                "child_id": child_id,
                "author_id": author_id,
            }
        )
    if tombstones:
        connection.execute(insert(SyncTombstone), tombstones)


def _mark_transaction(session: Session) -> None:
    """PostgreSQL: this transaction changes synced records (models/sync.py SyncCommit)."""
    if _postgresql(session):
        session.execute(
            pg_insert(SyncCommit)
            .values(xid=_transaction_id(session), committed_at=utcnow())
            .on_conflict_do_nothing()
        )


def changed_between(session: Session, low_xid: int, high_xid: int) -> bool:
    """Whether a transaction from `low_xid` (included) to `high_xid` changed synced records.
    Only PostgreSQL records them; elsewhere the answer is yes, and the caller looks."""
    if not _postgresql(session):
        return True
    return bool(
        session.scalar(
            select(
                select(SyncCommit.xid)
                .where(SyncCommit.xid >= low_xid, SyncCommit.xid < high_xid)
                .exists()
            )
        )
    )


def purge_old_commits(session: Session, before) -> int:
    return session.execute(delete(SyncCommit).where(SyncCommit.committed_at < before)).rowcount


def _forget(session: Session, transaction) -> None:
    """The real transaction ended (committed, rolled back or closed): its notes go with it. A
    savepoint rolled back inside it (one rejected mutation of a batch) must not take the notes
    of the rest of the transaction along: what it touched is renumbered harmlessly or, if gone,
    skipped."""
    if transaction.parent is not None:
        return
    session.info.pop(_TOUCHED, None)
    session.info.pop(_DELETED, None)
    session.info.pop(_NUMBERED, None)
    session.info.pop(_XID, None)


def install() -> None:
    if not event.contains(Session, "after_flush", _note_changes):
        event.listen(Session, "after_flush", _note_changes)
        event.listen(Session, "before_commit", _number_changes)
        event.listen(Session, "after_transaction_end", _forget)
