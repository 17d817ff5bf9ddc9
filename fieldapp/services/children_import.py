"""Importing children from the old system's CSV export (SPEC §6).

All or nothing: every row is checked first, every bad row is reported by its line number, and a
file with any error writes nothing. Idempotent by `external_id`: a re-import updates what changed
and leaves the rest alone. Changes of primary case responsibility are logged as transfers
(R10, `000` § Case planning; `003` § OOHC); changes of practitioner as allocations.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import (
    AboriginalStatus,
    Agency,
    CasePlanGoal,
    CasePlanGoalRecord,
    CaseResponsibilityTransfer,
    Child,
    Contact,
    RecordSource,
    Residence,
    Role,
    Team,
    User,
)
from ..models.base import utcnow
from .allocation import allocate
from .audit import record_event
from .permanency_records import refresh_permanency_mirror

COLUMNS = (
    "external_id", "given_name", "family_name", "preferred_name", "date_of_birth",
    "aboriginal_status", "residence", "care_start_date", "care_end_date", "team",
    "practitioner_email", "primary_agency", "case_plan_goal", "goal_set_date",
    "permanency_unlikely", "last_face_to_face_date", "last_face_to_face_by",
)  # fmt: skip
REQUIRED_COLUMNS = (
    "external_id",
    "given_name",
    "family_name",
    "date_of_birth",
    "care_start_date",
    "team",
)
MAX_ROWS = 50_000


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportFailed(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len(errors)} error(s); nothing was imported")
        self.errors = errors


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changed_ids: list[str] = field(default_factory=list)


def _parse_date(value: str, column: str, errors: list[str]) -> date | None:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.append(f"{column} {value!r} is not a date (use YYYY-MM-DD)")
        return None


def _choice(value: str, column: str, allowed: type, default: str | None, errors: list[str]):
    value = value.strip().lower()
    if not value:
        return default
    if value not in {member.value for member in allowed}:
        errors.append(f"{column} {value!r} is not one of: {', '.join(m.value for m in allowed)}")
        return None
    return value


def _parse_bool(value: str, column: str, errors: list[str]) -> bool:
    value = value.strip().lower()
    if value in ("", "false", "no", "0"):
        return False
    if value in ("true", "yes", "1"):
        return True
    errors.append(f"{column} {value!r} must be true or false")
    return False


class _Lookups:
    """Teams, agencies and practitioners, each loaded once per file."""

    def __init__(self, session: Session):
        self.teams = {team.name.lower(): team for team in session.scalars(select(Team))}
        self.agencies = {agency.name.lower(): agency for agency in session.scalars(select(Agency))}
        self.session = session
        self._users: dict[str, User | None] = {}

    def user(self, email: str) -> User | None:
        if email not in self._users:
            self._users[email] = self.session.scalar(
                select(User).where(func.lower(User.email) == email)
            )
        return self._users[email]


def _check_row(
    row: dict[str, str], lookups: _Lookups, today: date
) -> tuple[dict[str, Any], list[str]]:
    errors: list[str] = []
    values: dict[str, Any] = {}
    for column in REQUIRED_COLUMNS:
        if not (row.get(column) or "").strip():
            errors.append(f"{column} is required")
    values["external_id"] = (row.get("external_id") or "").strip()
    values["given_name"] = (row.get("given_name") or "").strip()
    values["family_name"] = (row.get("family_name") or "").strip()
    values["preferred_name"] = (row.get("preferred_name") or "").strip() or None
    for column, limit in (
        ("external_id", 64),
        ("given_name", 100),
        ("family_name", 100),
        ("preferred_name", 100),
    ):
        if values[column] and len(values[column]) > limit:
            errors.append(f"{column} is longer than {limit} characters")
    values["date_of_birth"] = _parse_date(row.get("date_of_birth") or "", "date_of_birth", errors)
    if values["date_of_birth"] and values["date_of_birth"] > today:
        errors.append("date_of_birth is in the future")
    values["aboriginal_status"] = _choice(
        row.get("aboriginal_status") or "", "aboriginal_status", AboriginalStatus, "unknown", errors
    )
    values["residence"] = _choice(row.get("residence") or "", "residence", Residence, "nt", errors)
    values["care_start_date"] = _parse_date(
        row.get("care_start_date") or "", "care_start_date", errors
    )
    values["care_end_date"] = _parse_date(row.get("care_end_date") or "", "care_end_date", errors)
    start, end, born = values["care_start_date"], values["care_end_date"], values["date_of_birth"]
    if start and end and end < start:
        errors.append("care_end_date is before care_start_date")
    if start and born and start < born:
        errors.append("care_start_date is before date_of_birth")
    if start and start > today:
        errors.append("care_start_date is in the future")

    team_name = (row.get("team") or "").strip()
    team = lookups.teams.get(team_name.lower()) if team_name else None
    if team_name and team is None:
        errors.append(f"team {team_name!r} does not exist")
    values["team"] = team

    email = (row.get("practitioner_email") or "").strip().lower()
    values["practitioner"] = None
    if email:
        practitioner = lookups.user(email)
        if practitioner is None or practitioner.role != Role.practitioner.value:
            errors.append(f"practitioner_email {email!r} is not a practitioner's account")
        elif team is not None and team.id not in practitioner.team_ids:
            errors.append(f"practitioner {email!r} is not in team {team_name!r}")
        else:
            values["practitioner"] = practitioner

    agency_name = (row.get("primary_agency") or "").strip()
    agency = (
        lookups.agencies.get(agency_name.lower())
        if agency_name
        else (team.agency if team else None)
    )
    if agency_name and agency is None:
        errors.append(f"primary_agency {agency_name!r} does not exist")
    values["primary_agency"] = agency

    values["case_plan_goal"] = _choice(
        row.get("case_plan_goal") or "", "case_plan_goal", CasePlanGoal, None, errors
    )
    values["goal_set_date"] = _parse_date(row.get("goal_set_date") or "", "goal_set_date", errors)
    if values["case_plan_goal"] and values["goal_set_date"] is None:
        errors.append("goal_set_date is required when case_plan_goal is given")
    if values["goal_set_date"] and values["goal_set_date"] > today:
        # R3: a goal is in force from its date; the child's mirror of the goal in force
        # (permanency_records.refresh_permanency_mirror) holds only if none is set ahead.
        errors.append("goal_set_date is in the future")
    values["permanency_unlikely"] = _parse_bool(
        row.get("permanency_unlikely") or "", "permanency_unlikely", errors
    )
    _check_last_contact(row, values, lookups, today, errors)
    return values, errors


def _check_last_contact(
    row: dict[str, str], values: dict[str, Any], lookups: _Lookups, today: date, errors: list[str]
) -> None:
    """The child's last face-to-face contact in the previous system, and the staff member who
    made it (by email; the child's practitioner when not given)."""
    last = _parse_date(row.get("last_face_to_face_date") or "", "last_face_to_face_date", errors)
    by_email = (row.get("last_face_to_face_by") or "").strip().lower()
    values["last_face_to_face_date"], values["last_face_to_face_by"] = last, None
    if by_email and last is None:
        errors.append("last_face_to_face_by is given without last_face_to_face_date")
    if last is None:
        return
    start, end = values["care_start_date"], values["care_end_date"]
    if last > today:
        errors.append("last_face_to_face_date is in the future")
    elif start and last < start:
        errors.append("last_face_to_face_date is before care_start_date")
    elif end and last > end:
        errors.append("last_face_to_face_date is after care_end_date")
    if by_email:
        staff = lookups.user(by_email)
        if staff is None or staff.role not in (Role.practitioner.value, Role.team_leader.value):
            errors.append(
                f"last_face_to_face_by {by_email!r} is not the account of a practitioner or "
                "team leader"
            )
        values["last_face_to_face_by"] = staff
    elif values["practitioner"] is None:
        errors.append("last_face_to_face_by is required when the child has no practitioner_email")


_CHILD_FIELDS = (
    "given_name", "family_name", "preferred_name", "date_of_birth", "aboriginal_status",
    "residence", "care_start_date", "care_end_date",
)  # fmt: skip


def _import_goal(
    session: Session, child: Child, values: dict[str, Any], today: date, imported_by_id
) -> bool:
    """The file's case plan goal joins the child's goal history (R3: goals are superseded, never
    overwritten), unless that goal with that date is already there. True if it was added."""
    goal, date_set = values["case_plan_goal"], values["goal_set_date"]
    if not goal or date_set is None:
        return False
    already = session.scalar(
        select(CasePlanGoalRecord.id).where(
            CasePlanGoalRecord.child_id == child.id,
            CasePlanGoalRecord.goal == goal,
            CasePlanGoalRecord.date_set == date_set,
        )
    )
    if already is not None:
        return False
    session.add(
        CasePlanGoalRecord(
            child_id=child.id,
            goal=goal,
            date_set=date_set,
            permanency_unlikely=values["permanency_unlikely"],
            reason="Imported from the previous system.",
            recorded_by_id=imported_by_id,
            source="import",
        )
    )
    refresh_permanency_mirror(session, child, today)
    return True


IMPORTED_CONTACT_NOTE = (
    "Imported from the previous system: the last face-to-face contact recorded there. "
    "Its notes and the child's views are in the previous system."
)


def _import_last_contact(
    session: Session, child: Child, values: dict[str, Any], imported_by_id: int | None
) -> bool:
    """R1 starts right on day one: the previous system's last face-to-face contact becomes an
    imported qualifying contact (`004` § Contact with child). Only while the previous system is
    the child's record: once a contact has been recorded in fieldapp, a file cannot add one (or
    an import could make an overdue child look seen), nor can it add one older than an imported
    one. Each is audited with who imported it. True if one was added."""
    last = values["last_face_to_face_date"]
    if last is None:
        return False
    blocking = session.scalar(
        select(Contact.id).where(
            Contact.child_id == child.id,
            (Contact.source != RecordSource.imported.value) | (Contact.contact_date >= last),
        )
    )
    if blocking is not None:
        return False
    author = values["last_face_to_face_by"] or values["practitioner"]
    contact = Contact(
        child_id=child.id,
        author_id=author.id,
        status="submitted",
        contact_date=last,
        mode="face_to_face",
        made_by="practitioner",
        child_seen=True,
        views_not_recorded_reason=IMPORTED_CONTACT_NOTE,
        notes=IMPORTED_CONTACT_NOTE,
        submitted_at=utcnow(),
        source=RecordSource.imported.value,
    )
    session.add(contact)
    session.flush()
    record_event(
        session,
        user_id=imported_by_id,
        action="import_contact",
        object_type="contact",
        object_id=contact.id,
        detail={"child_id": str(child.id), "contact_date": last.isoformat(), "by": author.id},
    )
    return True


def import_children(
    session: Session, text: str, today: date, imported_by_id: int | None = None
) -> ImportResult:
    """Checks every row, then writes all of them or none. Raises ImportFailed."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ImportFailed([RowError(1, f"missing column(s): {', '.join(missing)}")])
    unknown = [column for column in header if column not in COLUMNS]
    if unknown:
        raise ImportFailed([RowError(1, f"unknown column(s): {', '.join(unknown)}")])
    reader.fieldnames = header

    lookups = _Lookups(session)
    errors: list[RowError] = []
    parsed: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if None in row:
                errors.append(RowError(line, "more fields than columns"))
                continue
            if not any((value or "").strip() for value in row.values()):
                continue
            values, row_errors = _check_row(row, lookups, today)
            external_id = values["external_id"]
            if external_id and external_id in seen:
                row_errors.append(f"external_id {external_id!r} repeats line {seen[external_id]}")
            elif external_id:
                seen[external_id] = line
            errors.extend(RowError(line, message) for message in row_errors)
            parsed.append(values)
            if len(parsed) > MAX_ROWS:
                raise ImportFailed([RowError(line, f"more than {MAX_ROWS} rows; split the file")])
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, f"unreadable CSV: {exc}"))
    if errors:
        raise ImportFailed(errors)
    if not parsed:
        raise ImportFailed([RowError(1, "the file has no rows")])

    existing = {
        child.external_id: child
        for child in session.scalars(select(Child).where(Child.external_id.in_(list(seen))))
    }
    result = ImportResult()
    for values in parsed:
        child = existing.get(values["external_id"])
        if child is None:
            child = Child(
                external_id=values["external_id"],
                team=values["team"],
                primary_agency=values["primary_agency"],
                **{name: values[name] for name in _CHILD_FIELDS},
            )
            session.add(child)
            session.flush()
            if values["practitioner"] is not None:
                # The old system's allocation history is not exported; the first allocation
                # starts when the child came into care.
                allocate(session, child, values["practitioner"], values["care_start_date"])
                child.version = 1
            _import_goal(session, child, values, today, imported_by_id)
            _import_last_contact(session, child, values, imported_by_id)
            result.created += 1
            result.changed_ids.append(str(child.id))
            continue
        changed = False
        for name in _CHILD_FIELDS:
            if getattr(child, name) != values[name]:
                setattr(child, name, values[name])
                changed = True
        if child.team_id != values["team"].id:
            child.team = values["team"]
            changed = True
        if _import_goal(session, child, values, today, imported_by_id):
            changed = True
        if _import_last_contact(session, child, values, imported_by_id):
            changed = True
        if child.primary_agency_id != values["primary_agency"].id:
            session.add(
                CaseResponsibilityTransfer(
                    child=child,
                    from_agency_id=child.primary_agency_id,
                    to_agency_id=values["primary_agency"].id,
                    transfer_date=today,
                    reason="Changed by import from the previous system",
                    recorded_by_id=imported_by_id,
                )
            )
            child.primary_agency = values["primary_agency"]
            changed = True
        practitioner = values["practitioner"]
        if practitioner is not None and child.practitioner_id != practitioner.id:
            allocate(session, child, practitioner, today, reason="Changed by import")
            changed = True
        if changed:
            child.version += 1
            result.updated += 1
            result.changed_ids.append(str(child.id))
        else:
            result.unchanged += 1
    session.flush()
    record_event(
        session,
        user_id=imported_by_id,
        action="import_children",
        object_type="child",
        detail={
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        },
    )
    return result
