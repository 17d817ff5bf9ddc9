"""The sync engine (SPEC §4): device registration, exactly-once push, gap-free pull.

Plain functions over a session; the API blueprint owns the transaction and commits once per
request, answering only after the commit. Each mutation runs in its own savepoint, so one bad
mutation never takes its neighbours down, and a crash leaves a prefix of the batch (possibly
none of it) that the retry completes exactly once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, joinedload, selectinload

from ..models import (
    Addendum,
    Allocation,
    AuditEvent,
    Child,
    Contact,
    Device,
    DeviceHolding,
    ReturnVisit,
    Role,
    SyncConflict,
    SyncMutation,
    SyncReviewItem,
    SyncTombstone,
    User,
)
from ..models.base import utcnow
from . import scope
from .allocation import was_allocated_on
from .audit import record_event
from .caseload import last_qualifying_contact_dates
from .change_seq import current_epoch_and_seq
from .compliance import due_date
from .contacts import (
    FREE_TEXT_FIELDS,
    add_addendum,
    delete_draft,
    record_return_visit,
    save_contact,
)
from .errors import Forbidden, ImmutableRecord, ValidationError, is_transient
from .sync_records import (
    CONTACT_STATUSES,
    EDITABLE_CONTACT_FIELDS,
    FieldErrors,
    addendum_data,
    child_data,
    child_permanency,
    comparable,
    contact_data,
    parse_contact_data,
    parse_contact_value,
    parse_return_visit_data,
    parse_uuid,
    return_visit_data,
    unknown_fields,
    unstorable_fields,
)

logger = logging.getLogger(__name__)

MAX_BATCH = 200
MAX_SEQ = 2**63 - 1  # the column is a BIGINT; a larger number would fail in the database
MAX_PULL_LIMIT = 500
DEFAULT_PULL_LIMIT = 200
TOMBSTONE_RETENTION = timedelta(days=180)
OPS = ("create", "update", "submit", "delete")
RECORD_TYPES = ("contact", "addendum", "return_visit")
# A mutation's fields (SPEC §4); any other refuses the request (422), naming it.
MUTATION_FIELDS = ("mutation_id", "seq", "op", "record_type", "record_id", "base_version", "data")
_MODELS = {"contact": Contact, "addendum": Addendum, "return_visit": ReturnVisit}


class SyncError(Exception):
    """An answer that ends the request: `status` and a JSON body."""

    def __init__(self, status: int, error: str, **extra: Any):
        super().__init__(error)
        self.status = status
        self.body = {"error": error, **extra}


# ---------------------------------------------------------------- devices


def register_device(
    session: Session, user: User, device_id: uuid.UUID, name: str, user_agent: str | None = None
) -> tuple[Device, bool]:
    """201 for a new device, 200 if already this user's; 409 if another user's, 410 if revoked.
    A registered device takes a new name (the practitioner renamed the tablet) or user agent (its
    browser was updated) when they change, and writes nothing when they do not."""
    name = name.strip()[:200] or "Tablet"
    user_agent = (user_agent or "").strip()[:400] or None
    device = session.get(Device, device_id)
    if device is not None:
        if device.user_id != user.id:
            raise SyncError(409, "This device is registered to another user.")
        if device.revoked_at is not None:
            raise SyncError(410, "This device has been revoked. Its local data must be wiped.")
        if device.name != name:
            device.name = name
        if user_agent and device.user_agent != user_agent:
            device.user_agent = user_agent
        return device, False
    device = Device(id=device_id, user_id=user.id, name=name, user_agent=user_agent)
    session.add(device)
    session.flush()
    return device, True


# How exactly "last sync" is kept for the admin's Devices page.
DEVICE_TOUCH_INTERVAL = timedelta(minutes=1)


def device_for(session: Session, user: User, device_id: uuid.UUID) -> Device:
    device = session.get(
        Device, device_id, with_for_update=session.bind.dialect.name == "postgresql"
    )
    if device is None or device.user_id != user.id:
        raise SyncError(404, "Unknown device: register it first.", field="device_id")
    if device.revoked_at is not None:
        raise SyncError(410, "This device has been revoked. Its local data must be wiped.")
    now = utcnow()
    last = device.last_seen_at
    if last is None or now - (last if last.tzinfo else last.replace(tzinfo=now.tzinfo)) >= (
        DEVICE_TOUCH_INTERVAL
    ):
        # At most once a minute: a tablet polling with nothing to do writes nothing (issue 14).
        device.last_seen_at = now
    return device


def device_revoked(session: Session, device_id: uuid.UUID) -> bool:
    """Whether this device id was revoked. Asked for a request without a session: revoking a
    tablet ends its user's sessions, and the tablet must still learn that it is revoked (410)
    to wipe itself. The id is a random UUID only the tablet knows."""
    return session.scalar(select(Device.revoked_at).where(Device.id == device_id)) is not None


# ---------------------------------------------------------------- push


@dataclass
class MutationResult:
    mutation_id: str
    seq: int
    status: str
    version: int | None = None
    errors: dict[str, list[str]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    failure: Exception | None = None  # an unforeseen error behind a rejection (never sent)

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "mutation_id": self.mutation_id,
            "seq": self.seq,
            "status": self.status,
        }
        if self.version is not None:
            result["version"] = self.version
        if self.errors:
            result["errors"] = self.errors
        result.update(self.extra)
        return result


class _Rejected(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(str(errors))
        self.errors = errors


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


class _NeedsIsolation(Exception):
    """The fast path met something it cannot undo on its own: redo the batch with a savepoint
    per mutation."""


def push(session: Session, user: User, device: Device, mutations: list[dict], today: date) -> dict:
    """Applies mutations in seq order, each atomically. Returns {results, last_seq}.

    Every handler checks before it writes, so a rejected mutation leaves nothing behind and the
    batch can run inside one savepoint. If anything fails that the checks did not foresee (a
    database error), that savepoint is rolled back and the batch runs again with a savepoint per
    mutation, so one bad mutation never takes its neighbours down. An unavailable database
    propagates (the endpoint answers 503).
    """
    batch_savepoint = session.begin_nested()
    try:
        result = _push(session, user, device, mutations, today, isolate=False)
        session.flush()
        batch_savepoint.commit()
        return result
    except _NeedsIsolation:
        batch_savepoint.rollback()
    except DBAPIError as exc:
        batch_savepoint.rollback()
        if is_transient(exc):
            raise
    session.refresh(device)
    return _push(session, user, device, mutations, today, isolate=True)


def _push(
    session: Session,
    user: User,
    device: Device,
    mutations: list[dict],
    today: date,
    *,
    isolate: bool,
) -> dict:
    """One pass over the batch (see `push`).

    What the batch needs to look up (mutations already seen, the children it names) is read in
    a few queries up front; the record of each processed mutation is written in one statement
    at the end. Both are in the request's transaction, so they commit or vanish with it.
    """
    ids = [uuid.UUID(str(m["mutation_id"])) for m in mutations]
    first_seen: dict[uuid.UUID, SyncMutation] = {}
    users_devices = select(Device.id).where(Device.user_id == user.id)
    for row in session.scalars(
        select(SyncMutation)
        .where(SyncMutation.mutation_id.in_(ids), SyncMutation.device_id.in_(users_devices))
        .order_by(SyncMutation.received_at, SyncMutation.seq)
    ):
        first_seen.setdefault(row.mutation_id, row)
    # A batch's seqs are consecutive: one range scan of the device's index, not 200 parameters
    # (which PostgreSQL plans far worse once the device has a long history).
    seqs = {m["seq"] for m in mutations}
    by_seq = (
        {
            row.seq: row
            for row in session.scalars(
                select(SyncMutation).where(
                    SyncMutation.device_id == device.id,
                    SyncMutation.seq.between(min(seqs), max(seqs)),
                )
            )
            if row.seq in seqs
        }
        if seqs
        else {}
    )
    # Read only when a mutation is applied: a batch sent again (all duplicates) needs none of it.
    context: _BatchContext | None = None

    results: list[dict] = []
    processed: list[dict] = []
    failures: list[Exception] = []
    attempted = 0
    last_seq = device.last_seq
    for mutation, mutation_id in zip(mutations, ids, strict=True):
        seq = mutation["seq"]
        digest = payload_hash(mutation)
        seen = first_seen.get(mutation_id)
        if seen is None:
            seen = by_seq.get(seq)
            if seen is not None and seen.payload_hash != digest:
                results.append(
                    MutationResult(
                        str(mutation_id),
                        seq,
                        "rejected",
                        errors={"seq": [f"seq {seq} was already used by another mutation."]},
                    ).as_dict()
                )
                continue
        if seen is not None:
            if seen.payload_hash == digest:
                duplicate = seen.result | {
                    "mutation_id": str(mutation_id),
                    "seq": seq,
                    "status": "duplicate",
                    "first_status": seen.status,
                }
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
                            "received_at": utcnow(),
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
            apply = _apply_in_savepoint if isolate else _apply_checked
            context = context or _BatchContext(session, user, mutations)
            outcome = apply(session, user, device, mutation, mutation_id, seq, today, context)
            if (
                outcome.status in ("rejected", "conflict")
                and mutation.get("record_type") == "contact"
                and mutation.get("op") == "update"
            ):
                context.unapplied.add(str(mutation.get("record_id")))
            attempted += 1
            if outcome.failure is not None:
                failures.append(outcome.failure)
        if seq == last_seq + 1:
            # The record is kept with the outcome so a later submit can tell whether the change
            # just before it, to the same record, was applied (see _submit_contact).
            row = {
                "device_id": device.id,
                "seq": seq,
                "mutation_id": mutation_id,
                "payload_hash": digest,
                "status": outcome.status,
                "result": outcome.as_dict()
                | {"record_id": str(mutation.get("record_id")), "op": mutation.get("op")},
                "received_at": utcnow(),
            }
            processed.append(row)
            first_seen.setdefault(mutation_id, SyncMutation(**row))
            by_seq[seq] = first_seen[mutation_id]
            last_seq = seq
        results.append(outcome.as_dict())
    if failures and len(failures) == attempted:
        # Every mutation failed unexpectedly: the server is broken, not the data. Answer 500 and
        # keep nothing, so the tablet retries the same batch once it is fixed.
        raise failures[0]
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
    return {"results": results, "last_seq": last_seq}


class _BatchContext:
    """Per-request lookups shared by a batch's mutations."""

    def __init__(self, session: Session, user: User, mutations: list[dict]):
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
        created = {kind: [] for kind in _MODELS}
        for mutation in mutations:
            record_type = mutation.get("record_type")
            if (
                mutation.get("op") == "create"
                and isinstance(record_type, str)
                and record_type in _MODELS
            ):
                try:
                    created[mutation["record_type"]].append(
                        uuid.UUID(str(mutation.get("record_id")))
                    )
                except ValueError:
                    pass
        self.existing = {
            kind: set(session.scalars(select(_MODELS[kind].id).where(_MODELS[kind].id.in_(ids))))
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


def _apply_in_savepoint(
    session, user, device, mutation, mutation_id, seq, today, batch: _BatchContext
) -> MutationResult:
    savepoint = session.begin_nested()
    try:
        outcome = _apply(session, user, device, mutation, mutation_id, seq, today, batch)
        session.flush()
    except (_Rejected, ValidationError) as exc:
        savepoint.rollback()
        return MutationResult(str(mutation_id), seq, "rejected", errors=exc.errors)
    except (Forbidden, ImmutableRecord) as exc:
        savepoint.rollback()
        return MutationResult(str(mutation_id), seq, "rejected", errors={"record_id": [str(exc)]})
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


def _apply_checked(
    session, user, device, mutation, mutation_id, seq, today, batch: _BatchContext
) -> MutationResult:
    """Applies a mutation without a savepoint of its own (the fast path)."""
    before = (
        set(session.new),
        set(session.deleted),
        {obj for obj in session.dirty if session.is_modified(obj)},
    )
    try:
        return _apply(session, user, device, mutation, mutation_id, seq, today, batch)
    except (_Rejected, ValidationError) as exc:
        outcome = MutationResult(str(mutation_id), seq, "rejected", errors=exc.errors)
    except (Forbidden, ImmutableRecord) as exc:
        outcome = MutationResult(
            str(mutation_id), seq, "rejected", errors={"record_id": [str(exc)]}
        )
    except DBAPIError:
        raise
    except Exception as exc:
        raise _NeedsIsolation from exc
    after = (
        set(session.new),
        set(session.deleted),
        {obj for obj in session.dirty if session.is_modified(obj)},
    )
    if after != before:
        raise _NeedsIsolation("a rejected mutation left changes behind")
    return outcome


def _apply(session, user, device, mutation, mutation_id, seq, today, batch) -> MutationResult:
    errors = FieldErrors()
    op, record_type = mutation.get("op"), mutation.get("record_type")
    if op not in OPS:
        errors.add("op", f"Must be one of {', '.join(OPS)}.")
    if record_type not in RECORD_TYPES:
        errors.add("record_type", f"Must be one of {', '.join(RECORD_TYPES)}.")
    record_id = parse_uuid(mutation.get("record_id"), "record_id", errors)
    data = mutation.get("data")
    if data is None and op in ("submit", "delete"):
        data = {}
    if not isinstance(data, dict):
        errors.add("data", "Must be an object.")
    else:
        # Text the database cannot store is refused here, or the write would fail on every retry.
        for name in unstorable_fields(data):
            errors.add(
                name,
                "Contains characters that cannot be stored (NUL, or half of a "
                "character such as an emoji cut in two).",
            )
    if errors:
        raise _Rejected(errors)
    handler = _HANDLERS.get((record_type, op))
    if handler is None:
        raise _Rejected({"op": [f"{op} is not supported for {record_type}."]})
    if unknown := unknown_fields(record_type, op, data):
        raise _Rejected({name: ["Unknown field."] for name in unknown})
    context = _Context(
        session, user, device, mutation, mutation_id, seq, today, record_id, data, batch
    )
    try:
        return handler(context)
    except _ToReview as review:
        return _to_review(
            context,
            review.child,
            record_type,
            "Changed offline after the child left the practitioner's caseload; "
            "they did not hold the child on the contact date.",
        )


@dataclass
class _Context:
    session: Session
    user: User
    device: Device
    mutation: dict
    mutation_id: uuid.UUID
    seq: int
    today: date
    record_id: uuid.UUID
    data: dict
    batch: _BatchContext

    def result(self, status: str, version: int | None = None, **kwargs) -> MutationResult:
        return MutationResult(str(self.mutation_id), self.seq, status, version, **kwargs)


class _ToReview(Exception):
    """The record is the user's, but the child has left their caseload and they did not hold the
    child on the contact's date: the change goes to the team leader's review queue."""

    def __init__(self, child: Child):
        super().__init__("review")
        self.child = child


def _contact_for(ctx: _Context, contact_id: uuid.UUID, field: str = "record_id") -> Contact:
    """A contact the user may change: in scope, or their own contact of a child who has since left
    their caseload but whom they held on the contact's date (SPEC §4: "accepted if the
    practitioner was allocated the child on the contact date; otherwise ... review queue")."""
    contact = scope.find_contact(ctx.session, ctx.user, contact_id)
    if contact is not None:
        return contact
    own = ctx.session.scalar(
        select(Contact).where(Contact.id == contact_id, Contact.author_id == ctx.user.id)
    )
    if own is None:
        raise _Rejected({field: ["No such contact, or it is no longer on your caseload."]})
    held_then = own.contact_date is not None and was_allocated_on(
        ctx.session, own.child_id, ctx.user.id, own.contact_date
    )
    if not held_then:
        raise _ToReview(own.child)
    return own


def _contact_in_scope(ctx: _Context) -> Contact:
    return _contact_for(ctx, ctx.record_id)


def _create_contact(ctx: _Context) -> MutationResult:
    if ctx.batch.exists("contact", ctx.record_id):
        raise _Rejected({"record_id": ["A contact with this id already exists."]})
    errors = FieldErrors()
    child_id = parse_uuid(ctx.data.get("child_id"), "child_id", errors)
    values, value_errors = parse_contact_data(ctx.data)
    errors.update(value_errors)
    status = ctx.data.get("status", "draft")
    if status not in CONTACT_STATUSES:
        errors.add("status", "Must be draft or submitted.")
    if errors:
        raise _Rejected(errors)
    child = ctx.batch.child_in_scope(ctx.session, ctx.user, child_id)
    if child is None:
        child = ctx.session.get(Child, child_id)
        contact_date = values.get("contact_date")
        held_then = (
            child is not None
            and contact_date is not None
            and was_allocated_on(ctx.session, child.id, ctx.user.id, contact_date)
        )
        if not held_then:
            return _to_review(
                ctx,
                child,
                "contact",
                "Recorded offline for a child who is not on the practitioner's "
                "caseload and was not allocated to them on the contact date.",
            )
    contact = save_contact(
        ctx.session,
        ctx.user,
        child,
        values,
        ctx.today,
        submit=status == "submitted",
        contact_id=ctx.record_id,
    )
    ctx.batch.created("contact", ctx.record_id)
    return ctx.result("applied", contact.version)


def _to_review(ctx: _Context, child: Child | None, record_type: str, reason: str) -> MutationResult:
    ever_held = (
        child is not None
        and ctx.session.scalar(
            select(Allocation.id)
            .where(Allocation.child_id == child.id, Allocation.practitioner_id == ctx.user.id)
            .limit(1)
        )
        is not None
    )
    if not ever_held:
        # Never theirs: looks exactly like a child that does not exist (SPEC §2), and is recorded.
        ctx.batch.denied.append(
            {
                "child_id": str(child.id) if child is not None else None,
                "mutation_id": str(ctx.mutation_id),
            }
        )
        raise _Rejected({"child_id": ["No such child on your caseload."]})
    ctx.session.add(
        SyncReviewItem(
            mutation_id=ctx.mutation_id,
            device_id=ctx.device.id,
            user_id=ctx.user.id,
            child_id=child.id,
            team_id=child.team_id,
            record_type=record_type,
            record_id=ctx.record_id,
            payload=ctx.mutation,
            reason=reason,
        )
    )
    return ctx.result(
        "conflict",
        errors={
            "child_id": [
                "This child has left your caseload. The record is kept and has gone to your team "
                "leader for review."
            ]
        },
        extra={"review": True},
    )


def _update_contact(ctx: _Context) -> MutationResult:
    """Field-by-field merge: server == old → apply; == new → nothing; otherwise a conflict.
    Free text is never merged: the server keeps its text and a conflict holds both."""
    contact = _contact_in_scope(ctx)
    if contact.is_submitted:
        raise ImmutableRecord(
            "This contact has been submitted and can no longer be edited; add an addendum instead."
        )
    if contact.author_id != ctx.user.id:
        raise Forbidden("Only the author of a draft can edit it.")
    errors = FieldErrors()
    changes: dict[str, Any] = {}
    conflicts: list[str] = []
    settled: list[str] = []  # fields the author has now decided, having seen the server's value
    current = contact_data(contact)
    for name, change in ctx.data.items():
        if name not in EDITABLE_CONTACT_FIELDS:
            errors.add(name, "Not an editable contact field.")
            continue
        if not isinstance(change, dict) or "new" not in change:
            errors.add(name, "An update carries {old, new} for each field.")
            continue
        server = comparable(name, current.get(name))
        old, new = change.get("old"), change.get("new")
        # Compared as stored (text trimmed, "" as null), or a tablet's own trailing space would
        # look like someone else's edit.
        if server == comparable(name, new):
            settled.append(name)
            continue
        if server == comparable(name, old):
            changes[name] = parse_contact_value(name, new, errors)
            settled.append(name)
            continue
        conflicts.append(
            SyncConflict(
                record_type="contact",
                record_id=contact.id,
                child_id=contact.child_id,
                field=name,
                base_value=_as_text(old),
                server_value=_as_text(server),
                device_value=_as_text(new),
                device_id=ctx.device.id,
                user_id=ctx.user.id,
                mutation_id=ctx.mutation_id,
            )
        )
    if errors:
        raise _Rejected(errors)
    # Checks first, writes last: a rejected mutation must leave nothing behind.
    if changes:
        merged = {
            name: _typed(name, value)
            for name, value in current.items()
            if name in EDITABLE_CONTACT_FIELDS
        }
        merged.update(changes)
        save_contact(
            ctx.session, ctx.user, contact.child, merged, ctx.today, submit=False, contact=contact
        )
    _settle_conflicts(ctx, contact, settled)
    ctx.session.add_all(conflicts)
    conflicts = [conflict.field for conflict in conflicts]
    if conflicts:
        return ctx.result(
            "conflict",
            contact.version,
            errors={
                name: [
                    "Changed on the server too: the server kept its value; both are kept in a "
                    "conflict to resolve."
                    if name in FREE_TEXT_FIELDS
                    else "Changed on the server too: the server kept its value."
                ]
                for name in conflicts
            },
        )
    return ctx.result("applied", contact.version)


def _settle_conflicts(ctx: _Context, contact: Contact, fields: list[str]) -> None:
    """An update from the author whose `old` was the server's value (or whose `new` already is
    it) shows they saw the server's text and chose: their open conflicts on those fields are
    resolved. "Keep the server's text" on the tablet is such an update, with new = the server's;
    "Use my words" has new = the tablet's text; "Merge the texts" sends a third text.

    The conflict keeps both texts; who resolved it and when are on the row, and what they chose
    (mine, server or merged) is a "resolve_conflict" audit event, with text lengths only (the
    audit trail holds no case content). The merged text itself is the contact's."""
    if not fields:
        return
    conflicts = ctx.session.scalars(
        select(SyncConflict).where(
            SyncConflict.record_id == contact.id,
            SyncConflict.user_id == ctx.user.id,
            SyncConflict.field.in_(fields),
            SyncConflict.resolved_at.is_(None),
        )
    ).all()
    now = utcnow()
    for conflict in conflicts:
        conflict.resolved_at = now
        conflict.resolved_by_id = ctx.user.id
        name = conflict.field
        result = comparable(name, ctx.data[name].get("new"))
        if result == _stored(name, conflict.device_value):
            choice = "mine"
        elif result == _stored(name, conflict.server_value):
            choice = "server"
        else:
            choice = "merged"
        record_event(
            ctx.session,
            user_id=ctx.user.id,
            action="resolve_conflict",
            object_type="sync_conflict",
            object_id=conflict.id,
            detail={
                "field": name,
                "choice": choice,
                "by": ctx.user.id,
                "record_id": str(contact.id),
                "mutation_id": str(ctx.mutation_id),
                "device_length": len(conflict.device_value or ""),
                "server_length": len(conflict.server_value or ""),
                "result_length": len(_as_text(result) or ""),
            },
        )


def _stored(name: str, text: str | None) -> Any:
    """A conflict's kept text (as `_as_text` stored it) in comparable form."""
    if text is None or name in FREE_TEXT_FIELDS:
        return comparable(name, text)
    try:
        return comparable(name, json.loads(text))
    except ValueError:
        return comparable(name, text)


def _typed(name: str, value: Any) -> Any:
    errors = FieldErrors()
    return parse_contact_value(name, value, errors)


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _submit_contact(ctx: _Context) -> MutationResult:
    """Submits a draft as the server holds it. The tablet queues "update, then submit"; if that
    update was refused or conflicted, the submit is refused too: submitting would make the
    server's older text final without the practitioner's words, and a submitted contact never
    changes again (R8). A later submit, made after the tablet has shown both texts, goes through.
    """
    contact = _contact_in_scope(ctx)
    if contact.is_submitted:
        raise ImmutableRecord("This contact is already submitted.")
    if str(contact.id) in ctx.batch.unapplied or _previous_change_unapplied(ctx, contact):
        raise _Rejected(
            {
                "record_id": [
                    "Not submitted: the change made just before to this draft was not applied "
                    "(refused, or in conflict with a change made elsewhere). The draft is kept as "
                    "it is on the "
                    "server; check it, then submit again."
                ]
            }
        )
    values = {
        name: _typed(name, value)
        for name, value in contact_data(contact).items()
        if name in EDITABLE_CONTACT_FIELDS
    }
    saved = save_contact(
        ctx.session, ctx.user, contact.child, values, ctx.today, submit=True, contact=contact
    )
    return ctx.result("applied", saved.version)


def _previous_change_unapplied(ctx: _Context, contact: Contact) -> bool:
    """Whether this device's mutation just before this one (answered in an earlier request, as
    when a batch split between the two) was a change to this contact that was refused or
    conflicted."""
    previous = ctx.session.get(SyncMutation, (ctx.device.id, ctx.seq - 1))
    if previous is None or previous.status not in ("rejected", "conflict"):
        return False
    return previous.result.get("op") == "update" and previous.result.get("record_id") == str(
        contact.id
    )


def _delete_contact(ctx: _Context) -> MutationResult:
    contact = _contact_in_scope(ctx)
    delete_draft(ctx.session, ctx.user, contact)
    return ctx.result("applied")


def _create_addendum(ctx: _Context) -> MutationResult:
    if ctx.batch.exists("addendum", ctx.record_id):
        raise _Rejected({"record_id": ["An addendum with this id already exists."]})
    errors = FieldErrors()
    contact_id = parse_uuid(ctx.data.get("contact_id"), "contact_id", errors)
    if errors:
        raise _Rejected(errors)
    contact = _contact_for(ctx, contact_id, field="contact_id")
    reason, text = ctx.data.get("reason"), ctx.data.get("text")
    addendum = add_addendum(
        ctx.session,
        ctx.user,
        contact,
        reason if isinstance(reason, str) else "",
        text if isinstance(text, str) else "",
        addendum_id=ctx.record_id,
    )
    ctx.batch.created("addendum", ctx.record_id)
    return ctx.result("applied", addendum.version)


def _create_return_visit(ctx: _Context) -> MutationResult:
    if ctx.batch.exists("return_visit", ctx.record_id):
        raise _Rejected({"record_id": ["A return visit with this id already exists."]})
    values, errors = parse_return_visit_data(ctx.data)
    child_id = parse_uuid(ctx.data.get("child_id"), "child_id", errors)
    if errors:
        raise _Rejected(errors)
    child = scope.find_child(ctx.session, ctx.user, child_id)
    if child is None:
        return _to_review(
            ctx,
            ctx.session.get(Child, child_id),
            "return_visit",
            "Recorded offline for a child who is no longer on the caseload.",
        )
    visit = record_return_visit(ctx.session, ctx.user, child, values, visit_id=ctx.record_id)
    ctx.batch.created("return_visit", ctx.record_id)
    return ctx.result("applied", visit.version)


_HANDLERS = {
    ("contact", "create"): _create_contact,
    ("contact", "update"): _update_contact,
    ("contact", "submit"): _submit_contact,
    ("contact", "delete"): _delete_contact,
    ("addendum", "create"): _create_addendum,
    ("return_visit", "create"): _create_return_visit,
}


# ---------------------------------------------------------------- pull


@dataclass(frozen=True)
class Cursor:
    epoch: str
    seq: int
    device_id: str
    pull: int
    issued: str  # ISO timestamp

    def as_dict(self) -> dict:
        return {
            "e": self.epoch,
            "s": self.seq,
            "d": self.device_id,
            "p": self.pull,
            "t": self.issued,
        }

    @classmethod
    def from_dict(cls, raw: dict) -> Cursor:
        return cls(raw["e"], int(raw["s"]), raw["d"], int(raw["p"]), raw["t"])


def check_cursor(
    cursor: Cursor | None, device: Device, now: datetime, epoch: str, last_seq: int
) -> int:
    """The seq to pull from, or 409 reset_required (another epoch, a cursor older than tombstone
    retention, or one ahead of this database, as after a restore from backup)."""
    if cursor is None:
        return 0
    issued = datetime.fromisoformat(cursor.issued)
    if (
        cursor.epoch != epoch
        or cursor.seq > last_seq
        or now - issued > TOMBSTONE_RETENTION
        or cursor.device_id != str(device.id)
    ):
        raise SyncError(409, "reset_required")
    return cursor.seq


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


def _full_records(
    session: Session, user: User, child_ids: list[uuid.UUID], today: date
) -> list[dict]:
    """Everything a device needs of these children, at the current state."""
    if not child_ids:
        return []
    changes = []
    last = last_qualifying_contact_dates(session, child_ids)
    children = list(
        session.scalars(select(Child).where(Child.id.in_(child_ids)).order_by(Child.id))
    )
    permanency = child_permanency(session, children, today)
    for child in children:
        changes.append(
            _change(
                "child",
                child,
                child_data(
                    child,
                    last.get(child.id),
                    due_date(last.get(child.id), child.care_start_date),
                    permanency[child.id],
                ),
            )
        )
    contacts = list(
        session.scalars(
            scope.visible_contacts(user)
            .where(Contact.child_id.in_(child_ids))
            .options(*_CONTACT_ROWS)
        )
    )
    changes += [_change("contact", c, contact_data(c)) for c in contacts]
    changes += [
        _change("return_visit", v, return_visit_data(v))
        for v in session.scalars(select(ReturnVisit).where(ReturnVisit.child_id.in_(child_ids)))
    ]
    contact_ids = [c.id for c in contacts]
    if contact_ids:
        changes += [
            _change("addendum", a, addendum_data(a))
            for a in session.scalars(
                select(Addendum)
                .where(Addendum.contact_id.in_(contact_ids))
                .options(joinedload(Addendum.contact))
            )
        ]
    return changes


# A contact's participants and actions go on the wire with it: one query each per page, not
# one per contact.
_CONTACT_ROWS = (selectinload(Contact.participants), selectinload(Contact.actions))


def _change(record_type: str, record, data: dict) -> dict:
    return {
        "record_type": record_type,
        "record_id": str(record.id),
        "version": record.version,
        "op": "upsert",
        "data": data,
        "seq": record.change_seq or 0,
    }


def _changes_since(
    session: Session,
    user: User,
    child_ids: set[uuid.UUID],
    after: int,
    until: int,
    limit: int,
    today: date,
) -> tuple[list[dict], bool]:
    """Records of these children changed in (after, until], in change order, at most `limit`.
    Nothing has changed anywhere when the change counter has not moved: no query then (the
    tablet's poll with nothing new, issue 14)."""
    if not child_ids or until <= after:
        return [], False
    ids = list(child_ids)
    window = lambda column: and_(column > after, column <= until)  # noqa: E731
    found: list[tuple[int, dict]] = []
    children = list(
        session.scalars(
            select(Child)
            .where(Child.id.in_(ids), window(Child.change_seq))
            .order_by(Child.change_seq)
            .limit(limit + 1)
        )
    )
    if children:
        last = last_qualifying_contact_dates(session, [c.id for c in children])
        permanency = child_permanency(session, children, today)
        found += [
            (
                c.change_seq,
                _change(
                    "child",
                    c,
                    child_data(
                        c,
                        last.get(c.id),
                        due_date(last.get(c.id), c.care_start_date),
                        permanency[c.id],
                    ),
                ),
            )
            for c in children
        ]
    found += [
        (c.change_seq, _change("contact", c, contact_data(c)))
        for c in session.scalars(
            scope.visible_contacts(user)
            .where(Contact.child_id.in_(ids), window(Contact.change_seq))
            .options(*_CONTACT_ROWS)
            .order_by(Contact.change_seq)
            .limit(limit + 1)
        )
    ]
    found += [
        (v.change_seq, _change("return_visit", v, return_visit_data(v)))
        for v in session.scalars(
            select(ReturnVisit)
            .where(ReturnVisit.child_id.in_(ids), window(ReturnVisit.change_seq))
            .order_by(ReturnVisit.change_seq)
            .limit(limit + 1)
        )
    ]
    visible_contact_ids = (
        scope.visible_contacts(user).where(Contact.child_id.in_(ids)).with_only_columns(Contact.id)
    )
    found += [
        (a.change_seq, _change("addendum", a, addendum_data(a)))
        for a in session.scalars(
            select(Addendum)
            .where(Addendum.contact_id.in_(visible_contact_ids), window(Addendum.change_seq))
            .options(joinedload(Addendum.contact))
            .order_by(Addendum.change_seq)
            .limit(limit + 1)
        )
    ]
    found += [
        (
            t.seq,
            {
                "record_type": t.record_type,
                "record_id": str(t.record_id),
                "version": None,
                "op": "delete",
                "data": None,
                "seq": t.seq,
            },
        )
        for t in session.scalars(
            select(SyncTombstone)
            .where(SyncTombstone.child_id.in_(ids), window(SyncTombstone.seq))
            .order_by(SyncTombstone.seq)
            .limit(limit + 1)
        )
    ]
    found.sort(key=lambda item: item[0])
    return [change for _seq, change in found[:limit]], len(found) > limit


def _purges(session: Session, user_child_ids: set[uuid.UUID]) -> list[dict]:
    """Purge entries for every record of children that left the device's scope."""
    if not user_child_ids:
        return []
    ids = list(user_child_ids)
    purge = [{"record_type": "child", "record_id": str(i)} for i in sorted(ids, key=str)]
    contact_ids = list(session.scalars(select(Contact.id).where(Contact.child_id.in_(ids))))
    purge += [{"record_type": "contact", "record_id": str(i)} for i in contact_ids]
    purge += [
        {"record_type": "return_visit", "record_id": str(i)}
        for i in session.scalars(select(ReturnVisit.id).where(ReturnVisit.child_id.in_(ids)))
    ]
    if contact_ids:
        purge += [
            {"record_type": "addendum", "record_id": str(i)}
            for i in session.scalars(
                select(Addendum.id).where(Addendum.contact_id.in_(contact_ids))
            )
        ]
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
    epoch, until = current_epoch_and_seq(session)
    after = check_cursor(cursor, device, now, epoch, until)
    confirmed = cursor.pull if cursor else 0
    held = _confirm_holdings(session, device, confirmed)
    in_scope = _visible_child_ids(session, user)
    entering = sorted(in_scope - held, key=str)
    leaving = held - in_scope
    # A pull that moves no child in or out needs no number of its own: its cursor confirms the
    # same pull as the one presented, and the device row is not written (issue 14).
    this_pull = confirmed + 1 if entering or leaving else confirmed

    changes: list[dict] = []
    taken: list[uuid.UUID] = []
    for child_id in entering:
        if changes and len(changes) >= limit:
            break
        changes += _full_records(session, user, [child_id], today)
        taken.append(child_id)
    more_entering = len(taken) < len(entering)
    new_seq = after
    has_more = more_entering
    if not more_entering:
        incremental, truncated = _changes_since(
            session, user, held & in_scope, after, until, max(1, limit - len(changes)), today
        )
        changes += incremental
        if truncated:
            has_more = True
            new_seq = max(change["seq"] for change in incremental)
        else:
            new_seq = until
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
    issued = cursor.issued if cursor is not None and new_seq == after else now.isoformat()
    next_cursor = Cursor(epoch, new_seq, str(device.id), this_pull, issued)
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
        change.pop("seq", None)
    return {
        "changes": changes,
        "purge": _purges(session, leaving),
        "has_more": has_more,
    }, next_cursor


# ---------------------------------------------------------------- conflicts and review


def conflicts_for(
    session: Session, user: User, include_resolved: bool = False
) -> list[SyncConflict]:
    """A practitioner's own conflicts; a team leader's team's."""
    query = select(SyncConflict).order_by(SyncConflict.created_at.desc())
    if user.role == Role.team_leader.value:
        children = scope.visible_children(user).with_only_columns(Child.id)
        query = query.where(
            or_(SyncConflict.child_id.in_(children), SyncConflict.user_id == user.id)
        )
    else:
        query = query.where(SyncConflict.user_id == user.id)
    if not include_resolved:
        query = query.where(SyncConflict.resolved_at.is_(None))
    return list(session.scalars(query))


def review_items_for(session: Session, user: User) -> list[SyncReviewItem]:
    query = (
        select(SyncReviewItem)
        .where(SyncReviewItem.resolved_at.is_(None))
        .order_by(SyncReviewItem.created_at)
    )
    if user.role == Role.team_leader.value:
        return list(
            session.scalars(
                query.where(
                    or_(
                        SyncReviewItem.team_id.in_(user.team_ids or [-1]),
                        SyncReviewItem.user_id == user.id,
                    )
                )
            )
        )
    return list(session.scalars(query.where(SyncReviewItem.user_id == user.id)))


def resolve_conflict(session: Session, user: User, conflict_id: uuid.UUID) -> SyncConflict:
    conflict = next((c for c in conflicts_for(session, user) if c.id == conflict_id), None)
    if conflict is None:
        raise Forbidden("No such open conflict.")
    conflict.resolved_at = utcnow()
    conflict.resolved_by_id = user.id
    return conflict


CHOICE_TEXT = {
    "mine": "kept the words from the tablet",
    "server": "kept the server's text",
    "merged": "merged the two texts",
    "marked": "marked it resolved",
}


@dataclass
class Resolution:
    """A resolved conflict as the pages show it: both texts, what was chosen, by whom, when."""

    conflict: SyncConflict
    choice: str  # mine | server | merged | marked
    by: str
    at: datetime
    text_now: str | None  # the field as the record holds it now (the merged text, if unchanged)

    @property
    def choice_text(self) -> str:
        return CHOICE_TEXT.get(self.choice, self.choice)


def resolved_conflicts_for(session: Session, user: User, limit: int = 50) -> list[Resolution]:
    """The most recently resolved conflicts of children the user still sees (a practitioner's
    own; a team leader's team's), newest first, with the choice recorded when each was closed.
    A child that has left the user's scope takes its conflicts' texts with it (SPEC §2)."""
    query = select(SyncConflict).where(
        SyncConflict.resolved_at.is_not(None),
        SyncConflict.child_id.in_(scope.visible_children(user).with_only_columns(Child.id)),
    )
    if user.role != Role.team_leader.value:
        query = query.where(SyncConflict.user_id == user.id)
    resolved = list(session.scalars(query.order_by(SyncConflict.resolved_at.desc()).limit(limit)))
    if not resolved:
        return []
    events = {
        event.object_id: event
        for event in session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "resolve_conflict",
                AuditEvent.object_type == "sync_conflict",
                AuditEvent.object_id.in_([str(c.id) for c in resolved]),
            )
        )
    }
    names = dict(
        session.execute(
            select(User.id, User.name).where(User.id.in_({c.resolved_by_id for c in resolved}))
        ).all()
    )
    contacts = {
        contact.id: contact
        for contact in session.scalars(
            scope.visible_contacts(user).where(
                Contact.id.in_([c.record_id for c in resolved if c.record_type == "contact"])
            )
        )
    }
    out = []
    for conflict in resolved:
        event = events.get(str(conflict.id))
        contact = contacts.get(conflict.record_id)
        now = getattr(contact, conflict.field, None) if contact is not None else None
        out.append(
            Resolution(
                conflict=conflict,
                choice=(event.detail or {}).get("choice", "marked") if event else "marked",
                by=names.get(conflict.resolved_by_id, "—"),
                at=conflict.resolved_at,
                text_now=now if isinstance(now, str) else None,
            )
        )
    return out


def purge_expired_tombstones(session: Session, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - TOMBSTONE_RETENTION
    return session.execute(delete(SyncTombstone).where(SyncTombstone.deleted_at < cutoff)).rowcount
