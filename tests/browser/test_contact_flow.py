"""The practitioner's contact flow in real headless Chromium, found only by the accessible names of
SPEC §5 (labels and roles), at tablet and phone sizes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fieldapp.models import Contact
from fieldapp.services.clock import today_in

from .conftest import PHONE, TIMEZONE

try:
    from playwright.sync_api import expect
except ImportError:  # the `playwright_instance` fixture skips (or, with CI=true, fails) the tests
    expect = None

pytestmark = pytest.mark.browser

CHILD_VIEWS = "I like living with Aunty Rose. I want to see Mum on Saturdays."
WORRIES = "Missed two family time visits this month."
WORKING_WELL = "Goes to school every day; strong bond with Aunty Rose."
NEEDS_TO_HAPPEN = "Arrange family time with Mum every fortnight."
LANGUAGE = "English and Kriol"


def _label(page, name: str):
    return page.get_by_label(name, exact=True)


def _open_contact_form(page, child_name: str = "Mia Anderson") -> None:
    page.get_by_role("link", name=child_name, exact=True).click()
    expect(page.get_by_role("heading", name=child_name, exact=True)).to_be_visible()
    page.get_by_role("link", name="Record contact", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(r"^Record contact"))).to_be_visible()


def _scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_record_save_and_submit_a_contact_on_a_tablet(page, sign_in, caseload, db_session):
    """(a) Sign in, open the child, fill every main field, add a participant, save a draft, then
    submit; the contact page and the database hold exactly what was typed."""
    assert page.viewport_size == {"width": 768, "height": 1024}
    contact_day = today_in(TIMEZONE) - timedelta(days=1)
    sign_in()
    _open_contact_form(page)

    _label(page, "Date of contact").fill(contact_day.isoformat())
    _label(page, "Contact type").select_option(label="Face-to-face")
    _label(page, "Made by").select_option(label="Me")
    _label(page, "Child seen").check()
    _label(page, "Child's views (in their own words)").fill(CHILD_VIEWS)
    _label(page, "How the views were gathered").select_option(label="Conversation")
    _label(page, "Worries").fill(WORRIES)
    _label(page, "What's working well").fill(WORKING_WELL)
    _label(page, "What needs to happen").fill(NEEDS_TO_HAPPEN)
    _label(page, "Safety scale").fill("7")
    _label(page, "Language used").fill(LANGUAGE)

    # The form starts with the child as participant 1; "Add participant" adds participant 2
    # without losing anything typed so far.
    expect(page.get_by_role("group", name="Participant 2", exact=True)).to_have_count(0)
    page.get_by_role("button", name="Add participant", exact=True).click()
    participant = page.get_by_role("group", name="Participant 2", exact=True)
    expect(participant).to_be_visible()
    expect(_label(page, "Child's views (in their own words)")).to_have_value(CHILD_VIEWS)
    participant.get_by_label("Role", exact=True).select_option(label="Carer")
    participant.get_by_label("Name", exact=True).fill("Rose Campbell")
    participant.get_by_label("Took part in decisions", exact=True).check()
    participant.get_by_label("Views and wishes", exact=True).fill(
        "Happy for Mia to stay long term."
    )

    page.get_by_role("button", name="Save draft", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Draft saved.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile(r"^Draft contact"))).to_be_visible()
    expect(_label(page, "Worries")).to_have_value(WORRIES)
    draft = db_session.scalars(select(Contact).where(Contact.status == "draft")).one()
    assert draft.child_views == CHILD_VIEWS

    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Contact submitted.")).to_be_visible()
    expect(
        page.get_by_role(
            "heading",
            name=f"Contact on {contact_day.strftime('%d/%m/%Y')} with Mia Anderson",
            exact=True,
        )
    ).to_be_visible()
    main = page.get_by_role("main")
    expect(main.get_by_text("Submitted", exact=True)).to_be_visible()
    for text in (CHILD_VIEWS, WORRIES, WORKING_WELL, NEEDS_TO_HAPPEN, LANGUAGE, "Rose Campbell"):
        expect(main.get_by_text(text, exact=True)).to_be_visible()
    # The submitted contact is read-only: no form fields remain.
    expect(page.get_by_role("button", name="Submit", exact=True)).to_have_count(0)

    db_session.rollback()  # end the read transaction: SQLite WAL reads see a snapshot
    contacts = db_session.scalars(
        select(Contact).where(
            Contact.child_id == caseload.child.id, Contact.contact_date == contact_day
        )
    ).all()
    assert len(contacts) == 1
    contact = contacts[0]
    assert contact.id == draft.id  # the draft was submitted, not copied
    assert contact.status == "submitted" and contact.submitted_at is not None
    assert contact.author_id == caseload.practitioner.id
    assert (contact.mode, contact.made_by) == ("face_to_face", "practitioner")
    assert contact.third_party_name is None and contact.third_party_role is None
    assert contact.child_seen is True and contact.seen_alone is False
    assert contact.child_views == CHILD_VIEWS
    assert contact.views_method == "conversation"
    assert contact.worries == WORRIES
    assert contact.working_well == WORKING_WELL
    assert contact.needs_to_happen == NEEDS_TO_HAPPEN
    assert contact.safety_scale == 7
    assert contact.language_used == LANGUAGE
    assert [(p.role, p.name, p.took_part_in_decisions) for p in contact.participants] == [
        ("child", "Mia Anderson", False),
        ("carer", "Rose Campbell", True),
    ]
    assert contact.participants[1].views_and_wishes == "Happy for Mia to stay long term."
    # Exactly one submitted contact was added (the fixture's earlier one is the other).
    assert (
        db_session.scalar(
            select(func.count()).select_from(Contact).where(Contact.status == "submitted")
        )
        == 2
    )
    assert (
        db_session.scalar(
            select(func.count()).select_from(Contact).where(Contact.status == "draft")
        )
        == 0
    )


def test_a_future_date_is_refused_and_the_typing_is_kept(page, sign_in, caseload, db_session):
    """(b) Submitting with a future date shows the error summary and the error on "Date of
    contact", and the child's views typed so far are still in the textarea."""
    sign_in()
    _open_contact_form(page)
    future = today_in(TIMEZONE) + timedelta(days=3)
    _label(page, "Date of contact").fill(future.isoformat())
    _label(page, "Child's views (in their own words)").fill(CHILD_VIEWS)
    _label(page, "How the views were gathered").select_option(label="Play or drawing")
    page.get_by_role("button", name="Submit", exact=True).click()

    summary = page.get_by_role("alert").filter(
        has=page.get_by_role("heading", name="There is a problem")
    )
    expect(summary).to_be_visible()
    message = "The date of contact cannot be in the future."
    expect(summary.get_by_role("link", name=f"Date of contact: {message}")).to_be_visible()
    date_field = _label(page, "Date of contact")
    expect(date_field).to_have_attribute("aria-invalid", "true")
    expect(date_field).to_have_accessible_description(message)
    expect(date_field).to_have_value(future.isoformat())
    expect(_label(page, "Child's views (in their own words)")).to_have_value(CHILD_VIEWS)
    expect(_label(page, "How the views were gathered")).to_have_value("play_or_drawing")

    # The summary link takes the keyboard to the field.
    summary.get_by_role("link", name=re.compile("^Date of contact")).click()
    expect(date_field).to_be_focused()

    assert db_session.scalar(select(func.count()).select_from(Contact)) == 1  # the fixture's


