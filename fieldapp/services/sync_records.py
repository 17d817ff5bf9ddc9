"""Record shapes on the wire (SPEC §4 "Record shapes"): records to `data` dicts for pull, and
push `data` to the typed values the domain services take, with field-named errors."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ..models import (
    Addendum,
    Agency,
    CasePlanGoalRecord,
    Child,
    Contact,
    GoalReview,
    ReturnVisit,
    YouthJusticeRecord,
)
from ..models.child import YouthJusticeStatus
from ..models.contact import ContactStatus
from . import permanency as rules
from . import record_fields as fields
from .contacts import CONTACT_FIELDS
from .record_fields import ACTION, ADDENDUM, CONTACT, PARTICIPANT, RETURN_VISIT
from .text import storable

# Kinds and limits from the one definition (record_fields). Text over its limit is refused once
# with the field named; in a sized column (models/contact.py) it would fail in PostgreSQL on
# every retry of the mutation.
DATE_FIELDS = {n for n, f in CONTACT.items() if f.kind == fields.DATE}
INT_FIELDS = {n for n, f in CONTACT.items() if f.kind == fields.INT}
BOOL_FIELDS = {n for n, f in CONTACT.items() if f.kind == fields.BOOL}
TEXT_LIMIT = fields.NARRATIVE
# The texts a UUID and a time are read from; the OpenAPI document gives the same.
UUID_TEXT = re.compile("-".join(f"[0-9a-fA-F]{{{n}}}" for n in (8, 4, 4, 4, 12)))
TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")  # HH:MM


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class ChildPermanency:
    """What the tablet shows offline of a child's permanency planning (SPEC §4 `child`, since
    2026-12-01): the goal in force today (R3), the last review of it, the agency with primary
    case responsibility (R10) and the current Youth Justice collaboration (R12)."""

    primary_agency: str | None = None
    goal: str | None = None
    goal_set_date: date | None = None
    permanency_unlikely: bool = False
    last_review_date: date | None = None
    youth_justice: dict[str, Any] | None = None


def child_permanency(
    session: Session, children: list[Child], today: date
) -> dict[uuid.UUID, ChildPermanency]:
    """R3, R10, R12 for a batch of children in three queries (goals with their last review,
    the latest Youth Justice records, agency names), never one per child."""
    ids = [child.id for child in children]
    if not ids:
        return {}
    goal, review = CasePlanGoalRecord, GoalReview
    # R3: the goal in force today is the latest set on or before today; its last review is the
    # latest on or after the date it was set (permanency_records.last_review_date).
    goals = session.execute(
        select(
            goal.child_id,
            goal.goal,
            goal.date_set,
            goal.permanency_unlikely,
            func.max(review.review_date),
        )
        .outerjoin(
            review,
            and_(
                review.goal_id == goal.id,
                review.review_date >= goal.date_set,
                review.review_date <= today,
            ),
        )
        .where(goal.child_id.in_(ids), goal.date_set <= today)
        .group_by(goal.id, goal.child_id, goal.goal, goal.date_set, goal.permanency_unlikely)
        .order_by(goal.child_id, goal.date_set, goal.recorded_at)
    ).all()
    in_force: dict[uuid.UUID, tuple] = {}
    for row in goals:  # ascending: the last row of each child is the goal in force
        in_force[row[0]] = row[1:]
    yj = YouthJusticeRecord
    latest = (
        select(yj.child_id, func.max(yj.recorded_at).label("at"))
        .where(yj.child_id.in_(ids))
        .group_by(yj.child_id)
        .subquery()
    )
    youth_justice = {
        record.child_id: record
        for record in session.scalars(
            select(yj).join(
                latest, and_(yj.child_id == latest.c.child_id, yj.recorded_at == latest.c.at)
            )
        )
    }
    agency_ids = {child.primary_agency_id for child in children}
    agencies = dict(
        session.execute(select(Agency.id, Agency.name).where(Agency.id.in_(agency_ids))).all()
    )
    result = {}
    for child in children:
        current = in_force.get(child.id)
        result[child.id] = ChildPermanency(
            primary_agency=agencies.get(child.primary_agency_id),
            goal=current[0] if current else None,
            goal_set_date=current[1] if current else None,
            permanency_unlikely=bool(current[2]) if current else False,
            last_review_date=current[3] if current else None,
            youth_justice=youth_justice_data(youth_justice.get(child.id)),
        )
    return result


def youth_justice_data(record: YouthJusticeRecord | None) -> dict[str, Any] | None:
    """R12: the collaboration as it stands; null when there is none (no record, or the latest
    says the child has no Youth Justice involvement)."""
    if record is None or record.status == YouthJusticeStatus.none.value:
        return None
    return {
        "status": record.status,
        "lead_practitioner": record.lead_practitioner,
        "officers": [
            {"name": o.get("name"), "team": o.get("team"), "contact": o.get("contact")}
            for o in record.officers or []
        ],
        "court_order_conditions": record.court_order_conditions,
        "plan_actions": [
            {"description": a.get("description"), "due_date": a.get("due_date")}
            for a in record.plan_actions or []
        ],
    }


def child_data(
    child: Child,
    last_contact: date | None,
    due: date | None,
    permanency: ChildPermanency | None = None,
) -> dict[str, Any]:
    """SPEC §4 `child`. Next review due and the two-year deadline are computed with the R3
    rules (services/permanency.py) for the goal in force, as the server pages do."""
    p = permanency or ChildPermanency()
    next_due = deadline = None
    if p.goal is not None and p.goal_set_date is not None:
        next_due = rules.next_review_due(
            p.goal, p.goal_set_date, p.permanency_unlikely, p.last_review_date
        )
        deadline = rules.two_year_deadline(p.goal, p.goal_set_date)
    return {
        "id": str(child.id),
        "external_id": child.external_id,
        "given_name": child.given_name,
        "family_name": child.family_name,
        "preferred_name": child.preferred_name,
        "date_of_birth": _iso(child.date_of_birth),
        "aboriginal_status": child.aboriginal_status,
        "residence": child.residence,
        "care_start_date": _iso(child.care_start_date),
        "care_end_date": _iso(child.care_end_date),
        "youth_justice_status": child.youth_justice_status,
        "team_id": child.team_id,
        "practitioner_id": child.practitioner_id,
        "last_qualifying_contact_date": _iso(last_contact),
        "due_date": _iso(due),
        "case_plan_goal": p.goal,
        "goal_set_date": _iso(p.goal_set_date),
        "permanency_unlikely": p.permanency_unlikely,
        "last_review_date": _iso(p.last_review_date),
        "primary_agency": p.primary_agency,
        "next_review_due": _iso(next_due),
        "two_year_deadline": _iso(deadline),
        "youth_justice": p.youth_justice,
    }


def contact_data(contact: Contact) -> dict[str, Any]:
    data: dict[str, Any] = {
        "child_id": str(contact.child_id),
        "status": contact.status,
        "author_id": contact.author_id,
    }
    for field in CONTACT_FIELDS:
        value = getattr(contact, field)
        data[field] = _iso(value) if isinstance(value, date) else value
    data["participants"] = [
        {
            "role": p.role,
            "name": p.name,
            "took_part_in_decisions": p.took_part_in_decisions,
            "views_and_wishes": p.views_and_wishes,
            "feedback": p.feedback,
            "concerns": p.concerns,
        }
        for p in contact.participants
    ]
    data["actions"] = [
        {"description": a.description, "responsible": a.responsible, "due_date": _iso(a.due_date)}
        for a in contact.actions
    ]
    return data


def return_visit_data(visit: ReturnVisit) -> dict[str, Any]:
    return {
        "child_id": str(visit.child_id),
        "arrival_date": _iso(visit.arrival_date),
        "departure_date": _iso(visit.departure_date),
        "arrangement_note": visit.arrangement_note,
    }


def addendum_data(addendum: Addendum) -> dict[str, Any]:
    # child_id is extra to SPEC §4's shape, so a tablet can file the addendum with its child.
    return {
        "contact_id": str(addendum.contact_id),
        "child_id": str(addendum.contact.child_id),
        "reason": addendum.reason,
        "text": addendum.text,
        "author_id": addendum.author_id,
        "created_at": addendum.created_at.isoformat() if addendum.created_at else None,
    }


class FieldErrors(dict):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def parse_date(value: Any, field: str, errors: FieldErrors) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    errors.add(field, "Must be a date as YYYY-MM-DD.")
    return None


def parse_uuid(value: Any, field: str, errors: FieldErrors) -> uuid.UUID | None:
    """A UUID written as JSON Schema's `uuid` format has it (8-4-4-4-12 hex digits), and only
    so: Python would also read braces, a `urn:uuid:` prefix or no dashes."""
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str) and UUID_TEXT.fullmatch(value):
        return uuid.UUID(value)
    errors.add(field, "Must be a UUID.")
    return None


def parse_contact_value(field: str, value: Any, errors: FieldErrors) -> Any:
    """One contact field from JSON to its typed value."""
    if field in DATE_FIELDS:
        return parse_date(value, field, errors)
    if field in INT_FIELDS:
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            errors.add(field, "Must be a whole number.")
            return None
        return value
    if field in BOOL_FIELDS:
        if value is None:
            return False  # SPEC §4: an absent optional field may be sent as null
        if not isinstance(value, bool):
            errors.add(field, "Must be true or false.")
            return False
        return value
    if field == "start_time":
        if value in (None, ""):
            return None
        if not isinstance(value, str) or not TIME.fullmatch(value):
            errors.add(field, "Must be a time as HH:MM.")
            return None
        return value
    if field == "participants":
        return _parse_list(value, field, errors, _participant)
    if field == "actions":
        return _parse_list(value, field, errors, _action)
    if value is not None and not isinstance(value, str):
        errors.add(field, "Must be text.")
        return None
    spec = CONTACT.get(field)
    if spec is not None and (message := fields.too_long(spec, value)):
        errors.add(field, message)
    return value


def _parse_list(value, field, errors, parse_item):
    if value is None:
        return []
    if not isinstance(value, list):
        errors.add(field, "Must be a list.")
        return []
    items = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            errors.add(f"{field}-{index}", "Must be an object.")
            continue
        items.append(parse_item(item, f"{field}-{index}", errors))
    return items


def _participant(item: dict, prefix: str, errors: FieldErrors) -> dict:
    result = {
        "role": item.get("role"),
        "took_part_in_decisions": bool(item.get("took_part_in_decisions")),
    }
    for key in ("name", "views_and_wishes", "feedback", "concerns"):
        value = item.get(key)
        if value is not None and not isinstance(value, str):
            errors.add(f"{prefix}-{key}", "Must be text.")
            value = None
        if message := fields.too_long(PARTICIPANT[key], value):
            errors.add(f"{prefix}-{key}", message)
        result[key] = value
    return result


def _action(item: dict, prefix: str, errors: FieldErrors) -> dict:
    description = item.get("description")
    if not isinstance(description, str):
        description = ""
    responsible = item.get("responsible")
    for key, value in (("description", description), ("responsible", responsible)):
        if message := fields.too_long(ACTION[key], value):
            errors.add(f"{prefix}-{key}", message)
    return {
        "description": description,
        "responsible": responsible if isinstance(responsible, str) else None,
        "due_date": parse_date(item.get("due_date"), f"{prefix}-due_date", errors),
    }


EDITABLE_CONTACT_FIELDS = set(CONTACT_FIELDS) | {"participants", "actions"}
CONTACT_STATUSES = tuple(status.value for status in ContactStatus)  # a create's `status`

# The fields a mutation's `data` may name (SPEC §4 record shapes), from the one definition of
# each record (record_fields): a create names its record's fields (a contact also its `status`),
# an update names contact fields, each as {old, new}; a submit or a delete names none. Anything
# else is refused, naming it (SPEC §7: unknown JSON fields are refused). The OpenAPI document's
# record schemas are derived from the same definitions.
DATA_FIELDS: dict[tuple[str, str], frozenset[str]] = {
    ("contact", "create"): frozenset(CONTACT) | {"status"},
    ("contact", "update"): frozenset(CONTACT) | {"status"},  # refused if not editable
    ("contact", "submit"): frozenset(),
    ("contact", "delete"): frozenset(),
    ("addendum", "create"): frozenset(ADDENDUM),
    ("return_visit", "create"): frozenset(RETURN_VISIT),
}
UPDATE_KEYS = ("old", "new")  # an update's value for each field it names


def unknown_fields(record_type: str, op: str, data: dict) -> list[str]:
    """What a mutation's `data` holds that its record does not define, named like the other field
    errors: a field (`mood`), a row's field (`participants-0-mood`) or a key of an update's
    {old, new} (`notes-older`)."""
    allowed = DATA_FIELDS[(record_type, op)]
    found: list[str] = []
    for name, value in data.items():
        if name not in allowed:
            found.append(name)
            continue
        if op == "update":
            if not isinstance(value, dict):
                continue  # refused when the update is read ("{old, new} for each field")
            found += [f"{name}-{key}" for key in value if key not in UPDATE_KEYS]
            value = value.get("new")
        spec = CONTACT.get(name) if record_type == "contact" else None
        if spec is not None and spec.kind == fields.ROWS and isinstance(value, list):
            row_fields = fields.RECORDS[spec.rows_of]
            for index, row in enumerate(value):
                if isinstance(row, dict):
                    found += [f"{name}-{index}-{key}" for key in row if key not in row_fields]
    return found


def parse_return_visit_data(data: dict) -> tuple[dict[str, Any], FieldErrors]:
    """A return visit's `data` (SPEC §4) as the values record_return_visit takes."""
    errors = FieldErrors()
    note = data.get("arrangement_note")
    if message := fields.too_long(RETURN_VISIT["arrangement_note"], note):
        errors.add("arrangement_note", message)
    values = {
        "arrival_date": parse_date(data.get("arrival_date"), "arrival_date", errors),
        "departure_date": parse_date(data.get("departure_date"), "departure_date", errors),
        "arrangement_note": note if isinstance(note, str) else None,
    }
    return values, errors


