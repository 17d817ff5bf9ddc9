"""The team leader's Contact compliance page, its CSV and chart, and GET /api/compliance
(issue 3; SPEC §5, §6)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from fieldapp.models import ContactParticipant

from ..factories import gen_child, gen_contact, gen_return_visit, gen_team, gen_user, org_today

SPEC_CSV_COLUMNS = [
    "child_id",
    "external_id",
    "child_name",
    "practitioner_email",
    "last_contact_date",
    "due_date",
    "status",
    "days_overdue",
]
# Issue 13: R2's missed return visits and R9's cultural support, after the SPEC's columns.
CSV_COLUMNS = [*SPEC_CSV_COLUMNS, "return_visits_missed", "cultural_support"]


@pytest.fixture
def today():
    return org_today()


@pytest.fixture
def team(engine, today):
    """Team North: Ann holds an overdue child (60 days since contact) and a due-soon one;
    Bob holds an on-track interstate First Nations child seen with an ACW."""
    with Session(engine, expire_on_commit=False) as session:
        team = gen_team(session, "North")
        leader = gen_user(session, "team_leader", team, email="leader@example.org")
        ann = gen_user(session, "practitioner", team, email="ann@example.org", name="Ann Lee")
        bob = gen_user(session, "practitioner", team, email="bob@example.org", name="Bob Ray")
        other_team = gen_team(session, "South")
        stranger = gen_user(session, "practitioner", other_team, email="sue@example.org")
        start = today - timedelta(days=500)
        overdue = gen_child(
            session, team, ann, care_start_date=start, given_name="Olive", family_name="Overdue"
        )
        gen_contact(session, overdue, ann, contact_date=today - timedelta(days=60))
        due_soon = gen_child(
            session, team, ann, care_start_date=start, given_name="=SUM(1)", family_name="Formula"
        )
        gen_contact(session, due_soon, ann, contact_date=today - timedelta(days=38))
        on_track = gen_child(
            session,
            team,
            bob,
            care_start_date=start,
            given_name="Tia",
            family_name="Track",
            residence="interstate",
            aboriginal_status="aboriginal",
        )
        seen = gen_contact(session, on_track, bob, contact_date=today - timedelta(days=5))
        session.add(
            ContactParticipant(contact=seen, role="aboriginal_community_worker", name="Rosie")
        )
        gen_return_visit(
            session,
            on_track,
            bob,
            arrival_date=today - timedelta(days=7),
            departure_date=today - timedelta(days=3),
        )
        gen_return_visit(
            session,
            on_track,
            bob,
            arrival_date=today - timedelta(days=40),
            departure_date=today - timedelta(days=35),
        )
        not_supported = gen_child(
            session,
            team,
            bob,
            care_start_date=start,
            given_name="Ned",
            family_name="Nosupport",
            aboriginal_status="both",
        )
        gen_contact(session, not_supported, bob, contact_date=today - timedelta(days=10))
        ended = gen_child(
            session,
            team,
            bob,
            care_start_date=start,
            given_name="Eve",
            family_name="Ended",
            care_end_date=today - timedelta(days=1),
        )
        theirs = gen_child(
            session,
            other_team,
            stranger,
            care_start_date=start,
            given_name="Zed",
            family_name="Elsewhere",
        )
        session.commit()
        return dict(
            leader=leader,
            ann=ann,
            bob=bob,
            overdue=overdue,
            due_soon=due_soon,
            on_track=on_track,
            not_supported=not_supported,
            ended=ended,
            theirs=theirs,
            stranger=stranger,
        )


def _child_order(html: str) -> list[str]:
    if "No children match." in html:
        return []
    table = html.split('<table class="compliance">', 1)[1]
    return re.findall(r'<td data-label="Child"><a [^>]*>([^<]+)</a>', table)


def test_leader_sees_every_child_in_care_most_overdue_first(client, auth, team):
    auth.login("leader@example.org")
    page = client.get("/team/compliance")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Contact compliance</h1>" in html
    for header in ("Child", "Practitioner", "Last face-to-face contact", "Due", "Status"):
        assert f'<th scope="col">{header}</th>' in html
    assert _child_order(html) == ["Olive Overdue", "=SUM(1) Formula", "Ned Nosupport", "Tia Track"]
    assert "Eve Ended" not in html and "Zed Elsewhere" not in html
    assert "Overdue by 18 days" in html
    assert re.search(r'tile-overdue"><span class="tile-number">1</span> overdue', html)
    assert re.search(r'tile-due-soon"><span class="tile-number">1</span> due soon', html)


def test_practitioners_numbers_side_by_side(client, auth, team):
    auth.login("leader@example.org")
    html = client.get("/team/compliance").text
    summary = html.split('class="summary-table"', 1)[1].split("</table>", 1)[0]
    ann = re.search(
        r"Ann Lee</td><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td><td[^>]*>(\d+)",
        summary,
    )
    bob = re.search(
        r"Bob Ray</td><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td><td[^>]*>(\d+)</td><td[^>]*>(\d+)",
        summary,
    )
    assert ann.groups() == ("2", "1", "1", "0")
    assert bob.groups() == ("2", "0", "0", "2")


def test_filters_by_practitioner_and_status(client, auth, team):
    auth.login("leader@example.org")
    by_bob = client.get(f"/team/compliance?practitioner={team['bob'].id}").text
    assert _child_order(by_bob) == ["Ned Nosupport", "Tia Track"]
    overdue = client.get("/team/compliance?status=overdue").text
    assert _child_order(overdue) == ["Olive Overdue"]


def test_return_visits_and_cultural_support_are_shown(client, auth, team):
    auth.login("leader@example.org")
    html = client.get("/team/compliance").text
    tia = html.split("Tia Track", 1)[1].split("</tr>", 1)[0]
    assert ": Met" in tia and ": Missed" in tia
    assert ">Yes<" in tia
    ned = html.split("Ned Nosupport", 1)[1].split("</tr>", 1)[0]
    assert "<strong>No</strong>" in ned


def test_as_of_shows_the_page_as_it_stood(client, auth, team, today):
    auth.login("leader@example.org")
    # 20 days ago Tia's latest contact (5 days ago) had not happened; her care started 480
    # days earlier and she had no contact, so she was overdue.
    as_of = (today - timedelta(days=20)).isoformat()
    html = client.get(f"/team/compliance?as_of={as_of}").text
    assert "Eve Ended" in html  # still in care then
    tia = html.split("Tia Track", 1)[1].split("</tr>", 1)[0]
    assert "Overdue by" in tia


@pytest.mark.parametrize(
    "path",
    ["/team/compliance", "/team/compliance.csv", "/api/compliance", "/team/compliance/chart.svg"],
)
@pytest.mark.parametrize("as_of", ["2026-02-30", "yesterday"])
def test_bad_as_of_is_a_400_naming_the_parameter(client, auth, team, path, as_of):
    auth.login("leader@example.org")
    response = client.get(f"{path}?as_of={as_of}")
    assert response.status_code == 400
    assert "as_of" in response.text


def test_a_future_as_at_shows_today_and_says_so(client, auth, team, today):
    """Not a dead end: the page and its CSV answer as at today; the API, for programs, refuses."""
    auth.login("leader@example.org")
    page = client.get("/team/compliance?as_of=2999-01-01")
    assert page.status_code == 200
    assert (
        f"As at 01/01/2999 is in the future, so the figures are as at today, "
        f"{today:%d/%m/%Y}." in page.text
    )
    assert f'value="{today.isoformat()}"' in page.text
    assert _child_order(page.text) == _child_order(client.get("/team/compliance").text)
    csv_answer = client.get("/team/compliance.csv?as_of=2999-01-01")
    assert csv_answer.status_code == 200
    assert (
        f"contact-compliance-{today.isoformat()}.csv" in csv_answer.headers["Content-Disposition"]
    )
    assert csv_answer.text == client.get("/team/compliance.csv").text
    assert client.get("/api/compliance?as_of=2999-01-01").status_code == 400
    assert client.get("/team/compliance/chart.svg?as_of=2999-01-01").status_code == 400


def test_bad_status_filter_is_a_400(client, auth, team):
    auth.login("leader@example.org")
    assert client.get("/team/compliance?status=late").status_code == 400


def test_csv_has_the_spec_columns_and_neutralises_formulas(client, auth, team, today):
    auth.login("leader@example.org")
    response = client.get("/team/compliance.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == CSV_COLUMNS
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [row["child_name"] for row in body] == [
        "Olive Overdue",
        "'=SUM(1) Formula",
        "Ned Nosupport",
        "Tia Track",
    ]
    olive = body[0]
    assert olive["status"] == "overdue" and olive["days_overdue"] == "18"
    assert olive["practitioner_email"] == "ann@example.org"
    assert olive["last_contact_date"] == (today - timedelta(days=60)).isoformat()
    assert olive["due_date"] == (today - timedelta(days=18)).isoformat()


def test_api_returns_rows_with_return_visits(client, auth, team):
    auth.login("leader@example.org")
    body = client.get("/api/compliance").get_json()
    assert set(body) == {"as_of", "rows"}
    tia = next(row for row in body["rows"] if row["child_name"] == "Tia Track")
    assert set(SPEC_CSV_COLUMNS) <= set(tia)
    assert [visit["status"] for visit in tia["return_visits"]] == ["missed", "met"]
    assert tia["status"] == "on_track" and tia["days_overdue"] == 0


def test_practitioner_gets_their_own_rows_from_the_api_but_not_the_page(client, auth, team):
    auth.login("ann@example.org")
    names = [row["child_name"] for row in client.get("/api/compliance").get_json()["rows"]]
    assert names == ["Olive Overdue", "=SUM(1) Formula"]
    assert client.get("/team/compliance").status_code == 404
    assert client.get("/team/compliance.csv").status_code == 404


def test_the_team_leaders_caseload_says_who_is_due_next(client, auth, team):
    auth.login("leader@example.org")
    html = client.get("/").text
    assert "Due next:" in html
    assert html.split("Due next:", 1)[1].split("</p>", 1)[0].count("=SUM(1) Formula") == 1


def test_another_teams_leader_sees_only_their_own_team(client, auth, team, engine, today):
    with Session(engine) as session:
        west = gen_team(session, "West")
        gen_user(session, "team_leader", west, email="west@example.org")
        wes = gen_user(session, "practitioner", west, email="wes@example.org")
        gen_child(
            session,
            west,
            wes,
            care_start_date=today - timedelta(days=30),
            given_name="Willa",
            family_name="West",
        )
        session.commit()
    auth.login("west@example.org")
    page = client.get("/team/compliance")
    assert page.status_code == 200
    assert _child_order(page.text) == ["Willa West"]
    rows = client.get("/api/compliance").get_json()["rows"]
    assert [row["child_name"] for row in rows] == ["Willa West"]


def test_chart_is_an_image_with_a_text_version(client, auth, team, today):
    auth.login("leader@example.org")
    page = client.get("/team/compliance").text
    assert '<img class="chart"' in page and "alt=" in page
    chart = client.get("/team/compliance/chart.svg")
    assert chart.mimetype == "image/svg+xml"
    assert chart.text.startswith("<svg") and today.strftime("%b") in chart.text
    text_version = client.get("/team/compliance/trend").text
    assert "children not overdue" in text_version


def test_signed_out_api_gets_json_401(client, team):
    response = client.get("/api/compliance")
    assert response.status_code == 401
    assert response.get_json()["error"]


def test_pages_of_one_hundred(client, auth, engine, today):
    with Session(engine) as session:
        team = gen_team(session, "Big")
        practitioner = gen_user(session, "practitioner", team)
        gen_user(session, "team_leader", team, email="big@example.org")
        for number in range(105):
            gen_child(
                session,
                team,
                practitioner,
                care_start_date=today - timedelta(days=number),
                given_name=f"Kid{number:03d}",
                family_name="Many",
            )
        session.commit()
    auth.login("big@example.org")
    first = client.get("/team/compliance").text
    second = client.get("/team/compliance?page=2").text
    assert len(_child_order(first)) == 100 and len(_child_order(second)) == 5
    assert "Showing 101–105 of 105" in second
    assert set(_child_order(first)).isdisjoint(_child_order(second))
    assert client.get("/team/compliance?page=0").status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "practitioner=%C2%B2",
        "page=%C2%B2",
        "page=9999999999999999999999999",
        "practitioner=9999999999999999999999999",
        "as_of=0001-01-05",
    ],
)
def test_odd_parameters_are_a_400_naming_them(client, auth, team, query):
    auth.login("leader@example.org")
    response = client.get(f"/team/compliance?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.text


def test_practitioner_api_lists_only_children_still_on_the_caseload(
    client, auth, team, engine, today
):
    from fieldapp.models import Child
    from fieldapp.services.allocation import allocate

    with Session(engine) as session:
        child = session.get(Child, team["overdue"].id)
        allocate(session, child, session.merge(team["bob"]), today)
        session.commit()
    auth.login("ann@example.org")
    past = (today - timedelta(days=10)).isoformat()
    names = [
        row["child_name"] for row in client.get(f"/api/compliance?as_of={past}").get_json()["rows"]
    ]
    assert names == ["=SUM(1) Formula"]


# ------------------------------------------------------------------ missed return visits (R2)


def test_a_missed_return_visit_is_counted_badged_and_filterable(client, auth, team, today):
    """Tia is on track for R1 but missed a return visit 35 days ago (R2): the page says so at
    the top, in her row and in Bob's numbers, and the leader can list just those children."""
    auth.login("leader@example.org")
    html = client.get("/team/compliance").text
    assert re.search(
        r'tile-overdue"><span class="tile-number">1</span> return visit missed in 12 months '
        r"\(1 child\)",
        html,
    )
    tia = html.split("Tia Track", 1)[1].split("</tr>", 1)[0]
    assert "On track</span>" in tia and "Return visit missed</span>" in tia
    olive = html.split("Olive Overdue", 1)[1].split("</tr>", 1)[0]
    assert "Return visit missed" not in olive
    summary = html.split('class="summary-table"', 1)[1].split("</table>", 1)[0]
    assert re.search(
        r'Bob Ray</td>(<td[^>]*>\d+</td>){4}<td data-label="Return visits missed">1<', summary
    )
    assert re.search(
        r'Ann Lee</td>(<td[^>]*>\d+</td>){4}<td data-label="Return visits missed">0<', summary
    )

    missed = client.get("/team/compliance?return_visit=missed").text
    assert _child_order(missed) == ["Tia Track"]
    assert "Children (1)" in missed
    assert 'option value="missed" selected' in missed
    assert (
        _child_order(client.get("/team/compliance?return_visit=missed&status=overdue").text) == []
    )
    bad = client.get("/team/compliance?return_visit=late")
    assert bad.status_code == 400 and "return_visit" in bad.text


