"""The permanency minimum data set (`002` § Record keeping), its page, CSV and chart, and cohort
reviews (`002` § Cohort reviews). SPEC §3 R3, R10, R11; §6."""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.models import (
    AuditEvent,
    CaseResponsibilityTransfer,
    Child,
    CohortReview,
    CulturalConsultation,
    GoalExtension,
    PermanencyConsultation,
    User,
)
from fieldapp.permanency.report import CSV_COLUMNS
from fieldapp.services import scope
from fieldapp.services.permanency import add_months
from fieldapp.services.permanency_mds import (
    MEASURE_KEYS,
    GoalSpan,
    goal_spans,
    last_complete_quarter,
    minimum_data_set,
    previous_quarter,
    quarter_bounds,
    review_cycles,
    review_trend,
)

from ..factories import gen_agency, gen_child, gen_goal, gen_review, gen_user, org_today

# ---------------------------------------------------------------- pure rules (no database)


@pytest.mark.parametrize(
    ("quarter", "bounds"),
    [
        ("2026-Q1", (date(2026, 1, 1), date(2026, 3, 31))),
        ("2026-Q2", (date(2026, 4, 1), date(2026, 6, 30))),
        ("2026-Q3", (date(2026, 7, 1), date(2026, 9, 30))),
        ("2024-Q4", (date(2024, 10, 1), date(2024, 12, 31))),
        ("2000-Q1", (date(2000, 1, 1), date(2000, 3, 31))),
    ],
)
def test_quarter_bounds(quarter, bounds):
    assert quarter_bounds(quarter) == bounds


@pytest.mark.parametrize(
    "bad",
    ["", "2026-Q0", "2026-Q5", "2026Q3", "2026-q3", "26-Q3", "2026-Q3 ", "1999-Q4", "٢٠٢٦-Q1"],
)
def test_quarter_bounds_rejects_bad_format(bad):
    with pytest.raises(ValueError, match="YYYY-Qn"):
        quarter_bounds(bad)


def test_last_complete_quarter_edges():
    assert last_complete_quarter(date(2026, 1, 1)) == "2025-Q4"
    assert last_complete_quarter(date(2026, 3, 31)) == "2025-Q4"
    assert last_complete_quarter(date(2026, 4, 1)) == "2026-Q1"
    assert previous_quarter("2026-Q1") == "2025-Q4"


def _span(goal="restoration", set_on=date(2025, 1, 10), unlikely=False, superseded=None, end=None):
    return GoalSpan(1, uuid.uuid4(), uuid.uuid4(), goal, set_on, unlikely, superseded, end)


def test_review_cycles_on_time_late_and_never():
    span = _span()  # restoration: every 6 months from 10 Jan 2025
    reviews = [date(2025, 7, 1), date(2026, 2, 1)]  # on time (due 10 Jul), then late (due 1 Jan)
    cycles = review_cycles(span, reviews, until=date(2026, 12, 31))
    assert [(c.due, c.reviewed_on, c.on_time) for c in cycles] == [
        (date(2025, 7, 10), date(2025, 7, 1), True),
        (date(2026, 1, 1), date(2026, 2, 1), False),
        (date(2026, 8, 1), None, False),  # never done: counted once, no further cycle
    ]


def test_review_cycles_ignore_reviews_before_the_goal_and_on_the_anchor():
    span = _span(set_on=date(2025, 1, 10))
    cycles = review_cycles(
        span, [date(2024, 12, 1), date(2025, 1, 10), date(2025, 3, 1)], date(2025, 12, 31)
    )
    assert [(c.due, c.on_time) for c in cycles] == [
        (date(2025, 7, 10), True),
        (date(2025, 9, 1), False),
    ]


def test_review_cycles_stop_when_goal_superseded_or_care_ends_or_until():
    assert review_cycles(_span(superseded=date(2025, 7, 10)), [], date(2026, 1, 1)) == []
    assert len(review_cycles(_span(superseded=date(2025, 7, 11)), [], date(2026, 1, 1))) == 1
    assert review_cycles(_span(end=date(2025, 7, 10)), [], date(2026, 1, 1)) == []
    assert review_cycles(_span(), [], date(2025, 7, 9)) == []
    # permanency unlikely: guardianship every 3 months; month-end clamps (31 Aug → 30 Nov)
    cycles = review_cycles(
        _span("guardianship", date(2025, 8, 31), True), [date(2025, 11, 30)], date(2026, 2, 28)
    )
    assert [c.due for c in cycles] == [date(2025, 11, 30), date(2026, 2, 28)]


