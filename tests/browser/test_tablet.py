"""The offline tablet (issue 5) in real headless Chromium: service worker, encrypted store,
outbox and sync client against the real server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.models import Contact
from fieldapp.services.clock import today_in

from ..factories import PASSWORD
from .conftest import TIMEZONE
from .tablet_pages import (
    VIEWS,
    contacts_with,
    first_visit,
    hand_over_to_a_colleague,
    record_contact,
    unlock,
    wait_until,
)

pytestmark = pytest.mark.browser


def test_offline_cold_start_record_and_sync_exactly_once(context, caseload, db_session):
    page = context.new_page()
    first_visit(page)
    page.close()

    context.set_offline(True)
    offline = context.new_page()
    requests = []
    offline.on(
        "request",
        lambda request: requests.append(request) if not request.url.startswith("data:") else None,
    )
    offline.goto("/tablet")  # cold start: the worker answers from its cache
    unlock(offline)
    expect(offline.get_by_role("link", name="Mia Anderson", exact=True)).to_be_visible()
    freshness = offline.locator("#sync-freshness")
    expect(freshness).to_contain_text("No connection: your work is kept on this tablet")
    expect(freshness).to_contain_text("Last synced")  # the office sync, before the signal went
    record_contact(offline)
    expect(offline.get_by_role("status")).to_have_text("1 waiting to sync")
    reached_network = [
        r.url for r in requests if r.response() is None or not r.response().from_service_worker
    ]
    assert reached_network == [], f"offline work went to the network: {reached_network}"

    offline.reload()  # on the child's page, still offline: the shell routes there after unlock
    unlock(offline, heading="Mia Anderson")
    expect(offline.get_by_text("not yet synced")).to_be_visible()
    assert contacts_with(db_session, VIEWS) == 0

    context.set_offline(False)
    offline.get_by_role("button", name="Sync now", exact=True).click()
    expect(offline.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    expect(offline.locator("#sync-freshness")).not_to_contain_text("No connection")
    assert contacts_with(db_session, VIEWS) == 1
    saved = db_session.scalar(select(Contact).where(Contact.child_views == VIEWS))
    assert (saved.status, saved.mode, saved.child_seen) == ("submitted", "face_to_face", True)
    assert (saved.start_time, saved.duration_minutes, saved.location, saved.location_detail) == (
        "10:30",
        45,
        "placement",
        "Aunty's house",
    )
    assert saved.seen_alone and saved.language_used == "English"
    assert [(p.role, p.name, p.took_part_in_decisions) for p in saved.participants] == [
        ("child", "Mia Anderson", True),
        ("carer", "Aunty Jo", True),
    ]
    assert saved.participants[1].views_and_wishes == "Happy for Mia to stay long term."
    assert [(a.description, a.responsible) for a in saved.actions] == [
        ("Book family time with her brother", "Pat")
    ]
    assert (saved.working_well, saved.needs_to_happen) == (
        "Settled at school.",
        "Family time every fortnight.",
    )
    offline.get_by_role("button", name="Sync now", exact=True).click()
    expect(offline.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    assert contacts_with(db_session, VIEWS) == 1


def test_typing_is_kept_when_the_page_closes(context, caseload):
    page = context.new_page()
    first_visit(page)
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_label("Child's views (in their own words)", exact=True).press_sequentially(
        "Half a sente"
    )
    # Each keystroke's write takes a few milliseconds; then the battery dies (nothing was saved
    # by hand, and the page gets no chance to tidy up).
    page.wait_for_function(
        """(userId) => new Promise((resolve) => {
        const open = indexedDB.open(`fieldapp-user-${userId}`);
        open.onsuccess = () => {
            const records = open.result.transaction("records").objectStore("records");
            const request = records.index("by_type").count("contact");
            request.onsuccess = () => resolve(request.result >= 2);
        };
    })""",
        arg=caseload.practitioner.id,
    )
    page.wait_for_timeout(300)
    page.close()

    reopened = context.new_page()
    reopened.goto("/tablet")
    unlock(reopened)
    reopened.get_by_role("link", name="Mia Anderson", exact=True).click()
    reopened.get_by_role(
        "link", name=f"{today_in(TIMEZONE).strftime('%d/%m/%Y')} · Face-to-face"
    ).click()
    expect(reopened.get_by_label("Child's views (in their own words)", exact=True)).to_have_value(
        "Half a sente"
    )


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

    page.route("**/api/sync/push*", drop_once)
    record_contact(page, "Dropped once, stored once.")
    expect(page.get_by_role("status")).to_have_text("Sync failed — will retry", timeout=15_000)
    page.unroute("**/api/sync/push*")
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
            const db = await new Promise((ok, fail) => {
                const r = indexedDB.open(info.name);
                r.onsuccess = () => ok(r.result);
                r.onerror = () => fail(r.error);
            });
            for (const name of db.objectStoreNames) {
                const rows = await new Promise((ok) => {
                    const r = db.transaction(name).objectStore(name).getAll();
                    r.onsuccess = () => ok(r.result);
                });
                const bytesAsArrays = (k, v) => (v instanceof Uint8Array ? Array.from(v) : v);
                out.push(JSON.stringify(rows, bytesAsArrays));
            }
            db.close();
        }
        return out.join("\\n");
    }""")
    dump += page.evaluate("JSON.stringify(localStorage)")
    for secret in (
        "Mia",
        "Anderson",
        "A secret only the child said.",
        "I am fine.",
        "Aunty Jo",
        caseload.child.date_of_birth.isoformat(),
        "Pat Practitioner",
        "pat@example.org",
    ):
        assert secret not in dump, f"{secret!r} is readable in IndexedDB or localStorage"
    assert len(dump) > 1000  # the records are there, sealed


