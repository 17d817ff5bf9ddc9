"""The team leader's pages at tablet (768 px, held upright) and phone (390 px) widths: nothing runs
off the right edge, and axe finds nothing (issue 13)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from fieldapp.models import Team
from fieldapp.services.clock import today_in

from ..factories import PASSWORD, TIMEZONE, gen_child, gen_contact, gen_return_visit, gen_user
from .accessibility import page_scrolls_sideways, violations
from .conftest import PHONE, TABLET

PAGES = ["/", "/team/compliance", "/team/compliance?return_visit=missed", "/team/acknowledgements",
         "/team/sync-issues"]  # fmt: skip


@pytest.fixture
def team_with_a_missed_visit(caseload, engine):
    """The browser caseload's team with its leader, an interstate child who missed a return
    visit (R2), and a contact waiting for acknowledgement."""
    today = today_in(TIMEZONE)
    with Session(engine, expire_on_commit=False) as session:
        team = session.get(Team, caseload.child.team_id)
        gen_user(session, "team_leader", team, email="lee@example.org", name="Lee Leader")
        practitioner = session.merge(caseload.practitioner)
        away = gen_child(
            session,
            team,
            practitioner,
            care_start_date=today - timedelta(days=300),
            given_name="Ari",
            family_name="Interstate-Boarding-Student",
            residence="boarding_interstate",
            aboriginal_status="aboriginal",
            external_id="C-9",
        )
        seen = gen_contact(session, away, practitioner, contact_date=today - timedelta(days=10))
        gen_return_visit(
            session,
            away,
            practitioner,
            arrival_date=today - timedelta(days=60),
            departure_date=today - timedelta(days=50),
        )
        session.commit()
        return seen


def sign_in_as_the_leader(page) -> None:
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill("lee@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="My team's children")).to_be_visible()


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["768px", "390px"])
def test_team_pages_fit_and_pass_axe(browser, live_server, team_with_a_missed_visit, viewport):
    context = browser.new_context(base_url=live_server, viewport=viewport, locale="en-AU")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in_as_the_leader(page)
        for path in [*PAGES, f"/contacts/{team_with_a_missed_visit.id}"]:
            page.goto(path)
            assert page_scrolls_sideways(page) == [], f"{path} at {viewport['width']} px"
            assert violations(page) == [], path
        page.goto("/team/compliance")
        row = page.get_by_role("row").filter(has_text="Ari Interstate-Boarding-Student")
        expect(row.get_by_text("Return visit missed", exact=True)).to_be_visible()
        expect(row.get_by_text("On track", exact=True)).to_be_visible()
    finally:
        context.close()


def test_compliance_as_at_a_future_date_shows_today_says_so_and_passes_axe(
    browser, live_server, team_with_a_missed_visit
):
    """The "As at" field's `max` stops the browser submitting a future date, so the form's GET
    is sent as a stale bookmark or a typed address would send it."""
    today = today_in(TIMEZONE)
    future = today + timedelta(days=30)
    context = browser.new_context(base_url=live_server, viewport=TABLET, locale="en-AU")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in_as_the_leader(page)
        page.goto(f"/team/compliance?as_of={future.isoformat()}")
        expect(page.get_by_role("heading", name="Contact compliance", exact=True)).to_be_visible()
        expect(page.get_by_role("status")).to_have_text(
            f"As at {future:%d/%m/%Y} is in the future, so the figures are as at "
            f"today, {today:%d/%m/%Y}."
        )
        expect(page.get_by_role("status")).to_be_visible()
        expect(page.get_by_label("As at", exact=True)).to_have_value(today.isoformat())
        expect(page.get_by_text("Children in care in your team today.")).to_be_visible()
        assert violations(page) == []
    finally:
        context.close()