def test_goal_spans_supersede_in_date_then_recorded_order():
    child = uuid.uuid4()
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    rows = [
        (1, child, b, "adoption", date(2025, 5, 1), False, None, None),
        (1, child, a, "restoration", date(2025, 1, 1), True, None, None),
        (1, child, c, "long_term_care", date(2025, 9, 1), False, None, None),
    ]
    spans = {s.goal_id: s for s in goal_spans(rows)}
    assert spans[a].superseded_on == date(2025, 5, 1)
    assert spans[b].superseded_on == date(2025, 9, 1)
    assert spans[c].superseded_on is None and spans[a].permanency_unlikely


# ---------------------------------------------------------------- a hand-built quarter


@dataclass
class Quarter:
    quarter: str
    start: date
    end: date
    ngo_name: str
    ngo_child: uuid.UUID
    cohort_child: uuid.UUID
    not_in_cohort: list[uuid.UUID]
    outside_coordinator: User


NGO = "Anglicare NT"
GOVERNMENT = "Territory Families"
FORMULA_AGENCY = '=HYPERLINK("x")'

EXPECTED = {
    NGO: {
        "consultations_formal": 2,
        "consultations_informal": 1,
        "consultations_goal_change_considered": 1,
        "consultations_requested": 1,
        "consultations_significant_change": 1,
        "reviews_due": 2,
        "reviews_completed_on_time": 1,
        "goal_changes_long_term_care": 1,
        "children_past_two_years": 1,
        "extension_applications": 1,
        "cultural_consultations": 1,
        "transfers": 1,
    },
    GOVERNMENT: {
        "consultations_informal": 1,
        "consultations_rosh_report_in_care": 1,
        "goal_changes_guardianship": 1,
        "children_past_two_years": 1,
    },
    FORMULA_AGENCY: {},
}


def _expected(agency: str) -> dict[str, int]:
    return dict.fromkeys(MEASURE_KEYS, 0) | EXPECTED[agency]


