"""The caseload read from summaries (issue 5, the team leader's cold start): one small sealed
summary per child is kept beside the records, so the caseload opens without decrypting every
contact. What it shows must stay exactly what the full records say (R1 with the tablet's
today, unsynced contacts included) through a pull, an offline contact, a purge and an upgrade
from a version 2 database that has no summaries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from fieldapp.models import Child, User
from fieldapp.services.clock import today_in

from ..factories import gen_contact
from .conftest import TIMEZONE
from .tablet_pages import contacts_with, first_visit, hand_over_to_a_colleague, unlock

pytestmark = pytest.mark.browser

KAI_VIEWS = "Kai said he likes his new school."

# What the caseload showed before summaries, computed here from the full records: every
# child's row as the old caseload screen drew it (name, last contact with the unsynced mark,
# due date, status), in the order it drew them.
FROM_RECORDS = """async () => {
    const { state, childName } = await import("/static/js/tablet/shell.js");
    const { assessChild } = await import("/static/js/tablet/compliance.js");
    const { deviceToday } = await import("/static/js/tablet/clock.js");
    const { dmy } = await import("/static/js/tablet/dom.js");
    const STATUS = { overdue: "Overdue", due_soon: "Due soon", on_track: "On track" };
    const rows = [];
    for (const child of await state.store.recordsOfType("child")) {
        const records = await state.store.recordsOfChild(child.id);
        const of = (type) => records.filter((r) => r.type === type);
        const result = assessChild(child.data, of("contact").map((r) => r.data),
            of("return_visit").map((r) => r.data), deviceToday());
        const unsynced = of("contact").some((r) => r.pending);
        const status = !result.inCare ? "Care ended" : result.status === "overdue"
            ? `Overdue by ${result.daysOverdue} day${result.daysOverdue === 1 ? "" : "s"}`
            : STATUS[result.status];
        rows.push({ due: result.dueDate, shown: [childName(child.data),
            dmy(result.lastContactDate) + (unsynced ? " (includes unsynced)" : ""),
            dmy(result.dueDate), status] });
    }
    rows.sort((a, b) => (a.due || "9999").localeCompare(b.due || "9999"));
    return rows.map((row) => row.shown);
}"""

SHOWN = """() => [...document.querySelectorAll("table.caseload tbody tr")]
    .map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent))"""

# The summaries store as it is on disk: which children have a sealed summary.
SUMMARIES = """async () => {
    const { state } = await import("/static/js/tablet/shell.js");
    const rows = await new Promise((ok, fail) => {
        const r = state.store.db.transaction("summaries").objectStore("summaries").getAll();
        r.onsuccess = () => ok(r.result);
        r.onerror = () => fail(r.error);
    });
    return rows.filter((row) => row.sealed).map((row) => row.childId).sort();
}"""


def row(page, name):
    return page.get_by_role("row").filter(has=page.get_by_role("link", name=name, exact=True))


def assert_caseload_is_the_records(page):
    """The caseload on screen is, row for row, what the full records give."""
    expect(page.get_by_role("heading", name="My caseload", exact=True)).to_be_visible()
    expected = page.evaluate(FROM_RECORDS)
    assert expected, "no children on the tablet"
    assert page.evaluate(SHOWN) == expected


def synced(page):
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)


def cold_start(context):
    """A new page of the installed app, unlocked with the password."""
    page = context.new_page()
    page.goto("/tablet")
    unlock(page)
    return page


def submit_contact(page, child, views):
    """A face-to-face contact with the child seen, dated today, submitted from the caseload."""
    page.get_by_role("link", name=child, exact=True).click()
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_label("Child seen", exact=True).check()
    page.get_by_label("Child's views (in their own words)", exact=True).fill(views)
    page.get_by_label("How the views were gathered", exact=True).select_option(label="Conversation")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("heading", name=child, exact=True)).to_be_visible()
    page.get_by_role("link", name="Back to caseload").click()


def test_a_pulled_contact_moves_the_child_on_the_caseload(context, caseload, engine):
    page = context.new_page()
    first_visit(page)
    kai = caseload.others[0]
    expect(row(page, "Kai Baker")).to_contain_text("Overdue by")  # 400 days in care, no contact
    assert_caseload_is_the_records(page)
    assert page.evaluate(SUMMARIES) == sorted(str(c.id) for c in [caseload.child, *caseload.others])

    two_days_ago = today_in(TIMEZONE) - timedelta(days=2)
    with Session(engine) as session:  # recorded on the web meanwhile
        gen_contact(
            session,
            session.get(Child, kai.id),
            session.get(User, caseload.practitioner.id),
            contact_date=two_days_ago,
        )
        session.commit()
    synced(page)
    expect(row(page, "Kai Baker")).to_contain_text("On track")
    expect(row(page, "Kai Baker")).to_contain_text(two_days_ago.strftime("%d/%m/%Y"))
    assert_caseload_is_the_records(page)

    # Offline, a cold start shows the same from the summaries kept.
    page.close()
    context.set_offline(True)
    page = cold_start(context)
    expect(row(page, "Kai Baker")).to_contain_text("On track")
    assert_caseload_is_the_records(page)


def test_a_contact_submitted_offline_counts_at_once_and_after_a_cold_start(
    context, caseload, db_session
):
    page = context.new_page()
    first_visit(page)
    context.set_offline(True)
    expect(row(page, "Kai Baker")).to_contain_text("Overdue by")
    submit_contact(page, "Kai Baker", KAI_VIEWS)
    expect(page.get_by_role("status")).to_have_text("1 waiting to sync")
    expect(row(page, "Kai Baker")).to_contain_text("On track")
    expect(row(page, "Kai Baker")).to_contain_text("(includes unsynced)")
    assert_caseload_is_the_records(page)

    page.close()
    page = cold_start(context)
    expect(row(page, "Kai Baker")).to_contain_text("On track")
    expect(row(page, "Kai Baker")).to_contain_text("(includes unsynced)")
    assert_caseload_is_the_records(page)

    # Once the server has it and sent it back, it is no longer unsynced.
    context.set_offline(False)
    synced(page)
    assert contacts_with(db_session, KAI_VIEWS) == 1
    expect(row(page, "Kai Baker")).not_to_contain_text("(includes unsynced)")
    expect(row(page, "Kai Baker")).to_contain_text("On track")
    assert_caseload_is_the_records(page)


def test_a_purged_child_leaves_the_caseload_and_its_summary(context, caseload, engine):
    page = context.new_page()
    first_visit(page)
    mia = str(caseload.child.id)
    assert mia in page.evaluate(SUMMARIES)

    hand_over_to_a_colleague(engine, caseload.child.id)
    synced(page)
    expect(page.get_by_role("link", name="Mia Anderson", exact=True)).to_have_count(0)
    expect(row(page, "Kai Baker")).to_be_visible()
    assert_caseload_is_the_records(page)
    # Nothing sealed about her stays behind: her summary went in the pull's transaction.
    assert mia not in page.evaluate(SUMMARIES)

    page.close()
    context.set_offline(True)
    page = cold_start(context)
    expect(page.get_by_role("link", name="Mia Anderson", exact=True)).to_have_count(0)
    assert_caseload_is_the_records(page)


def test_a_summary_made_while_the_childs_records_change_is_not_kept(context, caseload):
    """A summary is made outside any transaction (encryption first): if the child's records
    change meanwhile, it is shown once but not stored, and the next caseload makes it again."""
    page = context.new_page()
    first_visit(page)
    kai = str(caseload.others[0].id)
    outcome = page.evaluate(
        """async (kai) => {
        const { state } = await import("/static/js/tablet/shell.js");
        const store = state.store;
        const stored = async () => (await new Promise((ok) => {
            const r = store.db.transaction("summaries").objectStore("summaries").get(kai);
            r.onsuccess = () => ok(r.result);
        }));
        // Kai's summary is stale (his records changed), and changes again while it is made.
        let builds = 0;
        const build = (records) => {
            builds += 1;
            const tx = store.db.transaction("summaries", "readwrite");
            tx.objectStore("summaries").put({ childId: kai, stamp: `changed-${builds}` });
            return { id: records.find((r) => r.type === "child").id, builds };
        };
        const stale = store.db.transaction("summaries", "readwrite");
        stale.objectStore("summaries").put({ childId: kai, stamp: "changed-0" });
        await new Promise((ok) => { stale.oncomplete = ok; });
        const first = await store.summaries(build, { types: ["child"], version: 1 });
        const afterFirst = await stored();
        const quiet = (records) => ({
            id: records.find((r) => r.type === "child").id, quiet: true });
        const second = await store.summaries(quiet, { types: ["child"], version: 1 });
        const afterSecond = await stored();
        return {
            firstShown: first.find((s) => s.id === kai),
            storedAfterFirst: Boolean(afterFirst.sealed),
            secondShown: second.find((s) => s.id === kai),
            storedAfterSecond: Boolean(afterSecond.sealed) && afterSecond.stamp === "changed-1",
        };
    }""",
        kai,
    )
    assert outcome["firstShown"] == {"id": kai, "builds": 1}
    assert not outcome["storedAfterFirst"]
    assert outcome["secondShown"] == {"id": kai, "quiet": True}
    assert outcome["storedAfterSecond"]


# A version 2 database, as the previous version of the app left it: the same stores less
# `summaries`, every row kept as it is (sealed records, the outbox), upgradedTo 2.
TO_VERSION_2 = """async (userId) => {
    const name = `fieldapp-user-${userId}`;
    const open = (version, upgrade) => new Promise((ok, fail) => {
        const request = version ? indexedDB.open(name, version) : indexedDB.open(name);
        if (upgrade) request.onupgradeneeded = () => upgrade(request.result);
        request.onsuccess = () => ok(request.result);
        request.onerror = () => fail(request.error);
    });
    const STORES = {
        meta: { keyPath: "key" }, outbox: { keyPath: "seq" }, server: { keyPath: ["type", "id"] },
        records: { keyPath: ["type", "id"] }, rejected: { keyPath: "mutationId" },
        conflicts: { keyPath: "id" }, held: { keyPath: "childId" },
    };
    const current = await open();
    const kept = {};
    for (const store of Object.keys(STORES)) {
        kept[store] = await new Promise((ok) => {
            const r = current.transaction(store).objectStore(store).getAll();
            r.onsuccess = () => ok(r.result);
        });
    }
    current.close();
    await new Promise((ok, fail) => {
        const r = indexedDB.deleteDatabase(name);
        r.onsuccess = ok;
        r.onerror = () => fail(r.error);
    });
    const db = await open(2, (db) => {
        for (const [store, options] of Object.entries(STORES)) {
            const created = db.createObjectStore(store, options);
            if (store === "records" || store === "server") {
                created.createIndex("by_type", "type");
                created.createIndex("by_child", "childId");
            }
            if (store === "outbox") created.createIndex("by_record", "record");
        }
    });
    const tx = db.transaction(Object.keys(STORES), "readwrite");
    for (const [store, rows] of Object.entries(kept)) {
        for (const row of rows) tx.objectStore(store).put(row);
    }
    tx.objectStore("meta").put({ key: "upgradedTo", value: 2 });
    await new Promise((ok) => { tx.oncomplete = ok; });
    db.close();
    return Object.fromEntries(Object.entries(kept).map(([store, rows]) => [store, rows.length]));
}"""

VERSION = """(userId) => new Promise((ok) => {
    const request = indexedDB.open(`fieldapp-user-${userId}`);
    request.onsuccess = () => {
        ok([request.result.version, [...request.result.objectStoreNames].sort()]);
        request.result.close();
    };
})"""


def test_a_version_2_database_gets_its_summaries_from_the_records(context, caseload, db_session):
    """The upgrade adds the empty `summaries` store and keeps everything else (the outbox too);
    the first caseload makes every summary from the records."""
    page = context.new_page()
    first_visit(page)
    context.set_offline(True)
    submit_contact(page, "Kai Baker", KAI_VIEWS)
    expect(page.get_by_role("status")).to_have_text("1 waiting to sync")
    expected = page.evaluate(FROM_RECORDS)

    page.goto("/tablet")  # locked: the app holds no connection while the database is rebuilt
    user_id = caseload.practitioner.id
    counts = page.evaluate(TO_VERSION_2, user_id)
    assert counts["outbox"] == 1 and counts["records"] >= 4
    assert page.evaluate(VERSION, user_id)[0] == 2

    unlock(page)
    expect(page.get_by_role("status")).to_have_text("1 waiting to sync")
    expect(row(page, "Kai Baker")).to_contain_text("On track")
    expect(row(page, "Kai Baker")).to_contain_text("(includes unsynced)")
    assert page.evaluate(SHOWN) == expected
    assert_caseload_is_the_records(page)
    version, stores = page.evaluate(VERSION, user_id)
    assert version == 3 and "summaries" in stores and "outbox" in stores
    assert page.evaluate(SUMMARIES) == sorted(str(c.id) for c in [caseload.child, *caseload.others])

    # The work queued under version 2 is still sent.
    context.set_offline(False)
    synced(page)
    assert contacts_with(db_session, KAI_VIEWS) == 1
    assert_caseload_is_the_records(page)
