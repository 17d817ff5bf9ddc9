"""The quarterly minimum data set (`002` § Record keeping) and cohort reviews (`002` § Cohort
reviews).

- `GET /permanency/report?quarter=YYYY-Qn` (coordinator, team leader): the figures per agency
  and a chart of reviews completed on time over the last 8 quarters;
- `GET /permanency/report/chart.svg?quarter=`: that chart as an SVG image;
- `GET /permanency/report.csv?quarter=`: the same figures, one row per agency (SPEC §6);
- `GET|POST /permanency/cohort` (coordinator): the agency's children in long-term care, flagged
  or not as needing a formal permanency consultation, and past cohort reviews.

Views parse, call a service and render; figures come from `services/permanency_mds.py`.
"""

from __future__ import annotations

import uuid

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import DateField, TextAreaField
from wtforms.validators import InputRequired, Length

from ..access import audit, require_role, session, today
from ..csv_export import csv_response
from ..services import scope
from ..services.errors import Forbidden, ValidationError
from ..services.permanency_mds import (
    GOALS,
    MEASURE_KEYS,
    MEASURES,
    TRIGGERS,
    last_complete_quarter,
    long_term_care_cohort,
    minimum_data_set,
    past_cohort_reviews,
    quarter_bounds,
    quarter_of,
    quarters_ending,
    review_trend,
)
from ..services.permanency_records import record_cohort_review
from .chart import review_trend_summary, review_trend_svg

bp = Blueprint("permanency_report", __name__)

REPORT_ROLES = ("coordinator", "team_leader")
CSV_COLUMNS = ("quarter", "agency", "agency_kind", *MEASURE_KEYS)
TREND_QUARTERS = 8
PICKER_QUARTERS = 20


class BadQuarter(Exception):
    """A `quarter` parameter that is not YYYY-Qn, or is in the future."""


def _quarter() -> str:
    raw = request.args.get("quarter", "").strip()
    if not raw:
        return last_complete_quarter(today())
    try:
        start, _ = quarter_bounds(raw)
    except ValueError as exc:
        raise BadQuarter(str(exc)) from None
    if start > today():
        raise BadQuarter("quarter cannot be in the future.")
    return raw


@bp.errorhandler(BadQuarter)
def _bad_quarter(exc: BadQuarter):
    if request.path.endswith((".csv", ".svg")):
        return jsonify(error=str(exc), parameter="quarter"), 400
    return render_template("error.html", status=400, message=str(exc)), 400


def _children():
    return scope.visible_children(current_user)


@bp.get("/permanency/report")
@login_required
def page():
    require_role(*REPORT_ROLES)
    quarter = _quarter()
    start, end = quarter_bounds(quarter)
    rows = minimum_data_set(session(), _children(), quarter, today=today())
    points = review_trend(session(), _children(), quarter, TREND_QUARTERS, today=today())
    audit("view", "permanency_report", None, detail={"quarter": quarter})
    session().commit()
    choices = quarters_ending(quarter_of(today()), PICKER_QUARTERS)[::-1]
    if quarter not in choices:
        choices.append(quarter)
    return render_template(
        "permanency/report.html",
        quarter=quarter,
        start=start,
        end=end,
        rows=rows,
        measures=MEASURES,
        triggers=TRIGGERS,
        goals=GOALS,
        choices=choices,
        points=points,
        summary=review_trend_summary(points),
    )


@bp.get("/permanency/report/chart.svg")
@login_required
def chart():
    require_role(*REPORT_ROLES)
    quarter = _quarter()
    points = review_trend(session(), _children(), quarter, TREND_QUARTERS, today=today())
    response = Response(review_trend_svg(points), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/permanency/report.csv")
@login_required
def export_csv():
    require_role(*REPORT_ROLES)
    quarter = _quarter()
    rows = minimum_data_set(session(), _children(), quarter, today=today())
    records = [
        {"quarter": quarter, "agency": row.agency_name, "agency_kind": row.agency_kind}
        | row.figures
        for row in rows
    ]
    response = csv_response(CSV_COLUMNS, records, f"permanency-mds-{quarter}.csv")
    audit("export", "permanency_report", None, detail={"quarter": quarter, "rows": len(rows)})
    session().commit()
    return response


# ---------------------------------------------------------------- cohort reviews


class CohortReviewForm(FlaskForm):
    """The review itself; each child's flag and note are `flag` (child ids) and
    `note-<child id>` fields drawn from the cohort."""

    review_date = DateField("Review date", validators=[InputRequired()])
    notes = TextAreaField("Notes on the review", validators=[Length(max=20_000)])


def _render_cohort(form: CohortReviewForm, errors: dict, status: int = 200, values=None):
    cohort = long_term_care_cohort(session(), _children(), current_user.agency_id, today())
    past = past_cohort_reviews(session(), _children(), current_user.agency_id)
    return (
        render_template(
            "permanency/cohort.html",
            form=form,
            errors=errors,
            cohort=cohort,
            past=past,
            values=values or {"flag": set(), "notes": {}},
        ),
        status,
    )


@bp.get("/permanency/cohort")
@login_required
def cohort():
    require_role("coordinator")
    form = CohortReviewForm(review_date=today())
    audit("view", "cohort_review", None)
    session().commit()
    return _render_cohort(form, {})


def _posted_flags() -> tuple[set[uuid.UUID], dict[uuid.UUID, str], list[str]]:
    """The children ticked as needing a formal consultation, and every child's note (a note is
    kept whether or not its child is flagged)."""
    flagged: set[uuid.UUID] = set()
    notes: dict[uuid.UUID, str] = {}
    problems = []
    for raw in request.form.getlist("flag"):
        try:
            flagged.add(uuid.UUID(raw))
        except ValueError:
            problems.append("Only children of the cohort can be flagged.")
    for key, value in request.form.items():
        if key.startswith("note-") and value.strip():
            try:
                notes[uuid.UUID(key[5:])] = value
            except ValueError:
                problems.append("Only children of the cohort can be flagged.")
    return flagged, notes, problems


@bp.post("/permanency/cohort")
@login_required
def record_cohort():
    if current_user.role != "coordinator":
        audit("access", "cohort_review", None, outcome="denied", detail={"path": request.path})
        session().commit()
        message = "Only a permanency coordinator records cohort reviews."
        return render_template("error.html", status=403, message=message), 403
    form = CohortReviewForm()
    flagged, child_notes, problems = _posted_flags()
    values = {
        "flag": {str(child_id) for child_id in flagged},
        "notes": {k[5:]: v for k, v in request.form.items() if k.startswith("note-")},
    }
    if current_user.agency_id is None:
        problems.append("Your account is not linked to an agency; ask an admin to link it.")
    if not form.validate_on_submit() or problems:
        errors = dict(form.errors)
        if problems:
            errors["flagged"] = problems[:1]
        return _render_cohort(form, errors, 400, values)
    cohort_members = long_term_care_cohort(session(), _children(), current_user.agency_id, today())
    try:
        review = record_cohort_review(
            session(),
            current_user,
            review_date=form.review_date.data,
            notes=form.notes.data,
            flagged=flagged,
            children_in_cohort=[member.child for member in cohort_members],
            today=today(),
            child_notes=child_notes,
        )
    except ValidationError as exc:
        session().rollback()
        return _render_cohort(form, exc.errors, 400, values)
    except Forbidden as exc:
        session().rollback()
        return render_template("error.html", status=403, message=str(exc)), 403
    session().commit()
    flash(
        f"Cohort review of {len(review.children)} children recorded; "
        f"{len(flagged)} flagged as needing a formal consultation."
    )
    return redirect(url_for("permanency_report.cohort"))
