"""Exactly-once push (SPEC §4): each mutation applied once, in seq order, each atomically; a
crash leaves a prefix of the batch (possibly none of it) that the retry completes."""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import ARRAY, ColumnElement, Uuid, any_, insert, literal, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, undefer

from ...models import (
    AuditEvent,
    Child,
    Contact,
    ContactAction,
    ContactParticipant,
    Device,
    SyncMutation,
    User,
)
from ...models.base import utcnow
from .. import scope
from ..audit import record_event
from ..change_seq import note_children_changed, number_rows
from ..contacts import NewContactRows
from ..errors import Forbidden, ImmutableRecord, ValidationError, is_transient
from ..sync_records import (
    FieldErrors,
    parse_uuid,
)
from .devices import touch
from .handlers import MODELS, MutationResult, Rejected, apply_mutation

logger = logging.getLogger(__name__)

MAX_BATCH = 200
MAX_SEQ = 2**63 - 1  # the column is a BIGINT; a larger number would fail in the database
# A mutation's fields (SPEC §4); any other refuses the request (422), naming it.
MUTATION_FIELDS = ("mutation_id", "seq", "op", "record_type", "record_id", "base_version", "data")


def payload_hash(mutation: dict) -> str:
    """Identity of a mutation's content: everything but its mutation_id."""
    content = {key: mutation.get(key) for key in MUTATION_FIELDS if key != "mutation_id"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def check_envelope(mutation: Any, index: int) -> FieldErrors:
    """What makes a mutation unreadable (no mutation_id or seq to record it under). A seq sent
    as a whole number with a fraction part (`255.0`, which JSON Schema counts as an integer) is
    read as that number, here, before anything else reads it."""
    errors = FieldErrors()
    prefix = f"mutations[{index}]"
    if not isinstance(mutation, dict):
        errors.add(prefix, "Must be an object.")
        return errors
    parse_uuid(mutation.get("mutation_id"), f"{prefix}.mutation_id", errors)
    seq = mutation.get("seq")
    if isinstance(seq, float) and seq.is_integer():
        seq = mutation["seq"] = int(seq)
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
        errors.add(f"{prefix}.seq", f"Must be a whole number from 1 to {MAX_SEQ}.")
    return errors


class _Seen(NamedTuple):
    """A processed mutation as the exactly-once check reads it back."""

    device_id: uuid.UUID
    seq: int
    mutation_id: uuid.UUID
    payload_hash: str
    status: str
    result: dict

    def as_duplicate(self, mutation_id: uuid.UUID, seq: int) -> dict:
        """The answer to this mutation sent again: its first result, marked `duplicate`."""
        return self.result | {
            "mutation_id": str(mutation_id),
            "seq": seq,
            "status": "duplicate",
            "first_status": self.status,
        }

    @property
    def first_sighting(self) -> bool:
        """Whether this row is where its mutation_id was first processed: not a copy of one seen
        on another tablet, nor a reuse of an id already seen with another payload."""
        if self.status == "duplicate":
            return False
        return not (
            self.status == "rejected" and "mutation_id" in (self.result.get("errors") or {})
        )


_SEEN_COLUMNS = (
    SyncMutation.device_id,
    SyncMutation.seq,
    SyncMutation.mutation_id,
    SyncMutation.payload_hash,
    SyncMutation.status,
    SyncMutation.result,
)


def _any_of(session: Session, column, values: list) -> ColumnElement[bool]:
    """`column IN values`: on PostgreSQL one array parameter (`= ANY`), so the statement is the
    same for any number of values and its plan is prepared once, not one per batch size."""
    if session.bind.dialect.name == "postgresql":
        return column == any_(literal(values, ARRAY(Uuid)))
    return column.in_(values)


class _NeedsIsolation(Exception):
    """The fast path met something it cannot undo on its own: redo the batch with a savepoint
    per mutation."""


def push(
    session: Session,
    user: User,
    device: Device,
    mutations: list[dict],
    today: date,
    *,
    text_storable: bool = False,
    body_digest: str | None = None,
) -> dict:
    """Applies mutations in seq order, each atomically. Returns {results, last_seq}.

    Every handler checks before it writes, so a rejected mutation leaves nothing behind and the
    batch can run inside one savepoint. If anything fails that the checks did not foresee (a
    database error), that savepoint is rolled back and the batch runs again with a savepoint per
    mutation, so one bad mutation never takes its neighbours down. An unavailable database
    propagates (the endpoint answers 503). `text_storable`: the caller has seen that every
    string in the batch can be stored, so no mutation's text is searched again.
    `body_digest`: the SHA-256 of the request body, under which a batch answered in full is
    kept for `answer_resent`.
    """
    batch_savepoint = session.begin_nested()
    try:
        result, resend = _push(
            session, user, device, mutations, today, isolate=False, text_storable=text_storable
        )
        session.flush()
        batch_savepoint.commit()
        _keep_for_resend(device, body_digest, resend)
        return result
    except _NeedsIsolation:
        batch_savepoint.rollback()
    except DBAPIError as exc:
        batch_savepoint.rollback()
        if is_transient(exc):
            raise
    except SQLAlchemyError:  # e.g. a value the driver could not take: one mutation at a time
        batch_savepoint.rollback()
    session.refresh(device)
    result, resend = _push(
        session, user, device, mutations, today, isolate=True, text_storable=text_storable
    )
    _keep_for_resend(device, body_digest, resend)
    return result


def answer_resent(session: Session, user: User, body_digest: str) -> tuple[Device, str] | None:
    """The answer to a push body this user's tablet sent before and was answered in full (its
    response lost on the way, say): the device (its `last_seq` completes the answer) and the
    results, every one `duplicate` as `push` would answer it, kept as JSON text (keys sorted,
    compact, as the API writes JSON); one query instead of reading the batch again.
    None when the body is not that batch, or the tablet is revoked (then `push` answers as it
    must). The row is locked on PostgreSQL as a push of this device would lock it."""
    query = (
        select(Device)
        .options(undefer(Device.last_batch_results))
        .where(
            Device.user_id == user.id,
            Device.last_batch_digest == body_digest,
            Device.last_batch_results.is_not(None),
            Device.revoked_at.is_(None),
        )
    )
    if session.bind.dialect.name == "postgresql":
        query = query.with_for_update()
    device = session.scalar(query)
    if device is None:
        return None
    touch(device)
    return device, device.last_batch_results


def _keep_for_resend(device: Device, body_digest: str | None, resend: list[dict] | None) -> None:
    if body_digest is not None and resend:
        device.last_batch_digest = body_digest
        device.last_batch_results = json.dumps(resend, sort_keys=True, separators=(",", ":"))


def _push(
    session: Session,
    user: User,
    device: Device,
    mutations: list[dict],
    today: date,
    *,
    isolate: bool,
    text_storable: bool,
) -> tuple[dict, list[dict] | None]:
    """One pass over the batch (see `push`): its answer, and its answer if sent again when
    every mutation in it was processed here for the first time (then, sent again, each is the
    `duplicate` of its own result whatever happened since, as processed mutations never change;
    a batch with anything else, a gap, a seq already used or a mutation seen before, is read in
    full each time it comes).

    What the batch needs to look up (mutations already seen, the children it names) is read in
    a few queries up front; the record of each processed mutation is written in one statement
    at the end. Both are in the request's transaction, so they commit or vanish with it.
    """
    ids = [uuid.UUID(str(m["mutation_id"])) for m in mutations]
    # A batch's seqs are consecutive: one range scan of the device's index, not 200 parameters
    # (which PostgreSQL plans far worse once the device has a long history).
    seqs = {m["seq"] for m in mutations}
    by_seq: dict[int, _Seen] = (
        {
            row.seq: _Seen(*row)
            for row in session.execute(
                select(*_SEEN_COLUMNS).where(
                    SyncMutation.device_id == device.id,
                    SyncMutation.seq.between(min(seqs), max(seqs)),
                )
            )
            if row.seq in seqs
        }
        if seqs
        else {}
    )
    # The first time each mutation was seen, on any of the user's tablets. A batch sent again
    # to the same tablet finds it in the range just read; the rest are looked up by id.
    first_seen: dict[uuid.UUID, _Seen] = {}
    unknown = []
    for mutation, mutation_id in zip(mutations, ids, strict=True):
        row = by_seq.get(mutation["seq"])
        if row is not None and row.mutation_id == mutation_id and row.first_sighting:
            first_seen[mutation_id] = row
        else:
            unknown.append(mutation_id)
    if unknown:
        users_devices = select(Device.id).where(Device.user_id == user.id)
        for row in session.execute(
            select(*_SEEN_COLUMNS)
            .where(_any_of(session, SyncMutation.mutation_id, unknown))
            .where(SyncMutation.device_id.in_(users_devices))
            .order_by(SyncMutation.received_at, SyncMutation.seq)
        ):
            first_seen.setdefault(row.mutation_id, _Seen(*row))
    # Read only when a mutation is applied: a batch sent again (all duplicates) needs none of it.
    context: BatchContext | None = None

    results: list[dict] = []
    processed: list[dict] = []
    first_here: list[_Seen] = []  # processed here, and the first sighting of their mutation
    received_at = utcnow()
    failures: list[Exception] = []
    attempted = 0
    last_seq = device.last_seq
    for mutation, mutation_id in zip(mutations, ids, strict=True):
        seq = mutation["seq"]
        digest = payload_hash(mutation)
        used = by_seq.get(seq)
        if used is not None and used.mutation_id != mutation_id:
            # SPEC §4: a seq already used by another mutation_id is rejected, even with the
            # same content (the tablet numbered two changes alike; neither may be lost quietly).
            results.append(
                MutationResult(
                    str(mutation_id),
                    seq,
                    "rejected",
                    errors={"seq": [f"seq {seq} was already used by another mutation."]},
                ).as_dict()
            )
            continue
        seen = first_seen.get(mutation_id)
        if seen is not None:
            if seen.payload_hash == digest:
                duplicate = seen.as_duplicate(mutation_id, seq)
                if seen.device_id != device.id and seq == last_seq + 1:
                    # First seen from another of the user's tablets (an outbox copied across):
                    # this device's queue still moves on.
                    processed.append(
                        {
                            "device_id": device.id,
                            "seq": seq,
                            "mutation_id": mutation_id,
                            "payload_hash": digest,
                            "status": "duplicate",
                            "result": duplicate,
                            "received_at": received_at,
                        }
                    )
                    last_seq = seq
                results.append(duplicate)
                continue
            outcome = MutationResult(
                str(mutation_id),
                seq,
                "rejected",
                errors={
                    "mutation_id": ["This mutation_id was already used with a different payload."]
                },
            )
        elif seq <= last_seq:
            results.append(
                MutationResult(
                    str(mutation_id),
                    seq,
                    "rejected",
                    errors={
                        "seq": [f"seq {seq} is at or below the last processed seq {last_seq}."]
                    },
                ).as_dict()
            )
            continue
        elif seq > last_seq + 1:
            break  # a gap: stop; last_seq tells the client where to resume
        else:
            context = context or BatchContext(
                session, user, mutations, set_based=not isolate, text_storable=text_storable
            )
            if isolate:
                outcome = _apply_in_savepoint(
                    session, user, device, mutation, mutation_id, seq, today, context
                )
            elif _is_contact_create(mutation):
                outcome = _apply_checked(
                    session, user, device, mutation, mutation_id, seq, today, context, guard=False
                )
            else:
                context.write_pending(session)  # this mutation may read what they hold
                outcome = _apply_checked(
                    session, user, device, mutation, mutation_id, seq, today, context, guard=True
                )
            if (
                outcome.status in ("rejected", "conflict")
                and mutation.get("record_type") == "contact"
                and mutation.get("op") == "update"
            ):
                context.unapplied.add(str(mutation.get("record_id")))
            attempted += 1
            if outcome.failure is not None:
                failures.append(outcome.failure)
        answer = outcome.as_dict()
        if seq == last_seq + 1:
            # The record is kept with the outcome so a later submit can tell whether the change
            # just before it, to the same record, was applied (see _submit_contact).
            row = {
                "device_id": device.id,
                "seq": seq,
                "mutation_id": mutation_id,
                "payload_hash": digest,
                "status": outcome.status,
                "result": answer
                | {"record_id": str(mutation.get("record_id")), "op": mutation.get("op")},
                "received_at": received_at,
            }
            processed.append(row)
            seen = _Seen(device.id, seq, mutation_id, digest, outcome.status, row["result"])
            if seen.first_sighting and first_seen.get(mutation_id) is None:
                first_here.append(seen)
            first_seen.setdefault(mutation_id, seen)
            by_seq[seq] = first_seen[mutation_id]
            last_seq = seq
        results.append(answer)
    if failures and len(failures) == attempted:
        # Every mutation failed unexpectedly: the server is broken, not the data. Answer 500 and
        # keep nothing, so the tablet retries the same batch once it is fixed.
        raise failures[0]
    if context is not None:
        context.write_pending(session)
    if processed:
        session.execute(insert(SyncMutation), processed)
        device.last_seq = last_seq
    for denied in context.denied if context else []:  # outside any savepoint, never lost
        record_event(
            session,
            user_id=user.id,
            action="sync_push",
            object_type="child",
            object_id=denied["child_id"],
            outcome="denied",
            detail={"mutation_id": denied["mutation_id"]},
        )
    resend = (
        [seen.as_duplicate(seen.mutation_id, seen.seq) for seen in first_here]
        if len(first_here) == len(mutations)
        else None
    )
    return {"results": results, "last_seq": last_seq}, resend


class BatchContext:
    """Per-request lookups shared by a batch's mutations, and (on the fast path) the rows of new
    contacts, written together as set-based inserts instead of one ORM object each."""

    def __init__(
        self,
        session: Session,
        user: User,
        mutations: list[dict],
        *,
        set_based: bool = False,
        text_storable: bool = False,
    ):
        self.set_based = set_based
        self.text_storable = text_storable
        self.now = utcnow()
        self._contacts: list[NewContactRows] = []
        self.denied: list[dict] = []
        # Contacts with a change in this batch that was refused or conflicted: a submit that
        # follows must not freeze the server's older content (see _submit_contact).
        self.unapplied: set[str] = set()
        wanted = set()
        for mutation in mutations:
            data = mutation.get("data")
            if isinstance(data, dict) and data.get("child_id"):
                try:
                    wanted.add(uuid.UUID(str(data["child_id"])))
                except ValueError:
                    pass
        self.children = (
            {
                child.id: child
                for child in session.scalars(
                    scope.visible_children(user).where(Child.id.in_(wanted))
                )
            }
            if wanted
            else {}
        )
        created = {kind: [] for kind in MODELS}
        for mutation in mutations:
            record_type = mutation.get("record_type")
            if (
                mutation.get("op") == "create"
                and isinstance(record_type, str)
                and record_type in MODELS
            ):
                try:
                    created[mutation["record_type"]].append(
                        uuid.UUID(str(mutation.get("record_id")))
                    )
                except ValueError:
                    pass
        self.existing = {
            kind: set(session.scalars(select(MODELS[kind].id).where(MODELS[kind].id.in_(ids))))
            if ids
            else set()
            for kind, ids in created.items()
        }

    def exists(self, record_type: str, record_id: uuid.UUID) -> bool:
        return record_id in self.existing[record_type]

    def created(self, record_type: str, record_id: uuid.UUID) -> None:
        self.existing[record_type].add(record_id)

    def child_in_scope(self, session: Session, user: User, child_id: uuid.UUID) -> Child | None:
        if child_id in self.children:
            return self.children[child_id]
        return scope.find_child(session, user, child_id)

    def insert_later(self, rows: NewContactRows) -> None:
        self._contacts.append(rows)

    def write_pending(self, session: Session) -> None:
        """Writes the new contacts held so far, four statements for all of them (contacts,
        participants, actions, audit events). Runs before any mutation that may read what they
        wrote, and at the end of the batch."""
        if not self._contacts:
            return
        pending, self._contacts = self._contacts, []
        session.flush()  # anything the unit of work holds goes first, in the order it was made
        connection = session.connection()
        contacts = [new.contact for new in pending]
        number_rows(session, contacts)  # numbered now, in the order made, not again at commit
        for table, rows in (
            (Contact.__table__, contacts),
            (ContactParticipant.__table__, [row for new in pending for row in new.participants]),
            (ContactAction.__table__, [row for new in pending for row in new.actions]),
            (AuditEvent.__table__, [row for new in pending for row in new.audit]),
        ):
            if rows:
                connection.execute(insert(table), rows)
        # The child's pulled record carries its last contact and due date: send it again too.
        note_children_changed(session, {row["child_id"] for row in contacts})


def _apply_in_savepoint(
    session, user, device, mutation, mutation_id, seq, today, batch: BatchContext
) -> MutationResult:
    savepoint = session.begin_nested()
    try:
        outcome = apply_mutation(session, user, device, mutation, mutation_id, seq, today, batch)
        session.flush()
    except REFUSALS as exc:
        savepoint.rollback()
        return _refused(mutation_id, seq, exc)
    except DBAPIError as exc:
        savepoint.rollback()
        if is_transient(exc):
            raise  # the database is unavailable: 503, the tablet retries
        return _unforeseen(mutation_id, seq, exc)
    except Exception as exc:  # noqa: BLE001 - a bug must not wedge the tablet's queue forever
        savepoint.rollback()
        return _unforeseen(mutation_id, seq, exc)
    savepoint.commit()
    return outcome


def _unforeseen(mutation_id, seq, exc: Exception) -> MutationResult:
    """One mutation the server cannot store while others go through (a poisoned record, not a
    broken server): it is marked processed (rejected) so the tablet's queue moves on; the tablet
    keeps it, with what it sent, for the practitioner, and the log keeps the error."""
    logger.exception(
        "sync: mutation %s (seq %s) failed unexpectedly", mutation_id, seq, exc_info=exc
    )
    result = MutationResult(
        str(mutation_id),
        seq,
        "rejected",
        errors={
            "mutation": [
                "The server could not store this change. It is kept on your tablet; "
                "tell your administrator."
            ]
        },
    )
    result.failure = exc
    return result


def _is_contact_create(mutation: dict) -> bool:
    return mutation.get("record_type") == "contact" and mutation.get("op") == "create"


# What a mutation's own checks refuse: it is rejected, the rest of the batch goes on.
REFUSALS = (Rejected, ValidationError, Forbidden, ImmutableRecord)


def _refused(mutation_id, seq, exc: Exception) -> MutationResult:
    if isinstance(exc, (Rejected, ValidationError)):
        errors = exc.errors  # by field
    else:
        errors = {"record_id": [str(exc)]}  # the record may not be changed, or not by this user
    return MutationResult(str(mutation_id), seq, "rejected", errors=errors)


def _apply_checked(
    session, user, device, mutation, mutation_id, seq, today, batch: BatchContext, *, guard: bool
) -> MutationResult:
    """Applies a mutation without a savepoint of its own (the fast path). With `guard`, a
    refusal that left changes in the session sends the batch to the savepoint path; a new
    contact on the set-based path needs none (its rows are handed over only once checked)."""
    before = _pending_changes(session) if guard else None
    try:
        return apply_mutation(session, user, device, mutation, mutation_id, seq, today, batch)
    except REFUSALS as exc:
        outcome = _refused(mutation_id, seq, exc)
    except DBAPIError:
        raise
    except Exception as exc:
        raise _NeedsIsolation from exc
    if guard and _pending_changes(session) != before:
        raise _NeedsIsolation("a rejected mutation left changes behind")
    return outcome


def _pending_changes(session: Session) -> tuple:
    return (
        set(session.new),
        set(session.deleted),
        {obj for obj in session.dirty if session.is_modified(obj)},
    )
