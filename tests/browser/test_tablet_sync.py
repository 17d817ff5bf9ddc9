"""How the tablet's sync behaves around it (issue 5, SPEC §3 and §5): one sync runner across
tabs, the storage-persistence warning, a reset (409) while work waits, a wrong device clock, and
a session that ended on the server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from fieldapp.models import Contact
from fieldapp.services.clock import today_in

from ..factories import PASSWORD
from .conftest import TIMEZONE
from .tablet_pages import (
    contacts_with,
    first_visit,
    record_contact,
    two_tabs,
    unlock,
    wait_until,
)

pytestmark = pytest.mark.browser


def test_two_tabs_never_sync_at_once(context, caseload, db_session):
    first, second = two_tabs(context)

    held = []
    context.route("**/api/sync/push*", lambda route: held.append(route))  # answered below
    record_contact(first, "Pushed by one tab only.")
    wait_until(first, lambda: len(held) == 1)
    # The second tab asks to sync while the first tab's push is in flight: it waits for the
    # first tab's lock, instead of sending the same outbox again.
    second.get_by_role("button", name="Sync now", exact=True).click()
    expect(second.get_by_role("status")).to_have_text("Syncing…")
    second.wait_for_timeout(500)
    assert len(held) == 1
    held[0].continue_()
    expect(first.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    expect(second.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    assert len(held) == 1  # the second tab found an empty outbox: nothing to push
    assert contacts_with(db_session, "Pushed by one tab only.") == 1


@pytest.mark.parametrize("granted", [False, True])
def test_a_warning_shows_while_storage_is_not_persistent_and_work_waits(context, caseload, granted):
    # The browser decides whether to grant persistence; this stands in for its answer.
    context.add_init_script(f"""
        navigator.storage.persist = async () => {json.dumps(granted)};
        navigator.storage.persisted = async () => {json.dumps(granted)};
    """)
    page = context.new_page()
    first_visit(page)
    warning = page.get_by_text("This browser may clear offline data")
    expect(warning).to_be_hidden()  # nothing waiting, nothing to lose
    context.set_offline(True)
    record_contact(page, "Waiting while storage may be cleared.")
    expect(page.get_by_role("status")).to_have_text("1 waiting to sync")
    if granted:
        expect(warning).to_be_hidden()
    else:
        expect(warning).to_be_visible()
        expect(warning).to_contain_text("Sync before closing the browser.")
    context.set_offline(False)
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    expect(warning).to_be_hidden()


def test_a_reset_while_work_waits_refetches_and_keeps_the_work(context, caseload, db_session):
    page = context.new_page()
    first_visit(page)
    held = []
    page.route(
        "**/api/sync/pull*", lambda route: held.append(route) if not held else route.continue_()
    )
    page.get_by_role("button", name="Sync now", exact=True).click()
    wait_until(page, lambda: len(held) == 1)
    # While that pull is in flight, a contact is recorded and a draft typed.
    record_contact(page, "Queued during the reset.")
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_label("Worries", exact=True).fill("Typed during the reset.")
    page.get_by_role("link", name="Back to Mia Anderson").click()
    # The server was restored from a backup: the cursor belongs to another epoch.
    with page.expect_response("**/api/sync/pull*"):  # the refetch, from no cursor
        held[0].fulfill(status=409, json={"error": "reset_required"})
    # The work queued while that sync ran is sent by one more sync at once (no timer, no tap).
    # The status line changes only once syncing is over and the page redrawn.
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    assert contacts_with(db_session, "Queued during the reset.") == 1
    # The page is redrawn from the refetched records: the older contact is back from the
    # server, and the typing is still there beside it.
    earlier = (today_in(TIMEZONE) - timedelta(days=30)).strftime("%d/%m/%Y")
    expect(page.get_by_role("link", name=f"{earlier} · Face-to-face", exact=True)).to_be_visible()
    expect(page.get_by_text("not saved yet")).to_be_visible()
    page.get_by_role("link", name="My caseload", exact=True).click()
    for name in ("Mia Anderson", "Kai Baker"):  # refetched in full
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()


def test_a_wrong_device_date_is_pointed_out(context, caseload):
    page = context.new_page()
    first_visit(page)
    warning = page.get_by_text("Check the tablet's date setting")
    expect(warning).to_be_hidden()
    page.close()

    # The tablet's date has been set three days ahead; the next sync tells it the server's date.
    server_today = today_in(TIMEZONE)
    wrong = context.new_page()
    wrong.clock.install(time=datetime.now(UTC) + timedelta(days=3))
    wrong.goto("/tablet")
    unlock(wrong)
    expect(wrong.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    ahead = (server_today + timedelta(days=3)).strftime("%d/%m/%Y")
    expect(wrong.get_by_text("Check the tablet's date setting")).to_contain_text(
        f"This tablet's date is {ahead}, "
        f"but the server's date was {server_today.strftime('%d/%m/%Y')}"
    )


def test_a_session_ended_on_the_server_asks_to_sign_in_again_and_keeps_the_work(
    context, caseload, db_session
):
    page = context.new_page()
    first_visit(page)
    context.set_offline(True)
    record_contact(page, "Kept while signed out elsewhere.")
    # Signed out elsewhere (or the password was changed): this session is over on the server.
    context.clear_cookies()
    context.set_offline(False)
    page.get_by_role("button", name="Sync now", exact=True).click()
    prompt = page.get_by_role("button", name="Sign in again", exact=True)
    expect(prompt).to_be_visible(timeout=15_000)
    expect(page.get_by_role("status")).to_have_text("1 waiting to sync")
    assert contacts_with(db_session, "Kept while signed out elsewhere.") == 0
    prompt.click()
    unlock(page, heading="Mia Anderson")
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    assert contacts_with(db_session, "Kept while signed out elsewhere.") == 1


@pytest.mark.parametrize(
    ("device_at_sync", "server", "today", "warns"),
    [
        ("2026-11-23", "2026-11-23", "2026-11-23", False),
        ("2026-11-24", "2026-11-23", "2026-11-24", False),  # a day apart: timezones, midnight
        ("2026-11-25", "2026-11-23", "2026-11-25", True),  # two days ahead at the last sync
        ("2026-11-21", "2026-11-23", "2026-11-21", True),  # two days behind
        ("2026-11-23", "2026-11-23", "2026-11-30", False),  # a week offline: the date moved on
        ("2026-11-23", "2026-11-23", "2026-11-20", True),  # the date went backwards since
    ],
)
def test_when_the_device_date_is_wrong(page, live_server, device_at_sync, server, today, warns):
    page.goto("/tablet")
    warning = page.evaluate(
        """async ([deviceDate, serverDate, today]) => {
        const { clockWarning } = await import("/static/js/tablet/clock.js");
        return clockWarning({ deviceDate, serverDate }, today);
    }""",
        [device_at_sync, server, today],
    )
    assert (warning is not None) == warns


def test_a_database_from_the_previous_version_is_upgraded_with_its_outbox(
    page, caseload, db_session
):
    """Version 1 had no `server` store. A tablet updated with work waiting opens it, gains the
    store, and still sends the work."""
    page.goto("/tablet")
    page.evaluate(
        """async ([userId, password, childId]) => {
        const c = await import("/static/js/tablet/crypto.js");
        const salt = c.randomBytes(16);
        const { wrapped, key } = await c.createDataKey(await c.deriveWrappingKey(password, salt));
        const contact = { child_id: childId, status: "draft", contact_date: null,
                          mode: "face_to_face", made_by: "practitioner",
                          worries: "Waiting since version 1.", participants: [], actions: [] };
        const mutation = { mutation_id: crypto.randomUUID(), op: "create", record_type: "contact",
                           record_id: crypto.randomUUID(), base_version: null, data: contact };
        const sealedMutation = await c.encryptJson(key, mutation);
        const sealedRecord = await c.encryptJson(key, contact);
        // Typed under version 1 and never queued: version 1 marked it pending too.
        const typed = { ...contact, worries: "Typed under version 1." };
        const sealedTyped = await c.encryptJson(key, typed);
        const db = await new Promise((ok, fail) => {
            const request = indexedDB.open(`fieldapp-user-${userId}`, 1);
            request.onupgradeneeded = () => {
                const db = request.result;
                db.createObjectStore("meta", { keyPath: "key" });
                db.createObjectStore("outbox", { keyPath: "seq" });
                const records = db.createObjectStore("records", { keyPath: ["type", "id"] });
                records.createIndex("by_type", "type");
                records.createIndex("by_child", "childId");
                db.createObjectStore("rejected", { keyPath: "mutationId" });
                db.createObjectStore("conflicts", { keyPath: "id" });
                db.createObjectStore("held", { keyPath: "childId" });
            };
            request.onsuccess = () => ok(request.result);
            request.onerror = () => fail(request.error);
        });
        const tx = db.transaction(["meta", "outbox", "records"], "readwrite");
        tx.objectStore("meta").put({ key: "salt", value: salt });
        tx.objectStore("meta").put({ key: "wrappedKey", value: wrapped });
        tx.objectStore("meta").put({ key: "nextSeq", value: 2 });
        tx.objectStore("outbox").put(
            { seq: 1, mutationId: mutation.mutation_id, sealed: sealedMutation });
        tx.objectStore("records").put(
            { type: "contact", id: mutation.record_id, childId, pending: true,
              sealed: sealedRecord });
        tx.objectStore("records").put(
            { type: "contact", id: crypto.randomUUID(), childId, pending: true,
              sealed: sealedTyped });
        await new Promise((ok) => { tx.oncomplete = ok; });
        db.close();
    }""",
        [caseload.practitioner.id, PASSWORD, str(caseload.child.id)],
    )

    unlock(page)
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    db_session.rollback()
    assert (
        db_session.scalar(
            select(func.count())
            .select_from(Contact)
            .where(Contact.worries == "Waiting since version 1.")
        )
        == 1
    )
    stores = page.evaluate(
        """(userId) => new Promise((ok) => {
        const request = indexedDB.open(`fieldapp-user-${userId}`);
        request.onsuccess = () => {
            ok([request.result.version, [...request.result.objectStoreNames]]);
            request.result.close();
        };
    })""",
        caseload.practitioner.id,
    )
    assert stores[0] == 3 and "server" in stores[1] and "outbox" in stores[1]
    # The typed draft is still there, as typing not yet saved: kept through the pull, and it
    # holds sign-out back.
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    expect(page.get_by_text("not saved yet")).to_have_count(1)
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("1 form has typing not yet saved")


def test_after_a_password_change_the_previous_password_unlocks_the_work_once(
    context, caseload, engine, db_session
):
    from sqlalchemy.orm import Session

    from fieldapp.models import User
    from fieldapp.services.accounts import hash_password

    page = context.new_page()
    first_visit(page)
    context.set_offline(True)
    record_contact(page, "Locked under the old password.")
    page.close()  # put away before it could sync
    context.set_offline(False)
    assert contacts_with(db_session, "Locked under the old password.") == 0
    new_password = "a-brand-new-password-2026"
    with Session(engine) as session:  # changed on the web meanwhile
        session.get(User, caseload.practitioner.id).password_hash = hash_password(new_password)
        session.commit()

    page = context.new_page()
    page.goto("/tablet")
    unlock(page, password=new_password, heading="Your password has changed")
    page.get_by_label("Previous password", exact=True).fill("not-the-old-one-either")
    page.get_by_role("button", name="Unlock", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("That is not the previous password either")
    page.get_by_label("Previous password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Unlock", exact=True).click()
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    assert contacts_with(db_session, "Locked under the old password.") == 1

    # From now on the new password alone unlocks it, offline too.
    context.set_offline(True)
    page.goto("/tablet")
    unlock(page, password=new_password)


def test_signing_out_in_one_tab_wipes_the_data_and_locks_the_other_tab(context, caseload):
    first, second = two_tabs(context)
    first.get_by_role("button", name="Sign out", exact=True).click()
    expect(first.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    # The other tab let go of the database (or the wipe would wait for ever) and is locked.
    expect(second.get_by_role("alert")).to_contain_text("signed out in another tab")
    expect(second.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    names = first.evaluate("indexedDB.databases().then(list => list.map(d => d.name))")
    assert f"fieldapp-user-{caseload.practitioner.id}" not in names


def test_a_forgotten_previous_password_can_remove_the_tablets_copy_after_a_warning(
    context, caseload, engine, db_session
):
    from sqlalchemy.orm import Session

    from fieldapp.models import User
    from fieldapp.services.accounts import hash_password

    page = context.new_page()
    first_visit(page)
    context.set_offline(True)
    record_contact(page, "Lost with the old password.")
    page.close()
    context.set_offline(False)
    new_password = "a-brand-new-password-2026"
    with Session(engine) as session:
        session.get(User, caseload.practitioner.id).password_hash = hash_password(new_password)
        session.commit()

    page = context.new_page()
    page.goto("/tablet")
    unlock(page, password=new_password, heading="Your password has changed")
    page.get_by_role("button", name="I can't remember it", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(
        "This tablet holds 1 change not yet sent to the server"
    )
    page.get_by_role("button", name="Go back", exact=True).click()  # nothing removed yet
    page.get_by_role("button", name="I can't remember it", exact=True).click()
    page.get_by_role("button", name="Remove this tablet's copy", exact=True).click()
    expect(page.get_by_role("heading", name="My caseload")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    expect(
        page.get_by_role("link", name="Mia Anderson", exact=True)
    ).to_be_visible()  # fetched again
    assert contacts_with(db_session, "Lost with the old password.") == 0  # as the warning said


def test_a_refused_csrf_token_asks_to_sign_in_again(context, caseload, db_session):
    page = context.new_page()
    first_visit(page)
    context.set_offline(True)
    record_contact(page, "Kept through a stale token.")
    # The session's token no longer matches (the server answers as Flask-WTF does).
    page.route(
        "**/api/sync/devices",
        lambda route: route.fulfill(
            status=400, json={"error": "CSRF check failed.", "code": "csrf_failed"}
        ),
    )
    context.set_offline(False)
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(page.get_by_role("button", name="Sign in again", exact=True)).to_be_visible(
        timeout=15_000
    )
    expect(page.get_by_role("status")).to_have_text("1 waiting to sync")
    assert contacts_with(db_session, "Kept through a stale token.") == 0


def test_a_server_answering_503_is_retried_by_itself(context, caseload, db_session):
    page = context.new_page()
    page.clock.install()
    first_visit(page)
    answered = []

    def busy_once(route):
        if not answered:
            answered.append(503)
            route.fulfill(
                status=503,
                headers={"Retry-After": "5"},
                json={"error": "The database is unavailable; retry later."},
            )
        else:
            route.continue_()

    page.route("**/api/sync/push*", busy_once)
    record_contact(page, "Sent after the server was busy.")
    expect(page.get_by_role("status")).to_have_text("Sync failed — will retry", timeout=15_000)
    page.clock.fast_forward("00:10")  # the backoff (a few seconds), with no tap
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    assert answered == [503]
    assert contacts_with(db_session, "Sent after the server was busy.") == 1