def test_no_horizontal_scroll_on_a_phone(page, sign_in, caseload):
    """(c) At 390x844 the caseload, the child page and the contact form fit the width."""
    page.set_viewport_size(PHONE)
    sign_in()
    expect(
        page.get_by_role("link", name="Nathaniel-Alexander Montgomery-Worthington")
    ).to_be_visible()
    assert _scroll_width(page) <= PHONE["width"], "caseload scrolls sideways"
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    expect(page.get_by_role("heading", name="Mia Anderson", exact=True)).to_be_visible()
    assert _scroll_width(page) <= PHONE["width"], "child page scrolls sideways"
    page.get_by_role("link", name="Record contact", exact=True).click()
    expect(_label(page, "Date of contact")).to_be_visible()
    assert _scroll_width(page) <= PHONE["width"], "contact form scrolls sideways"
    # With a participant added and an error shown, it still fits.
    page.get_by_role("button", name="Add participant", exact=True).click()
    _label(page, "Date of contact").fill((today_in(TIMEZONE) + timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert _scroll_width(page) <= PHONE["width"], "contact form with errors scrolls sideways"


def test_no_csp_violation_or_script_error(page, sign_in, caseload):
    """(d) The caseload and the contact form load with no console error, uncaught script error or
    Content-Security-Policy violation, and app.js actually runs (it hides the third-party
    fields)."""
    log = page.console_log
    sign_in()
    page.wait_for_load_state("networkidle")
    assert log.csp_violations() == []
    _open_contact_form(page)
    page.wait_for_load_state("networkidle")
    expect(_label(page, "Third party name")).to_be_hidden()
    assert log.csp_violations() == []
    assert log.errors == []


def test_third_party_fields_show_only_for_a_third_party(page, sign_in, caseload):
    """(e) "Third party name" and "Third party role" are hidden until "Made by" is "Third
    party", and hide again for "Me"."""
    sign_in()
    _open_contact_form(page)
    name, role = _label(page, "Third party name"), _label(page, "Third party role")
    expect(_label(page, "Made by")).to_have_value("practitioner")
    expect(name).to_be_hidden()
    expect(role).to_be_hidden()

    _label(page, "Made by").select_option(label="Third party")
    expect(name).to_be_visible()
    expect(role).to_be_visible()
    name.fill("Dana Lee")
    role.fill("Carer's support worker")

    _label(page, "Made by").select_option(label="Me")
    expect(name).to_be_hidden()
    expect(role).to_be_hidden()


def test_sign_out_returns_to_the_sign_in_page(page, sign_in, caseload):
    """(f) "Sign out" ends the session and shows the sign-in page; the caseload needs signing in
    again."""
    sign_in()
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="You have signed out.")).to_be_visible()
    expect(_label(page, "Email")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="My caseload")).to_have_count(0)
