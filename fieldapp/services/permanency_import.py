"""Importing permanency history from the previous system's CSV export (SPEC §6
`import-permanency`; R3, R4, R10, R11).

All or nothing: every row is checked first, every bad row is reported as "line N: reason" (the
header is line 1), and a file with any error writes nothing. Idempotent by `(external_id, event,
date)`: a row whose child already has a record of that event on that date (recorded in the app
or imported before) is counted as already there and not written again.

Columns: `external_id, event, date, case_plan_goal, permanency_unlikely, progress, trigger,
kind, from_agency, to_agency, basis, by, notes`. Each event uses the columns that apply to it:

- `goal_set`: `case_plan_goal` (required), `permanency_unlikely` (true/false), `by` (who decided),
  `notes` (the reason). A case plan goal record with `source = import` (R3: goals are superseded,
  never overwritten).
- `review`: `progress` (required: on_track | progress_concerns | goal_change_recommended), `by`
  (who reviewed), `notes` (the recommendation). Attached to the goal in force on its date (a goal
  already recorded, or one set on an earlier line of the same file); a review with no goal in
  force is an error. Imported reviews drive the next review due exactly as the app's do (R3).
- `consultation`: `kind` (required: formal | informal), `trigger` (required, R11), `by` (who
  took part), `notes` (the recommendations).
- `cultural_consultation`: `kind` (required: aboriginal_consultant | consultation_panel |
  group_supervision, R4), `by` (the consultant's name), `notes` (the advice, required).
- `transfer`: `to_agency` (required), `from_agency` (defaults to the agency holding the child
  then), `basis` (R10, `003` § OOHC; optional for history, checked when given), `notes` (the
  reason). The child's primary agency becomes the receiving agency of its latest transfer.

Imported history is not put through the app's gates (R4 order of preference, the cultural and
R11 consultation gates): it records decisions already made in the previous system.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import (
    Agency,
    CasePlanGoalRecord,
    CaseResponsibilityTransfer,
    Child,
    CulturalConsultation,
    GoalReview,
    PermanencyConsultation,
)
from ..models.child import CasePlanGoal
from ..models.permanency import (
    ConsultationKind,
    ConsultationTrigger,
    CulturalConsultant,
    RecordSource,
    ReviewProgress,
    TransferBasis,
)
from .audit import record_event
from .children_import import ImportFailed, RowError
from .permanency_records import goal_in_force, refresh_permanency_mirror

COLUMNS = (
    "external_id", "event", "date", "case_plan_goal", "permanency_unlikely", "progress",
    "trigger", "kind", "from_agency", "to_agency", "basis", "by", "notes",
)  # fmt: skip
REQUIRED_COLUMNS = ("external_id", "event", "date")
EVENTS = ("goal_set", "review", "consultation", "cultural_consultation", "transfer")
MAX_ROWS = 200_000
NAME_LIMIT = 200
TEXT_LIMIT = 20_000
IMPORTED_TRANSFER_REASON = "Transfer recorded in the previous system"

# The model and date column that identify "this event on this date" for idempotency.
_EVENT_RECORDS = {
    "goal_set": (CasePlanGoalRecord, CasePlanGoalRecord.date_set),
    "review": (GoalReview, GoalReview.review_date),
    "consultation": (PermanencyConsultation, PermanencyConsultation.consultation_date),
    "cultural_consultation": (CulturalConsultation, CulturalConsultation.consultation_date),
    "transfer": (CaseResponsibilityTransfer, CaseResponsibilityTransfer.transfer_date),
}


@dataclass
class PermanencyImportResult:
    written: Counter = field(default_factory=Counter)  # by event
    already_there: int = 0
    children: int = 0  # children with new records

    @property
    def total_written(self) -> int:
        return sum(self.written.values())


@dataclass
class _Row:
    line: int
    child: Child
    event: str
    on: date
    values: dict[str, Any]


def _values(enum_type) -> set[str]:
    return {member.value for member in enum_type}


def _choice(row: dict[str, str], column: str, allowed: set[str], errors: list[str],
            *, required: bool) -> str | None:  # fmt: skip
    value = (row.get(column) or "").strip().lower()
    if not value:
        if required:
            errors.append(f"{column} is required for this event")
        return None
    if value not in allowed:
        errors.append(f"{column} {value!r} is not one of: {', '.join(sorted(allowed))}")
        return None
    return value


def _text(row: dict[str, str], column: str, limit: int, errors: list[str]) -> str | None:
    value = (row.get(column) or "").strip()
    if len(value) > limit:
        errors.append(f"{column} is longer than {limit:,} characters")
    return value or None


def _bool(row: dict[str, str], column: str, errors: list[str]) -> bool:
    value = (row.get(column) or "").strip().lower()
    if value in ("", "false", "no", "0"):
        return False
    if value in ("true", "yes", "1"):
        return True
    errors.append(f"{column} {value!r} must be true or false")
    return False


class _Lookups:
    """Children (by external_id), agencies (by name) and the goals already recorded, each
    loaded once per file."""

    def __init__(self, session: Session, external_ids: set[str]):
        self.children = {
            child.external_id: child
            for child in session.scalars(
                select(Child).where(Child.external_id.in_(sorted(external_ids)))
            )
        }
        self.agencies = {agency.name.lower(): agency for agency in session.scalars(select(Agency))}
        child_ids = [child.id for child in self.children.values()]
        # Goal set dates per child: recorded ones now, the file's own as its lines are read.
        self.goal_dates: dict[uuid.UUID, list[date]] = {}
        self.existing: set[tuple[uuid.UUID, str, date]] = set()
        if not child_ids:
            return
        for event, (model, column) in _EVENT_RECORDS.items():
            for child_id, on in session.execute(
                select(model.child_id, column).where(model.child_id.in_(child_ids))
            ):
                self.existing.add((child_id, event, on))
                if event == "goal_set":
                    self.goal_dates.setdefault(child_id, []).append(on)

    def agency(self, row: dict[str, str], column: str, errors: list[str],
               *, required: bool) -> Agency | None:  # fmt: skip
        name = (row.get(column) or "").strip()
        if not name:
            if required:
                errors.append(f"{column} is required for this event")
            return None
        agency = self.agencies.get(name.lower())
        if agency is None:
            errors.append(f"{column} {name!r} is not a known agency")
        return agency


def _check_event(event: str, row: dict[str, str], lookups: _Lookups, errors: list[str]) -> dict:
    values: dict[str, Any] = {"by": _text(row, "by", NAME_LIMIT, errors)}
    notes = _text(row, "notes", TEXT_LIMIT, errors)
    if event == "goal_set":
        values["goal"] = _choice(
            row, "case_plan_goal", _values(CasePlanGoal), errors, required=True
        )
        values["permanency_unlikely"] = _bool(row, "permanency_unlikely", errors)
        values["reason"] = notes
    elif event == "review":
        values["progress"] = _choice(row, "progress", _values(ReviewProgress), errors,
                                     required=True)  # fmt: skip
        values["recommendation"] = notes
    elif event == "consultation":
        values["kind"] = _choice(row, "kind", _values(ConsultationKind), errors, required=True)
        values["trigger"] = _choice(row, "trigger", _values(ConsultationTrigger), errors,
                                    required=True)  # fmt: skip
        values["recommendations"] = notes
    elif event == "cultural_consultation":
        values["kind"] = _choice(row, "kind", _values(CulturalConsultant), errors, required=True)
        if notes is None:
            errors.append("notes (the advice given) is required for a cultural consultation")
        values["advice"] = notes
    elif event == "transfer":
        values["from_agency"] = lookups.agency(row, "from_agency", errors, required=False)
        values["to_agency"] = lookups.agency(row, "to_agency", errors, required=True)
        values["basis"] = _choice(row, "basis", _values(TransferBasis), errors, required=False)
        to_agency = values["to_agency"]
        if to_agency is not None and values["basis"] and to_agency.kind != "ngo":
            errors.append("basis applies only to a transfer to a non-government agency")
        values["reason"] = notes
    return values


def _read(text: str, session: Session, today: date) -> tuple[list[_Row], _Lookups]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ImportFailed([RowError(1, f"missing column(s): {', '.join(missing)}")])
    unknown = [column for column in header if column not in COLUMNS]
    if unknown:
        raise ImportFailed([RowError(1, f"unknown column(s): {', '.join(unknown)}")])
    reader.fieldnames = header
    raw: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    try:
        for row in reader:
            if None in row:
                errors.append(RowError(reader.line_num, "more fields than columns"))
                continue
            if any((value or "").strip() for value in row.values()):
                raw.append((reader.line_num, row))
            if len(raw) > MAX_ROWS:
                raise ImportFailed(
                    [RowError(reader.line_num, f"more than {MAX_ROWS} rows; split the file")]
                )
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, f"unreadable CSV: {exc}"))

    lookups = _Lookups(session, {(row.get("external_id") or "").strip() for _, row in raw})
    rows: list[_Row] = []
    seen: dict[tuple[str, str, date], int] = {}
    for line, row in raw:
        row_errors: list[str] = []
        external_id = (row.get("external_id") or "").strip()
        child = lookups.children.get(external_id) if external_id else None
        if not external_id:
            row_errors.append("external_id is required")
        elif child is None:
            row_errors.append(f"external_id {external_id!r} is not a known child")
        event = (row.get("event") or "").strip().lower()
        if event not in EVENTS:
            row_errors.append(
                f"event {event!r} is not one of: {', '.join(EVENTS)}"
                if event
                else "event is required"
            )
        raw_date = (row.get("date") or "").strip()
        on = None
        if not raw_date:
            row_errors.append("date is required")
        else:
            try:
                on = date.fromisoformat(raw_date)
            except ValueError:
                row_errors.append(f"date {raw_date!r} is not a date (use YYYY-MM-DD)")
            else:
                if on > today:
                    row_errors.append(f"date {raw_date} is in the future")
        values = _check_event(event, row, lookups, row_errors) if event in EVENTS else {}
        if child is not None and event in EVENTS and on is not None:
            key = (external_id, event, on)
            if key in seen:
                row_errors.append(f"{event} of {external_id} on {on} repeats line {seen[key]}")
            seen.setdefault(key, line)
            if event == "review" and not any(d <= on for d in lookups.goal_dates.get(child.id, [])):
                row_errors.append(f"{external_id} had no case plan goal on {on} to review")
            if event == "goal_set" and not row_errors:
                lookups.goal_dates.setdefault(child.id, []).append(on)
        errors.extend(RowError(line, message) for message in row_errors)
        if not row_errors:
            rows.append(_Row(line, child, event, on, values))
    if errors:
        raise ImportFailed(sorted(errors, key=lambda error: error.line))
    if not rows:
        raise ImportFailed([RowError(1, "the file has no rows")])
    return rows, lookups


def import_permanency(
    session: Session, text: str, today: date, imported_by_id: int | None = None
) -> PermanencyImportResult:
    """Checks every row, then writes all of them or none (the caller commits or rolls back).
    Raises ImportFailed with every bad line."""
    rows, lookups = _read(text, session, today)
    result = PermanencyImportResult()
    touched: dict[uuid.UUID, Child] = {}
    transferred: set[uuid.UUID] = set()
    for row in rows:
        child, values = row.child, row.values
        if (child.id, row.event, row.on) in lookups.existing:
            result.already_there += 1
            continue
        lookups.existing.add((child.id, row.event, row.on))
        _write(session, row, values, imported_by_id)
        if row.event == "transfer":
            transferred.add(child.id)
        touched[child.id] = child
        result.written[row.event] += 1
    session.flush()
    for child_id in transferred:
        _set_primary_agency(session, touched[child_id])
    for child in touched.values():
        # New records give the child a new change number (change_seq.SUMMARISED_IN_CHILD), so
        # tablets receive its updated goal, next review due and agency.
        refresh_permanency_mirror(session, child, today)
    result.children = len(touched)
    session.flush()
    record_event(
        session,
        user_id=imported_by_id,
        action="import_permanency",
        object_type="child",
        detail={
            "written": dict(result.written),
            "already_there": result.already_there,
            "children": result.children,
        },
    )
    return result


def _write(session: Session, row: _Row, values: dict, imported_by_id: int | None) -> None:
    child = row.child
    common = {"child_id": child.id, "recorded_by_id": imported_by_id}
    if row.event == "goal_set":
        session.add(
            CasePlanGoalRecord(
                **common,
                goal=values["goal"],
                date_set=row.on,
                permanency_unlikely=values["permanency_unlikely"],
                reason=values["reason"],
                decided_by_name=values["by"],
                source=RecordSource.imported.value,
            )
        )
        session.flush()  # a review on a later line finds this goal in force
    elif row.event == "review":
        goal = goal_in_force(session, child.id, row.on)
        session.add(
            GoalReview(
                **common,
                goal_id=goal.id,
                review_date=row.on,
                progress=values["progress"],
                reviewed_by_name=values["by"],
                recommendation=values["recommendation"],
                source=RecordSource.imported.value,
            )
        )
    elif row.event == "consultation":
        session.add(
            PermanencyConsultation(
                **common,
                consultation_date=row.on,
                kind=values["kind"],
                trigger=values["trigger"],
                participants=values["by"],
                recommendations=values["recommendations"],
                source=RecordSource.imported.value,
            )
        )
    elif row.event == "cultural_consultation":
        session.add(
            CulturalConsultation(
                **common,
                consultation_date=row.on,
                consultant_kind=values["kind"],
                consultant_name=values["by"],
                advice=values["advice"],
                source=RecordSource.imported.value,
            )
        )
    elif row.event == "transfer":
        from_agency = values["from_agency"]
        session.add(
            CaseResponsibilityTransfer(
                **common,
                from_agency_id=from_agency.id if from_agency else child.primary_agency_id,
                to_agency_id=values["to_agency"].id,
                transfer_date=row.on,
                basis=values["basis"],
                reason=values["reason"] or IMPORTED_TRANSFER_REASON,
                source=RecordSource.imported.value,
            )
        )
        # Rows in file order: a later row's default "from" is the agency this one hands to.
        child.primary_agency_id = values["to_agency"].id


def _set_primary_agency(session: Session, child: Child) -> None:
    """R10: the agency with primary case responsibility is the receiving agency of the latest
    transfer (by date), whether it was recorded in the app or imported."""
    latest = session.scalar(
        select(CaseResponsibilityTransfer.to_agency_id)
        .where(CaseResponsibilityTransfer.child_id == child.id)
        .order_by(
            CaseResponsibilityTransfer.transfer_date.desc(),
            CaseResponsibilityTransfer.recorded_at.desc(),
        )
        .limit(1)
    )
    if latest is not None and child.primary_agency_id != latest:
        child.primary_agency_id = latest
