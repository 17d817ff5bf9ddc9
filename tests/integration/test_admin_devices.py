"""The admin's Devices page (issue 13): in the admin menu; each tablet named by what its user
called it, with a readable browser and system (never the raw user agent), when it last synced
(in the organisation's time), how many children's records it holds, a warning when it has not
synced for over a day, and revoke."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from fieldapp.models import AuditEvent, Device, DeviceHolding
from fieldapp.models.base import utcnow
from fieldapp.services.devices import describe_user_agent, out_of_touch

from ..conftest import AuthActions

ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IPAD_SAFARI = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


@pytest.mark.parametrize(
    ("user_agent", "words"),
    [
        (ANDROID_CHROME, "Chrome 131 on Android 14"),
        (IPAD_SAFARI, "Safari 17 on iPadOS 17"),
        (
            "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
            "Firefox 133 on Android 14",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-X710) AppleWebKit/537.36 (KHTML, like "
            "Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Safari/537.36",
            "Samsung Internet 26 on Android 14",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge 131 on Windows",
        ),
        # Chrome's reduced user agent says "Android 10; K" on every Android: no version shown.
        (
            "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome 131 on Android",
        ),
        # What the tablet sends today: the first 80 characters, the browser's token cut off.
        # What is left must not be read as the browser it looks like (Android's own, Apple Mail).
        (ANDROID_CHROME[:80], "Unknown browser on Android 14"),
        (IPAD_SAFARI[:80], "Unknown browser on iPadOS 17"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, lik",
            "Unknown browser on macOS",
        ),
        ("Pat's tablet", None),
        ("Tablet", None),
        ("iPad 7", None),
    ],
)
def test_a_user_agent_in_words(user_agent, words):
    assert describe_user_agent(user_agent) == words


def test_a_tablet_is_out_of_touch_after_a_day_without_a_sync():
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    device = Device(id=uuid.uuid4(), user_id=1, name="x", last_seen_at=now - timedelta(hours=23))
    assert not out_of_touch(device, now)
    device.last_seen_at = (now - timedelta(hours=25)).replace(tzinfo=None)  # as SQLite gives it
    assert out_of_touch(device, now)
    device.last_seen_at = None
    assert out_of_touch(device, now)
    device.revoked_at = now
    assert not out_of_touch(device, now)


@pytest.fixture
def admin(client, org) -> AuthActions:
    auth = AuthActions(client)
    assert auth.login(org.admin.email).status_code == 302
    return auth


def test_the_devices_page_names_each_tablet_in_words(client, admin, org, db_session):
    synced = datetime(2026, 1, 1, 14, 45, tzinfo=UTC)  # 00:15 on 2 January in Darwin
    named = Device(id=uuid.uuid4(), user_id=org.practitioner.id, name="Pat's Galaxy Tab",
                   last_seen_at=utcnow() - timedelta(hours=1))  # fmt: skip
    browser = Device(id=uuid.uuid4(), user_id=org.practitioner.id, name=ANDROID_CHROME,
                     last_seen_at=synced)  # fmt: skip
    db_session.add_all([named, browser])
    db_session.flush()
    db_session.add_all(
        [
            DeviceHolding(device_id=browser.id, child_id=org.child.id, added_in=1),
            DeviceHolding(device_id=browser.id, child_id=org.interstate_child.id, added_in=1),
            DeviceHolding(
                device_id=browser.id, child_id=org.other_child.id, added_in=1, removed_in=2
            ),
        ]
    )
    db_session.commit()

    menu = client.get("/admin/users").text
    assert '<a href="/admin/devices">Devices</a>' in menu
    page = client.get("/admin/devices").text
    assert "Pat&#39;s Galaxy Tab" in page
    assert "Chrome 131 on Android 14" in page
    assert ANDROID_CHROME not in page and "Mozilla" not in page
    assert "02/01/2026 00:15" in page and "UTC" not in page
    rows = page.split("<tr>")[2:]
    [old_row] = [row for row in rows if "Chrome 131 on Android 14" in row]
    assert '<td data-label="Children held">2</td>' in old_row
    assert "May hold work not yet sent" in old_row
    [named_row] = [row for row in rows if "Galaxy Tab" in row]
    assert "May hold work not yet sent" not in named_row

    # Revoke: the tablet wipes itself at its next sync; the page then says when it was revoked.
    response = admin.post(f"/admin/devices/{browser.id}/revoke")
    assert response.status_code == 302
    assert "Pat Practitioner&#39;s tablet is revoked" in client.get(response.location).text
    db_session.expire_all()
    assert db_session.get(Device, browser.id).revoked_at is not None
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "revoke"))
    assert event.object_id == str(browser.id)
    page = client.get("/admin/devices").text
    [revoked_row] = [row for row in page.split("<tr>") if "Chrome 131 on Android 14" in row]
    assert "Revoked " in revoked_row and "May hold work" not in revoked_row
    # The user's page lists their tablets too.
    user_page = client.get(f"/admin/user?id={org.practitioner.id}").text
    assert "Pat&#39;s Galaxy Tab" in user_page and "Chrome 131 on Android 14" in user_page


def test_a_tablet_named_by_its_practitioner_keeps_its_browser(app, client, admin, org, db):
    """The tablet registers with its user agent until the practitioner names it; the name is
    taken at the next sync, and the browser and system come from the User-Agent header."""
    from .sync_helpers import sign_in

    tablet_client = app.test_client()
    token = sign_in(tablet_client, "pat@example.org")
    device_id = str(uuid.uuid4())

    def register(name: str):
        return tablet_client.post(
            "/api/sync/devices",
            json={"device_id": device_id, "name": name},
            headers={"X-CSRFToken": token, "User-Agent": ANDROID_CHROME},
        )

    assert register(ANDROID_CHROME).status_code == 201
    page = client.get("/admin/devices").text
    assert "Not named" in page and "Chrome 131 on Android 14" in page
    assert register("Pat's Galaxy Tab").status_code == 200
    device = db().get(Device, uuid.UUID(device_id))
    assert device.name == "Pat's Galaxy Tab" and device.user_agent == ANDROID_CHROME
    page = client.get("/admin/devices").text
    row = next(r for r in page.split("<tr>") if "Galaxy Tab" in r)
    assert "Chrome 131 on Android 14" in row
    assert register("Pat's Galaxy Tab").status_code == 200  # unchanged: nothing to write


def test_a_tablet_says_at_each_sync_how_many_changes_it_holds_unsent(app, client, admin, org, db):
    """The tablet reports what it holds and has not sent (queued, or being typed) with its
    pull; the Devices page shows it, and the deactivation page warns of it even for a tablet
    that synced a minute ago."""
    from .sync_helpers import sign_in

    tablet_client = app.test_client()
    token = sign_in(tablet_client, "pat@example.org")
    device_id = str(uuid.uuid4())
    assert (
        tablet_client.post(
            "/api/sync/devices",
            json={"device_id": device_id, "name": "Pat's Galaxy Tab"},
            headers={"X-CSRFToken": token},
        ).status_code
        == 201
    )

    def row() -> str:
        page = client.get("/admin/devices").text
        return next(r for r in page.split("<tr>") if "Galaxy Tab" in r)

    assert '<td data-label="Not yet sent">Not reported</td>' in row()
    pulled = tablet_client.get(f"/api/sync/pull?device_id={device_id}&unsent=3")
    assert pulled.status_code == 200
    assert "<strong>3 changes</strong> at its last sync" in row()
    deactivate = client.get(f"/admin/user/deactivate?id={org.practitioner.id}").text
    assert "A tablet may hold work not yet sent" in deactivate
    assert "when it held 3 changes not yet sent" in deactivate
    assert (
        "3 changes not yet sent at its last sync"
        in client.get(f"/admin/user?id={org.practitioner.id}").text
    )

    cursor = pulled.json["cursor"]
    assert tablet_client.get(f"/api/sync/pull?cursor={cursor}&unsent=0").status_code == 200
    assert "Nothing at its last sync" in row()
    assert (
        "A tablet may hold work"
        not in client.get(f"/admin/user/deactivate?id={org.practitioner.id}").text
    )
    # Not a whole number from 0: refused, naming the field; what was kept stays.
    for bad in ("-1", "two", "1.5", "²", "1000001"):
        refused = tablet_client.get(f"/api/sync/pull?cursor={cursor}&unsent={bad}")
        assert refused.status_code == 400 and refused.json["field"] == "unsent", bad
    assert db().get(Device, uuid.UUID(device_id)).unsent_changes == 0


def test_a_push_that_stops_at_a_gap_still_reports_what_the_tablet_holds_unsent(
    app, client, admin, org, db
):
    """A push that stops at a gap is not followed by a pull, so the push reports the count as
    well: the Devices page never says "Nothing" of a tablet whose queue is stuck."""
    from .sync_helpers import Tablet

    tablet = Tablet.signed_in(app.test_client(), "pat@example.org")
    first = tablet.create_contact(org.child.id)
    tablet.create_contact(org.child.id)  # seq 2 never sent
    stuck = tablet.create_contact(org.child.id)
    answer = tablet.post(
        "/api/sync/push?unsent=3",
        {"device_id": str(tablet.device_id), "mutations": [first, stuck]},
    )
    assert answer.status_code == 200 and answer.json["last_seq"] == 1
    assert db().get(Device, tablet.device_id).unsent_changes == 3
    page = client.get("/admin/devices").text
    assert "<strong>3 changes</strong> at its last sync" in page
    refused = tablet.post(
        "/api/sync/push?unsent=" + "9" * 5000,
        {"device_id": str(tablet.device_id), "mutations": [first]},
    )
    assert refused.status_code == 400 and refused.json["field"] == "unsent"
    long_limit = tablet.client.get(
        f"/api/sync/pull?device_id={tablet.device_id}&limit=" + "1" * 5000
    )
    assert long_limit.status_code == 400 and long_limit.json["field"] == "limit"
