"""The offline app needs a secure context (HTTPS or localhost) for WebCrypto and its service
worker. Opened over plain HTTP at an office address it must say so in words, not fail with a
script error. The office address is simulated: requests to http://fieldapp.office.test are
answered by the live server, so the browser sees a plain-HTTP, non-local origin."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import TABLET, TIMEZONE

pytestmark = pytest.mark.browser

OFFICE = "http://fieldapp.office.test"


@pytest.fixture
def office_page(browser, live_server):
    context = browser.new_context(viewport=TABLET, locale="en-AU", timezone_id=TIMEZONE)

    def from_live_server(route):
        response = route.fetch(url=route.request.url.replace(OFFICE, live_server, 1))
        route.fulfill(response=response)

    context.route(f"{OFFICE}/**", from_live_server)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.script_errors = errors
    yield page
    # A request still being fetched for the page must not fail the next test as it ends.
    context.unroute_all(behavior="ignoreErrors")
    context.close()


def test_plain_http_at_an_office_address_says_https_is_needed(office_page):
    office_page.goto(f"{OFFICE}/tablet")
    assert office_page.evaluate("window.isSecureContext") is False
    expect(
        office_page.get_by_role("heading", name="This app needs a secure connection (HTTPS)")
    ).to_be_visible()
    expect(office_page.get_by_text("Open the https:// address of fieldapp")).to_be_visible()
    expect(office_page.get_by_label("Password")).to_have_count(0)  # no sign-in to fail
    assert office_page.script_errors == []


def test_localhost_is_a_secure_context_and_signs_in_as_before(page):
    page.goto("/tablet")
    expect(page.get_by_label("Password", exact=True)).to_be_visible()
    expect(
        page.get_by_role("heading", name="This app needs a secure connection (HTTPS)")
    ).to_have_count(0)
