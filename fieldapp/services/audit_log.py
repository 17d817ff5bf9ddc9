"""The audit trail as an admin reads it (issue 13): events filtered by user, child, action,
outcome and the organisation's calendar dates, newest first, a page at a time (keyset paging on
the event id, so the thousandth page costs what the first does), with names in place of ids,
and the same events for a CSV export.

Events are only read here; services/audit.py writes them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select
from sqlalchemy.orm import Session

from ..models import AuditEvent, Child, Contact, Device, ReturnVisit, User
from .accounts import is_email_address
from .clock import local_time
from .devices import describe_user_agent, given_name
from .errors import ValidationError
from .user_admin import ROLE_LABELS

PAGE_SIZE = 100
# A CSV holds at most this many events (the newest); the filters narrow it.
EXPORT_LIMIT = 100_000
# A child filter may name at most this many children; more asks for more of the name.
MAX_CHILDREN = 20
_CHUNK = 500  # events whose names are looked up together

ACTIONS = {
    "login": "Sign-in",
    "logout": "Sign-out",
    "lockout": "Account locked",
    "password_change": "Password changed",
    "create": "Created",
    "update": "Account changed",
    "deactivate": "Account deactivated",
    "reactivate": "Account reactivated",
    "unlock": "Account unlocked",
    "temporary_password": "Temporary password set",
    "access": "Access",
    "view": "Viewed",
    "export": "Exported",
    "submit": "Submitted",
    "addendum": "Addendum",
    "delete_draft": "Draft deleted",
    "acknowledge": "Acknowledged",
    "reallocate": "Reallocated",
    "decide": "Decided",
    "resolve": "Conflict resolved",
    "resolve_conflict": "Conflict resolved",
    "review_accept": "Held record accepted",
    "review_decline": "Held record declined",
    "register": "Tablet registered",
    "revoke": "Tablet revoked",
    "sync_push": "Sync: sent",
    "sync_pull": "Sync: fetched",
    "import_children": "Children imported",
    "import_permanency": "Permanency history imported",
}
OUTCOMES = {"ok": "OK", "failed": "Failed", "denied": "Denied"}
RECORD_TYPES = {
    "audit_log": "Audit log",
    "case_management_retention": "Case management retention",
    "case_plan_goal": "Case plan goal",
    "cohort_review": "Cohort review",
    "compliance": "Contact compliance",
    "consultation_request": "Consultation request",
    "contact": "Contact",
    "cultural_consultation": "Cultural consultation",
    "goal_extension": "Extension application",
    "goal_review": "Goal review",
    "permanency": "Permanency reviews",
    "permanency_consultation": "Permanency consultation",
    "permanency_report": "Permanency data set",
    "return_visit": "Return visit",
    "sync_conflict": "Sync conflict",
    "sync_issues": "Sync conflicts",
    "youth_justice": "Youth Justice collaboration",
}
NOT_AN_EMAIL = "not an email address"
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:$|T)")


@dataclass(frozen=True)
class AuditFilters:
    user_id: int | None = None  # events by the user, about their account, or signing in as them
    child: str = ""  # a child's name (every word, in any of their names) or external id
    action: str = ""
    outcome: str = ""
    date_from: date | None = None  # the organisation's calendar dates, both included
    date_to: date | None = None


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    who_name: str  # empty when no one was signed in (a failed sign-in)
    who_email: str
    action: str
    outcome: str
    record: str
    detail: str


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    newer_than: int | None  # the cursor for the page of newer events, when there are any
    older_than: int | None  # the cursor for the page of older events, when there are any
    children: list[Child]  # the children the child filter matched


def audit_page(
    session: Session,
    filters: AuditFilters,
    tz_name: str,
    *,
    older_than: int | None = None,
    newer_than: int | None = None,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """One page of matching events, newest first: the newest `limit`, or those just older than
    event `older_than`, or just newer than event `newer_than`. Raises ValidationError naming the
    filter that cannot be used."""
    children = matching_children(session, filters.child) if filters.child.strip() else []
    where = _conditions(session, filters, tz_name, children)
    query = select(AuditEvent).where(*where)
    if newer_than is not None:
        events = list(
            session.scalars(
                query.where(AuditEvent.id > newer_than).order_by(AuditEvent.id).limit(limit)
            )
        )[::-1]
    else:
        if older_than is not None:
            query = query.where(AuditEvent.id < older_than)
        events = list(session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))

    def any_beyond(condition) -> bool:
        return bool(session.scalar(select(exists().where(*where, condition))))

    newer = events[0].id if events and any_beyond(AuditEvent.id > events[0].id) else None
    older = events[-1].id if events and any_beyond(AuditEvent.id < events[-1].id) else None
    return AuditPage(describe(session, events, tz_name), newer, older, children)


def export_rows(
    session: Session, filters: AuditFilters, tz_name: str, limit: int = EXPORT_LIMIT
) -> Iterator[AuditRow]:
    """Every matching event, newest first, at most `limit`, read a chunk at a time."""
    children = matching_children(session, filters.child) if filters.child.strip() else []
    where = _conditions(session, filters, tz_name, children)
    older_than, left = None, limit
    while left > 0:
        query = select(AuditEvent).where(*where)
        if older_than is not None:
            query = query.where(AuditEvent.id < older_than)
        events = list(
            session.scalars(query.order_by(AuditEvent.id.desc()).limit(min(_CHUNK, left)))
        )
        if not events:
            return
        yield from describe(session, events, tz_name)
        older_than, left = events[-1].id, left - len(events)


def matching_children(session: Session, text: str) -> list[Child]:
    """The children a child filter names: the one whose external id it is, or those with every
    word of it in one of their names. Raises ValidationError when none match, or too many."""
    text = text.strip()
    words = text.split()
    by_name = and_(
        *(
            or_(
                Child.given_name.icontains(word, autoescape=True),
                Child.family_name.icontains(word, autoescape=True),
                Child.preferred_name.icontains(word, autoescape=True),
            )
            for word in words
        )
    )
    children = list(
        session.scalars(
            select(Child)
            .where(or_(func.lower(Child.external_id) == text.lower(), by_name))
            .order_by(Child.family_name, Child.given_name, Child.external_id)
            .limit(MAX_CHILDREN + 1)
        )
    )
    exact = [child for child in children if child.external_id.lower() == text.lower()]
    if exact:
        return exact
    if not children:
        raise ValidationError({"child": [f"No child's name or external id matches {text!r}."]})
    if len(children) > MAX_CHILDREN:
        raise ValidationError(
            {
                "child": [
                    f"More than {MAX_CHILDREN} children match {text!r}: type more of the name, "
                    "or the external id."
                ]
            }
        )
    return children


def _conditions(
    session: Session, filters: AuditFilters, tz_name: str, children: list[Child]
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if filters.user_id is not None:
        user = session.get(User, filters.user_id)
        if user is None:
            raise ValidationError({"user": ["No such user."]})
        where.append(
            or_(
                AuditEvent.user_id == user.id,
                and_(AuditEvent.object_type == "user", AuditEvent.object_id == str(user.id)),
                and_(
                    AuditEvent.action == "login",
                    AuditEvent.outcome == "failed",
                    AuditEvent.detail["email"].as_string() == user.email.lower(),
                ),
            )
        )
    if filters.child.strip():
        where.append(_about_children(session, children))
    if filters.action:
        where.append(AuditEvent.action == filters.action)
    if filters.outcome:
        where.append(AuditEvent.outcome == filters.outcome)
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ValidationError({"date_to": ["The end date is before the start date."]})
    if filters.date_from:
        where.append(AuditEvent.at >= _start_of_day(filters.date_from, tz_name))
    if filters.date_to:
        where.append(AuditEvent.at < _start_of_day(filters.date_to + timedelta(days=1), tz_name))
    return where


def _about_children(session: Session, children: list[Child]) -> ColumnElement[bool]:
    """Events about these children: the child itself, a record naming the child in its detail,
    or one of the child's contacts (viewed, added to) or return visits."""
    if not children:
        return false()
    ids = [child.id for child in children]
    child_ids = [str(child_id) for child_id in ids]
    contact_ids = _ids_of(session, Contact, ids)
    visit_ids = _ids_of(session, ReturnVisit, ids)
    return or_(
        and_(AuditEvent.object_type == "child", AuditEvent.object_id.in_(child_ids)),
        AuditEvent.detail["child_id"].as_string().in_(child_ids),
        and_(AuditEvent.object_type == "contact", AuditEvent.object_id.in_(contact_ids or [""])),
        and_(AuditEvent.object_type == "return_visit", AuditEvent.object_id.in_(visit_ids or [""])),
    )


