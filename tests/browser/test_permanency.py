"""The child page's Permanency section in real headless Chromium, found only by the accessible
names of SPEC §5: a coordinator's goal review moves "Next review due" (R3), and a team leader is
refused adoption for an Aboriginal child until a cultural consultation is recorded (R4,
`000` § Case planning, s10A(3)(e))."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.models import CasePlanGoalRecord, Child, User
from fieldapp.services.clock import today_in
from fieldapp.services.permanency import add_months
from fieldapp.services.permanency_records import record_goal

from ..factories import PASSWORD, TIMEZONE, gen_agency, gen_child, gen_team, gen_user

try:
    from playwright.sync_api import expect
except ImportError:  # the `playwright_instance` fixture skips (or, with CI=true, fails) the tests
    expect = None

pytestmark = pytest.mark.browser


@dataclass
class Team:
    leader: User
    coordinator: User
    child: Child  # Mia Anderson, Aboriginal, goal: family preservation set 30 days ago


@pytest.fixture
def team(engine) -> Team:
    today = today_in(TIMEZONE)
    with Session(engine, expire_on_commit=False) as session:
        team = gen_team(session, "Darwin North", gen_agency(session, "Territory Families"))
        practitioner = gen_user(session, "practitioner", team, email="pat@example.org")
        leader = gen_user(session, "team_leader", team, email="lee@example.org", name="Lee")
        coordinator = gen_user(session, "coordinator", team, email="coord@example.org")
        child = gen_child(
            session,
            team,
            practitioner,
            care_start_date=today - timedelta(days=400),
            given_name="Mia",
            family_name="Anderson",
            aboriginal_status="aboriginal",
        )
        record_goal(
            session,
            leader,
            child,
            goal="family_preservation",
            date_set=today - timedelta(days=30),
            permanency_unlikely=False,
            reason=None,
            coordinator_recommendation=None,
            today=today,
        )
        session.commit()
        return Team(leader, coordinator, child)


def sign_in(page, email: str, heading: str) -> None:
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()


def open_child(page) -> None:
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    expect(page.get_by_role("heading", name="Permanency", exact=True)).to_be_visible()


def fact(page, name: str):
    """A fact of the Permanency section (the page's own facts also name the goal)."""
    section = page.locator("section", has=page.get_by_role("heading", name="Permanency"))
    return section.locator(".facts > div", has=page.get_by_text(name, exact=True)).first


def dmy(day) -> str:
    return day.strftime("%d/%m/%Y")


def no_console_errors(page) -> None:
    """No script errors and no CSP violations (a refused form's 400 is expected, not an error)."""
    expected = "the server responded with a status of 400"
    assert [e for e in page.console_log.errors if expected not in e] == []
    assert page.console_log.csp_violations() == []


def test_a_coordinators_review_moves_the_next_review_due(page, team):
    today = today_in(TIMEZONE)
    sign_in(page, "coord@example.org", "Permanency reviews")  # where a coordinator lands
    open_child(page)
    expect(fact(page, "Next review due")).to_contain_text(
        dmy(add_months(today - timedelta(days=30), 3))
    )

    page.get_by_role("link", name="Record goal review", exact=True).click()
    page.get_by_label("Review date", exact=True).fill(today.isoformat())
    page.get_by_label("Progress", exact=True).select_option(label="On track")
    page.get_by_label("PSP package reviewed", exact=True).check()
    page.get_by_label("Recommendation", exact=True).fill("Keep the goal.")
    page.get_by_label("Next steps", exact=True).fill("Family group conference in May.")
    page.get_by_role("button", name="Save goal review", exact=True).click()

    expect(page.get_by_role("status")).to_have_text("Goal review recorded.")
    expect(fact(page, "Next review due")).to_contain_text(dmy(add_months(today, 3)))
    expect(page.get_by_text("Family group conference in May.")).to_be_visible()
    no_console_errors(page)


def test_adoption_for_an_aboriginal_child_waits_for_a_cultural_consultation(page, team, db_session):
    today = today_in(TIMEZONE)
    reason = "Restoration and guardianship are not practicable: no family carer is available."
    sign_in(page, "lee@example.org", "My team's children")
    open_child(page)

    def choose_adoption():
        page.get_by_role("link", name="Change case plan goal", exact=True).click()
        page.get_by_label("Case plan goal", exact=True).select_option(label="Open adoption")
        page.get_by_label("Date set", exact=True).fill(today.isoformat())
        page.get_by_label("Reason", exact=True).fill(reason)
        page.get_by_role("button", name="Save case plan goal", exact=True).click()

    choose_adoption()
    error = page.locator("#case_plan_goal-error")
    expect(error).to_contain_text("(Care Act s10A(3)(e))")
    expect(error).to_contain_text("A permanency consultation does not replace")
    expect(page.get_by_label("Reason", exact=True)).to_have_value(reason)
    expect(page.get_by_label("Case plan goal", exact=True)).to_have_value("adoption")
    assert db_session.scalars(select(CasePlanGoalRecord.goal)).all() == ["family_preservation"]

    page.get_by_role("link", name="Record cultural consultation", exact=True).click()
    page.get_by_label("Date", exact=True).fill(today.isoformat())
    page.get_by_label("Consultant", exact=True).select_option(label="An Aboriginal consultant")
    page.get_by_label("Consultant's name", exact=True).fill("Aunty June")
    page.get_by_label("Advice", exact=True).fill("Keep Mia connected to her country and kin.")
    page.get_by_role("button", name="Save cultural consultation", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Cultural consultation recorded.")

    choose_adoption()
    expect(page.get_by_role("status")).to_have_text("Case plan goal recorded.")
    expect(fact(page, "Case plan goal")).to_contain_text(f"Open adoption (set {dmy(today)})")
    db_session.rollback()
    assert sorted(db_session.scalars(select(CasePlanGoalRecord.goal)).all()) == [
        "adoption",
        "family_preservation",
    ]
    no_console_errors(page)