@pytest.fixture
def built(org, engine) -> Quarter:
    """Last complete quarter Q (start S). Anglicare NT (NGO) and Territory Families (government)
    children of team A, so the coordinator and the team leader see both agencies:

    - N1 restoration set 6 months + 10 days before S: review due S+10, done S+5 (on time);
      a formal goal_change_considered consultation S+1 (and one the day before Q: not counted);
      a cultural consultation S+6.
    - N2 guardianship, permanency unlikely (3 months), due S+4, reviewed S+20 (late); informal
      `requested` S+2 and formal `significant_change` S+3; transferred to the NGO on S+7.
    - N3 family preservation set 30 months before S: past two years; extension applied S+15.
    - N4 restoration (due S+1 month) superseded by long-term care on S+20: no review due.
    - Government: `child` restoration, never reviewed (not required); G1 adoption set a day
      before quarter end − 24 months (past), G2 exactly then (not past); G3 restoration set
      30 months before S superseded by guardianship on S+30 (new timeframe); an informal ROSH
      consultation S+8; C1 long-term care (the cohort), C2 long-term care superseded, C3 in
      long-term care but out of care.
    """
    today = org_today()
    quarter = last_complete_quarter(today)
    start, end = quarter_bounds(quarter)

    def day(n: int) -> date:
        return start + timedelta(days=n)

    with Session(engine, expire_on_commit=False) as s:
        coordinator = s.get(User, org.coordinator.id)
        team = coordinator.teams[0]
        government = team.agency
        ngo = gen_agency(s, NGO, kind="ngo")
        formula = gen_agency(s, FORMULA_AGENCY, kind="ngo")
        care_start = add_months(start, -40)

        def child(agency, name):
            return gen_child(s, team, care_start_date=care_start, primary_agency=agency,
                             given_name=name)  # fmt: skip

        n1, n2, n3, n4 = (child(ngo, f"N{i}") for i in range(1, 5))
        g1 = gen_goal(s, n1, "restoration", date_set=add_months(start, -6) + timedelta(days=10))
        gen_review(s, n1, g1, review_date=day(5))
        g2 = gen_goal(s, n2, "guardianship", date_set=add_months(start, -3) + timedelta(days=4),
                      permanency_unlikely=True)  # fmt: skip
        gen_review(s, n2, g2, review_date=day(20))
        g3 = gen_goal(s, n3, "family_preservation", date_set=add_months(start, -30))
        gen_goal(s, n4, "restoration", date_set=add_months(start, -5))
        gen_goal(s, n4, "long_term_care", date_set=day(20))
        s.add_all(
            [
                PermanencyConsultation(
                    child_id=n1.id,
                    consultation_date=day(1),
                    kind="formal",
                    trigger="goal_change_considered",
                ),  # fmt: skip
                PermanencyConsultation(
                    child_id=n1.id,
                    consultation_date=day(-1),
                    kind="formal",
                    trigger="cohort_review",
                ),  # fmt: skip
                PermanencyConsultation(
                    child_id=n2.id, consultation_date=day(2), kind="informal", trigger="requested"
                ),  # fmt: skip
                PermanencyConsultation(
                    child_id=n2.id,
                    consultation_date=day(3),
                    kind="formal",
                    trigger="significant_change",
                ),  # fmt: skip
                CulturalConsultation(
                    child_id=n1.id,
                    consultation_date=day(6),
                    consultant_kind="aboriginal_consultant",
                    advice="Advice",
                ),  # fmt: skip
                CulturalConsultation(
                    child_id=n1.id,
                    consultation_date=day(-10),
                    consultant_kind="consultation_panel",
                    advice="Earlier",
                ),  # fmt: skip
                CaseResponsibilityTransfer(
                    child_id=n2.id,
                    from_agency_id=government.id,
                    to_agency_id=ngo.id,
                    transfer_date=day(7),
                    basis="final_orders_minister",
                    reason="Orders",
                ),  # fmt: skip
                GoalExtension(
                    child_id=n3.id,
                    goal_id=g3.id,
                    applied_date=day(15),
                    reason="Exceptional circumstances",
                ),  # fmt: skip
            ]
        )
        mia = s.get(Child, org.child.id)
        gen_goal(s, mia, "restoration", date_set=add_months(start, -6) + timedelta(days=10))
        cutoff = add_months(end, -24)
        gen_goal(s, child(government, "G1"), "adoption", date_set=cutoff - timedelta(days=1))
        gen_goal(s, child(government, "G2"), "adoption", date_set=cutoff)
        gov3 = child(government, "G3")
        gen_goal(s, gov3, "restoration", date_set=add_months(start, -30))
        gen_goal(s, gov3, "guardianship", date_set=day(30))
        s.add(PermanencyConsultation(child_id=mia.id, consultation_date=day(8), kind="informal",
                                     trigger="rosh_report_in_care"))  # fmt: skip
        c1 = child(government, "Cohort")
        gen_goal(s, c1, "long_term_care", date_set=add_months(start, -14))
        c2 = child(government, "Superseded")
        gen_goal(s, c2, "long_term_care", date_set=add_months(start, -20))
        gen_goal(s, c2, "restoration", date_set=add_months(start, -2))
        c3 = gen_child(s, team, care_start_date=care_start, care_end_date=add_months(start, -1),
                       given_name="Leftcare")  # fmt: skip
        gen_goal(s, c3, "long_term_care", date_set=add_months(start, -20))
        child(formula, "Formula")
        # Another agency's coordinator (team B's agency, which holds `other_child`).
        outsider_team = s.get(User, org.outsider.id).teams[0]
        other = gen_user(s, "coordinator", outsider_team, email="coord2@example.org")
        s.add(PermanencyConsultation(child_id=org.other_child.id, consultation_date=day(9),
                                     kind="formal", trigger="requested"))  # fmt: skip
        s.commit()
        return Quarter(quarter, start, end, NGO, n1.id, c1.id, [c2.id, c3.id, n4.id], other)


def test_minimum_data_set_exact_figures(built, db_session, org):
    user = db_session.get(User, org.coordinator.id)
    rows = minimum_data_set(db_session, scope.visible_children(user), built.quarter, org_today())
    assert [r.agency_name for r in rows] == sorted([NGO, GOVERNMENT, FORMULA_AGENCY])
    for row in rows:
        assert row.figures == _expected(row.agency_name), row.agency_name
    ngo = next(r for r in rows if r.agency_name == NGO)
    assert ngo.reviews_due == 2 and ngo.consultations_by_trigger["requested"] == 1
    assert ngo.goal_changes["long_term_care"] == 1


def test_team_leader_sees_the_same_figures(built, db_session, org):
    leader = db_session.get(User, org.leader.id)
    rows = minimum_data_set(db_session, scope.visible_children(leader), built.quarter)
    assert {r.agency_name: r.figures for r in rows} == {a: _expected(a) for a in EXPECTED}


def test_other_agency_coordinator_sees_none_of_these_children(built, db_session):
    other = db_session.get(User, built.outside_coordinator.id)
    rows = minimum_data_set(db_session, scope.visible_children(other), built.quarter)
    assert [r.agency_name for r in rows] == ["Other Agency"]
    assert rows[0].consultations_formal == 1 and rows[0].reviews_due == 0
    assert rows[0].figures["consultations_requested"] == 1