def _ids_of(session: Session, model, child_ids: list[uuid.UUID]) -> list[str]:
    return [str(i) for i in session.scalars(select(model.id).where(model.child_id.in_(child_ids)))]


def _start_of_day(day: date, tz_name: str) -> datetime:
    """The instant the organisation's calendar day begins (SPEC §3), in UTC as stored."""
    return datetime.combine(day, time(), ZoneInfo(tz_name)).astimezone(UTC)


# ---------------------------------------------------------------- names in place of ids


def describe(session: Session, events: list[AuditEvent], tz_name: str) -> list[AuditRow]:
    """The events in words: who, what, and the record's name rather than its id."""
    rows: list[AuditRow] = []
    for start in range(0, len(events), _CHUNK):
        names = _Names.load(session, events[start : start + _CHUNK])
        rows += [_row(event, names, tz_name) for event in events[start : start + _CHUNK]]
    return rows


# The record types whose object ids name a row to look up, and where they are collected.
_LOOKED_UP = {"user": "users", "child": "children", "contact": "contacts", "return_visit": "visits",
              "device": "devices"}  # fmt: skip


@dataclass
class _Names:
    users: dict[str, User]
    children: dict[str, Child]
    contacts: dict[str, Child]  # a contact's child
    visits: dict[str, Child]  # a return visit's child
    devices: dict[str, Device]

    @classmethod
    def load(cls, session: Session, events: Iterable[AuditEvent]) -> _Names:
        wanted: dict[str, set[str]] = {name: set() for name in _LOOKED_UP.values()}
        for event in events:
            detail = event.detail if isinstance(event.detail, dict) else {}
            if event.user_id is not None:
                wanted["users"].add(str(event.user_id))
            if event.object_type in _LOOKED_UP and event.object_id:
                wanted[_LOOKED_UP[event.object_type]].add(event.object_id)
            if detail.get("child_id"):
                wanted["children"].add(str(detail["child_id"]))
            if detail.get("to_practitioner_id"):
                wanted["users"].add(str(detail["to_practitioner_id"]))
        user_ids = [int(i) for i in wanted["users"] if i.isascii() and i.isdigit()]
        users = session.scalars(select(User).where(User.id.in_(user_ids)))
        children = session.scalars(select(Child).where(Child.id.in_(_uuids(wanted["children"]))))
        devices = session.scalars(select(Device).where(Device.id.in_(_uuids(wanted["devices"]))))
        return cls(
            users={str(user.id): user for user in users},
            children={str(child.id): child for child in children},
            contacts=_childs(session, Contact, wanted["contacts"]),
            visits=_childs(session, ReturnVisit, wanted["visits"]),
            devices={str(device.id): device for device in devices},
        )

    def child(self, child_id) -> str | None:
        child = self.children.get(str(child_id)) if child_id else None
        return f"{child.display_name} ({child.external_id})" if child else None


