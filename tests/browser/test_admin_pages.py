"""The admin's pages at tablet (768 px) and phone (390 px) widths (issue 13): nothing runs off the
right edge and axe finds nothing, in every state the pages have (a locked account, a tablet out
of touch, a form with errors, the last admin's refusal, the forced password change)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from fieldapp.models import Device
from fieldapp.models.base import utcnow
from fieldapp.services.audit import record_event

from ..factories import PASSWORD, gen_user
from .accessibility import page_scrolls_sideways, violations
from .conftest import PHONE, TABLET

TEMPORARY = "plum kettle onward heron"


@pytest.fixture
def admin_org(caseload, engine):
    """The browser caseload, its practitioner locked out with a tablet not synced for two days,
    an admin, and a few audit events."""
    with Session(engine, expire_on_commit=False) as session:
        admin = gen_user(session, "admin", email="ada@example.org", name="Ada Admin")
        practitioner = session.merge(caseload.practitioner)
        # Given a temporary password (the test factory's) by an admin.
        coordinator = gen_user(
            session, "coordinator", practitioner.teams[0], email="cy@example.org",
            name="Cy Coordinator", must_change_password=True,
        )  # fmt: skip
        practitioner.failed_logins = 10
        practitioner.locked_until = utcnow() + timedelta(minutes=15)
        device = Device(
            id=uuid.uuid4(),
            user_id=practitioner.id,
            name="Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) ",
            last_seen_at=utcnow() - timedelta(days=2),
        )
        session.add(device)
        record_event(session, user_id=None, action="login", object_type="user",
                     outcome="failed", detail={"email": "pat@example.org"})  # fmt: skip
        record_event(session, user_id=practitioner.id, action="view", object_type="child",
                     object_id=caseload.child.id)  # fmt: skip
        session.commit()
        return admin, practitioner, coordinator


def _sign_in(page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()


def _check(page, what: str, width: int) -> None:
    assert page_scrolls_sideways(page) == [], f"{what} at {width} px"
    assert violations(page) == [], what
    assert "UTC" not in page.content(), what


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["768px", "390px"])
def test_admin_pages_fit_and_pass_axe(browser, live_server, admin_org, viewport):
    admin, practitioner, coordinator = admin_org
    context = browser.new_context(
        base_url=live_server, viewport=viewport, locale="en-AU", timezone_id="Australia/Darwin"
    )
    context.set_default_timeout(10_000)
    width = viewport["width"]
    try:
        page = context.new_page()
        _sign_in(page, admin.email)
        expect(page.get_by_role("heading", name="Users")).to_be_visible()
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Devices").click()
        expect(page.get_by_role("heading", name="Devices")).to_be_visible()
        expect(page.locator('td[data-label="Browser and system"]')).to_have_text(
            "Unknown browser on Android 14"
        )
        for path in ("/admin/users", "/admin/devices", "/admin/audit", "/admin/teams",
                     "/admin/import", "/admin/audit?child=nobody"):  # fmt: skip
            page.goto(path)
            _check(page, path, width)

        # One account: locked, with a tablet out of touch.
        page.goto("/admin/users")
        page.get_by_role("link", name=practitioner.name, exact=True).click()
        expect(page.get_by_role("heading", name=practitioner.name)).to_be_visible()
        expect(page.get_by_role("button", name="Unlock account")).to_be_visible()
        _check(page, "the account page", width)
        page.get_by_label("Name", exact=True).fill("")
        page.get_by_role("button", name="Save changes").click()
        expect(page.get_by_role("alert")).to_contain_text("Name is required.")
        _check(page, "the account page with errors", width)
        page.get_by_role("link", name="Deactivate account").click()
        expect(
            page.get_by_role("heading", name="A tablet may hold work not yet sent")
        ).to_be_visible()
        _check(page, "the deactivation page with its warning", width)
        page.get_by_role("link", name="Cancel").click()
        page.get_by_label("Temporary password", exact=True).fill(TEMPORARY)
        page.get_by_role("button", name="Set temporary password").click()
        expect(page.get_by_role("status")).to_contain_text("has a temporary password")
        _check(page, "the account page after a temporary password", width)

        # The admin's own deactivation page: the last admin's refusal.
        page.goto("/admin/users")
        page.get_by_role("link", name=admin.name, exact=True).click()
        page.get_by_role("link", name="Deactivate account").click()
        expect(page.get_by_role("alert")).to_contain_text("You are the last active admin")
        _check(page, "the last admin's deactivation page", width)

        # Signing in with a temporary password leads to the password change first. (A
        # practitioner signing in goes into the offline app, which must itself send them there
        # on the API's 403 `password_change_required`.)
        other = browser.new_context(base_url=live_server, viewport=viewport, locale="en-AU")
        other.set_default_timeout(10_000)
        forced = other.new_page()
        _sign_in(forced, coordinator.email)
        forced.wait_for_url("**/account/password")
        expect(forced.get_by_role("status")).to_contain_text("was temporary")
        _check(forced, "the forced password change", width)
        other.close()
    finally:
        context.close()
