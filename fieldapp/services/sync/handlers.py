"""One handler per synced record type and operation. Each checks everything before it writes,
so a rejected mutation leaves nothing behind."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    Allocation,
    Child,
    Contact,
    Device,
    SyncConflict,
    SyncMutation,
    SyncReviewItem,
    User,
)
from ...models.base import utcnow
from .. import scope
from ..allocation import was_allocated_on
from ..audit import record_event
from ..contacts import (
    FREE_TEXT_FIELDS,
    add_addendum,
    delete_draft,
    new_contact_rows,
    record_return_visit,
    save_contact,
)
from ..errors import Forbidden, ImmutableRecord
from ..sync_records import (
    CONTACT_STATUSES,
    EDITABLE_CONTACT_FIELDS,
    FieldErrors,
    comparable,
    contact_data,
    parse_contact_data,
    parse_contact_value,
    parse_return_visit_data,
    parse_uuid,
    unknown_fields,
    unstorable_fields,
)
from ..synced_types import BY_NAME, PUSHED

if TYPE_CHECKING:
    from .pushing import BatchContext


OPS = ("create", "update", "submit", "delete")
# What a tablet may push: the pushable synced record types (services/synced_types.py), each
# with a handler per operation (HANDLERS below).
RECORD_TYPES = PUSHED
MODELS = {name: BY_NAME[name].model for name in PUSHED}


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


class Rejected(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(str(errors))
        self.errors = errors


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
    batch: BatchContext

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
        raise Rejected({field: ["No such contact, or it is no longer on your caseload."]})
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
        raise Rejected({"record_id": ["A contact with this id already exists."]})
    errors = FieldErrors()
    child_id = parse_uuid(ctx.data.get("child_id"), "child_id", errors)
    values, value_errors = parse_contact_data(ctx.data)
    errors.update(value_errors)
    status = ctx.data.get("status", "draft")
    if status not in CONTACT_STATUSES:
        errors.add("status", "Must be draft or submitted.")
    if errors:
        raise Rejected(errors)
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
    if ctx.batch.set_based:
        rows = new_contact_rows(
            ctx.user,
            child,
            values,
            ctx.today,
            submit=status == "submitted",
            contact_id=ctx.record_id,
            now=ctx.batch.now,
        )
        ctx.batch.insert_later(rows)
        version = rows.contact["version"]
    else:
        version = save_contact(
            ctx.session,
            ctx.user,
            child,
            values,
            ctx.today,
            submit=status == "submitted",
            contact_id=ctx.record_id,
        ).version
    ctx.batch.created("contact", ctx.record_id)
    return ctx.result("applied", version)


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
        raise Rejected({"child_id": ["No such child on your caseload."]})
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
        raise Rejected(errors)
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
        raise Rejected(
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
        raise Rejected({"record_id": ["An addendum with this id already exists."]})
    errors = FieldErrors()
    contact_id = parse_uuid(ctx.data.get("contact_id"), "contact_id", errors)
    if errors:
        raise Rejected(errors)
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
        raise Rejected({"record_id": ["A return visit with this id already exists."]})
    values, errors = parse_return_visit_data(ctx.data)
    child_id = parse_uuid(ctx.data.get("child_id"), "child_id", errors)
    if errors:
        raise Rejected(errors)
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


HANDLERS = {
    ("contact", "create"): _create_contact,
    ("contact", "update"): _update_contact,
    ("contact", "submit"): _submit_contact,
    ("contact", "delete"): _delete_contact,
    ("addendum", "create"): _create_addendum,
    ("return_visit", "create"): _create_return_visit,
}


def apply_mutation(
    session, user, device, mutation, mutation_id, seq, today, batch
) -> MutationResult:
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
    elif not batch.text_storable:
        # Text the database cannot store is refused here, or the write would fail on every retry.
        for name in unstorable_fields(data):
            errors.add(
                name,
                "Contains characters that cannot be stored (NUL, or half of a "
                "character such as an emoji cut in two).",
            )
    if errors:
        raise Rejected(errors)
    handler = HANDLERS.get((record_type, op))
    if handler is None:
        raise Rejected({"op": [f"{op} is not supported for {record_type}."]})
    if unknown := unknown_fields(record_type, op, data):
        raise Rejected({name: ["Unknown field."] for name in unknown})
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