def _childs(session: Session, model, ids: set[str]) -> dict[str, Child]:
    """The child of each record of `model` (contacts, return visits), by the record's id."""
    rows = session.execute(
        select(model.id, Child)
        .join(Child, model.child_id == Child.id)
        .where(model.id.in_(_uuids(ids)))
    )
    return {str(record_id): child for record_id, child in rows}


def _uuids(values: Iterable[str]) -> list[uuid.UUID]:
    parsed = []
    for value in values:
        try:
            parsed.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return parsed


def _row(event: AuditEvent, names: _Names, tz_name: str) -> AuditRow:
    who = names.users.get(str(event.user_id)) if event.user_id is not None else None
    detail = event.detail if isinstance(event.detail, dict) else {}
    return AuditRow(
        event=event,
        who_name=who.name if who else "",
        who_email=who.email if who else "",
        action=ACTIONS.get(event.action, event.action),
        outcome=OUTCOMES.get(event.outcome, event.outcome),
        record=_record(event, detail, names),
        detail=_detail(detail, names, tz_name),
    )


def _record(event: AuditEvent, detail: dict, names: _Names) -> str:
    kind, object_id = event.object_type or "", event.object_id
    if event.action == "login" and event.outcome == "failed":
        return f"Account tried: {tried_email(detail)}"
    if kind == "user":
        user = names.users.get(str(object_id)) if object_id else None
        return f"{user.name} ({user.email})" if user else "—"
    if kind == "child":
        return names.child(object_id) or ("Children" if object_id is None else "A child")
    if kind == "contact":
        child = names.contacts.get(str(object_id))
        return f"Contact with {child.display_name} ({child.external_id})" if child else "Contact"
    if kind == "return_visit":
        child = names.visits.get(str(object_id))
        return (
            f"Return visit of {child.display_name} ({child.external_id})"
            if child
            else ("Return visit")
        )
    if kind == "device":
        device = names.devices.get(str(object_id))
        if device is None:
            return "Tablet"
        label = given_name(device) or describe_user_agent(device.name) or "Tablet"
        return f"Tablet: {label} ({device.user.name})"
    label = RECORD_TYPES.get(kind, kind.replace("_", " ").capitalize()) if kind else "—"
    child = names.child(detail.get("child_id"))
    return f"{label} for {child}" if child else label


