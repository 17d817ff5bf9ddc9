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
@pytest.mark.parametrize("as_of", ["2026-02-30", "yesterday", "2999-01-01"])
def test_bad_as_of_is_a_400_naming_the_parameter(client, auth, team, path, as_of):
    auth.login("leader@example.org")
    response = client.get(f"{path}?as_of={as_of}")
    assert response.status_code == 400
    assert "as_of" in response.text


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
    assert rows[0] == SPEC_CSV_COLUMNS
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
