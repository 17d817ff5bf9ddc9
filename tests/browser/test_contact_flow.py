"""One practitioner app (SPEC §5 Pages): signing in at `/login`, typing or bookmarking a
practitioner's address, online or offline, opens the offline app; a team leader's "Record
contact" opens it too. Real headless Chromium, found only by accessible names."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from fieldapp.models import Contact
from fieldapp.services.clock import today_in

from ..factories import PASSWORD, gen_user
from .conftest import PHONE, TIMEZONE
from .tablet_pages import first_visit, unlock, wait_until

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


def _in_the_app(page) -> bool:
    """The offline app is what is on screen: its root element, drawn by its modules."""
    return page.locator("#tablet").count() == 1


def _open_contact_form(page, child_name: str = "Mia Anderson") -> None:
    page.get_by_role("link", name=child_name, exact=True).click()
    expect(page.get_by_role("heading", name=child_name, exact=True)).to_be_visible()
    page.get_by_role("link", name="Record contact", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile(r"^Record contact"))).to_be_visible()


def _scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def _contacts(engine, **where) -> list[Contact]:
    with Session(engine) as session:
        query = select(Contact).options(selectinload(Contact.participants))
        for name, value in where.items():
            query = query.where(getattr(Contact, name) == value)
        return list(session.scalars(query))


def test_signing_in_at_login_opens_the_app_where_a_contact_is_recorded_once(
    page, sign_in, caseload, engine
):
    """Sign in at /login as a practitioner: the offline app opens (one password, no second
    sign-in), the contact typed there is saved as a draft, submitted and reaches the server
    exactly once, as typed."""
    assert page.viewport_size == {"width": 768, "height": 1024}
    contact_day = today_in(TIMEZONE) - timedelta(days=1)
    sign_in()
    assert _in_the_app(page)
    assert page.url.endswith("/")
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
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
    page.get_by_role("button", name="Add participant", exact=True).click()
    participant = page.get_by_role("group", name="Participant 2", exact=True)
    expect(_label(page, "Child's views (in their own words)")).to_have_value(CHILD_VIEWS)
    participant.get_by_label("Role", exact=True).select_option(label="Carer")
    participant.get_by_label("Name", exact=True).fill("Rose Campbell")
    participant.get_by_label("Took part in decisions", exact=True).check()

    page.get_by_role("button", name="Save draft", exact=True).click()
    expect(page.get_by_role("heading", name="Mia Anderson", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    (draft,) = _contacts(engine, status="draft")
    assert draft.child_views == CHILD_VIEWS

    page.get_by_role("link", name=f"{contact_day:%d/%m/%Y} · Face-to-face", exact=True).click()
    expect(_label(page, "Worries")).to_have_value(WORRIES)
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("heading", name="Mia Anderson", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)

    contacts = _contacts(engine, child_id=caseload.child.id, contact_date=contact_day)
    assert len(contacts) == 1
    contact = contacts[0]
    assert contact.id == draft.id  # the draft was submitted, not copied
    assert contact.status == "submitted" and contact.submitted_at is not None
    assert contact.author_id == caseload.practitioner.id
    assert (contact.child_views, contact.worries, contact.working_well) == (
        CHILD_VIEWS,
        WORRIES,
        WORKING_WELL,
    )
    assert (contact.needs_to_happen, contact.safety_scale, contact.language_used) == (
        NEEDS_TO_HAPPEN,
        7,
        LANGUAGE,
    )
    assert [(p.role, p.name) for p in contact.participants] == [
        ("child", "Mia Anderson"),
        ("carer", "Rose Campbell"),
    ]
    assert len(_contacts(engine, status="submitted")) == 2  # and the fixture's earlier one
    assert _contacts(engine, status="draft") == []


def test_a_wrong_password_at_login_says_so_and_stays(page, caseload):
    page.goto("/login")
    _label(page, "Email").fill("pat@example.org")
    _label(page, "Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        "Email or password is incorrect, or the account is locked. Try again later."
    )
    assert not _in_the_app(page)
    expect(_label(page, "Password")).to_have_value("")
    _label(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="My caseload", exact=True)).to_be_visible()


def test_a_bookmarked_contact_form_opens_in_the_app_online_and_offline(context, caseload):
    """`/children/<id>/contacts/new` typed or bookmarked: online, signing in (on a tablet that
    has never held the caseload) lands on that child's form; offline, the installed app opens
    the same form after the password."""
    bookmark = f"/children/{caseload.child.id}/contacts/new"
    page = context.new_page()
    page.goto(bookmark)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    _label(page, "Email").fill("pat@example.org")
    _label(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Record contact with Mia Anderson")).to_be_visible(
        timeout=15_000
    )
    assert page.url.endswith(bookmark)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)

    # Online again later, the same address straight from the bookmark (still signed in).
    page.goto(bookmark)
    unlock(page, heading="Record contact with Mia Anderson")
    page.close()

    context.set_offline(True)
    offline = context.new_page()
    offline.goto(bookmark)
    unlock(offline, heading="Record contact with Mia Anderson")
    _label(offline, "Worries").fill("Typed with no signal.")
    offline.get_by_role("button", name="Save draft", exact=True).click()
    expect(offline.get_by_role("status")).to_have_text("1 waiting to sync")


def test_a_practitioners_addresses_open_the_app(context, caseload, engine):
    """Typed while signed in, `/`, `/children/<id>` and `/contacts/<id>` are the app's screens,
    never the server pages that duplicated them."""
    page = context.new_page()
    first_visit(page)
    (contact,) = _contacts(engine, child_id=caseload.child.id)
    for address, heading in (
        ("/", "My caseload"),
        (f"/children/{caseload.child.id}", "Mia Anderson"),
        (f"/contacts/{contact.id}", re.compile(r"^Contact on ")),
    ):
        page.goto(address)
        unlock(page, heading=heading)
        assert _in_the_app(page), address


def test_a_team_leader_records_a_contact_in_the_app_and_it_reaches_the_server_once(
    page, caseload, engine
):
    """A team leader covering a caseload: the server's child page links to "Record contact",
    which opens the app (their password once more, to open its encrypted copy); the contact
    reaches the server once, recorded by the team leader."""
    with Session(engine, expire_on_commit=False) as session:
        leader = gen_user(
            session,
            "team_leader",
            session.merge(caseload.practitioner).teams[0],
            email="lee@example.org",
            name="Lee Leader",
        )
        session.commit()
    page.goto("/login")
    _label(page, "Email").fill("lee@example.org")
    _label(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="My team's children")).to_be_visible()
    assert not _in_the_app(page)
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    page.get_by_role("link", name="Record contact", exact=True).click()
    unlock(page, email="lee@example.org", heading="Record contact with Mia Anderson")
    assert _in_the_app(page)
    _label(page, "Child's views (in their own words)").fill("Lee came instead of Pat today.")
    _label(page, "How the views were gathered").select_option(label="Conversation")
    _label(page, "Child seen").check()
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("heading", name="Mia Anderson", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    wait_until(page, lambda: _contacts(engine, author_id=leader.id))
    (recorded,) = _contacts(engine, author_id=leader.id)
    assert recorded.status == "submitted"
    assert recorded.child_views == "Lee came instead of Pat today."
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    assert len(_contacts(engine, author_id=leader.id)) == 1
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 2


def test_no_horizontal_scroll_on_a_phone(page, sign_in, caseload):
    """At 390x844 the app's caseload, child page and contact form fit the width."""
    page.set_viewport_size(PHONE)
    sign_in()
    expect(
        page.get_by_role("link", name="Nathaniel-Alexander Montgomery-Worthington")
    ).to_be_visible()
    assert _scroll_width(page) <= PHONE["width"], "caseload scrolls sideways"
    _open_contact_form(page)
    assert _scroll_width(page) <= PHONE["width"], "contact form scrolls sideways"
    page.get_by_role("button", name="Add participant", exact=True).click()
    _label(page, "Date of contact").fill((today_in(TIMEZONE) + timedelta(days=3)).isoformat())
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    assert _scroll_width(page) <= PHONE["width"], "contact form with errors scrolls sideways"