def test_review_trend_counts_the_quarter(built, db_session, org):
    user = db_session.get(User, org.coordinator.id)
    points = review_trend(db_session, scope.visible_children(user), built.quarter, 8, org_today())
    assert len(points) == 8 and points[-1].quarter == built.quarter
    assert (points[-1].reviews_due, points[-1].reviews_on_time) == (2, 1)
    assert all(p.reviews_due == 0 for p in points[:-1])


# ---------------------------------------------------------------- pages, CSV, chart


def _page_figures(html: str) -> dict[str, dict[str, int]]:
    header = re.search(r"<thead><tr><th scope=\"col\">Measure</th>(.*?)</tr></thead>", html, re.S)
    agencies = [
        re.sub(r" \(NGO\)$", "", a).replace("&#34;", '"').replace("&quot;", '"')
        for a in re.findall(r"<th scope=\"col\">(.*?)</th>", header.group(1))
    ]
    figures: dict[str, dict[str, int]] = {a: {} for a in agencies}
    for key, cells in re.findall(r'<tr data-measure="(\w+)"><th scope="row">[^<]*</th>(.*?)</tr>',
                                 html):  # fmt: skip
        for agency, value in zip(agencies, re.findall(r">(\d+)</td>", cells), strict=True):
            figures[agency][key] = int(value)
    return figures


def _csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


