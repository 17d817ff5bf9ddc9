"""Page steps the tablet tests share: unlocking, the first visit online, a complete contact."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import func, select

from fieldapp.models import Contact

from ..factories import PASSWORD

VIEWS = "I want to stay with Aunty and see my brother on weekends."


def unlock(page, email="pat@example.org", password=PASSWORD, heading="My caseload"):
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()


def first_visit(page):
    """Online, in the office: sign in, let the worker install and the caseload sync."""
    page.goto("/tablet")
    unlock(page)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    expect(page.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    expect(page.get_by_role("link", name="Mia Anderson", exact=True)).to_be_visible()


def two_tabs(context):
    """The app open and unlocked in two tabs of one browser, synced. The second tab's sign-in
    gave the session a new CSRF token, so the first tab's is stale."""
    first = context.new_page()
    first_visit(first)
    second = context.new_page()
    second.goto("/tablet")
    unlock(second)
    expect(second.get_by_role("status")).to_have_text("All changes synced", timeout=15_000)
    return first, second


def record_contact(page, views=VIEWS):
    """A complete contact (SPEC §4 contact shape): every section of the form, a second
    participant and an action."""
    page.get_by_role("link", name="Mia Anderson", exact=True).click()
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_label("Start time", exact=True).fill("10:30")
    page.get_by_label("Duration (minutes)", exact=True).fill("45")
    page.get_by_label("Contact type", exact=True).select_option(label="Face-to-face")
    page.get_by_label("Made by", exact=True).select_option(label="Me")
    page.get_by_label("Child seen", exact=True).check()
    page.get_by_label("Seen alone", exact=True).check()
    page.get_by_label("Location", exact=True).select_option(
        label="Placement (where the child lives)"
    )
    page.get_by_label("Location details", exact=True).fill("Aunty's house")
    page.get_by_label("Child's views (in their own words)", exact=True).fill(views)
    page.get_by_label("How the views were gathered", exact=True).select_option(label="Conversation")
    page.get_by_label("Language used", exact=True).fill("English")
    page.get_by_role("button", name="Add participant", exact=True).click()
    carer = page.get_by_role("group", name="Participant 2")
    carer.get_by_label("Role", exact=True).select_option(label="Carer")
    carer.get_by_label("Name", exact=True).fill("Aunty Jo")
    carer.get_by_label("Took part in decisions", exact=True).check()
    carer.get_by_label("Views and wishes", exact=True).fill("Happy for Mia to stay long term.")
    page.get_by_label("Worries", exact=True).fill("Missed family time twice.")
    page.get_by_label("What's working well", exact=True).fill("Settled at school.")
    page.get_by_label("What needs to happen", exact=True).fill("Family time every fortnight.")
    page.get_by_label("Safety scale", exact=True).fill("7")
    page.get_by_role("button", name="Add action", exact=True).click()
    action = page.get_by_role("group", name="Action 1")
    action.get_by_label("What", exact=True).fill("Book family time with her brother")
    action.get_by_label("Who", exact=True).fill("Pat")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.get_by_role("heading", name="Mia Anderson", exact=True)).to_be_visible()


def type_without_saving(page, child: str, worries: str) -> None:
    """Starts a contact for `child`, types the worries and goes back without saving."""
    page.get_by_role("link", name=child, exact=True).click()
    page.get_by_role("link", name="Record contact", exact=True).click()
    page.get_by_label("Worries", exact=True).fill(worries)
    page.get_by_role("link", name=f"Back to {child}").click()


def contacts_with(session, text) -> int:
    session.rollback()  # end the read transaction: a SQLite WAL reader keeps its snapshot
    return session.scalar(
        select(func.count()).select_from(Contact).where(Contact.child_views == text)
    )


def hand_over_to_a_colleague(engine, child_id, after_days: int = 10) -> None:
    """The office records that the practitioner held the child only for its first
    `after_days` days in care, and a colleague has held it since (the child leaves the
    practitioner's caseload, and they did not hold it on any recent date)."""
    from datetime import timedelta

    from sqlalchemy.orm import Session

    from fieldapp.models import Allocation, Child

    from ..factories import gen_user

    with Session(engine) as session:
        child = session.get(Child, child_id)
        colleague = gen_user(session, "practitioner", child.team)
        handover = child.care_start_date + timedelta(days=after_days)
        session.query(Allocation).filter(Allocation.child_id == child_id).update(
            {"end_date": handover}
        )
        session.add(
            Allocation(child_id=child_id, practitioner_id=colleague.id, start_date=handover)
        )
        child.practitioner_id = colleague.id
        session.commit()


def wait_until(page, condition, timeout_ms=10_000):
    for _ in range(timeout_ms // 50):
        if condition():
            return
        page.wait_for_timeout(50)
    assert condition()
