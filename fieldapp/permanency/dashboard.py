"""`/permanency`: every child of the coordinator's agency (a team leader's teams, a
practitioner's caseload) with goal, reviews and the two-year timeframe; its CSV and JSON
(SPEC §5, §6; R3, R11). Views parse, call `services/permanency_report.py`, render. The page
asks the database for its 100 rows and the counts; the CSV and JSON have every row."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, jsonify, render_template, request
from flask_login import current_user, login_required

from ..access import audit, require_role, session, today
from ..csv_export import csv_response
from ..models.child import CasePlanGoal
from ..services import scope
from ..services.permanency import GOAL_LABELS
from ..services.permanency_report import (
    REVIEW_STATUSES,
    ROW_COLUMNS,
    agencies_in_scope,
    open_consultation_requests,
    permanency_overview,
    permanency_rows,
)

bp = Blueprint("permanency_dashboard", __name__)

CSV_COLUMNS = tuple(ROW_COLUMNS)  # SPEC §6, said once
GOALS = tuple(goal.value for goal in CasePlanGoal)
EARLIEST_AS_OF = date(2000, 1, 1)
PAGE_SIZE = 100
PAGE_ROLES = ("coordinator", "team_leader")
DATA_ROLES = ("coordinator", "team_leader", "practitioner")


class BadParameter(Exception):
    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


@bp.errorhandler(BadParameter)
def _bad_parameter(exc: BadParameter):
    if request.path.startswith("/api/") or request.path.endswith(".csv"):
        return jsonify(error=str(exc), parameter=exc.name), 400
    return render_template("error.html", status=400, message=str(exc)), 400


def _as_of() -> tuple[date, str | None]:
    """The "As at" date and a notice when it was corrected: a future date becomes today."""
    raw = request.args.get("as_of", "").strip()
    if not raw:
        return today(), None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise BadParameter(
            "as_of", f"as_of must be a date as YYYY-MM-DD, not {raw[:20]!r}."
        ) from None
    if value < EARLIEST_AS_OF:
        raise BadParameter("as_of", f"as_of cannot be before {EARLIEST_AS_OF.isoformat()}.")
    if value > today():
        return today(), f"{value:%d/%m/%Y} is in the future: showing today instead."
    return value, None


def _whole_number(name: str, raw: str, maximum: int = 2**31 - 1) -> int:
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise BadParameter(name, f"{name} must be a whole number from 1 to {maximum}.")
    return int(raw)


def _filters() -> dict:
    goal = request.args.get("goal", "").strip() or None
    status = request.args.get("status", "").strip() or None
    agency = request.args.get("agency", "").strip()
    if goal is not None and goal not in GOALS:
        raise BadParameter("goal", f"goal must be one of {', '.join(GOALS)}.")
    if status is not None and status not in REVIEW_STATUSES:
        raise BadParameter("status", f"status must be one of {', '.join(REVIEW_STATUSES)}.")
    return {
        "goal": goal,
        "review_status": status,
        "agency_id": _whole_number("agency", agency) if agency else None,
    }


@bp.get("/permanency")
@login_required
def page():
    require_role(*PAGE_ROLES)
    as_of, notice = _as_of()
    filters = _filters()
    page_number = _whole_number("page", request.args.get("page", "1").strip() or "1", 100_000)
    first = (page_number - 1) * PAGE_SIZE
    children = scope.visible_children(current_user)
    overview = permanency_overview(
        session(), children, as_of, **filters, limit=PAGE_SIZE, offset=first, today=today()
    )
    requests = open_consultation_requests(session(), children)
    agencies = agencies_in_scope(session(), children)
    audit("view", "permanency", None, detail={"as_of": as_of.isoformat()})
    session().commit()
    matching = overview.matching
    query = {
        "as_of": as_of.isoformat(),
        "goal": filters["goal"] or "",
        "status": filters["review_status"] or "",
        "agency": filters["agency_id"] or "",
    }
    return render_template(
        "permanency/dashboard.html",
        rows=overview.rows,
        counts=overview.counts,
        requests=requests,
        agencies=agencies,
        goals=GOALS,
        goal_labels=GOAL_LABELS,
        statuses=REVIEW_STATUSES,
        filters=filters,
        query=query,
        as_of=as_of,
        is_today=as_of == today(),
        notice=notice,
        matching=matching,
        page=page_number,
        pages=max(1, -(-matching // PAGE_SIZE)),
        first=first + 1,
    )


@bp.get("/permanency.csv")
@login_required
def export_csv():
    require_role(*DATA_ROLES)
    as_of, _notice = _as_of()
    rows = permanency_rows(
        session(), scope.visible_children(current_user), as_of, **_filters(), today=today()
    )
    response = csv_response(CSV_COLUMNS, [row.as_dict() for row in rows], f"permanency-{as_of}.csv")
    audit("export", "permanency", None, detail={"as_of": as_of.isoformat(), "rows": len(rows)})
    session().commit()
    return response


@bp.get("/api/permanency")
@login_required
def api():
    """Coordinators get their agency's children, team leaders their teams', practitioners their
    caseload (SPEC §6); admins, like `/api/compliance`, a 404."""
    if current_user.role not in DATA_ROLES:
        return jsonify(error="Not found."), 404
    as_of, _notice = _as_of()
    rows = permanency_rows(
        session(), scope.visible_children(current_user), as_of, **_filters(), today=today()
    )
    audit("export", "permanency", None, detail={"as_of": as_of.isoformat(), "api": True})
    session().commit()
    return jsonify(as_of=as_of.isoformat(), rows=[row.as_dict() for row in rows])
