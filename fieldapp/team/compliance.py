"""Contact compliance for team leaders: the page, its chart, the CSV and the JSON API (SPEC §6)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, current_app, jsonify, render_template, request
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
)
STATUSES = ("overdue", "due_soon", "on_track")
EARLIEST_AS_OF = date(2000, 1, 1)


class BadParameter(Exception):
    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


def _as_of() -> date:
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


def _filters() -> tuple[int | None, str | None]:
    practitioner = request.args.get("practitioner", "").strip()
    status = request.args.get("status", "").strip()
    if status and status not in STATUSES:
        raise BadParameter("status", f"status must be one of {', '.join(STATUSES)}.")
    return (_whole_number("practitioner", practitioner) if practitioner else None), (status or None)


def _due_soon_days() -> int:
    return current_app.config["FIELDAPP_DUE_SOON_DAYS"]


def _rows(as_of: date, practitioner_id=None, status=None, **paging):
    rows = compliance_rows(
        session(),
        current_user.team_ids,
        as_of,
        _due_soon_days(),
        practitioner_id=current_user.id if current_user.role == "practitioner" else practitioner_id,
        status=status,
        current=as_of == today(),
        **paging,
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
    as_of = _as_of()
    practitioner_id, status = _filters()
    page_number = _page_number()
    overview = team_overview(
        session(),
        current_user.team_ids,
        as_of,
        _due_soon_days(),
        practitioner_id=practitioner_id,
        status=status,
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
    filters = {
        "as_of": as_of.isoformat(),
        "practitioner": practitioner_id or "",
        "status": status or "",
    }
    return render_template(
        "team/compliance.html",
        rows=rows,
        as_of=as_of,
        is_today=as_of == today(),
        counts=status_counts(summaries),
        summaries=summaries,
        practitioners=practitioners,
        practitioner_id=practitioner_id,
        status=status,
        statuses=STATUSES,
        filters=filters,
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
    as_of = _as_of()
    practitioner_id, status = _filters()
    rows = _rows(as_of, practitioner_id, status)
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
    }


@bp.get("/api/compliance")
@login_required
def api():
    """Team leaders get their teams' children; practitioners their own caseload."""
    if current_user.role not in ("team_leader", "practitioner"):
        return jsonify(error="Not found."), 404
    as_of = _as_of()
    practitioner_id, status = _filters()
    rows = _rows(as_of, practitioner_id, status)
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
                "cultural_support": row.cultural_support,
            }
            for row in rows
        ],
    )