def test_no_csp_violation_or_script_error(page, sign_in, caseload):
    """Signing in hands over to the app, whose caseload and contact form load with no console
    error, uncaught script error or Content-Security-Policy violation."""
    log = page.console_log
    sign_in()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    _open_contact_form(page)
    expect(_label(page, "Third party name")).to_be_hidden()
    _label(page, "Made by").select_option(label="Third party")
    expect(_label(page, "Third party name")).to_be_visible()
    assert log.csp_violations() == []
    assert log.errors == []


def test_sign_out_ends_the_session_and_returns_to_sign_in(page, sign_in, caseload):
    """ "Sign out" in the app wipes its copy, ends the server session and shows the sign-in
    screen; `/` needs signing in again."""
    sign_in()
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", name="My caseload")).to_have_count(0)


def test_a_dropped_connection_at_sign_in_says_so_and_keeps_the_page(page, caseload):
    page.goto("/login")
    page.route("**/api/auth/login", lambda route: route.abort())
    _label(page, "Email").fill("pat@example.org")
    _label(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        "The server could not be reached. Check the connection and try again."
    )
    assert not _in_the_app(page)
    page.unroute("**/api/auth/login")
    page.get_by_role("button", name="Sign in", exact=True).click()  # the typing was kept
    expect(page.get_by_role("heading", name="My caseload", exact=True)).to_be_visible()


def test_a_first_sync_that_fails_still_opens_the_app(page, caseload):
    """A new tablet fetches the caseload before drawing it; when that sync fails the app does
    not stay on "Fetching your caseload": it shows the caseload screen and says it will retry."""
    page.route("**/api/sync/pull*", lambda route: route.fulfill(status=503, body="busy"))
    page.goto("/login")
    _label(page, "Email").fill("pat@example.org")
    _label(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="My caseload", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Sync failed — will retry")
    page.unroute("**/api/sync/pull*")
    page.get_by_role("button", name="Sync now", exact=True).click()
    expect(page.get_by_role("link", name="Mia Anderson", exact=True)).to_be_visible()