def test_sign_out_is_refused_with_unsynced_work_then_wipes(context, caseload):
    page = context.new_page()
    first_visit(page)
    context.set_offline(True)
    record_contact(page, "Not yet sent.")
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("waiting to sync")
    expect(
        page.get_by_role("heading", name="Mia Anderson", exact=True)
    ).to_be_visible()  # still signed in
    context.set_offline(False)
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    # Typing never saved lives only on this tablet too: refused until it is saved or deleted.
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_label("Worries", exact=True).fill("Typed, not saved.")
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("1 form has typing not yet saved")
    page.get_by_role("button", name="Delete draft", exact=True).click()
    page.get_by_role("button", name="Yes, delete this draft", exact=True).click()
    expect(page.get_by_role("heading", name="Mia Anderson", exact=True)).to_be_visible()
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
            for (const request of await (await caches.open(name)).keys()) {
                urls.push(new URL(request.url).pathname);
            }
        }
        return urls;
    }""")
    assert "/tablet" in cached and "/static/js/tablet/main.js" in cached
    assert not [url for url in cached if url.startswith("/api/") or url.startswith("/children")]
    names = page.evaluate("caches.keys()")
    assert len(names) == 1 and names[0].startswith("fieldapp-shell-")


def test_refused_and_conflicting_records_are_shown_and_kept(context, caseload, engine):
    from fieldapp.models import Child

    page = context.new_page()
    first_visit(page)
    context.set_offline(True)
    # Refused: a draft dated five days ago, while the office corrects Mia's care start date to
    # two days ago. The tablet could not know; the server refuses it, naming the field.
    today = today_in(TIMEZONE)
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_label("Date of contact", exact=True).fill((today - timedelta(days=5)).isoformat())
    page.get_by_label("Child's views (in their own words)", exact=True).fill("Refused words stay.")
    page.get_by_role("button", name="Save draft", exact=True).click()
    expect(page.get_by_role("heading", name="Mia Anderson", exact=True)).to_be_visible()
    with Session(engine) as session:
        session.get(Child, caseload.child.id).care_start_date = today - timedelta(days=2)
        session.commit()
    # Conflict: meanwhile the office corrects Kai's history: Pat held him only in his first ten
    # days in care, and a colleague has held him since. Today's contact goes to review.
    hand_over_to_a_colleague(engine, caseload.others[0].id)
    page.get_by_role("link", name="Back to caseload").click()
    page.get_by_role("link", name="Kai Baker", exact=True).click()
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_label("Child seen", exact=True).check()
    page.get_by_label("Child's views (in their own words)", exact=True).fill("Conflict words stay.")
    page.get_by_label("How the views were gathered", exact=True).select_option(label="Conversation")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("2 waiting to sync")

    context.set_offline(False)
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(
        "All changes synced · 1 refused by the server · 1 in conflict", timeout=15_000
    )
    page.goto("/tablet")
    unlock(page)
    attention = page.get_by_role("region", name="Needs your attention")
    expect(attention).to_contain_text("Refused words stay.")
    expect(attention).to_contain_text("Conflict words stay.")
    expect(attention).to_contain_text(
        "Date of contact: The date of contact cannot be before the child came into care"
    )


def test_two_practitioners_on_one_tablet_cannot_read_each_other(context, caseload, engine):
    from ..factories import gen_child, gen_user

    with Session(engine) as session:
        from fieldapp.models import Team

        team = session.query(Team).first()
        other = gen_user(session, "practitioner", team, email="sam@example.org", name="Sam Other")
        gen_child(session, team, other, given_name="Zoe", family_name="Zed")
        session.commit()
        pat_id = caseload.practitioner.id
    page = context.new_page()
    first_visit(page)  # Pat
    page.close()
    second = context.new_page()
    second.goto("/tablet")
    unlock(second, email="sam@example.org")
    expect(second.get_by_role("link", name="Zoe Zed", exact=True)).to_be_visible(timeout=15_000)
    expect(second.get_by_role("link", name="Mia Anderson", exact=True)).to_have_count(0)
    opened = second.evaluate(
        """async ([userId, password]) => {
        const { TabletStore } = await import("/static/js/tablet/store.js");
        try {
            await TabletStore.open(userId, password);
            return "opened";
        } catch (e) {
            return e.constructor.name;
        }
    }""",
        [pat_id, PASSWORD + "-not-pats"],
    )
    assert opened == "WrongPassword"


def test_the_tablet_locks_after_fifteen_idle_minutes(context, caseload):
    page = context.new_page()
    page.clock.install()
    first_visit(page)
    page.clock.fast_forward("14:00")
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    page.clock.fast_forward("02:00")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Locked after 15 minutes")
    # The lock ends the server session too (test_tablet_security.py): wait for it to land.
    wait_until(page, lambda: page.evaluate("fetch('/api/me').then((r) => r.status)") == 401)


def test_a_service_worker_update_with_work_waiting_loses_nothing(context, caseload, db_session):
    page = context.new_page()
    first_visit(page)
    context.set_offline(True)
    record_contact(page, "Kept across a worker update.")
    page.route("**/api/sync/**", lambda route: route.abort())  # keep it waiting for now
    context.set_offline(False)
    # A new worker version: the old one and every cache it made are replaced.
    page.evaluate("""async () => {
        for (const registration of await navigator.serviceWorker.getRegistrations()) {
            await registration.unregister();
        }
        for (const name of await caches.keys()) await caches.delete(name);
    }""")
    page.unroute("**/api/sync/**")
    page.goto("/tablet")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    unlock(page)
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    assert contacts_with(db_session, "Kept across a worker update.") == 1


def test_a_revoked_tablet_wipes_itself(context, caseload, engine):
    from fieldapp.models import Device
    from fieldapp.models.base import utcnow

    page = context.new_page()
    first_visit(page)
    with Session(engine) as session:
        for device in session.query(Device).all():
            device.revoked_at = utcnow()
        session.commit()
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("revoked")
    names = page.evaluate("indexedDB.databases().then(list => list.map(d => d.name))")
    assert f"fieldapp-user-{caseload.practitioner.id}" not in names


def test_a_cursor_from_another_epoch_refetches_and_keeps_local_work(
    context, caseload, engine, db_session
):
    from fieldapp.models import SyncState

    page = context.new_page()
    first_visit(page)
    with Session(engine) as session:  # as after a restore from backup
        session.get(SyncState, 1).epoch = "restored-from-backup"
        session.commit()
    record_contact(page, "Written before the reset.")
    # The status may still read "All changes synced" from before the contact: wait on the server.
    wait_until(page, lambda: contacts_with(db_session, "Written before the reset.") == 1)
    page.get_by_role("link", name="Back to caseload").click()
    expect(page.get_by_role("link", name="Mia Anderson", exact=True)).to_be_visible()
