"""The complete record on the tablet (issue 5): every part of a contact, the field-named checks
the tablet makes offline, drafts kept, reopened and deleted, drafts edited on two tablets, and
addenda and return visits recorded offline and synced."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.models import Addendum, Child, Contact, ReturnVisit, SyncConflict
from fieldapp.services.clock import today_in

from ..factories import gen_child
from .conftest import TIMEZONE
from .tablet_pages import first_visit, hand_over_to_a_colleague, type_without_saving, unlock

pytestmark = pytest.mark.browser


def synced(page):
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)


def saved_and_synced(page, button="Save draft", heading="Mia Anderson"):
    """Saves, waits to be back on the child's page (so the status line is the new page's),
    then for the sync to finish."""
    page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)


def fresh(session: Session, model, *where):
    session.rollback()  # a SQLite WAL reader keeps its snapshot until its transaction ends
    return session.scalars(select(model).where(*where)).all()


def test_offline_the_form_names_each_problem_and_keeps_the_typing(context, caseload):
    page = context.new_page()
    first_visit(page)
    context.set_offline(True)
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_label("Made by", exact=True).select_option(label="Third party")
    expect(page.get_by_label("Third party name", exact=True)).to_be_visible()
    page.get_by_label("Seen alone", exact=True).check()
    page.get_by_label("Duration (minutes)", exact=True).fill("2000")
    page.get_by_role("button", name="Add participant", exact=True).click()
    page.get_by_role("button", name="Add participant", exact=True).click()
    # Removing the second participant renumbers the third, which has no role yet.
    page.get_by_role("group", name="Participant 2").get_by_role(
        "button", name="Remove participant"
    ).click()
    expect(page.get_by_role("group", name="Participant 3")).to_have_count(0)
    page.get_by_role("button", name="Add action", exact=True).click()
    page.get_by_label("Worries", exact=True).fill("Kept while the form is wrong.")
    page.get_by_role("button", name="Submit", exact=True).click()

    problems = page.get_by_role("alert")
    for text in (
        "Seen alone: a child can only be seen alone if the child was seen.",
        "Duration (minutes): a whole number from 1 to 1440.",
        "Participant 2 role: choose a role.",
        "Action 1: describe what will happen.",
        "Third party name: enter the name",
        "Third party role: enter the role",
        "Reason views were not recorded: record the child's views",
    ):
        expect(problems).to_contain_text(text)
    expect(problems).to_be_focused()
    expect(page.get_by_role("status")).to_have_text("All changes synced")  # nothing queued

    # The typing is kept: reload (the address is now the draft's own) and it is all there.
    expect(page).to_have_url(re.compile(r"/tablet/contacts/[0-9a-f-]{36}$"))
    page.reload()
    unlock(page, heading="Draft contact with Mia Anderson")
    expect(page.get_by_label("Worries", exact=True)).to_have_value("Kept while the form is wrong.")
    expect(page.get_by_label("Duration (minutes)", exact=True)).to_have_value("2000")
    expect(page.get_by_role("group", name="Participant 2")).to_be_visible()


def test_drafts_are_deleted_locally_or_through_sync(context, caseload, db_session):
    page = context.new_page()
    first_visit(page)
    # A draft never saved is forgotten on the tablet alone.
    type_without_saving(page, "Mia Anderson", "Started by mistake.")
    expect(page.get_by_text("not saved yet")).to_be_visible()
    todays = f"{today_in(TIMEZONE).strftime('%d/%m/%Y')} · Face-to-face"
    page.get_by_role("link", name=todays, exact=True).click()
    page.get_by_role("button", name="Delete draft", exact=True).click()
    page.get_by_role("button", name="Yes, delete this draft", exact=True).click()
    expect(page.get_by_text("not saved yet")).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text("All changes synced")

    # A saved draft reaches the server, and its deletion follows it there.
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_label("Worries", exact=True).fill("Saved, then deleted.")
    saved_and_synced(page)
    assert len(fresh(db_session, Contact, Contact.worries == "Saved, then deleted.")) == 1
    page.get_by_role("link", name=todays, exact=True).click()
    page.get_by_role("button", name="Delete draft", exact=True).click()
    saved_and_synced(page, "Yes, delete this draft")
    assert fresh(db_session, Contact, Contact.worries == "Saved, then deleted.") == []


def test_an_addendum_and_a_return_visit_recorded_offline_reach_the_server(
    context, caseload, engine, db_session
):
    today = today_in(TIMEZONE)
    with Session(engine) as session:
        team = session.get(Child, caseload.child.id).team
        gen_child(
            session,
            team,
            session.merge(caseload.practitioner),
            care_start_date=today - timedelta(days=200),
            given_name="Ruby",
            family_name="Nguyen",
            residence="boarding_interstate",
        )
        session.commit()
    page = context.new_page()
    first_visit(page)
    context.set_offline(True)

    # The addendum: Mia's earlier, submitted contact cannot change, but can be added to.
    earlier = (today - timedelta(days=30)).strftime("%d/%m/%Y")
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    page.get_by_role("link", name=f"{earlier} · Face-to-face").click()
    expect(page.get_by_role("heading", name=f"Contact on {earlier}")).to_be_visible()
    page.get_by_label("Reason for the addendum", exact=True).fill("Started by mistake")
    page.get_by_role("button", name="Discard", exact=True).click()
    expect(page.get_by_label("Reason for the addendum", exact=True)).to_have_value("")
    page.get_by_role("button", name="Add addendum", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Reason for the addendum: give the reason")
    page.get_by_label("Reason for the addendum", exact=True).fill("Carer's name was misspelt")
    page.get_by_label("Addendum", exact=True).fill("The carer is Aunty Jo, not Aunty Joe.")
    page.get_by_role("button", name="Add addendum", exact=True).click()
    expect(page.get_by_text("The carer is Aunty Jo, not Aunty Joe.")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("1 waiting to sync")

    # The return visit (R2): Ruby boards interstate and is home for the holidays.
    page.get_by_role("link", name="My caseload", exact=True).click()
    page.get_by_role("link", name="Ruby Nguyen", exact=True).click()
    page.get_by_role("link", name="Record return visit", exact=True).click()
    page.get_by_label("Arrival date", exact=True).fill((today - timedelta(days=2)).isoformat())
    page.get_by_label("Departure date", exact=True).fill((today - timedelta(days=5)).isoformat())
    page.get_by_role("button", name="Save return visit", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Departure date: the departure date cannot be before the arrival date."
    )
    page.get_by_label("Departure date", exact=True).fill((today + timedelta(days=10)).isoformat())
    page.get_by_label("Arrangement (as documented in My Care Plan)", exact=True).fill(
        "Flies home with her cousin."
    )
    page.get_by_role("button", name="Save return visit", exact=True).click()
    visits = page.get_by_role("listitem").filter(has_text="Flies home with her cousin.")
    expect(visits).to_contain_text("Not seen yet")
    expect(page.get_by_role("status")).to_have_text("2 waiting to sync")

    context.set_offline(False)
    synced(page)
    [addendum] = fresh(db_session, Addendum, Addendum.reason == "Carer's name was misspelt")
    assert addendum.text == "The carer is Aunty Jo, not Aunty Joe."
    assert addendum.author_id == caseload.practitioner.id
    [visit] = fresh(
        db_session, ReturnVisit, ReturnVisit.arrangement_note == "Flies home with her cousin."
    )
    assert (visit.arrival_date, visit.departure_date) == (
        today - timedelta(days=2),
        today + timedelta(days=10),
    )


def test_a_draft_edited_on_two_tablets_merges_and_a_clash_keeps_both_texts(
    two_tablets, caseload, db_session
):
    first, second = two_tablets
    first_visit(first)
    first.get_by_role("link", name="Mia Anderson", exact=True).click()
    first.get_by_role("link", name="Record contact", exact=True).click()
    first.get_by_label("Worries", exact=True).fill("Started on the first tablet.")
    saved_and_synced(first)

    first_visit(second)  # the second tablet fetches the draft
    today = today_in(TIMEZONE).strftime("%d/%m/%Y")
    for page, field, text in (
        (second, "What's working well", "Added on the second tablet."),
        (first, "What needs to happen", "Added on the first tablet."),
    ):
        page.get_by_role("link", name="My caseload", exact=True).click()
        page.get_by_role("link", name="Mia Anderson", exact=True).click()
        page.get_by_role("link", name=f"{today} · Face-to-face").click()
        page.get_by_label(field, exact=True).fill(text)
        saved_and_synced(page)

    [draft] = fresh(db_session, Contact, Contact.status == "draft")
    assert (draft.worries, draft.working_well, draft.needs_to_happen) == (
        "Started on the first tablet.",
        "Added on the second tablet.",
        "Added on the first tablet.",
    )

    # Both change the worries: the server keeps the first text to arrive; the second tablet
    # keeps its words in view as a conflict.
    for page, text in ((first, "First tablet's worry."), (second, "Second tablet's worry.")):
        page.get_by_role("link", name=f"{today} · Face-to-face").click()
        page.get_by_label("Worries", exact=True).fill(text)
        page.get_by_role("button", name="Save draft", exact=True).click()
        expect(page.get_by_role("heading", name="Mia Anderson", exact=True)).to_be_visible()
    expect(first.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    expect(second.get_by_role("status")).to_contain_text("1 in conflict", timeout=15_000)
    second.get_by_role("link", name="My caseload", exact=True).click()
    attention = second.get_by_role("region", name="Needs your attention")
    expect(attention).to_contain_text("Worries as recorded: Second tablet's worry.")
    expect(attention).to_contain_text("Worries on the server now: First tablet's worry.")
    [draft] = fresh(db_session, Contact, Contact.status == "draft")
    assert draft.worries == "First tablet's worry."
    # The second tablet now shows the server's text in the draft itself.
    second.get_by_role("link", name="Mia Anderson", exact=True).click()
    second.get_by_role("link", name=f"{today} · Face-to-face").first.click()
    expect(second.get_by_label("Worries", exact=True)).to_have_value("First tablet's worry.")

    # The practitioner chooses their own words: an ordinary update, and the conflict closes.
    second.get_by_role("link", name="My caseload", exact=True).click()
    attention.get_by_role("button", name="Use my words", exact=True).click()
    expect(second.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    expect(second.get_by_role("region", name="Needs your attention")).to_have_count(0)
    [draft] = fresh(db_session, Contact, Contact.status == "draft")
    assert draft.worries == "Second tablet's worry."
    assert all(c.resolved_at is not None for c in fresh(db_session, SyncConflict))


def test_every_tablet_screen_renders_without_errors_or_csp_violations(page, caseload, engine):
    with Session(engine) as session:
        team = session.get(Child, caseload.child.id).team
        gen_child(
            session,
            team,
            session.merge(caseload.practitioner),
            given_name="Ruby",
            family_name="Nguyen",
            residence="interstate",
        )
        session.commit()
    first_visit(page)
    page.get_by_role("link", name="Ruby Nguyen", exact=True).click()
    page.get_by_role("link", name="Record return visit", exact=True).click()
    # A move to a new screen names it in the title and puts focus on its heading.
    expect(page.get_by_role("heading", name="Record return visit for Ruby Nguyen")).to_be_focused()
    expect(page).to_have_title("Record return visit for Ruby Nguyen · fieldapp")
    expect(
        page.get_by_label("Arrangement (as documented in My Care Plan)", exact=True)
    ).to_be_visible()
    page.get_by_role("link", name="My caseload", exact=True).click()
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    earlier = (today_in(TIMEZONE) - timedelta(days=30)).strftime("%d/%m/%Y")
    page.get_by_role("link", name=f"{earlier} · Face-to-face", exact=True).click()
    expect(page.get_by_role("heading", name="Add an addendum")).to_be_visible()
    page.go_back()
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_role("button", name="Add participant", exact=True).click()
    page.get_by_role("button", name="Add action", exact=True).click()
    expect(page.get_by_role("group", name="Action 1")).to_be_visible()
    assert page.console_log.errors == []
    assert page.console_log.csp_violations() == []


def test_a_double_tap_on_submit_queues_the_contact_once(context, caseload):
    page = context.new_page()
    first_visit(page)
    context.set_offline(True)
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_label("Child seen", exact=True).check()
    page.get_by_label("Child's views (in their own words)", exact=True).fill("Tapped twice.")
    page.get_by_label("How the views were gathered", exact=True).select_option(label="Conversation")
    page.get_by_role("button", name="Submit", exact=True).dblclick()
    expect(page.get_by_role("heading", name="Mia Anderson", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("1 waiting to sync")
    expect(page.get_by_role("listitem").filter(has_text="Submitted")).to_have_count(
        2
    )  # + the earlier one


def test_typing_for_a_child_who_left_the_caseload_is_kept_and_can_go_for_review(
    context, caseload, engine, db_session
):
    from fieldapp.models import SyncReviewItem

    page = context.new_page()
    first_visit(page)
    type_without_saving(page, "Kai Baker", "Kai said he is scared at night.")
    # Meanwhile the office records that a colleague has held Kai since his tenth day in care.
    kai = caseload.others[0]
    hand_over_to_a_colleague(engine, kai.id)
    page.get_by_role("link", name="My caseload", exact=True).click()
    synced(page)
    expect(page.get_by_role("link", name="Kai Baker", exact=True)).to_have_count(0)  # purged
    attention = page.get_by_role("region", name="Needs your attention")
    expect(attention).to_contain_text("For a child no longer on your caseload")
    expect(attention).to_contain_text("Worries: Kai said he is scared at night.")
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("typing not yet saved")

    attention.get_by_role("button", name="Send to the server").click()
    expect(page.get_by_role("status")).to_contain_text("1 in conflict", timeout=15_000)
    db_session.rollback()
    [item] = db_session.scalars(select(SyncReviewItem)).all()
    assert (
        item.child_id == kai.id
        and item.payload["data"]["worries"] == "Kai said he is scared at night."
    )
    # The tablet keeps the words sent with the server's answer, and no longer as a draft.
    page.get_by_role("link", name="My caseload", exact=True).click()
    expect(attention).to_contain_text("Worries as recorded: Kai said he is scared at night.")
    expect(attention).not_to_contain_text("For a child no longer on your caseload")


def test_a_submit_refused_after_a_clash_leaves_a_draft_to_finish(two_tablets, caseload, db_session):
    """The second tablet submits its version of a draft that the first has changed meanwhile:
    its change conflicts, so the submit is refused. The tablet shows the draft again as the
    server holds it (not as submitted, and not counted for the six-weekly rule); the
    practitioner chooses their words and submits."""
    first, second = two_tablets
    first_visit(first)
    first.get_by_role("link", name="Mia Anderson", exact=True).click()
    first.get_by_role("link", name="Record contact", exact=True).click()
    first.get_by_label("Child seen", exact=True).check()
    first.get_by_label("Child's views (in their own words)", exact=True).fill(
        "Started on the first tablet."
    )
    first.get_by_label("How the views were gathered", exact=True).select_option(
        label="Conversation"
    )
    saved_and_synced(first)
    first_visit(second)
    today = today_in(TIMEZONE).strftime("%d/%m/%Y")
    # The second tablet starts typing in the draft...
    second.get_by_role("link", name="Mia Anderson", exact=True).click()
    second.get_by_role("link", name=f"{today} · Face-to-face", exact=True).click()
    second.get_by_label("Child's views (in their own words)", exact=True).fill(
        "Finished on the second tablet."
    )
    # ...while the first changes the same words, and the second tablet syncs (its typing stays).
    first.get_by_role("link", name=f"{today} · Face-to-face", exact=True).click()
    first.get_by_label("Child's views (in their own words)", exact=True).fill(
        "Changed on the first tablet."
    )
    saved_and_synced(first)
    with second.expect_response("**/api/sync/pull*"):
        second.get_by_role("button", name="Sync now", exact=True).click()
    expect(second.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    expect(second.get_by_label("Child's views (in their own words)", exact=True)).to_have_value(
        "Finished on the second tablet."
    )

    second.get_by_role("button", name="Submit", exact=True).click()
    expect(second.get_by_role("heading", name="Mia Anderson", exact=True)).to_be_visible()
    expect(second.get_by_role("status")).to_have_text(
        "All changes synced · 1 refused by the server · 1 in conflict", timeout=15_000
    )
    [draft] = fresh(db_session, Contact, Contact.status == "draft")
    assert draft.child_views == "Changed on the first tablet."

    # Back to a draft, as the server holds it; the earlier contact is still the last one.
    contact = second.get_by_role("listitem").filter(
        has=second.get_by_role("link", name=f"{today} · Face-to-face")
    )
    expect(contact).to_contain_text("Draft")
    second.get_by_role("link", name="My caseload", exact=True).click()
    mia = second.get_by_role("row").filter(has=second.get_by_role("link", name="Mia Anderson"))
    expect(mia).not_to_contain_text(today)

    attention = second.get_by_role("region", name="Needs your attention")
    expect(attention).to_contain_text(
        "Child's views (in their own words) on the server now: Changed on the first tablet."
    )
    attention.get_by_role("button", name="Use my words", exact=True).click()
    expect(second.get_by_role("status")).to_have_text(
        "All changes synced · 1 refused by the server", timeout=15_000
    )
    attention.get_by_role("button", name="Discard refused change 1").click()
    expect(attention).to_contain_text(
        "Discard the refused submission of the contact for Mia Anderson"
    )
    attention.get_by_role("button", name="Yes, discard", exact=True).click()
    expect(second.get_by_role("status")).to_have_text("All changes synced")
    second.get_by_role("link", name="Mia Anderson", exact=True).click()
    second.get_by_role("link", name=f"{today} · Face-to-face", exact=True).click()
    expect(second.get_by_label("Child's views (in their own words)", exact=True)).to_have_value(
        "Finished on the second tablet."
    )
    saved_and_synced(second, "Submit")
    [submitted] = fresh(
        db_session, Contact, Contact.child_views == "Finished on the second tablet."
    )
    assert submitted.status == "submitted"
