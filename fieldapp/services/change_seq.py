"""The server change sequence (SPEC §4: "a server-side change sequence that increases by one per
write, taken so that a reader can never skip a row that commits later").

At commit, every synced record the transaction created, changed or deleted is numbered from
`sync_state.last_seq`, and that counter row is updated as the transaction's last statement. The
row lock it takes is held until commit, so a transaction holding number N commits before any
transaction can take a number above N: a puller that has seen N has seen everything below it.
Deletions leave tombstones with their own numbers.
"""

from __future__ import annotations

import secrets

from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.orm import Session

from ..models import (
    Addendum,
    CasePlanGoalRecord,
    CaseResponsibilityTransfer,
    Child,
    Contact,
    ContactAction,
    ContactParticipant,
    GoalExtension,
    GoalReview,
    ReturnVisit,
    YouthJusticeRecord,
)
from ..models.sync import SyncState, SyncTombstone

SYNCED = {Child: "child", Contact: "contact", ReturnVisit: "return_visit", Addendum: "addendum"}
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
_DELETED = "sync_deleted"


def _child_id(obj) -> object:
    if isinstance(obj, Child):
        return obj.id
    if isinstance(obj, Addendum):
        return obj.contact.child_id if obj.contact is not None else None
    return obj.child_id


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


def note_inserted_contacts(session: Session, contacts: list[tuple[object, object]]) -> None:
    """Contacts written by a set-based insert, not through the unit of work, as (contact id,
    child id): numbered at commit like any other change, with their children."""
    touched = session.info.setdefault(_TOUCHED, {})
    for contact_id, child_id in contacts:
        touched[(Contact, contact_id)] = True
        touched[(Child, child_id)] = True


def take_numbers(session: Session, count: int) -> int:
    """Reserves `count` numbers; returns the last. Must be the transaction's last write."""
    last = session.execute(
        update(SyncState)
        .where(SyncState.id == 1)
        .values(last_seq=SyncState.last_seq + count)
        .returning(SyncState.last_seq)
    ).scalar()
    if last is None:  # a database emptied by hand (tests): start a new history
        session.execute(insert(SyncState).values(id=1, epoch=secrets.token_hex(16), last_seq=count))
        last = count
    return last


def current_epoch_and_seq(session: Session) -> tuple[str, int]:
    row = session.execute(
        select(SyncState.epoch, SyncState.last_seq).where(SyncState.id == 1)
    ).first()
    if row is None:
        session.execute(insert(SyncState).values(id=1, epoch=secrets.token_hex(16), last_seq=0))
        return current_epoch_and_seq(session)
    return row.epoch, row.last_seq


def _number_changes(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: numbers are taken once, when the real transaction commits
    # before_commit runs before commit's own flush: flush here, or what is still pending would
    # be written after the numbering and never get a number.
    session.flush()
    touched = session.info.pop(_TOUCHED, {})
    deleted = session.info.pop(_DELETED, {})
    # A record deleted after being touched is only a deletion; a rolled-back deletion (the row
    # still exists) is no deletion at all.
    for key in list(deleted):
        touched.pop(key, None)
        model, record_id = key
        if session.scalar(select(model.id).where(model.id == record_id)) is not None:
            del deleted[key]
    total = len(touched) + len(deleted)
    if not total:
        return
    number = take_numbers(session, total) - total
    by_model: dict[type, list[dict]] = {}
    for model, record_id in touched:
        number += 1
        by_model.setdefault(model, []).append({"record_id": record_id, "number": number})
    connection = session.connection()
    for model, rows in by_model.items():
        table = model.__table__
        # One executemany per table (psycopg pipelines it), not a round trip per record.
        connection.execute(
            update(table)
            .where(table.c.id == bindparam("record_id"))
            .values(change_seq=bindparam("number")),
            rows,
        )
    tombstones = []
    for (model, record_id), (child_id, author_id) in deleted.items():
        number += 1
        tombstones.append(
            {
                "seq": number,
                "record_type": SYNCED[model],
                "record_id": record_id,
                "child_id": child_id,
                "author_id": author_id,
            }
        )
    if tombstones:
        connection.execute(insert(SyncTombstone), tombstones)


def _forget(session: Session, transaction) -> None:
    """The real transaction ended (committed, rolled back or closed): its notes go with it. A
    savepoint rolled back inside it (one rejected mutation of a batch) must not take the notes
    of the rest of the transaction along: what it touched is renumbered harmlessly or, if gone,
    skipped."""
    if transaction.parent is not None:
        return
    session.info.pop(_TOUCHED, None)
    session.info.pop(_DELETED, None)


def install() -> None:
    if not event.contains(Session, "after_flush", _note_changes):
        event.listen(Session, "after_flush", _note_changes)
        event.listen(Session, "before_commit", _number_changes)
        event.listen(Session, "after_transaction_end", _forget)
