"""The tablet's side of the security bar (issue 12 items 2 and 10, SPEC §5 and §7): the idle lock
and an offline sign-out end the server session (at the next connection if need be), unlocking
online signs in again, a second tab's sign-in does not stop the first from syncing, ten wrong
passwords in a row remove the tablet's copy (warning from the fifth, saying what would be
lost), localStorage holds nothing, and the service worker has a kill switch."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from ..factories import PASSWORD
from .tablet_pages import contacts_with, first_visit, record_contact, two_tabs, unlock, wait_until

pytestmark = pytest.mark.browser

WRONG = "not-the-password-at-all"


def me_status(page) -> int:
    return page.evaluate("fetch('/api/me').then((response) => response.status)")


def status_with(browser, live_server, cookies) -> int:
    """What /api/me answers to these cookies (a session taken before), in another browser."""
    other = browser.new_context(base_url=live_server)
    try:
        other.add_cookies(cookies)
        return other.request.get("/api/me").status
    finally:
        other.close()


def idle_for_sixteen_minutes(page):
    page.clock.fast_forward("16:00")
    expect(page.get_by_role("alert")).to_contain_text("Locked after 15 minutes")


def wrong_passwords(page, times: int, email: str | None = None):
    """Wrong passwords on the lock screen, or on the sign-in screen with `email`, each answered
    (the screen is drawn again, with an empty field) before the next."""
    for _ in range(times):
        if email:
            page.get_by_label("Email", exact=True).fill(email)
        page.get_by_label("Password", exact=True).fill(WRONG)
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_label("Password", exact=True)).to_have_value("")


def user_databases(page) -> list[str]:
    return page.evaluate("indexedDB.databases().then((list) => list.map((d) => d.name))")


# ------------------------------------------------------------------ the server session


def test_the_idle_lock_ends_the_server_session(context, caseload, browser, live_server):
    page = context.new_page()
    page.clock.install()
    first_visit(page)
    taken = context.cookies()  # as someone who picked up the tablet could copy them
    assert status_with(browser, live_server, taken) == 200
    idle_for_sixteen_minutes(page)
    wait_until(page, lambda: me_status(page) == 401)
    assert status_with(browser, live_server, taken) == 401  # ended on the server
    # The cached shell stays, for an offline unlock; the server's pages want the password.
    assert page.evaluate("caches.keys().then((names) => names.length)") > 0
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", name="My caseload")).to_have_count(0)


def test_unlocking_online_signs_in_again_and_syncs(context, caseload, db_session):
    page = context.new_page()
    page.clock.install()
    first_visit(page)
    idle_for_sixteen_minutes(page)
    wait_until(page, lambda: me_status(page) == 401)
    page.get_by_label("Password", exact=True).fill(PASSWORD)  # the password only
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    assert me_status(page) == 200
    record_contact(page, "Recorded after unlocking.")
    wait_until(page, lambda: contacts_with(db_session, "Recorded after unlocking.") == 1)
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    expect(page.get_by_role("button", name="Sign in again", exact=True)).to_be_hidden()


def test_unlocking_with_a_password_the_server_refuses_opens_the_work_and_asks_to_sign_in(
    context, caseload, engine, db_session
):
    from fieldapp.models import User
    from fieldapp.services.accounts import hash_password

    page = context.new_page()
    page.clock.install()
    first_visit(page)
    idle_for_sixteen_minutes(page)
    with Session(engine) as session:  # changed on the web meanwhile
        session.get(User, caseload.practitioner.id).password_hash = hash_password(
            "a-brand-new-password-2026"
        )
        session.commit()
    page.get_by_label("Password", exact=True).fill(PASSWORD)  # the tablet's, not the server's
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    expect(page.get_by_text("The server refused this password")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in again", exact=True)).to_be_visible()


@pytest.mark.parametrize(
    ("ended_by", "connection"),
    [("sign out", "online"), ("sign out", "next start"), ("idle lock", "online")],
)
def test_ending_the_session_offline_ends_it_at_the_next_connection(
    context, caseload, browser, live_server, ended_by, connection
):
    page = context.new_page()
    page.clock.install()
    first_visit(page)
    taken = context.cookies()
    context.set_offline(True)
    if ended_by == "sign out":
        page.get_by_role("button", name="Sign out", exact=True).click()
        expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    else:
        idle_for_sixteen_minutes(page)
    page.wait_for_timeout(300)
    assert status_with(browser, live_server, taken) == 200  # nothing could be sent
    if connection == "next start":
        page.close()
        context.set_offline(False)
        page = context.new_page()
        page.goto("/tablet")
    else:
        context.set_offline(False)  # the `online` event
    wait_until(page, lambda: status_with(browser, live_server, taken) == 401)


def test_a_second_tab_signing_in_does_not_stop_the_first_from_syncing(
    context, caseload, db_session
):
    first, second = two_tabs(context)  # the second tab's sign-in renewed the session's token
    record_contact(first, "Synced by the first tab.")
    wait_until(first, lambda: contacts_with(db_session, "Synced by the first tab.") == 1)
    expect(first.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    expect(first.get_by_role("button", name="Sign in again", exact=True)).to_be_hidden()


def test_a_tab_whose_session_is_now_another_users_asks_to_sign_in_again(
    context, caseload, engine, db_session
):
    from fieldapp.models import Team

    from ..factories import gen_user

    with Session(engine) as session:
        team = session.query(Team).first()
        gen_user(session, "practitioner", team, email="sam@example.org", name="Sam Other")
        session.commit()
    first = context.new_page()
    first_visit(first)  # Pat
    context.set_offline(True)
    record_contact(first, "Never sent under Sam's session.")
    first.route("**/api/sync/**", lambda route: route.abort())  # until Sam has signed in
    context.set_offline(False)
    second = context.new_page()
    second.goto("/tablet")
    unlock(second, email="sam@example.org")
    first.unroute("**/api/sync/**")
    first.get_by_role("button", name="Sync now", exact=True).click()
    expect(first.get_by_role("button", name="Sign in again", exact=True)).to_be_visible(
        timeout=15_000
    )
    expect(first.get_by_role("status")).to_have_text("1 waiting to sync")
    assert contacts_with(db_session, "Never sent under Sam's session.") == 0


# ------------------------------------------------------------------ wrong passwords


def test_wrong_passwords_warn_from_the_fifth_and_a_right_one_starts_again(context, caseload):
    page = context.new_page()
    page.clock.install()
    first_visit(page)
    context.set_offline(True)  # where the server's lockout cannot help
    record_contact(page, "Waiting while someone guesses.")
    idle_for_sixteen_minutes(page)
    wrong_passwords(page, 4)
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("That password does not unlock this tablet's data.")
    wrong_passwords(page, 1)
    expect(alert).to_contain_text(
        "5 more wrong attempts remove this tablet's copy of your work, "
        "including 1 change not yet sent to the server."
    )
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Mia Anderson", exact=True)).to_be_visible()
    idle_for_sixteen_minutes(page)
    wrong_passwords(page, 1)  # a right password started the count again
    expect(page.get_by_role("alert")).to_have_text(
        "That password does not unlock this tablet's data."
    )


def test_the_tenth_wrong_password_in_a_row_removes_the_tablets_copy(context, caseload, db_session):
    page = context.new_page()
    first_visit(page)
    context.set_offline(True)
    record_contact(page, "Lost to ten wrong passwords.")
    page.goto("/tablet")  # the app started again, offline: the sign-in screen
    wrong_passwords(page, 9, email="pat@example.org")
    expect(page.get_by_role("alert")).to_contain_text(
        "1 more wrong attempt removes this tablet's copy of your work, "
        "including 1 change not yet sent to the server."
    )
    assert f"fieldapp-user-{caseload.practitioner.id}" in user_databases(page)
    wrong_passwords(page, 1, email="pat@example.org")
    expect(page.get_by_role("alert")).to_contain_text(
        "Ten wrong passwords in a row: this tablet's copy of your work was removed, "
        "including 1 change not yet sent to the server. Sign in online"
    )
    assert f"fieldapp-user-{caseload.practitioner.id}" not in user_databases(page)
    # Forgotten here too: the right password offline finds nothing to open.
    unlock(page, heading="Sign in")
    expect(page.get_by_role("alert")).to_contain_text("Sign in once with a connection")
    context.set_offline(False)
    unlock(page)  # online: a fresh copy from the server
    expect(page.get_by_role("link", name="Mia Anderson", exact=True)).to_be_visible()
    assert contacts_with(db_session, "Lost to ten wrong passwords.") == 0  # as it said


# ------------------------------------------------------------------ localStorage


def test_local_storage_holds_nothing_and_earlier_versions_keys_move(context, caseload):
    page = context.new_page()
    first_visit(page)
    assert page.evaluate("localStorage.length") == 0
    # A tablet of an earlier version: its salt and email hashes in localStorage, and no
    # device database yet. Set up from a page of the site that runs no app.
    salt = "an-earlier-salt"
    known = {
        hashlib.sha256(f"{salt}:pat@example.org".encode()).hexdigest(): caseload.practitioner.id
    }
    context.set_offline(True)
    page.goto("/static/icons/icon.svg")
    page.evaluate(
        """([salt, known]) => new Promise((resolve, reject) => {
        const request = indexedDB.deleteDatabase("fieldapp-device");
        request.onsuccess = () => {
            localStorage.setItem("fieldapp.tablet.salt", salt);
            localStorage.setItem("fieldapp.tablet.known", known);
            resolve();
        };
        request.onerror = () => reject(request.error);
    })""",
        [salt, json.dumps(known)],
    )
    page.goto("/tablet")
    unlock(page)  # offline: the moved hashes name Pat's copy
    assert page.evaluate("localStorage.length") == 0
    context.set_offline(False)
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    assert page.evaluate("localStorage.length") == 0


# ------------------------------------------------------------------ the kill switch


def _worker_state(page):
    """[registrations, caches, controlled], or None while the page is being reloaded."""
    try:
        return page.evaluate("""async () => [
            (await navigator.serviceWorker.getRegistrations()).length,
            (await caches.keys()).length,
            Boolean(navigator.serviceWorker.controller),
        ]""")
    except PlaywrightError:
        return None


def test_the_service_worker_kill_switch_removes_the_worker_and_its_caches(
    context, caseload, live_app
):
    page = context.new_page()
    first_visit(page)
    wait_until(page, lambda: _worker_state(page) == [1, 1, True])
    live_app.config["FIELDAPP_SW_KILL_SWITCH"] = True
    try:
        # As a tablet does on its next load: the browser checks /sw.js for a new version.
        page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
        # The page the old worker ran was reloaded from the network: no worker, no cache.
        wait_until(page, lambda: _worker_state(page) == [0, 0, False], timeout_ms=15_000)
        page.goto("/tablet")  # the app still works, from the network
        unlock(page)
        expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
        wait_until(page, lambda: _worker_state(page) == [0, 0, False])
    finally:
        live_app.config["FIELDAPP_SW_KILL_SWITCH"] = False
    # Off again: the next load installs the real worker and its cache.
    page.goto("/tablet")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    wait_until(page, lambda: (_worker_state(page) or [0, 0])[:2] == [1, 1])


def test_a_temporary_password_leads_to_the_password_page_and_opens_nothing(
    context, caseload, engine
):
    """A practitioner given a temporary password signs in on /login: the page to choose their
    own opens, and no copy of case data is made on the device with the temporary password."""
    from fieldapp.models import User

    with Session(engine) as session:
        user = session.get(User, caseload.practitioner.id)
        user.must_change_password = True
        session.commit()
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Email", exact=True).fill("pat@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/account/password$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("password")
    assert not [name for name in user_databases(page) if name.startswith("fieldapp-user-")]