def tried_email(detail: dict) -> str:
    """The account a failed sign-in named: the email address typed, or that it was not one (what
    was typed may then be a password, so it is never shown, nor kept beyond a keyed hash)."""
    email = detail.get("email")
    return email if isinstance(email, str) and is_email_address(email) else NOT_AN_EMAIL


# What an event's detail may show an admin, who sees the audit trail but never case content
# (SPEC §2): facts about accounts, sign-ins, exports and syncs. Anything else an event carries
# (a goal, a Youth Justice status, a consultation's trigger) stays out of the page and the CSV.
_SHOWN_DETAIL = {
    "as_of", "api", "quarter", "rows", "path", "failures", "failed_logins", "until",
    "unlocked", "tablets_not_synced_for_a_day", "created", "updated", "unchanged",
    "children_added", "children_removed", "changes", "flagged",
}  # fmt: skip


def _detail(detail: dict, names: _Names, tz_name: str) -> str:
    parts: list[str] = []
    if detail.get("account_locked"):
        parts.append("the account is locked")
    if "to_practitioner_id" in detail:
        to = names.users.get(str(detail["to_practitioner_id"]))
        parts.append(f"to {to.name if to else 'another practitioner'}")
    changes = detail.get("changes")
    if isinstance(changes, dict):
        for field, change in changes.items():
            if isinstance(change, list) and len(change) == 2:
                before, after = (_value(field, value, tz_name) for value in change)
                parts.append(f"{field.replace('_', ' ')}: {before} → {after}")
    for key, value in detail.items():
        if key not in _SHOWN_DETAIL or isinstance(value, dict):
            continue  # case content, said above, or a structure with no plain reading
        parts.append(f"{key.replace('_', ' ')}: {_value(key, value, tz_name)}")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def _value(key: str, value, tz_name: str) -> str:
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
    if key == "role" and isinstance(value, str):
        return ROLE_LABELS.get(value, value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and _ISO_DATE.match(value):
        # Dates and times kept as ISO text: the one format people read, in the organisation's
        # timezone (a time is kept in UTC).
        try:
            if len(value) == 10:
                return date.fromisoformat(value).strftime("%d/%m/%Y")
            return local_time(datetime.fromisoformat(value), tz_name).strftime("%d/%m/%Y %H:%M")
        except ValueError:
            return value
    return str(value)
