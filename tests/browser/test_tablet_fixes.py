"""Practitioners never lose their words: a refused contact is corrected and sent again, a
conflict is merged with both texts kept in its history, and the idle lock keeps the typing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.models import AuditEvent, Child, Contact, SyncConflict
from fieldapp.services.clock import today_in

from ..factories import PASSWORD
from .conftest import TIMEZONE, ConsoleLog
from .tablet_pages import first_visit, hand_over_to_a_colleague, unlock

pytestmark = pytest.mark.browser

REFUSED = "Mia said she likes her new school."


def fresh(session, model, *where):
    session.rollback()  # a SQLite WAL reader keeps its snapshot until its transaction ends
    return session.scalars(select(model).where(*where)).all()


def dmy(day) -> str:
    return day.strftime("%d/%m/%Y")


def a_refused_contact(context, caseload, engine):
    """Offline, a contact dated five days ago is submitted; meanwhile the office corrects Mia's
    care start date to two days ago. The tablet could not know: the server refuses it, naming
    the date."""
    page = context.new_page()
    first_visit(page)
    context.set_offline(True)
    today = today_in(TIMEZONE)
    dated = today - timedelta(days=5)
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_label("Date of contact", exact=True).fill(dated.isoformat())
    page.get_by_label("Child seen", exact=True).check()
    page.get_by_label("Child's views (in their own words)", exact=True).fill(REFUSED)
    page.get_by_label("How the views were gathered", exact=True).select_option(label="Conversation")
    page.get_by_label("Worries", exact=True).fill("None today.")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("heading", name="Mia Anderson", exact=True)).to_be_visible()
    with Session(engine) as session:
        session.get(Child, caseload.child.id).care_start_date = today - timedelta(days=2)
        session.commit()
    context.set_offline(False)
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(page.get_by_role("status")).to_have_text(
        "All changes synced · 1 refused by the server", timeout=15_000
    )
    page.get_by_role("link", name="My caseload", exact=True).click()
    return page, dated


def test_a_refused_contact_is_corrected_and_reaches_the_server_once(
    context, caseload, engine, db_session
):
    page, dated = a_refused_contact(context, caseload, engine)
    assert fresh(db_session, Contact, Contact.child_views == REFUSED) == []
    attention = page.get_by_role("region", name="Needs your attention")
    what = f"Contact for Mia Anderson of {dmy(dated)}"
    expect(attention).to_contain_text(what)
    attention.get_by_role("link", name=f"Open it to correct: {what}", exact=True).click()

    # The form, with the tablet's words, the refusal at the top and the reason by the field.
    expect(
        page.get_by_text("The server refused this contact when it was last sent")
    ).to_be_visible()
    expect(page.get_by_label("Child's views (in their own words)", exact=True)).to_have_value(
        REFUSED
    )
    date = page.get_by_label("Date of contact", exact=True)
    expect(date).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field").filter(has=date)).to_contain_text(
        "The server refused this: The date of contact cannot be before the child came into care"
    )
    today = today_in(TIMEZONE)
    date.fill(today.isoformat())
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("heading", name="Mia Anderson", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    [contact] = fresh(db_session, Contact, Contact.child_views == REFUSED)
    assert (contact.status, contact.contact_date, contact.worries) == (
        "submitted",
        today,
        "None today.",
    )
    page.get_by_role("link", name="My caseload", exact=True).click()
    expect(page.get_by_role("region", name="Needs your attention")).to_have_count(0)
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    assert len(fresh(db_session, Contact, Contact.child_views == REFUSED)) == 1


def test_a_refused_contact_is_discarded_only_after_a_confirmation_naming_it(
    context, caseload, engine, db_session
):
    page, dated = a_refused_contact(context, caseload, engine)
    attention = page.get_by_role("region", name="Needs your attention")
    question = (
        f"Discard this contact for Mia Anderson of {dmy(dated)}? "
        "The words typed in it will be deleted from this tablet."
    )
    attention.get_by_role("button", name="Discard refused change 1").click()
    expect(attention.get_by_text(question, exact=True)).to_be_visible()
    attention.get_by_role("button", name="Keep it", exact=True).click()  # changed their mind
    expect(attention.get_by_text(question, exact=True)).to_be_hidden()
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    page.get_by_role("link", name="My caseload", exact=True).click()
    expect(attention).to_contain_text(REFUSED)  # still there, words and all
    expect(page.get_by_role("status")).to_contain_text("1 refused by the server")

    attention.get_by_role("button", name="Discard refused change 1").click()
    attention.get_by_role("button", name="Yes, discard", exact=True).click()
    expect(page.get_by_role("region", name="Needs your attention")).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("All changes synced")
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    expect(page.get_by_text(dmy(dated))).to_have_count(0)  # the draft to correct went with it
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    assert fresh(db_session, Contact, Contact.child_views == REFUSED) == []


def test_a_merged_conflict_keeps_words_from_both_texts_and_its_history_shows_both(
    two_tablets, caseload, db_session, engine
):
    first, second = two_tablets
    first_visit(first)
    first.get_by_role("link", name="Mia Anderson", exact=True).click()
    first.get_by_role("link", name="Record contact", exact=True).click()
    first.get_by_label("Worries", exact=True).fill("Started on the first tablet.")
    first.get_by_role("button", name="Save draft", exact=True).click()
    expect(first.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    first_visit(second)
    today = today_in(TIMEZONE).strftime("%d/%m/%Y")
    for page, text in (
        (first, "Missed school on Monday."),
        (second, "Carer worried about sleep."),
    ):
        page.get_by_role("link", name="My caseload", exact=True).click()
        page.get_by_role("link", name="Mia Anderson", exact=True).click()
        page.get_by_role("link", name=f"{today} · Face-to-face").click()
        page.get_by_label("Worries", exact=True).fill(text)
        page.get_by_role("button", name="Save draft", exact=True).click()
        expect(page.get_by_role("heading", name="Mia Anderson", exact=True)).to_be_visible()
        if page is first:
            expect(first.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    expect(second.get_by_role("status")).to_contain_text("1 in conflict", timeout=15_000)

    second.get_by_role("link", name="My caseload", exact=True).click()
    attention = second.get_by_role("region", name="Needs your attention")
    expect(attention).to_contain_text(f"Contact for Mia Anderson of {today}")
    attention.get_by_role("button", name="Merge the texts", exact=True).click()
    merged = attention.get_by_label("Merged text: Worries", exact=True)
    expect(merged).to_be_focused()
    expect(merged).to_have_value(
        "--- My words ---\nCarer worried about sleep.\n\n"
        "--- The server's text ---\nMissed school on Monday."
    )
    merged.fill("Missed school on Monday. Carer worried about sleep.")
    attention.get_by_role("button", name="Send the merged text", exact=True).click()
    expect(second.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    expect(second.get_by_role("region", name="Needs your attention")).to_have_count(0)

    [draft] = fresh(db_session, Contact, Contact.status == "draft")
    assert draft.worries == "Missed school on Monday. Carer worried about sleep."
    [conflict] = fresh(db_session, SyncConflict)
    assert conflict.resolved_at is not None
    assert conflict.resolved_by_id == caseload.practitioner.id
    assert (conflict.server_value, conflict.device_value) == (
        "Missed school on Monday.",
        "Carer worried about sleep.",
    )
    [event] = fresh(db_session, AuditEvent, AuditEvent.action == "resolve_conflict")
    assert event.object_id == str(conflict.id)
    assert (event.detail["field"], event.detail["choice"]) == ("worries", "merged")
    assert "Carer" not in str(event.detail)  # lengths only: no case text in the audit trail

    # The contact's history on the tablet: both texts, the merged one, who and when.
    second.get_by_role("link", name="Mia Anderson", exact=True).click()
    second.get_by_role("link", name=f"{today} · Face-to-face").click()
    history = second.get_by_role("region", name="Resolved conflicts")
    expect(history).to_contain_text("Worries: Pat Practitioner merged the two texts on")
    expect(history).to_contain_text("Words from this tablet: Carer worried about sleep.")
    expect(history).to_contain_text("The server's text: Missed school on Monday.")
    expect(second.get_by_label("Worries", exact=True)).to_have_value(
        "Missed school on Monday. Carer worried about sleep."
    )

    # And on the server's sync issues page, for the practitioner and their team leader.
    second.goto("/team/sync-issues")
    resolved = second.get_by_role("region", name="Resolved conflicts")
    expect(resolved).to_contain_text("Pat Practitioner merged the two texts on")
    expect(resolved).to_contain_text("Missed school on Monday.")
    expect(resolved).to_contain_text("Carer worried about sleep.")

    # Mia leaves the caseload: the tablet keeps nothing of her contact's conflicts either.
    history_keys = """(userId) => new Promise((ok) => {
        const open = indexedDB.open(`fieldapp-user-${userId}`);
        open.onsuccess = () => {
            const keys = open.result.transaction("meta").objectStore("meta").getAllKeys();
            keys.onsuccess = () => {
                ok(keys.result.filter((k) => String(k).startsWith("history/")));
                open.result.close();
            };
        };
    })"""
    assert len(second.evaluate(history_keys, caseload.practitioner.id)) == 1
    hand_over_to_a_colleague(engine, caseload.child.id)
    second.goto("/tablet")
    unlock(second)
    expect(second.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    expect(second.get_by_role("link", name="Mia Anderson", exact=True)).to_have_count(0)
    assert second.evaluate(history_keys, caseload.practitioner.id) == []


def test_the_idle_lock_with_a_focused_field_asks_only_the_password_and_keeps_the_typing(
    context, caseload
):
    page = context.new_page()
    log = ConsoleLog(page)
    page.clock.install()
    first_visit(page)
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    page.get_by_role("link", name="Record contact", exact=True).click()
    worries = page.get_by_label("Worries", exact=True)
    worries.fill("Typed before the tablet locked")
    worries.focus()
    page.clock.fast_forward("16:00")
    expect(page.get_by_role("alert")).to_contain_text("Locked after 15 minutes")
    expect(page.get_by_text("Signed in as Pat Practitioner.")).to_be_visible()
    # The user is known: the password alone, and no error about the typing.
    expect(page.get_by_label("Email", exact=True)).to_have_count(0)
    expect(page.get_by_text("could not be saved")).to_have_count(0)
    password = page.get_by_label("Password", exact=True)
    expect(password).to_be_focused()
    password.fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    worries = page.get_by_label("Worries", exact=True)
    expect(worries).to_have_value("Typed before the tablet locked")
    expect(worries).to_be_focused()
    page.keyboard.type(", and after.")
    expect(worries).to_have_value("Typed before the tablet locked, and after.")
    # Unlocking online signed in again, and the sync it starts ends before the test does.
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    assert log.errors == []
