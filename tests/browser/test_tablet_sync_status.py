"""What the tablet's sync bar says while it works and when the server fails (SPEC §4, §5): a
server error (500) is named and retried on a longer backoff, never dropped; the progress bar
does not claim the end of a pull whose length nobody knows yet.

A 503 answer (retried by itself with the ordinary backoff) is covered in test_tablet_sync.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from fieldapp.models import Child, User
from fieldapp.services.clock import today_in

from ..factories import gen_contact
from .conftest import TIMEZONE
from .tablet_pages import contacts_with, first_visit, record_contact, unlock, wait_until

pytestmark = pytest.mark.browser

FAILED_500 = "Sync failed — the server had an error (500). Will retry in {}."


def waiting_on_the_tablet(page, user_id: int) -> int:
    """The outbox rows in the tablet's database (counted, not opened)."""
    return page.evaluate(
        """async (userId) => {
        const { TabletStore } = await import("/static/js/tablet/store.js");
        return TabletStore.waitingCount(userId);
    }""",
        user_id,
    )


def test_a_server_error_is_named_retried_later_and_the_work_kept(context, caseload, db_session):
    page = context.new_page()
    page.clock.install()
    first_visit(page)
    server_fixed = False
    pushes = []  # what answered each push the tablet sent

    def failing_until_fixed(route):
        if server_fixed:
            pushes.append("server")
            route.continue_()
        else:
            pushes.append(500)
            route.fulfill(status=500, json={"error": "Internal server error."})

    page.route("**/api/sync/push*", failing_until_fixed)
    record_contact(page, "Kept through a server error.")
    status = page.get_by_role("status")
    expect(status).to_have_text(FAILED_500.format("30 s"), timeout=15_000)

    # No retry storm: the ordinary backoff (for a 503) would have tried again within 4 s.
    page.clock.fast_forward("00:20")
    page.wait_for_timeout(500)
    assert pushes == [500]
    assert waiting_on_the_tablet(page, caseload.practitioner.id) == 1
    assert contacts_with(db_session, "Kept through a server error.") == 0

    # The retry comes by itself when it is due, and the next one waits twice as long.
    page.clock.fast_forward("00:15")
    expect(status).to_have_text(FAILED_500.format("1 min"), timeout=15_000)
    assert pushes == [500, 500]
    assert waiting_on_the_tablet(page, caseload.practitioner.id) == 1

    # Fixed on the server; the practitioner does not wait for the timer.
    server_fixed = True
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(status).to_have_text("All changes synced", timeout=15_000)
    assert waiting_on_the_tablet(page, caseload.practitioner.id) == 0
    # The retry that was pending (in 1 min) went with that sync: no sync runs again.
    later = []
    page.on(
        "request",
        lambda request: later.append(request.url) if "/api/sync/" in request.url else None,
    )
    page.clock.fast_forward("02:00")
    page.wait_for_timeout(500)
    assert later == []
    assert pushes == [500, 500, "server"]
    assert contacts_with(db_session, "Kept through a server error.") == 1


def hold_the_second_pull_page(page) -> tuple[list, list]:
    """Pulls ask for one change a page, so the server answers has_more; the second page
    asked for is held until the test continues it. Returns (pull URLs asked, held routes)."""
    pulls = []
    held = []

    def one_change_a_page(route):
        url = route.request.url.replace("limit=200", "limit=1")
        pulls.append(url)
        if len(pulls) == 2:
            held.append((route, url))
        else:
            route.continue_(url=url)

    page.route("**/api/sync/pull*", one_change_a_page)
    return pulls, held


def expect_an_indeterminate_pull(page, held) -> None:
    """While a pull page is held, the bar shows but claims no share done (not 100%)."""
    wait_until(page, lambda: len(held) == 1)
    expect(page.get_by_role("status")).to_have_text("Syncing…")
    bar = page.get_by_role("progressbar", name="Sync progress")
    expect(bar).to_be_visible()
    # How many pages remain is unknown: indeterminate (no value at all).
    assert bar.evaluate("el => [el.hasAttribute('value'), el.position]") == [False, -1]
    expect(bar).to_have_attribute("aria-valuetext", "Fetching changes: 1 page so far")
    route, url = held[0]
    route.continue_(url=url)


def test_the_progress_bar_does_not_claim_the_end_while_pull_pages_keep_coming(page, caseload):
    pulls, held = hold_the_second_pull_page(page)
    page.goto("/tablet")
    # The first sync starts: nothing to push, the whole caseload to pull. Until it ends the
    # app says so rather than show an empty caseload.
    unlock(page, heading="Fetching your caseload")
    expect_an_indeterminate_pull(page, held)
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    assert len(pulls) > 2  # it did go through several pages
    expect(page.locator("#sync-progress")).to_be_hidden()
    expect(page.get_by_role("heading", name="My caseload", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Mia Anderson", exact=True)).to_be_visible()


def test_a_sync_under_an_open_form_leaves_no_progress_bar_behind(context, caseload, engine):
    page = context.new_page()
    first_visit(page)
    with Session(engine) as session:  # two contacts recorded on the web meanwhile
        child = session.get(Child, caseload.child.id)
        author = session.get(User, caseload.practitioner.id)
        for days in (5, 6):
            gen_contact(session, child, author, contact_date=today_in(TIMEZONE) - timedelta(days))
        session.commit()
    pulls, held = hold_the_second_pull_page(page)
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect_an_indeterminate_pull(page, held)
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    assert len(pulls) > 2
    # The form is not redrawn under the practitioner's fingers, and the bar is gone all the same.
    expect(page.get_by_label("Worries", exact=True)).to_be_visible()
    expect(page.locator("#sync-progress")).to_be_hidden()