def test_a_visit_still_under_way_is_not_missed(client, auth, team, today):
    auth.login("leader@example.org")
    # 36 days ago the visit (40 to 35 days ago) was still under way: pending, not missed.
    before = client.get(f"/team/compliance?as_of={(today - timedelta(days=36)).isoformat()}").text
    assert "Return visit missed" not in before
    assert re.search(r'tile-number">0</span> return visits missed', before)
    then = (today - timedelta(days=36)).isoformat()
    assert _child_order(client.get(f"/team/compliance?return_visit=missed&as_of={then}").text) == []
    after = client.get(f"/team/compliance?as_of={(today - timedelta(days=34)).isoformat()}").text
    assert "Return visit missed</span>" in after.split("Tia Track", 1)[1].split("</tr>", 1)[0]


def test_csv_and_api_carry_missed_visits_and_cultural_support(client, auth, team):
    auth.login("leader@example.org")
    rows = list(csv.DictReader(io.StringIO(client.get("/team/compliance.csv").text)))
    by_name = {row["child_name"]: row for row in rows}
    assert by_name["Tia Track"]["return_visits_missed"] == "1"
    assert by_name["Tia Track"]["cultural_support"] == "true"
    assert by_name["Ned Nosupport"]["cultural_support"] == "false"
    assert by_name["Olive Overdue"]["return_visits_missed"] == "0"
    assert by_name["Olive Overdue"]["cultural_support"] == ""  # R9 is for First Nations children
    api = {row["child_name"]: row for row in client.get("/api/compliance").get_json()["rows"]}
    assert api["Tia Track"]["return_visits_missed"] == 1
    assert api["Tia Track"]["cultural_support"] is True
    assert api["Olive Overdue"]["cultural_support"] is None
    assert [
        row["child_name"]
        for row in client.get("/api/compliance?return_visit=missed").get_json()["rows"]
    ] == ["Tia Track"]


