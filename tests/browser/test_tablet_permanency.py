"""Permanency and Youth Justice on the offline tablet (SPEC §3 R3, R12; §4 `child`): the child's
screen shows the case plan goal, next review due, the two-year timeframe (its status computed on
the device by static/js/tablet/permanency.js, which must agree with services/permanency.py on
the shared vectors) and the Youth Justice collaboration, all from the encrypted local store."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from fieldapp.models import Child, YouthJusticeRecord
from fieldapp.services import permanency as rules
from fieldapp.services.clock import today_in

from ..factories import gen_agency, gen_goal, gen_review
from .conftest import TIMEZONE
from .tablet_pages import first_visit, unlock

pytestmark = pytest.mark.browser

MODULE = "/static/js/tablet/permanency.js"


def dmy(value) -> str:
    return value.strftime("%d/%m/%Y")


@pytest.fixture
def planned(caseload, engine):
    """Mia: Aboriginal, held by an NGO, guardianship set 660 days ago (the two-year timeframe
    approaching), reviewed 40 days ago; at risk, with a Youth Justice collaboration."""
    today = today_in(TIMEZONE)
    with Session(engine, expire_on_commit=False) as session:
        mia = session.get(Child, caseload.child.id)
        mia.aboriginal_status = "aboriginal"
        mia.primary_agency = gen_agency(session, "Top End Kids", "ngo")
        goal = gen_goal(session, mia, "guardianship", date_set=today - timedelta(days=660))
        gen_review(session, mia, goal, review_date=today - timedelta(days=40))
        session.add(
            YouthJusticeRecord(
                child_id=mia.id,
                status="at_risk",
                lead_practitioner="Pat Practitioner",
                officers=[
                    {
                        "name": "Dana <b>Cooper</b>",
                        "team": "community_support_programs",
                        "contact": "08 8999 1234",
                    },
                    {"name": "Troy Maher", "team": "detention_operations", "contact": None},
                ],
                court_order_conditions="Home by 8pm; attend school every day",
                plan_actions=[
                    {
                        "description": "Enrol in the Back on Track program",
                        "due_date": (today + timedelta(days=14)).isoformat(),
                    }
                ],
            )
        )
        mia.youth_justice_status = "at_risk"
        session.commit()
        deadline = rules.two_year_deadline("guardianship", goal.date_set)
        return {
            "goal_set": goal.date_set,
            "next_review_due": rules.next_review_due(
                "guardianship", goal.date_set, False, today - timedelta(days=40)
            ),
            "deadline": deadline,
            "days_left": (deadline - today).days,
            "plan_due": today + timedelta(days=14),
        }


def test_the_child_screen_shows_permanency_and_youth_justice_offline(context, planned):
    page = context.new_page()
    first_visit(page)
    page.close()

    context.set_offline(True)
    offline = context.new_page()
    offline.goto("/tablet")
    unlock(offline)
    offline.get_by_role("link", name="Mia Anderson", exact=True).click()
    expect(offline.get_by_role("heading", name="Mia Anderson", exact=True)).to_be_visible()

    facts = offline.locator("dl.facts").first
    expect(facts).to_contain_text("Aboriginal and Torres Strait Islander status")
    expect(facts).to_contain_text("Aboriginal")
    expect(facts).to_contain_text("Residence")
    expect(facts).to_contain_text("In the NT")

    section = offline.locator("section", has=offline.get_by_role("heading", name="Permanency"))
    expect(section).to_contain_text("Case plan goalGuardianship")
    expect(section).to_contain_text(f"Goal set{dmy(planned['goal_set'])}")
    expect(section).to_contain_text(f"Next review due{dmy(planned['next_review_due'])}")
    expect(section).to_contain_text(
        f"Two-year timeframe{dmy(planned['deadline'])} · "
        f"Approaching: {planned['days_left']} days left"
    )
    expect(section).to_contain_text("Primary case responsibilityTop End Kids")

    yj = offline.locator("section", has=offline.get_by_role("heading", name="Youth Justice"))
    expect(yj).to_contain_text("Youth Justice statusAt risk")
    expect(yj).to_contain_text("Lead practitionerPat Practitioner")
    expect(yj).to_contain_text("Court order conditionsHome by 8pm; attend school every day")
    # Text, never markup: the officer's name is shown as typed.
    expect(yj).to_contain_text("Dana <b>Cooper</b> · Community Support Programs · 08 8999 1234")
    expect(yj).to_contain_text("Troy Maher · Detention Operations")
    expect(yj).to_contain_text(
        f"Enrol in the Back on Track program · by {dmy(planned['plan_due'])}"
    )


# Runs the vectors through the tablet's two-year functions.
TIMEFRAME_ALL = """async ({module, cases}) => {
    const { twoYearDeadline, twoYearStatus } = await import(module);
    return cases.map((c) => {
        const deadline = twoYearDeadline(c.goal, c.goal_set_date);
        const { status, daysToDeadline } = twoYearStatus(deadline, c.as_of);
        return {
            two_year_deadline: deadline, two_year_status: status, days_to_deadline: daysToDeadline,
        };
    });
}"""


def test_the_tablets_two_year_timeframe_matches_the_server(page, live_server):
    vectors = json.loads((Path(__file__).parents[1] / "vectors" / "permanency.json").read_text())
    cases = vectors["schedule"]
    # Extra cases: long-term care, month-end clamping, the day of the deadline and the day after.
    cases = cases + [
        {"goal": "long_term_care", "goal_set_date": "2025-01-31", "as_of": "2026-01-01"},
        {"goal": "adoption", "goal_set_date": "2024-02-29", "as_of": "2026-02-28"},
        {"goal": "restoration", "goal_set_date": "2024-08-31", "as_of": "2026-09-01"},
        {"goal": "guardianship", "goal_set_date": "2024-10-01", "as_of": "2026-07-03"},
        {"goal": "guardianship", "goal_set_date": "2024-10-01", "as_of": "2026-07-02"},
    ]
    page.goto("/login")
    results = page.evaluate(TIMEFRAME_ALL, {"module": MODULE, "cases": cases})
    for case, result in zip(cases, results, strict=True):
        set_on, as_of = date.fromisoformat(case["goal_set_date"]), date.fromisoformat(case["as_of"])
        deadline = rules.two_year_deadline(case["goal"], set_on)
        expected = {
            "two_year_deadline": deadline.isoformat() if deadline else None,
            "two_year_status": rules.two_year_status(deadline, as_of).value,
            "days_to_deadline": (deadline - as_of).days if deadline else None,
        }
        assert result == expected, case
        if "expected" in case:
            assert result == {key: case["expected"][key] for key in expected}, case["name"]


def test_a_consultation_is_requested_from_the_tablet_with_a_connection(
    context, planned, caseload, db_session
):
    """Requesting a consultation is online-only (SPEC §5): the tablet links to the server's
    form, which records the request for the coordinator."""
    from fieldapp.models import ConsultationRequest

    page = context.new_page()
    first_visit(page)
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    page.get_by_role("link", name="Request consultation", exact=True).click()
    page.get_by_label("Reason").fill("Mother has re-engaged; is restoration possible again?")
    page.get_by_role("button", name="Send request").click()
    expect(page.get_by_role("status")).to_have_text(
        "Consultation requested from the permanency coordinator."
    )
    reasons = [r.reason for r in db_session.query(ConsultationRequest).all()]
    assert reasons == ["Mother has re-engaged; is restoration possible again?"]
    # Back in the app: the password opens it again on the child's screen.
    page.get_by_role("link", name="Back to Mia Anderson in the app").click()
    unlock(page, heading="Mia Anderson")


@pytest.mark.parametrize(
    ("role", "words", "link"),
    [
        ("coordinator", "Permanency coordinators work on the online pages", "/permanency"),
        ("admin", "Administrators manage users, teams, devices", "/admin/users"),
    ],
)
def test_a_role_that_records_no_contacts_is_told_where_its_pages_are(
    page, caseload, engine, role, words, link
):
    from ..factories import gen_user

    with Session(engine) as session:
        team = session.get(Child, caseload.child.id).team
        gen_user(session, role, team if role == "coordinator" else None, email="who@example.org")
        session.commit()
    page.goto("/tablet")
    unlock(page, email="who@example.org")
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    expect(page.get_by_text(words)).to_be_visible()
    assert page.get_by_role("link", name="Open", exact=False).get_attribute("href") == link
    expect(page.get_by_role("link", name="Mia Anderson", exact=True)).to_have_count(0)