def parse_contact_data(data: dict) -> tuple[dict[str, Any], FieldErrors]:
    errors = FieldErrors()
    values = {}
    for field, value in data.items():
        if field in EDITABLE_CONTACT_FIELDS:
            values[field] = parse_contact_value(field, value, errors)
    return values, errors


def comparable(field: str, value: Any) -> Any:
    """A contact field's value in the form the server stores it, to compare the server's value
    with an update's `old`/`new`: dates as YYYY-MM-DD, text trimmed with "" as null (saving
    does the same), participants and actions with every key. A value that does not parse is
    compared as sent."""
    if isinstance(value, date):
        return value.isoformat()
    errors = FieldErrors()
    parsed = parse_contact_value(field, value, errors)
    if errors:
        return value
    return _canonical(parsed)


def _canonical(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    return value


def unstorable_fields(data: Any, prefix: str = "") -> list[str]:
    """Names of the fields whose text (or key) cannot be stored (see `storable`), named like
    the other field errors (`participants-0-name`). Refused up front, or the write would fail
    on every retry of the mutation and wedge the device's queue."""
    found = []
    if isinstance(data, str):
        return [] if storable(data) else [prefix or "data"]
    if isinstance(data, dict):
        for key, value in data.items():
            key = str(key)
            if not storable(key):
                key = (
                    key.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
                )
                found.append(f"{prefix}-{key}" if prefix else key)
            else:
                found += unstorable_fields(value, f"{prefix}-{key}" if prefix else key)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += unstorable_fields(value, f"{prefix}-{index}")
    return found
