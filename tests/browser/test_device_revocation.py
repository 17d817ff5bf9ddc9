"""A lost tablet taken back (issue 12 item 3; SPEC §7): when an admin revokes it, the session
cookie on it opens nothing more, its next sync still learns it is revoked and wipes the
encrypted copy, and its user signs in again elsewhere."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.models import Device
from fieldapp.services.sync.devices import revoke_device

from ..factories import PASSWORD, gen_user
from .tablet_pages import first_visit


def test_revoking_a_tablet_ends_its_session_and_wipes_it(browser, live_server, caseload, engine):
    contexts = []

    def tablet():
        context = browser.new_context(base_url=live_server)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    try:
        lost, office = tablet(), tablet()
        first_visit(lost)
        first_visit(office)  # the same practitioner on a second device
        with Session(engine, expire_on_commit=False) as session:
            admin = gen_user(session, "admin", email="admin@example.org")
            user_id = caseload.practitioner.id
            lost_id = session.scalars(select(Device.id).where(Device.user_id == user_id)).all()
            assert len(lost_id) == 2
            lost_device = lost.evaluate(
                """async (userId) => {
                    const db = await new Promise((resolve, reject) => {
                        const request = indexedDB.open(`fieldapp-user-${userId}`);
                        request.onsuccess = () => resolve(request.result);
                        request.onerror = () => reject(request.error);
                    });
                    const meta = await new Promise((resolve) => {
                        const request = db.transaction("meta").objectStore("meta").get("deviceId");
                        request.onsuccess = () => resolve(request.result);
                    });
                    db.close();
                    return meta.value;
                }""",
                user_id,
            )
            revoke_device(session, admin, next(d for d in lost_id if str(d) == lost_device))
            session.commit()

        # Whoever holds the lost tablet: its cookie opens no page and no API.
        assert lost.evaluate("fetch('/api/me').then(r => r.status)") == 401
        # Its next sync still learns it was revoked, and removes the copy.
        lost.get_by_role("button", name="Sync now", exact=True).click()
        expect(lost.get_by_role("alert")).to_contain_text("revoked")
        names = lost.evaluate("indexedDB.databases().then(list => list.map(d => d.name))")
        assert f"fieldapp-user-{user_id}" not in names
        lost.goto("/")
        expect(lost).to_have_url(f"{live_server}/login?next=/")

        # The practitioner's other tablet keeps its copy but must sign in again to sync.
        assert office.evaluate("fetch('/api/me').then(r => r.status)") == 401
        office.get_by_role("button", name="Sync now", exact=True).click()
        expect(office.get_by_text("Your session on the server has ended")).to_be_visible()
        expect(office.get_by_role("button", name="Sign in again", exact=True)).to_be_visible()
    finally:
        for context in contexts:
            context.close()


def test_a_locked_tablet_revoked_and_its_user_deactivated_wipes_at_the_unlock(
    context, caseload, engine
):
    """Security review: the finder of a locked tablet types the right password online, after
    the admin revoked the tablet and deactivated the user. The server refuses the sign-in, so
    no sync ever runs; the unlock itself asks whether the tablet is revoked and wipes it."""
    from fieldapp.models import User

    page = context.new_page()
    page.clock.install()
    first_visit(page)
    page.clock.fast_forward("16:00")
    expect(page.get_by_role("alert")).to_contain_text("Locked after 15 minutes")
    with Session(engine, expire_on_commit=False) as session:
        admin = gen_user(session, "admin", email="admin@example.org")
        for device_id in session.scalars(select(Device.id)):
            revoke_device(session, admin, device_id)
        session.get(User, caseload.practitioner.id).active = False
        session.commit()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("revoked")
    names = page.evaluate("indexedDB.databases().then(list => list.map(d => d.name))")
    assert f"fieldapp-user-{caseload.practitioner.id}" not in names
    expect(page.get_by_role("heading", name="My caseload")).to_have_count(0)
