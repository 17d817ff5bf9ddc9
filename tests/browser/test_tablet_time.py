"""Dates and times on the tablet (SPEC §3, §5): the organisation's timezone and one format
(dd/mm/yyyy, as the server pages), whatever zone the tablet itself is set to."""

from __future__ import annotations

import re

import pytest

from fieldapp.services.clock import today_in

from ..factories import PASSWORD
from .conftest import TABLET, TIMEZONE
from .tablet_pages import unlock

try:
    from playwright.sync_api import expect
except ImportError:  # the `playwright_instance` fixture skips (or, with CI=true, fails) the tests
    expect = None

pytestmark = pytest.mark.browser

# 15:00 UTC on 1 December is 00:30 on 2 December in Darwin (UTC+9:30), 05:00 on 2 December in
# Kiritimati (UTC+14) and 04:00 on 1 December in Pago Pago (UTC-11).
MOMENT = "2026-12-01T15:00:00Z"
CLOCK = """async (moment) => {
    const { dateTime, deviceToday } = await import("/static/js/tablet/clock.js");
    const at = new Date(moment);
    return { today: deviceToday(at), at: dateTime(moment), ms: dateTime(at.getTime()) };
}"""


@pytest.fixture(params=["Pacific/Pago_Pago", "Pacific/Kiritimati", TIMEZONE])
def far_tablet(request, browser, live_server):
    context = browser.new_context(
        base_url=live_server, viewport=TABLET, locale="en-US", timezone_id=request.param
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


def test_today_and_times_are_the_organisations_whatever_the_tablets_zone(far_tablet):
    assert TIMEZONE == "Australia/Darwin"  # the moments above are worked out for Darwin
    page = far_tablet.new_page()
    page.goto("/tablet")
    assert page.evaluate(CLOCK, MOMENT) == {
        "today": "2026-12-02",
        "at": "02/12/2026 00:30",
        "ms": "02/12/2026 00:30",
    }


def test_last_synced_is_shown_in_the_organisations_time_and_date_format(far_tablet, caseload):
    before = today_in(TIMEZONE).strftime("%d/%m/%Y")
    page = far_tablet.new_page()
    page.goto("/tablet")
    unlock(page)
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    freshness = page.locator("#sync-freshness")
    expect(freshness).to_have_text(re.compile(r"Last synced \d\d/\d\d/\d{4} \d\d:\d\d\."))
    shown = re.search(r"Last synced (\S+) ", freshness.text_content()).group(1)
    # The organisation's date (midnight may pass during the test), never the tablet's own.
    assert shown in {before, today_in(TIMEZONE).strftime("%d/%m/%Y")}


def test_after_signing_in_at_login_the_app_keeps_the_organisations_date(
    browser, live_server, caseload
):
    """The sign-in page hands over to the app in place: the app still dates a new contact by
    the organisation's calendar (the tablet here is a day behind it most of the day)."""
    context = browser.new_context(
        base_url=live_server, viewport=TABLET, locale="en-US", timezone_id="Pacific/Pago_Pago"
    )
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        before = today_in(TIMEZONE)
        page.goto("/login")
        page.get_by_label("Email", exact=True).fill("pat@example.org")
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
        page.get_by_role("link", name="Mia Anderson", exact=True).click()
        page.get_by_role("link", name="Record contact", exact=True).click()
        shown = page.get_by_label("Date of contact", exact=True).input_value()
        assert shown in {before.isoformat(), today_in(TIMEZONE).isoformat()}
    finally:
        context.close()