def test_page_and_csv_show_the_same_figures(built, client, auth, org):
    auth.login("coord@example.org")
    page = client.get(f"/permanency/report?quarter={built.quarter}")
    assert page.status_code == 200
    assert "Permanency minimum data set" in page.text
    assert f'<option value="{built.quarter}" selected>' in page.text
    assert _page_figures(page.text) == {a: _expected(a) for a in EXPECTED}

    response = client.get(f"/permanency/report.csv?quarter={built.quarter}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.text.splitlines()[0].split(",") == [f'"{c}"' for c in CSV_COLUMNS]
    rows = _csv(response)
    by_agency = {r["agency"]: r for r in rows}
    assert set(by_agency) == {NGO, GOVERNMENT, "'" + FORMULA_AGENCY}  # formula neutralised
    for agency in EXPECTED:
        row = by_agency[agency if agency != FORMULA_AGENCY else "'" + FORMULA_AGENCY]
        assert row["quarter"] == built.quarter
        assert {k: int(row[k]) for k in MEASURE_KEYS} == _expected(agency)
    assert not any(cell[:1] in "=+-@" for r in rows for cell in r.values())


def test_default_quarter_is_the_last_complete_one(built, client, auth):
    auth.login("lee@example.org")
    page = client.get("/permanency/report")
    assert page.status_code == 200
    assert f"Quarter {last_complete_quarter(org_today())}" in page.text


@pytest.mark.parametrize("bad", ["2026-Q5", "2026Q1", "yesterday", "1999-Q4"])
def test_bad_quarter_is_400_naming_quarter(built, client, auth, bad):
    auth.login("coord@example.org")
    page = client.get(f"/permanency/report?quarter={bad}")
    assert page.status_code == 400 and "quarter" in page.text
    response = client.get(f"/permanency/report.csv?quarter={bad}")
    assert response.status_code == 400 and response.json["parameter"] == "quarter"
    assert client.get(f"/permanency/report/chart.svg?quarter={bad}").status_code == 400


def test_future_quarter_is_400(built, client, auth):
    auth.login("coord@example.org")
    future = f"{org_today().year + 1}-Q1"
    assert client.get(f"/permanency/report.csv?quarter={future}").status_code == 400


@pytest.mark.parametrize("email", ["pat@example.org", "admin@example.org"])
def test_other_roles_cannot_see_the_report(built, client, auth, email):
    auth.login(email)
    for url in ("/permanency/report", "/permanency/report.csv", "/permanency/report/chart.svg"):
        assert client.get(url).status_code == 404, url


def test_signed_out_is_sent_to_login(built, client):
    response = client.get("/permanency/report")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_other_agency_coordinator_csv_has_none_of_these_children(built, client, auth):
    auth.login("coord2@example.org")
    rows = _csv(client.get(f"/permanency/report.csv?quarter={built.quarter}"))
    assert [r["agency"] for r in rows] == ["Other Agency"]
    page = client.get(f"/permanency/report?quarter={built.quarter}")
    assert NGO not in page.text and GOVERNMENT not in page.text


def test_view_and_export_are_audited(built, client, auth, db, org):
    auth.login("coord@example.org")
    client.get(f"/permanency/report?quarter={built.quarter}")
    client.get(f"/permanency/report.csv?quarter={built.quarter}")
    events = (
        db().scalars(select(AuditEvent).where(AuditEvent.object_type == "permanency_report")).all()
    )
    assert [(e.action, e.user_id, e.detail["quarter"]) for e in events] == [
        ("view", org.coordinator.id, built.quarter),
        ("export", org.coordinator.id, built.quarter),
    ]


def test_chart_is_an_svg_with_a_title(built, client, auth):
    auth.login("coord@example.org")
    response = client.get(f"/permanency/report/chart.svg?quarter={built.quarter}")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert "<title>" in response.text and "<script" not in response.text
    assert "style=" not in response.text
    assert response.headers["Cache-Control"] == "no-store"
    assert f"{built.quarter}: 50% on time (1 of 2)" in response.text
    page = client.get(f"/permanency/report?quarter={built.quarter}")
    assert "/permanency/report/chart.svg?quarter=" in page.text
    assert f'<th scope="row">{built.quarter}</th><td data-label="Reviews due">2</td>' in page.text


# ---------------------------------------------------------------- cohort reviews


def test_cohort_lists_the_agency_children_in_long_term_care(built, client, auth):
    auth.login("coord@example.org")
    page = client.get("/permanency/cohort")
    assert page.status_code == 200
    assert f'value="{built.cohort_child}"' in page.text
    for child_id in built.not_in_cohort:
        assert str(child_id) not in page.text
    assert "Needs a formal consultation" in page.text


def test_coordinator_records_a_cohort_review_with_flags(built, client, auth, db, org):
    auth.login("coord@example.org")
    client.get("/permanency/cohort")
    response = auth.post(
        "/permanency/cohort",
        {
            "review_date": org_today().isoformat(),
            "notes": "Annual cohort review",
            "flag": str(built.cohort_child),
            f"note-{built.cohort_child}": "Consider guardianship",
        },
    )
    assert response.status_code == 302
    review = db().scalars(select(CohortReview)).one()
    assert review.agency_id == org.coordinator.agency_id and review.notes == "Annual cohort review"
    assert [(c.child_id, c.needs_formal_consultation, c.note) for c in review.children] == [
        (built.cohort_child, True, "Consider guardianship")
    ]
    page = client.get("/permanency/cohort")
    assert f'href="/children/{built.cohort_child}"' in page.text
    assert "Consider guardianship" in page.text
    assert db().scalars(select(AuditEvent).where(AuditEvent.object_type == "cohort_review",
                                                 AuditEvent.action == "create")).one()  # fmt: skip


def test_a_note_on_a_child_not_flagged_is_kept(built, client, auth, db):
    auth.login("coord@example.org")
    client.get("/permanency/cohort")
    response = auth.post(
        "/permanency/cohort",
        {
            "review_date": org_today().isoformat(),
            f"note-{built.cohort_child}": "Stable with carers; no consultation needed now",
        },
    )
    assert response.status_code == 302
    review = db().scalars(select(CohortReview)).one()
    assert [(c.child_id, c.needs_formal_consultation, c.note) for c in review.children] == [
        (built.cohort_child, False, "Stable with carers; no consultation needed now")
    ]


def test_cohort_review_without_csrf_is_refused(built, client, auth, db):
    auth.login("coord@example.org")
    response = client.post("/permanency/cohort", data={"review_date": org_today().isoformat()})
    assert response.status_code == 400
    assert db().scalars(select(CohortReview)).all() == []


@pytest.mark.parametrize("email", ["pat@example.org", "lee@example.org"])
def test_practitioner_and_team_leader_cannot_record_a_cohort_review(built, client, auth, db, email):
    auth.login(email)
    assert client.get("/permanency/cohort").status_code == 404
    response = auth.post(
        "/permanency/cohort",
        {"review_date": org_today().isoformat(), "flag": str(built.cohort_child)},
    )
    assert response.status_code == 403
    assert db().scalars(select(CohortReview)).all() == []


def test_other_agency_coordinator_cannot_see_or_flag_these_children(built, client, auth, db):
    auth.login("coord2@example.org")
    page = client.get("/permanency/cohort")
    assert page.status_code == 200 and str(built.cohort_child) not in page.text
    response = auth.post(
        "/permanency/cohort",
        {"review_date": org_today().isoformat(), "flag": str(built.cohort_child)},
    )
    assert response.status_code == 400
    assert "Only children of the cohort can be flagged" in response.text
    assert db().scalars(select(CohortReview)).all() == []
