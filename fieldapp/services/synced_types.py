"""The record types a tablet holds (SPEC §4), each said once: its table, its name on the wire,
the child it belongs to, which of a child's rows a user may see, and its `data` on the wire.

This one list drives the pull (changes since a cursor, children entering in full, the size of a
page), the purge of children leaving a device, the change order (services/change_seq.py), the
push's record types (services/sync/handlers.py, which adds a handler per operation) and the
OpenAPI document. Adding a synced record type is one entry here, plus its push handlers if a
tablet may create it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..models import Addendum, Child, Contact, ReturnVisit, User
from . import scope
from .caseload import last_qualifying_contact_dates
from .compliance import due_date
from .sync_records import (
    addendum_data,
    child_data,
    child_permanency,
    contact_data,
    return_visit_data,
)


@dataclass(frozen=True)
class SyncedType:
    name: str  # `record_type` on the wire
    model: type
    # The rows of these children: those `user` may see, or with no user every one (a purge).
    # Each query but the children's own has a `child_id` column, so a page can count a
    # child's rows.
    rows: Callable[[User | None, list[uuid.UUID]], Select]
    child_of: Callable[[Any], uuid.UUID | None]  # the child a loaded row belongs to
    wire: Callable[[Session, list, date], list[dict]]  # rows to `data`, in order
    pushable: bool  # a tablet creates and changes them (push); otherwise pull only
    pulled_schema: str | None = None  # its pulled `data` in the OpenAPI document
    load: tuple = ()  # loader options for the rows that go on the wire


def _children(_user: User | None, child_ids: list[uuid.UUID]) -> Select:
    # The caller has already decided which children the user sees (or is purging).
    return select(Child).where(Child.id.in_(child_ids))


def _children_on_the_wire(session: Session, children: list[Child], today: date) -> list[dict]:
    """A child's record carries its last qualifying contact, due date and permanency summary:
    read for the whole batch in a few queries, never per child. `today` (SPEC §3, the
    organisation's date) picks each child's goal in force."""
    if not children:
        return []
    last = last_qualifying_contact_dates(session, [child.id for child in children])
    permanency = child_permanency(session, children, today)
    return [
        child_data(
            child,
            last.get(child.id),
            due_date(last.get(child.id), child.care_start_date),
            permanency[child.id],
        )
        for child in children
    ]


def _contacts(user: User | None, child_ids: list[uuid.UUID]) -> Select:
    query = select(Contact).where(Contact.child_id.in_(child_ids))
    return query if user is None else query.where(*scope.contact_visibility(user))


def _return_visits(_user: User | None, child_ids: list[uuid.UUID]) -> Select:
    return select(ReturnVisit).where(ReturnVisit.child_id.in_(child_ids))


def _addenda(user: User | None, child_ids: list[uuid.UUID]) -> Select:
    """An addendum is seen by whoever sees its contact."""
    query = (
        select(Addendum, Contact.child_id)
        .join(Contact, Addendum.contact_id == Contact.id)
        .where(Contact.child_id.in_(child_ids))
    )
    return query if user is None else query.where(*scope.contact_visibility(user))


def _each(to_data: Callable[[Any], dict]) -> Callable[[Session, list, date], list[dict]]:
    return lambda _session, rows, _today: [to_data(row) for row in rows]


SYNCED_TYPES: tuple[SyncedType, ...] = (
    SyncedType(
        "child",
        Child,
        rows=_children,
        child_of=lambda child: child.id,
        wire=_children_on_the_wire,
        pushable=False,
    ),
    SyncedType(
        "contact",
        Contact,
        rows=_contacts,
        child_of=lambda contact: contact.child_id,
        wire=_each(contact_data),
        pushable=True,
        pulled_schema="PulledContact",
        # Participants and actions go on the wire with their contact: one query each per page.
        load=(selectinload(Contact.participants), selectinload(Contact.actions)),
    ),
    SyncedType(
        "return_visit",
        ReturnVisit,
        rows=_return_visits,
        child_of=lambda visit: visit.child_id,
        wire=_each(return_visit_data),
        pushable=True,
        pulled_schema="PulledReturnVisit",
    ),
    SyncedType(
        "addendum",
        Addendum,
        rows=_addenda,
        child_of=lambda addendum: addendum.contact.child_id if addendum.contact else None,
        wire=_each(addendum_data),
        pushable=True,
        pulled_schema="PulledAddendum",
        load=(joinedload(Addendum.contact),),
    ),
)
BY_NAME = {kind.name: kind for kind in SYNCED_TYPES}
BY_MODEL = {kind.model: kind for kind in SYNCED_TYPES}
PUSHED = tuple(kind.name for kind in SYNCED_TYPES if kind.pushable)
