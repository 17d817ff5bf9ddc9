"""Contact compliance for team leaders: the page, its chart, the CSV and the JSON API (SPEC §6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import Blueprint, Response, current_app, flash, jsonify, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from ..access import audit, require_role, session, today
from ..csv_export import csv_response
from ..models import Child, Team, User
from ..services import scope
from ..services.compliance_report import (
    compliance_rows,
    monthly_trend,
    status_counts,
    team_overview,
)
from .chart import trend_summary, trend_svg

bp = Blueprint("compliance", __name__)

CSV_COLUMNS = (
    "child_id",
    "external_id",
    "child_name",
    "practitioner_email",
    "last_contact_date",
    "due_date",
    "status",
    "days_overdue",
    "return_visits_missed",  # R2: in the 12 months to as_of
    "cultural_support",  # R9: true/false for Aboriginal and Torres Strait Islander children
)
STATUSES = ("overdue", "due_soon", "on_track")
# The "Return visits" filter: every child, or those with a visit missed in the 12 months.
RETURN_VISIT_FILTERS = ("missed",)
EARLIEST_AS_OF = date(2000, 1, 1)


class BadParameter(Exception):
    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


def _as_of(*, future_is_today: bool = False, say_so: bool = False) -> date:
    """The date asked about. The page and its CSV correct a date in the future to today (a
    leader who typed next month wants the newest figures), the page saying so; the API
    refuses it."""
    raw = request.args.get("as_of", "").strip()
    if not raw:
        return today()
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        raise BadParameter(
            "as_of", f"as_of must be a date as YYYY-MM-DD, not {raw[:20]!r}."
        ) from None
    if value > today():
        if future_is_today:
            if say_so:
                flash(
                    f"As at {value:%d/%m/%Y} is in the future, so the figures are as at "
                    f"today, {today():%d/%m/%Y}."
                )
            return today()
        raise BadParameter("as_of", "as_of cannot be in the future.")
    if value < EARLIEST_AS_OF:
        raise BadParameter("as_of", f"as_of cannot be before {EARLIEST_AS_OF.isoformat()}.")
    return value


def _whole_number(name: str, raw: str, maximum: int = 2**31 - 1) -> int:
    """A whole number from 1, or a 400 naming the parameter (ASCII digits only: "²" is a digit
    to str.isdigit but not to int())."""
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise BadParameter(name, f"{name} must be a whole number from 1 to {maximum}.")
    return int(raw)


@dataclass(frozen=True)
class Filters:
    practitioner_id: int | None = None
    status: str | None = None
    visit_missed: bool = False  # only children with a return visit missed (R2)

    def as_args(self, as_of: date) -> dict:
        """The query string that shows the same children (links, pages, the CSV)."""
        return {
            "as_of": as_of.isoformat(),
            "practitioner": self.practitioner_id or "",
            "status": self.status or "",
            "return_visit": "missed" if self.visit_missed else "",
        }


def _filters() -> Filters:
    practitioner = request.args.get("practitioner", "").strip()
    status = request.args.get("status", "").strip()
    return_visit = request.args.get("return_visit", "").strip()
    if status and status not in STATUSES:
        raise BadParameter("status", f"status must be one of {', '.join(STATUSES)}.")
    if return_visit and return_visit not in RETURN_VISIT_FILTERS:
        raise BadParameter(
            "return_visit", f"return_visit must be {' or '.join(RETURN_VISIT_FILTERS)} or empty."
        )
    return Filters(
        _whole_number("practitioner", practitioner) if practitioner else None,
        status or None,
        return_visit == "missed",
    )


def _due_soon_days() -> int:
    return current_app.config["FIELDAPP_DUE_SOON_DAYS"]


def _rows(as_of: date, filters: Filters):
    rows = compliance_rows(
        session(),
        current_user.team_ids,
        as_of,
        _due_soon_days(),
        practitioner_id=(
            current_user.id if current_user.role == "practitioner" else filters.practitioner_id
        ),
        status=filters.status,
        visit_missed=filters.visit_missed,
        current=as_of == today(),
    )
    if current_user.role == "practitioner":
        # Only children still on their caseload, whatever the date asked about (SPEC §2).
        visible = set(
            session().scalars(scope.visible_children(current_user).with_only_columns(Child.id))
        )
        rows = [row for row in rows if row.child_id in visible]
    return rows


def _page_number() -> int:
    return _whole_number("page", request.args.get("page", "1").strip() or "1", maximum=100_000)


@bp.errorhandler(BadParameter)
def _bad_parameter(exc: BadParameter):
    if request.path.startswith("/api/") or request.path.endswith((".csv", ".svg")):
        return jsonify(error=str(exc), parameter=exc.name), 400
    return render_template("error.html", status=400, message=str(exc)), 400


PAGE_SIZE = 100


@bp.get("/team/compliance")
@login_required
def page():
    require_role("team_leader")
    as_of = _as_of(future_is_today=True, say_so=True)
    filters = _filters()
    page_number = _page_number()
    overview = team_overview(
        session(),
        current_user.team_ids,
        as_of,
        _due_soon_days(),
        practitioner_id=filters.practitioner_id,
        status=filters.status,
        visit_missed=filters.visit_missed,
        limit=PAGE_SIZE,
        offset=(page_number - 1) * PAGE_SIZE,
        current=as_of == today(),
    )
    summaries, matching, rows = overview.summaries, overview.matching, overview.rows
    practitioners = (
        session()
        .scalars(
            select(User)
            .where(
                User.role == "practitioner",
                User.teams.any(Team.id.in_(current_user.team_ids or [-1])),
            )
            .order_by(User.name)
        )
        .all()
    )
    audit("view", "compliance", None, detail={"as_of": as_of.isoformat()})
    session().commit()
    return render_template(
        "team/compliance.html",
        rows=rows,
        as_of=as_of,
        today=today(),
        is_today=as_of == today(),
        counts=status_counts(summaries),
        visits_missed=overview.visits_missed,
        children_missed=overview.children_missed,
        summaries=summaries,
        practitioners=practitioners,
        practitioner_id=filters.practitioner_id,
        status=filters.status,
        visit_missed=filters.visit_missed,
        statuses=STATUSES,
        filters=filters.as_args(as_of),
        matching=matching,
        page=page_number,
        pages=max(1, -(-matching // PAGE_SIZE)),
        first=(page_number - 1) * PAGE_SIZE + 1,
    )


@bp.get("/team/compliance/trend")
@login_required
def trend_text():
    """The chart's figures as text, for screen readers and anyone who prefers numbers."""
    require_role("team_leader")
    as_of = _as_of()
    points = monthly_trend(session(), current_user.team_ids, as_of)
    return render_template(
        "team/trend.html", points=points, as_of=as_of, summary=trend_summary(points)
    )