def test_download_csv_sends_what_the_form_says(client, auth, team, today):
    """The CSV button submits the same form: an "As at" or filter changed but not yet shown is
    what the file holds."""
    auth.login("leader@example.org")
    html = client.get("/team/compliance").text
    form = html.split('<form method="get" class="filters"', 1)[1].split("</form>", 1)[0]
    assert 'formaction="/team/compliance.csv"' in form
    assert all(
        f'name="{name}"' in form for name in ("as_of", "practitioner", "status", "return_visit")
    )
    # What the browser sends when the leader picks "Missed" and Bob, then presses the button.
    as_of = (today - timedelta(days=1)).isoformat()
    answer = client.get(
        f"/team/compliance.csv?as_of={as_of}&practitioner={team['bob'].id}&status=&return_visit=missed"
    )
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [row["child_name"] for row in rows] == ["Tia Track"]
    assert f"contact-compliance-{as_of}.csv" in answer.headers["Content-Disposition"]


def test_the_team_home_counts_overdue_children_and_badges_a_missed_return_visit(client, auth, team):
    """The team home says how many children are overdue (Olive) and, beside R1's "On track",
    that Tia missed a return visit (R2); a child without one has no such badge."""
    auth.login("leader@example.org")
    html = client.get("/").text
    assert "My team&#39;s children" in html or "My team's children" in html
    assert "<strong>1 overdue</strong>" in html
    assert "<strong>1 with a return visit missed</strong>" in html
    tia = html.split("Tia Track", 1)[1].split("</tr>", 1)[0]
    assert "On track</span>" in tia and "Return visit missed</span>" in tia
    olive = html.split("Olive Overdue", 1)[1].split("</tr>", 1)[0]
    assert "Overdue by 18 days" in olive and "Return visit missed" not in olive
