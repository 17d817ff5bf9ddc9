"""The offline tablet (issue 5) in real headless Chromium: service worker, encrypted store,
outbox and sync client against the real server."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from fieldapp.models import Contact
from fieldapp.services.clock import today_in

from ..factories import PASSWORD
from .conftest import TIMEZONE

pytestmark = pytest.mark.browser

VIEWS = "I want to stay with Aunty and see my brother on weekends."


def unlock(page, email="pat@example.org", password=PASSWORD, heading="My caseload"):
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=heading)).to_be_visible()


def first_visit(page):
    """Online, in the office: sign in, let the worker install and the caseload sync."""
    page.goto("/tablet")
    unlock(page)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    expect(page.get_by_role("link", name="Mia Anderson", exact=True)).to_be_visible()


def record_contact(page, views=VIEWS):
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_label("Contact type", exact=True).select_option(label="Face-to-face")
    page.get_by_label("Made by", exact=True).select_option(label="Me")
    page.get_by_label("Child seen", exact=True).check()
    page.get_by_label("Child's views (in their own words)", exact=True).fill(views)
    page.get_by_label("How the views were gathered", exact=True).select_option(label="Conversation")
    page.get_by_label("Worries", exact=True).fill("Missed family time twice.")
    page.get_by_label("Safety scale", exact=True).fill("7")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("heading", name="Mia Anderson")).to_be_visible()


def contacts_with(session, text) -> int:
    session.rollback()  # end the read transaction: a SQLite WAL reader keeps its snapshot
    return session.scalar(select(func.count()).select_from(Contact).where(Contact.child_views == text))


def test_offline_cold_start_record_and_sync_exactly_once(context, caseload, db_session):
    page = context.new_page()
    first_visit(page)
    page.close()

    context.set_offline(True)
    offline = context.new_page()
    requests = []
    offline.on("request", lambda request: requests.append(request) if not request.url.startswith("data:") else None)
    offline.goto("/tablet")  # cold start: the worker answers from its cache
    unlock(offline)
    expect(offline.get_by_role("link", name="Mia Anderson", exact=True)).to_be_visible()
    record_contact(offline)
    expect(offline.get_by_role("status")).to_have_text("1 waiting to sync")
    reached_network = [r.url for r in requests if r.response() is None or not r.response().from_service_worker]
    assert reached_network == [], f"offline work went to the network: {reached_network}"

    offline.reload()  # on the child's page, still offline: the shell routes there after unlock
    unlock(offline, heading="Mia Anderson")
    expect(offline.get_by_text("not yet synced")).to_be_visible()
    assert contacts_with(db_session, VIEWS) == 0

    context.set_offline(False)
    offline.get_by_role("button", name="Sync now", exact=True).click()
    expect(offline.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    assert contacts_with(db_session, VIEWS) == 1
    offline.get_by_role("button", name="Sync now", exact=True).click()
    expect(offline.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    assert contacts_with(db_session, VIEWS) == 1


def test_typing_is_kept_when_the_page_closes(context, caseload):
    page = context.new_page()
    first_visit(page)
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_label("Child's views (in their own words)", exact=True).press_sequentially("Half a sente")
    # Each keystroke's write takes a few milliseconds; then the battery dies (nothing was saved
    # by hand, and the page gets no chance to tidy up).
    page.wait_for_timeout(300)
    page.close()

    reopened = context.new_page()
    reopened.goto("/tablet")
    unlock(reopened)
    reopened.get_by_role("link", name="Mia Anderson", exact=True).click()
    reopened.get_by_role("link", name=f"{today_in(TIMEZONE).strftime('%d/%m/%Y')} · Face-to-face").click()
    expect(reopened.get_by_label("Child's views (in their own words)", exact=True)).to_have_value("Half a sente")


def test_a_dropped_push_response_is_retried_without_a_duplicate(context, caseload, db_session):
    page = context.new_page()
    first_visit(page)
    dropped = []

    def drop_once(route):
        if not dropped:
            dropped.append(route.request.url)
            route.fetch()  # the server commits...
            route.abort("connectionreset")  # ...and the answer never arrives
        else:
            route.continue_()

    page.route("**/api/sync/push", drop_once)
    record_contact(page, "Dropped once, stored once.")
    expect(page.get_by_role("status")).to_have_text("Sync failed — will retry", timeout=15_000)
    page.unroute("**/api/sync/push")
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    assert dropped and contacts_with(db_session, "Dropped once, stored once.") == 1


def test_the_local_database_holds_no_readable_case_data(context, caseload):
    page = context.new_page()
    first_visit(page)
    record_contact(page, "A secret only the child said.")
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    dump = page.evaluate("""async () => {
        const out = [];
        for (const info of await indexedDB.databases()) {
            const db = await new Promise((ok, fail) => { const r = indexedDB.open(info.name); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
            for (const name of db.objectStoreNames) {
                const rows = await new Promise((ok) => { const r = db.transaction(name).objectStore(name).getAll(); r.onsuccess = () => ok(r.result); });
                out.push(JSON.stringify(rows, (k, v) => v instanceof Uint8Array ? Array.from(v) : v));
            }
            db.close();
        }
        return out.join("\\n");
    }""")
    for secret in ("Mia", "Anderson", "A secret only the child said.", "I am fine.",
                   caseload.child.date_of_birth.isoformat()):
        assert secret not in dump, f"{secret!r} is readable in IndexedDB"
    assert len(dump) > 1000  # the records are there, sealed


def test_sign_out_is_refused_with_unsynced_work_then_wipes(context, caseload):
    page = context.new_page()
    first_visit(page)
    context.set_offline(True)
    record_contact(page, "Not yet sent.")
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("waiting to sync")
    expect(page.get_by_role("heading", name="Mia Anderson")).to_be_visible()  # still signed in
    context.set_offline(False)
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    names = page.evaluate("indexedDB.databases().then(list => list.map(d => d.name))")
    assert f"fieldapp-user-{caseload.practitioner.id}" not in names


def test_the_service_worker_caches_the_shell_only(context, caseload):
    page = context.new_page()
    first_visit(page)
    cached = page.evaluate("""async () => {
        const urls = [];
        for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
        }
        return urls;
    }""")
    assert "/tablet" in cached and "/static/js/tablet/main.js" in cached
    assert not [url for url in cached if url.startswith("/api/") or url.startswith("/children")]
    names = page.evaluate("caches.keys()")
    assert len(names) == 1 and names[0].startswith("fieldapp-shell-")