@bp.get("/team/compliance/chart.svg")
@login_required
def chart():
    require_role("team_leader")
    as_of = _as_of()
    svg = trend_svg(monthly_trend(session(), current_user.team_ids, as_of))
    return Response(svg, mimetype="image/svg+xml")


@bp.get("/team/compliance.csv")
@login_required
def export_csv():
    require_role("team_leader")
    as_of = _as_of(future_is_today=True)
    rows = _rows(as_of, _filters())
    response = csv_response(
        CSV_COLUMNS, [_row_dict(row) for row in rows], f"contact-compliance-{as_of}.csv"
    )
    audit("export", "compliance", None, detail={"as_of": as_of.isoformat(), "rows": len(rows)})
    session().commit()
    return response


def _row_dict(row) -> dict:
    return {
        "child_id": str(row.child_id),
        "external_id": row.external_id,
        "child_name": row.child_name,
        "practitioner_email": row.practitioner_email,
        "last_contact_date": row.last_contact_date.isoformat() if row.last_contact_date else None,
        "due_date": row.due_date.isoformat(),
        "status": row.status,
        "days_overdue": row.days_overdue,
        "return_visits_missed": row.return_visits_missed,
        "cultural_support": row.cultural_support,
    }


@bp.get("/api/compliance")
@login_required
def api():
    """Team leaders get their teams' children; practitioners their own caseload."""
    if current_user.role not in ("team_leader", "practitioner"):
        return jsonify(error="Not found."), 404
    as_of = _as_of()
    rows = _rows(as_of, _filters())
    audit("export", "compliance", None, detail={"as_of": as_of.isoformat(), "api": True})
    session().commit()
    return jsonify(
        as_of=as_of.isoformat(),
        rows=[
            _row_dict(row)
            | {
                "return_visits": [
                    {
                        "arrival_date": v.arrival_date.isoformat(),
                        "departure_date": v.departure_date.isoformat(),
                        "status": v.status,
                    }
                    for v in row.return_visits
                ],
            }
            for row in rows
        ],
    )
