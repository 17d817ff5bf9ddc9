"""The permanency dashboard: GET /permanency, /permanency.csv and /api/permanency (SPEC §5, §6;
R3 `002` § Permanency Goal Reviews, R11 `002` § Permanency Consultations)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.models import (
    AuditEvent,
    CasePlanGoalRecord,
    Child,
    ConsultationRequest,
    GoalExtension,
    GoalReview,
    PermanencyConsultation,
    User,
)
from fieldapp.services.children_import import import_children
from fieldapp.services.permanency import REVIEW_INTERVAL_MONTHS, add_months
from fieldapp.services.permanency_import import import_permanency
from fieldapp.services.permanency_records import (
    goal_in_force,
    last_review_date,
    refresh_permanency_mirror,
)
from fieldapp.services.permanency_report import (
    REVIEW_STATUSES,
    PermanencyRow,
    permanency_overview,
    permanency_rows,
    urgency,
)
from fieldapp.services.scope import visible_children

from ..factories import (
    gen_agency,
    gen_child,
    gen_contact,
    gen_goal,
    gen_review,
    gen_team,
    gen_user,
    org_today,
)

SPEC_COLUMNS = [
    "child_id",
    "external_id",
    "child_name",
    "primary_agency",
    "case_plan_goal",
    "goal_set_date",
    "permanency_unlikely",
    "reviews_required",
    "last_review_date",
    "next_review_due",
    "review_status",
    "two_year_deadline",
    "two_year_status",
    "days_to_deadline",
]
NARRATIVE = "Purple elephant whispers"
COORDINATOR_ORDER = [
    "Olive Overdue",  # review overdue
    "Ezra Exceeded",  # two-year timeframe exceeded
    "Dana Duesoon",  # review due soon
    "Amy Approaching",  # timeframe approaching
    "=Nora Nogoal",  # no goal recorded
    "Lee Longterm",  # the rest by next review due
    "Tom Transferred",
    "Gina Changed",
]


@pytest.fixture
def today():
    return org_today()


def _days(today, n):
    return today - timedelta(days=n)


@pytest.fixture
def org(engine, today):
    """Safe Homes (an NGO) with its team, Territory Families (government) with its team, and
    Other NGO; one child per situation the dashboard must tell apart."""
    with Session(engine, expire_on_commit=False) as s:
        ngo = gen_agency(s, "Safe Homes", kind="ngo")
        gov = gen_agency(s, "Territory Families", kind="government")
        other = gen_agency(s, "Other NGO", kind="ngo")
        team_ngo, team_gov, team_other = (
            gen_team(s, "NGO team", ngo),
            gen_team(s, "Gov team", gov),
            gen_team(s, "Other team", other),
        )
        gen_user(s, "coordinator", team_ngo, email="coord@example.org")
        gen_user(s, "coordinator", team_other, email="othercoord@example.org")
        gen_user(s, "team_leader", team_gov, email="govlead@example.org")
        gen_user(s, "admin", email="admin@example.org", agency=gov)
        ngo_worker = gen_user(s, "practitioner", team_ngo, email="ngo@example.org", name="Nia")
        gov_worker = gen_user(s, "practitioner", team_gov, email="gov@example.org", name="Gus")
        other_worker = gen_user(s, "practitioner", team_other, email="oth@example.org")
        children = {}

        def child(key, team, worker, given, family, **fields):
            children[key] = gen_child(
                s, team, worker, given_name=given, family_name=family, external_id=key, **fields
            )
            return children[key]

        def goal(kid, name, days_ago=None, date_set=None, **fields):
            record = CasePlanGoalRecord(
                child_id=kid.id,
                goal=name,
                date_set=date_set or _days(today, days_ago),
                **fields,
            )
            s.add(record)
            s.flush()
            return record

        def review(kid, record, review_date):
            s.add(
                GoalReview(
                    child_id=kid.id, goal_id=record.id, review_date=review_date, progress="on_track"
                )
            )

        a = child("A", team_ngo, ngo_worker, "Olive", "Overdue")
        review(a, goal(a, "restoration", 600), _days(today, 200))
        b = child("B", team_gov, gov_worker, "Gary", "Government")
        goal(b, "guardianship", 100)
        c = child("C", team_ngo, ngo_worker, "Ezra", "Exceeded")
        c_goal = goal(c, "adoption", 800)
        review(c, c_goal, _days(today, 30))
        s.add(
            GoalExtension(
                child_id=c.id, goal_id=c_goal.id, applied_date=_days(today, 100), reason="Court"
            )
        )
        d = child("D", team_ngo, ngo_worker, "Amy", "Approaching")
        review(
            d,
            goal(d, "guardianship", date_set=add_months(today, -24) + timedelta(days=60)),
            _days(today, 10),
        )
        e = child("E", team_ngo, ngo_worker, "Lee", "Longterm")
        review(e, goal(e, "long_term_care", 1000), _days(today, 300))
        f = child("F", team_ngo, ngo_worker, "Gina", "Changed")
        review(f, goal(f, "restoration", 900), _days(today, 60))  # before the new goal
        goal(f, "guardianship", 30)
        g = child("G", team_ngo, ngo_worker, "Dana", "Duesoon")
        review(
            g,
            goal(g, "family_preservation", 200),
            add_months(today, -3) + timedelta(days=7),
        )
        child("H", team_ngo, ngo_worker, "=Nora", "Nogoal")
        i = child("I", team_gov, gov_worker, "Tom", "Transferred", primary_agency=ngo)
        goal(i, "family_preservation", 10)
        j = child("J", team_other, other_worker, "Xena", "Elsewhere")
        goal(j, "adoption", 50)
        child("K", team_ngo, ngo_worker, "Eve", "Ended", care_end_date=_days(today, 5))

        # Contact narratives coordinators must never see (SPEC §2).
        gen_contact(s, a, ngo_worker, child_views=NARRATIVE, worries=NARRATIVE)
        gen_contact(s, i, gov_worker, child_views=NARRATIVE, worries=NARRATIVE)

        # Open requests (F's older than A's), one answered, one outside the scope.
        now = datetime.now()
        for kid, worker, days_ago, reason in (
            (a, ngo_worker, 2, "Restoration stalled"),
            (f, ngo_worker, 9, "New goal questions"),
            (c, ngo_worker, 20, "Answered already"),
            (j, other_worker, 30, "Elsewhere request"),
        ):
            s.add(
                ConsultationRequest(
                    child_id=kid.id,
                    requested_by_id=worker.id,
                    requested_at=now - timedelta(days=days_ago),
                    reason=reason,
                )
            )
        s.flush()
        answered = s.scalar(
            select(ConsultationRequest).where(ConsultationRequest.reason == "Answered already")
        )
        s.add(
            PermanencyConsultation(
                child_id=c.id,
                consultation_date=_days(today, 15),
                kind="formal",
                trigger="requested",
                recommendations="Proceed",
                request_id=answered.id,
            )
        )
        for kid in children.values():
            refresh_permanency_mirror(s, kid, today)
        s.commit()
        return {"children": children, "ngo": ngo, "gov": gov}


def _order(html: str) -> list[str]:
    table = html.split('<table class="compliance permanency">', 1)[1]
    return re.findall(r'<td data-label="Child"><a href="/children/[^"]+">([^<]+)</a>', table)


def _api(client, query=""):
    response = client.get(f"/api/permanency{query}")
    assert response.status_code == 200, response.text
    return response.get_json()


def _by_name(body):
    return {row["child_name"]: row for row in body["rows"]}


def test_coordinator_page_lists_their_agency_most_urgent_first(client, auth, org):
    auth.login("coord@example.org")
    response = client.get("/permanency")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.text
    assert "<h1>Permanency reviews</h1>" in html
    for header in (
        "Child",
        "Case plan goal",
        "Goal set",
        "Next review due",
        "Review status",
        "Two-year timeframe",
        "Last review",
        "Agency",
    ):
        assert f'<th scope="col">{header}</th>' in html
    assert _order(html) == COORDINATOR_ORDER
    assert 'tile-number">1</span> reviews overdue' in html
    assert 'tile-number">1</span> reviews due soon' in html
    assert 'tile-number">1</span> past the two-year timeframe' in html
    assert 'tile-number">1</span> approaching two years' in html
    assert 'tile-number">1</span> no goal recorded' in html
    a_id = org["children"]["A"].id
    assert f'<a href="/children/{a_id}">Olive Overdue</a>' in html
    assert "Eve Ended" not in html and "Gary Government" not in html and "Xena" not in html
    assert "Extension applied" in html and ": Pending" in html


def test_rows_and_statuses_as_of_today(client, auth, org, today):
    auth.login("coord@example.org")
    body = _api(client)
    assert body["as_of"] == today.isoformat()
    rows = _by_name(body)
    assert [row["child_name"] for row in body["rows"]] == COORDINATOR_ORDER
    a_set, a_review = _days(today, 600), _days(today, 200)
    a_due, a_deadline = add_months(a_review, 6), add_months(a_set, 24)
    assert rows["Olive Overdue"] == {
        "child_id": str(org["children"]["A"].id),
        "external_id": "A",
        "child_name": "Olive Overdue",
        "primary_agency": "Safe Homes",
        "case_plan_goal": "restoration",
        "goal_set_date": a_set.isoformat(),
        "permanency_unlikely": False,
        "reviews_required": True,
        "last_review_date": a_review.isoformat(),
        "next_review_due": a_due.isoformat(),
        "review_status": "overdue",
        "two_year_deadline": a_deadline.isoformat(),
        "two_year_status": "within",
        "days_to_deadline": (a_deadline - today).days,
    }
    assert rows["Ezra Exceeded"]["two_year_status"] == "exceeded"
    assert rows["Ezra Exceeded"]["review_status"] == "on_track"
    assert rows["Ezra Exceeded"]["days_to_deadline"] < 0
    assert rows["Amy Approaching"]["two_year_status"] == "approaching"
    assert 0 < rows["Amy Approaching"]["days_to_deadline"] <= 90
    assert rows["Dana Duesoon"]["review_status"] == "due_soon"
    long_term = rows["Lee Longterm"]
    assert (long_term["two_year_status"], long_term["two_year_deadline"]) == (
        "not_applicable",
        None,
    )
    assert long_term["days_to_deadline"] is None
    assert long_term["next_review_due"] == add_months(_days(today, 300), 12).isoformat()
    # A new goal restarts the timeframe; the review of the old goal does not count.
    changed = rows["Gina Changed"]
    assert changed["case_plan_goal"] == "guardianship"
    assert changed["last_review_date"] is None
    assert changed["next_review_due"] == add_months(_days(today, 30), 6).isoformat()
    assert changed["two_year_deadline"] == add_months(_days(today, 30), 24).isoformat()
    assert changed["two_year_status"] == "within"
    nogoal = rows["=Nora Nogoal"]
    assert (nogoal["case_plan_goal"], nogoal["review_status"], nogoal["next_review_due"]) == (
        None,
        "no_goal",
        None,
    )
    assert rows["Tom Transferred"]["primary_agency"] == "Safe Homes"
    assert rows["Tom Transferred"]["review_status"] == "on_track"


def test_government_child_is_shown_but_not_required(client, auth, org, today):
    auth.login("govlead@example.org")
    rows = _by_name(_api(client))
    assert sorted(rows) == ["Gary Government", "Tom Transferred"]
    gary = rows["Gary Government"]
    assert (gary["reviews_required"], gary["review_status"]) == (False, "not_required")
    assert gary["next_review_due"] == add_months(_days(today, 100), 6).isoformat()


def test_as_at_a_past_date_uses_the_goal_and_reviews_in_force_then(client, auth, org, today):
    as_of = _days(today, 45)
    auth.login("coord@example.org")
    body = _api(client, f"?as_of={as_of.isoformat()}")
    assert body["as_of"] == as_of.isoformat()
    rows = _by_name(body)
    assert sorted(rows) == sorted([*COORDINATOR_ORDER, "Eve Ended"])  # still in care then
    assert rows["Eve Ended"]["review_status"] == "no_goal"
    changed = rows["Gina Changed"]  # the old goal and its review were in force then
    assert changed["case_plan_goal"] == "restoration"
    assert changed["last_review_date"] == _days(today, 60).isoformat()
    assert changed["two_year_status"] == "exceeded"
    assert changed["review_status"] == "on_track"
    ezra = rows["Ezra Exceeded"]  # its review 30 days ago came after the date asked about
    assert ezra["last_review_date"] is None
    assert ezra["next_review_due"] == add_months(_days(today, 800), 6).isoformat()
    assert ezra["review_status"] == "overdue"
    assert rows["Olive Overdue"]["review_status"] == "on_track"
    assert rows["Tom Transferred"]["review_status"] == "no_goal"  # goal set 10 days ago
    page = client.get(f"/permanency?as_of={as_of.isoformat()}").text
    assert f"as at {as_of:%d/%m/%Y}" in page
    assert _order(page)[0] == "Ezra Exceeded"


def test_filters(client, auth, org):
    auth.login("coord@example.org")
    names = lambda q: [r["child_name"] for r in _api(client, q)["rows"]]  # noqa: E731
    assert names("?goal=guardianship") == ["Amy Approaching", "Gina Changed"]
    assert names("?status=overdue") == ["Olive Overdue"]
    assert names("?status=no_goal") == ["=Nora Nogoal"]
    assert names(f"?agency={org['gov'].id}") == []
    page = client.get("/permanency?status=due_soon").text
    assert _order(page) == ["Dana Duesoon"]
    assert 'tile-number">1</span> reviews overdue' in page  # counts ignore the status filter
    # A coordinator's agency choices are the agencies present in their scope.
    assert re.findall(r'<option value="(\d+)" ?>([^<]+)</option>', page.split('id="agency"')[1])[
        :1
    ] == [(str(org["ngo"].id), "Safe Homes")]
    assert "Territory Families" not in page
    auth.logout()
    auth.login("govlead@example.org")
    assert names(f"?agency={org['gov'].id}") == ["Gary Government"]
    assert names(f"?agency={org['ngo'].id}") == ["Tom Transferred"]
    page = client.get(f"/permanency?agency={org['gov'].id}").text
    assert _order(page) == ["Gary Government"]
    assert f'<option value="{org["gov"].id}" selected>Territory Families</option>' in page


def test_csv_has_the_spec_columns_the_pages_rows_and_no_formulas(client, auth, org, today):
    auth.login("coord@example.org")
    page_names = _order(client.get("/permanency").text)
    response = client.get("/permanency.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == SPEC_COLUMNS
    names = [row[2] for row in rows[1:]]
    assert names == ["'=Nora Nogoal" if n == "=Nora Nogoal" else n for n in page_names]
    api_rows = _api(client)["rows"]
    for line, api_row in zip(rows[1:], api_rows, strict=True):
        expected = [
            ""
            if api_row[c] is None
            else str(api_row[c]).lower()
            if isinstance(api_row[c], bool)
            else str(api_row[c])
            for c in SPEC_COLUMNS
        ]
        expected[2] = "'" + expected[2] if expected[2].startswith("=") else expected[2]
        assert line == expected
    ezra = next(line for line in rows if line[2] == "Ezra Exceeded")
    assert int(ezra[13]) < 0  # a negative number stays a number
    assert (ezra[6], ezra[7]) == ("false", "true")
    filtered = list(csv.reader(io.StringIO(client.get("/permanency.csv?status=overdue").text)))
    assert [row[2] for row in filtered[1:]] == ["Olive Overdue"]


def test_api_per_role_exact_lists(client, auth, org):
    expected = {
        "coord@example.org": sorted(COORDINATOR_ORDER),
        "govlead@example.org": ["Gary Government", "Tom Transferred"],
        "gov@example.org": ["Gary Government", "Tom Transferred"],
        "ngo@example.org": sorted(set(COORDINATOR_ORDER) - {"Tom Transferred"}),
        "othercoord@example.org": ["Xena Elsewhere"],
    }
    for email, names in expected.items():
        auth.login(email)
        assert sorted(_by_name(_api(client))) == names, email
        auth.logout()
    auth.login("admin@example.org")
    response = client.get("/api/permanency")
    assert response.status_code == 404
    assert response.get_json() == {"error": "Not found."}
    assert client.get("/permanency").status_code == 404
    assert client.get("/permanency.csv").status_code == 404


def test_practitioner_gets_data_but_not_the_page(client, auth, org):
    auth.login("gov@example.org")
    assert client.get("/permanency").status_code == 404
    rows = list(csv.reader(io.StringIO(client.get("/permanency.csv").text)))
    assert sorted(row[2] for row in rows[1:]) == [
        "Gary Government",
        "Tom Transferred",
    ]


@pytest.mark.parametrize("path", ["/permanency", "/permanency.csv", "/api/permanency"])
@pytest.mark.parametrize("as_of", ["2026-13-01", "yesterday", "0001-01-05"])
def test_bad_as_of_is_a_400_naming_it(client, auth, org, path, as_of):
    auth.login("coord@example.org")
    response = client.get(f"{path}?as_of={as_of}")
    assert response.status_code == 400
    assert "as_of" in response.text
    if path != "/permanency":
        assert response.get_json()["parameter"] == "as_of"


@pytest.mark.parametrize("query", ["goal=marriage", "status=late", "agency=x", "page=0"])
def test_other_bad_parameters_are_a_400_naming_them(client, auth, org, query):
    auth.login("coord@example.org")
    response = client.get(f"/permanency?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.text


def test_a_future_as_of_is_corrected_to_today(client, auth, org, today):
    auth.login("coord@example.org")
    future = today + timedelta(days=30)
    page = client.get(f"/permanency?as_of={future.isoformat()}")
    assert page.status_code == 200
    assert f"{future:%d/%m/%Y} is in the future: showing today instead." in page.text
    assert f'name="as_of" value="{today.isoformat()}"' in page.text
    assert _order(page.text) == COORDINATOR_ORDER
    assert _api(client, f"?as_of={future.isoformat()}")["as_of"] == today.isoformat()


def test_views_and_exports_are_audited(client, auth, org, db):
    auth.login("coord@example.org")
    client.get("/permanency")
    client.get("/permanency.csv")
    client.get("/api/permanency")
    events = (
        db()
        .execute(
            select(AuditEvent.action, AuditEvent.detail)
            .where(AuditEvent.object_type == "permanency")
            .order_by(AuditEvent.id)
        )
        .all()
    )
    assert [action for action, _ in events] == ["view", "export", "export"]
    assert events[1].detail["rows"] == len(COORDINATOR_ORDER)
    assert events[2].detail["api"] is True


def test_no_contact_narrative_anywhere(client, auth, org):
    for email in ("coord@example.org", "govlead@example.org"):
        auth.login(email)
        for path in ("/permanency", "/permanency.csv", "/api/permanency"):
            text = client.get(path).text
            assert "Olive Overdue" in text or "Tom Transferred" in text
            assert "elephant" not in text.lower(), (email, path)
        auth.logout()


def test_open_requests_are_listed_at_the_top_oldest_first(client, auth, org):
    auth.login("coord@example.org")
    html = client.get("/permanency").text
    section = html.split('id="requests-heading"', 1)[1].split('id="children-heading"', 1)[0]
    assert "Open consultation requests (2)" in section
    listed = re.findall(r'<li><a href="/children/([^"]+)">([^<]+)</a>: requested by (\w+)', section)
    children = org["children"]
    assert listed == [
        (str(children["F"].id), "Gina Changed", "Nia"),
        (str(children["A"].id), "Olive Overdue", "Nia"),
    ]
    assert "New goal questions" in section and "Restoration stalled" in section
    assert "Answered already" not in html and "Elsewhere request" not in html
    assert html.index('id="requests-heading"') < html.index('id="children-heading"')


def test_pages_of_one_hundred(client, auth, engine, today):
    with Session(engine) as s:
        agency = gen_agency(s, "Big NGO", kind="ngo")
        team = gen_team(s, "Big", agency)
        gen_user(s, "coordinator", team, email="big@example.org")
        for number in range(105):
            kid = gen_child(s, team, given_name=f"Kid{number:03d}", family_name="Many")
            s.add(CasePlanGoalRecord(child_id=kid.id, goal="restoration", date_set=today))
            refresh_permanency_mirror(s, kid, today)
        s.commit()
    auth.login("big@example.org")
    first = client.get("/permanency").text
    second = client.get("/permanency?page=2").text
    assert len(_order(first)) == 100 and len(_order(second)) == 5
    assert "Showing 101–105 of 105" in second
    assert _order(first)[:2] == ["Kid000 Many", "Kid001 Many"]


def test_the_databases_statuses_counts_and_order_agree_with_the_rules(client, auth, engine, today):
    """Statuses, counts, filters and order come from SQL (`permanency_report`); the rows show
    the R3 rules of `permanency.py`. Goals and reviews set on month ends (where due dates are
    clamped) and around every status boundary, for every interval, must agree."""
    as_of = today
    with Session(engine) as s:
        ngo = gen_agency(s, "Edge NGO", kind="ngo")
        gov = gen_agency(s, "Edge Gov", kind="government")
        team = gen_team(s, "Edge", ngo)
        gen_user(s, "coordinator", team, email="edge@example.org")
        number = 0
        for goal, (usual, intensified) in REVIEW_INTERVAL_MONTHS.items():
            for unlikely, months in ((False, usual), (True, intensified)):
                # anchors around the overdue and due-soon boundaries, and month ends
                boundaries = [add_months(as_of, -months), add_months(as_of, -24)]
                anchors = {b + timedelta(days=d) for b in boundaries for d in (-16, -15, -1, 0, 1)}
                anchors |= {add_months(as_of, -months) + timedelta(days=d) for d in range(14, 17)}
                month_ends = [add_months(date(as_of.year, as_of.month, 1), -k) for k in range(30)]
                anchors |= {m - timedelta(days=d) for m in month_ends for d in (1, 2, 3)}
                for anchor in sorted(anchors):
                    number += 1
                    kid = gen_child(
                        s,
                        team,
                        given_name=f"Kid{number:04d}",
                        family_name="Edge",
                        primary_agency=gov if number % 7 == 0 else ngo,
                        care_start_date=date(2000, 1, 1),
                    )
                    reviewed = number % 2 == 0 and anchor > add_months(as_of, -24)
                    set_date = add_months(as_of, -24) if reviewed else anchor
                    record = CasePlanGoalRecord(
                        child_id=kid.id, goal=goal, date_set=set_date, permanency_unlikely=unlikely
                    )
                    s.add(record)
                    s.flush()
                    if reviewed and anchor >= set_date:
                        s.add(
                            GoalReview(
                                child_id=kid.id,
                                goal_id=record.id,
                                review_date=anchor,
                                progress="on_track",
                            )
                        )
                    refresh_permanency_mirror(s, kid, today)
        s.commit()
    auth.login("edge@example.org")
    rows = _api(client)["rows"]
    assert len(rows) == number
    as_rows = [
        PermanencyRow(
            child_id=row["child_id"],
            external_id=row["external_id"],
            child_name=row["child_name"],
            primary_agency_id=0,
            primary_agency=row["primary_agency"],
            agency_kind="ngo" if row["reviews_required"] else "government",
            case_plan_goal=row["case_plan_goal"],
            goal_set_date=_date(row["goal_set_date"]),
            permanency_unlikely=row["permanency_unlikely"],
            reviews_required=row["reviews_required"],
            last_review_date=_date(row["last_review_date"]),
            next_review_due=_date(row["next_review_due"]),
            review_status=row["review_status"],
            days_overdue=0,
            two_year_deadline=_date(row["two_year_deadline"]),
            two_year_status=row["two_year_status"],
            days_to_deadline=row["days_to_deadline"],
            extension=None,
            extension_applied_date=None,
        )
        for row in rows
    ]
    assert [r.child_id for r in sorted(as_rows, key=urgency)] == [r.child_id for r in as_rows]
    statuses = {row["child_id"]: row["review_status"] for row in rows}
    for status in ("overdue", "due_soon", "on_track", "not_required"):
        filtered = [row["child_id"] for row in _api(client, f"?status={status}")["rows"]]
        assert filtered == [row["child_id"] for row in rows if row["review_status"] == status]
    assert len(set(statuses.values()) - {"no_goal"}) == 4
    page = client.get("/permanency").text
    assert _order(page) == [row["child_name"] for row in rows[:100]]
    for tile, count in (
        ("reviews overdue", sum(r["review_status"] == "overdue" for r in rows)),
        ("reviews due soon", sum(r["review_status"] == "due_soon" for r in rows)),
        ("past the two-year timeframe", sum(r["two_year_status"] == "exceeded" for r in rows)),
        ("approaching two years", sum(r["two_year_status"] == "approaching" for r in rows)),
    ):
        assert f'tile-number">{count}</span> {tile}' in page
    second = client.get("/permanency?page=2&status=on_track").text
    on_track = [row["child_name"] for row in rows if row["review_status"] == "on_track"]
    assert _order(second) == on_track[100:200]


def _date(value):
    return date.fromisoformat(value) if value else None


def test_as_at_today_the_childs_mirror_gives_the_rows_the_history_gives(engine, today):
    """ "As at" today the statement reads the goal in force and its latest review from the
    child (`refresh_permanency_mirror`); any other day looks them up in the history. For today
    both must give the same rows, counts and pages, whatever the history: several goals, two
    set the same day, reviews before and after a change of goal (one dated after the new goal
    but of the old one), a review dated before its goal, goals and reviews imported, goals set
    and reviewed today, extension applications, children out of care."""
    with Session(engine, expire_on_commit=False) as s:
        ngo = gen_agency(s, "Mirror NGO", kind="ngo")
        gov = gen_agency(s, "Mirror Gov", kind="government")
        team = gen_team(s, "Mirror", ngo)
        gen_user(s, "coordinator", team, email="mirror@example.org")
        kids = []
        goals = ("restoration", "guardianship", "adoption", "long_term_care")
        for number in range(40):
            kid = gen_child(
                s,
                team,
                given_name=f"Kid{number:02d}",
                family_name="Mirror",
                external_id=f"MIR-{number:02d}",
                primary_agency=gov if number % 9 == 4 else ngo,
                care_start_date=today - timedelta(days=2000),
                care_end_date=_days(today, 3) if number % 13 == 12 else None,
            )
            kids.append(kid)
            if number % 10 == 0:
                continue  # no goal at all
            first = gen_goal(
                s,
                kid,
                goals[number % 4],
                date_set=_days(today, 900 - number * 7),
                permanency_unlikely=number % 3 == 0,
            )
            for k in range(number % 4):
                gen_review(s, kid, first, review_date=_days(today, 850 - number * 7 - k * 90))
            if number % 5 == 1:
                gen_review(s, kid, first, review_date=_days(today, 905 - number * 7))  # before
            if number % 2 == 0:
                changed = _days(today, 300 - number * 5)
                if number % 8 == 2:
                    # a review of the first goal dated after the next goal was set
                    gen_review(s, kid, first, review_date=changed + timedelta(days=3))
                second = gen_goal(s, kid, goals[(number + 1) % 4], date_set=changed)
                if number % 6 == 0:  # two goals set the same day: the later recorded counts
                    second = gen_goal(s, kid, goals[(number + 2) % 4], date_set=changed)
                for k in range(number % 3):
                    gen_review(s, kid, second, review_date=changed + timedelta(days=60 + 90 * k))
                if number % 7 == 0:
                    s.add(
                        GoalExtension(
                            child_id=kid.id,
                            goal_id=second.id,
                            applied_date=_days(today, 5),
                            reason="Court",
                        )
                    )
            if number % 11 == 3:
                today_goal = gen_goal(s, kid, "guardianship", date_set=today)
                gen_review(s, kid, today_goal, review_date=today)
        s.commit()
        # Goals and reviews from the previous system (import-permanency, import-children).
        csv_lines = ["external_id,event,date,case_plan_goal,progress"]
        for number in (3, 5, 10, 17, 21):
            csv_lines += [
                f"MIR-{number:02d},goal_set,{_days(today, 200)},adoption,",
                f"MIR-{number:02d},review,{_days(today, 20)},,on_track",
            ]
        csv_lines.append(f"MIR-07,review,{_days(today, 2)},,progress_concerns")
        import_permanency(s, "\n".join(csv_lines) + "\n", today)
        s.commit()
        import_children(
            s,
            "external_id,given_name,family_name,date_of_birth,care_start_date,team,"
            "case_plan_goal,goal_set_date\n"
            f"MIR-09,Kid09,Mirror,2015-01-01,{_days(today, 2000)},Mirror,"
            f"long_term_care,{_days(today, 100)}\n"
            f"MIR-50,New,Mirror,2016-01-01,{_days(today, 400)},Mirror,"
            f"restoration,{_days(today, 300)}\n",
            today,
        )
        s.commit()

        for kid in s.scalars(select(Child)):  # the mirror is the history's answer for today
            goal = goal_in_force(s, kid.id, today)
            assert (kid.current_goal_id, kid.last_review_date) == (
                (goal.id, last_review_date(s, goal, today)) if goal else (None, None)
            )
        children = visible_children(
            s.scalar(select(User).where(User.email == "mirror@example.org"))
        )
        mirrored = permanency_rows(s, children, today, today=today)
        history = permanency_rows(s, children, today)
        assert len(mirrored) == 38
        assert {row.review_status for row in mirrored} >= {"overdue", "on_track", "no_goal"}
        assert any(row.extension for row in mirrored)
        assert mirrored == history
        for filters in (
            {},
            {"goal": "adoption"},
            *({"review_status": status} for status in REVIEW_STATUSES),
        ):
            for offset in (0, 10):
                assert permanency_overview(
                    s, children, today, **filters, limit=10, offset=offset, today=today
                ) == permanency_overview(s, children, today, **filters, limit=10, offset=offset)
        # The mirror is what "as at" today reads: a wrong mirror shows (a past day does not).
        kid = s.scalar(select(Child).where(Child.external_id == "MIR-21"))
        kid.last_review_date = None
        s.flush()
        assert permanency_rows(s, children, today, today=today) != history
        yesterday = _days(today, 1)
        assert permanency_rows(s, children, yesterday, today=today) == permanency_rows(
            s, children, yesterday
        )
