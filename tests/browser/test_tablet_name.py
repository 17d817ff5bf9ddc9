"""The practitioner names the tablet (issue 13, devices): the name reaches the server with the
next sync, so an admin can tell a practitioner's tablets apart and revoke the right one; and the
tablet says at each sync how many changes it holds unsent."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.models import Device

from .accessibility import violations
from .tablet_pages import first_visit, wait_until


def test_a_tablet_named_on_the_caseload_is_known_by_that_name(context, caseload, engine):
    page = context.new_page()
    first_visit(page)

    def names() -> list[str]:
        with Session(engine) as session:
            return list(session.scalars(select(Device.name)))

    assert names() and "Jo's iPad" not in names()  # registered by its browser first
    page.get_by_label("Tablet name", exact=True).fill("Jo's iPad")
    page.get_by_role("button", name="Save tablet name", exact=True).click()
    wait_until(page, lambda: names() == ["Jo's iPad"])
    with Session(engine) as session:
        device = session.scalar(select(Device))
        assert device.user_agent and "Chrome" in device.user_agent
        # Each pull says how many changes the tablet holds unsent: none, once synced.
        assert device.unsent_changes == 0


def test_the_caseload_with_the_tablet_name_form_passes_axe(context, caseload):
    page = context.new_page()
    first_visit(page)
    expect(page.get_by_role("heading", name="My caseload", exact=True)).to_be_visible()
    expect(page.get_by_label("Tablet name", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Save tablet name", exact=True)).to_be_visible()
    assert violations(page) == []
