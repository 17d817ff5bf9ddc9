"""Sessions that end (SPEC §7; issue 12 items 1, 3 and 4): an idle timeout and an absolute
lifetime enforced on the server, revoking a tablet ends its user's sessions, a sign-in starts a
new session and a new CSRF secret."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from fieldapp import create_app
from fieldapp.models import User, UserSession
from fieldapp.models.base import utcnow
from fieldapp.services.accounts import (
    SESSION_TOUCH_INTERVAL,
    SessionPolicy,
    load_session_user,
    start_session,
)

from .sync_helpers import Tablet, sign_in


def _only_live_session(db, email: str) -> UserSession:
    rows = (
        db()
        .scalars(
            select(UserSession)
            .join(User)
            .where(User.email == email, UserSession.revoked_at.is_(None))
        )
        .all()
    )
    assert len(rows) == 1, rows
    return rows[0]


def _age(engine, session_id: str, *, idle: timedelta = timedelta(0), age: timedelta | None = None):
    """Moves a session back in time: its last request `idle` ago, its sign-in `age` ago."""
    now = utcnow()
    values = {"last_seen_at": now - idle}
    if age is not None:
        values["created_at"] = now - age
    with engine.begin() as conn:
        conn.execute(update(UserSession).where(UserSession.id == session_id).values(**values))


# ------------------------------------------------------------------ the service, without an app


def test_the_policy_ends_an_idle_session_and_an_old_one(org, db_session):
    user = db_session.get(User, org.practitioner.id)
    start = utcnow()
    row = start_session(db_session, user, now=start)
    policy = SessionPolicy(idle=timedelta(minutes=30), lifetime=timedelta(hours=12))

    in_use = load_session_user(db_session, row.id, policy, now=start + timedelta(minutes=29))
    assert in_use.user is not None and in_use.user.id == user.id
    assert in_use.wrote  # the last request is recorded, so the idle clock restarts
    # Used every 29 minutes, it lives until its lifetime is up, and not a minute longer.
    moment = start + timedelta(minutes=29)
    while moment + timedelta(minutes=29) <= start + timedelta(hours=12):
        moment += timedelta(minutes=29)
        assert load_session_user(db_session, row.id, policy, now=moment).user is not None
    ended = load_session_user(
        db_session, row.id, policy, now=start + timedelta(hours=12, minutes=1)
    )
    assert ended.user is None and ended.wrote
    assert row.revoked_at is not None
    # Once ended it stays ended, whatever the clock says.
    assert load_session_user(db_session, row.id, policy, now=start).user is None

    idle = start_session(db_session, user, now=start)
    gone = load_session_user(db_session, idle.id, policy, now=start + timedelta(minutes=31))
    assert gone.user is None and idle.revoked_at is not None


def test_a_busy_session_is_written_at_most_once_a_minute(org, db_session):
    user = db_session.get(User, org.practitioner.id)
    start = utcnow()
    row = start_session(db_session, user, now=start)
    soon = start + SESSION_TOUCH_INTERVAL - timedelta(seconds=1)
    assert load_session_user(db_session, row.id, now=soon).wrote is False
    assert row.last_seen_at == start
    later = start + SESSION_TOUCH_INTERVAL
    assert load_session_user(db_session, row.id, now=later).wrote is True
    assert row.last_seen_at == later


# ------------------------------------------------------------------ idle timeout and lifetime


def test_a_page_after_thirty_idle_minutes_asks_to_sign_in_again(client, auth, org, db, engine):
    auth.login(org.leader.email)
    assert client.get("/").status_code == 200
    row = _only_live_session(db, org.leader.email)
    _age(engine, row.id, idle=timedelta(minutes=31))

    answer = client.get("/")
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    page = client.get(answer.headers["Location"])
    assert "Your session ended. Sign in again to continue." in page.text
    assert db().get(UserSession, row.id).revoked_at is not None
    # Ended for good: a request that comes back within the idle spell does not revive it.
    _age(engine, row.id, idle=timedelta(0))
    assert client.get("/").status_code == 302


def test_a_session_in_use_is_kept_and_its_last_request_recorded(client, auth, org, db, engine):
    auth.login(org.leader.email)
    row = _only_live_session(db, org.leader.email)
    _age(engine, row.id, idle=timedelta(minutes=29))
    assert client.get("/").status_code == 200
    seen = db().get(UserSession, row.id).last_seen_at
    assert utcnow() - (seen if seen.tzinfo else seen.replace(tzinfo=utcnow().tzinfo)) < (
        timedelta(minutes=1)
    )
    _age(engine, row.id, idle=timedelta(minutes=20))
    assert client.get("/").status_code == 200  # 20 minutes since the last request, not 49


def test_a_session_ends_twelve_hours_after_sign_in_even_when_busy(client, org, db, engine):
    tablet = Tablet.signed_in(client, "pat@example.org")
    row = _only_live_session(db, "pat@example.org")
    _age(engine, row.id, idle=timedelta(minutes=1), age=timedelta(hours=12, minutes=1))
    assert tablet.pull_once(expect=401).get_json()["error"] == "Sign in first."
    assert client.get("/api/me").status_code == 401


def test_the_timeouts_are_configurable(database, tmp_path, org, db, engine):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database.url,
            "SECRET_KEY": "test-secret",
            "SESSION_COOKIE_SECURE": False,
            "FIELDAPP_SESSION_IDLE_MINUTES": 5,
            "FIELDAPP_SESSION_LIFETIME_HOURS": 1,
        }
    )
    client = app.test_client()
    sign_in(client, "pat@example.org")
    row = _only_live_session(db, "pat@example.org")
    _age(engine, row.id, idle=timedelta(minutes=4))
    assert client.get("/api/me").status_code == 200
    _age(engine, row.id, idle=timedelta(minutes=6))
    assert client.get("/api/me").status_code == 401

    sign_in(client, "pat@example.org")
    row = _only_live_session(db, "pat@example.org")
    _age(engine, row.id, age=timedelta(minutes=61))
    assert client.get("/api/me").status_code == 401
    app.extensions["fieldapp_db"]["engine"].dispose()


# ------------------------------------------------------------------ revoking a tablet


def test_revoking_a_tablet_ends_every_session_of_its_user(app, client, auth, org, db):
    tablet = Tablet.signed_in(client, "pat@example.org")
    tablet.pull_all()
    other_browser = app.test_client()
    sign_in(other_browser, "pat@example.org")
    assert other_browser.get("/api/me").status_code == 200

    admin_browser = app.test_client()
    from ..conftest import AuthActions

    admin = AuthActions(admin_browser)
    admin.login(org.admin.email)
    assert admin.post(f"/admin/devices/{tablet.device_id}/revoke").status_code == 302

    # The cookie on the lost tablet opens nothing: no page, no new device, no caseload.
    assert client.get("/").status_code == 302
    assert client.get("/api/me").status_code == 401
    other = Tablet(client, tablet.csrf_token, register=False)
    assert other.register().status_code == 401
    assert other.pull_once(expect=401).status_code == 401
    # ... but the tablet itself still learns it is revoked, so it wipes its copy.
    assert tablet.register().status_code == 410
    assert tablet.pull_once(expect=410).status_code == 410
    # Its user signs in again everywhere else too.
    assert other_browser.get("/api/me").status_code == 401
    assert (
        db().scalar(
            select(UserSession.id).where(
                UserSession.user_id == org.practitioner.id, UserSession.revoked_at.is_(None)
            )
        )
        is None
    )
    # Signing in again works, and the revoked tablet stays revoked.
    again = Tablet.signed_in(app.test_client(), "pat@example.org", register=False)
    again.device_id = tablet.device_id
    assert again.register().status_code == 410
    # The admin's own session is untouched.
    assert admin_browser.get("/admin/devices").status_code == 200


def test_a_request_without_a_session_learns_nothing_of_an_unknown_device(client, org):
    tablet = Tablet.signed_in(client, "pat@example.org")
    client.post("/api/auth/logout", headers={"X-CSRFToken": tablet.csrf_token})
    stranger = Tablet(client, tablet.csrf_token, register=False)
    assert stranger.register().status_code == 401
    assert client.get("/api/sync/pull?device_id=not-a-uuid").status_code == 401
    # Not revoked: an ordinary "sign in first".
    assert tablet.pull_once(expect=401).status_code == 401


# ------------------------------------------------------------------ a new session at sign-in


def test_a_csrf_token_from_before_sign_in_does_not_work_after_it(client, auth, org):
    page = client.get("/login")
    anonymous_token = auth._token_from(page.text)
    signed_in = client.post(
        "/login",
        data={"email": org.leader.email, "password": "correct horse battery",
              "csrf_token": anonymous_token},
    )  # fmt: skip
    assert signed_in.status_code == 302
    stale = client.post("/logout", data={"csrf_token": anonymous_token})
    assert stale.status_code == 400
    assert client.get("/").status_code == 200  # still signed in: the forged sign-out failed
    fresh = auth._token_from(client.get("/account/password").text)
    assert fresh != anonymous_token
    assert client.post("/logout", data={"csrf_token": fresh}).status_code == 302


def test_the_api_token_is_new_at_each_sign_in_and_me_hands_out_the_current_one(client, org):
    first = sign_in(client, "pat@example.org")
    second = sign_in(client, "pat@example.org")
    assert first != second
    stale = client.post(
        "/api/sync/devices",
        json={"device_id": "5f0c6a8e-0000-4000-8000-000000000001", "name": "Tablet"},
        headers={"X-CSRFToken": first},
    )
    assert stale.status_code == 400 and stale.get_json()["code"] == "csrf_failed"
    assert client.get("/api/me").get_json()["csrf_token"] == second


@pytest.mark.parametrize("second_user", ["pat@example.org", "col@example.org"])
def test_signing_in_over_a_live_session_ends_it(client, org, db, second_user):
    sign_in(client, "pat@example.org")
    first = _only_live_session(db, "pat@example.org")
    sign_in(client, second_user)
    assert db().get(UserSession, first.id).revoked_at is not None
    assert client.get("/api/me").get_json()["user"]["id"] == (
        db().scalar(select(User.id).where(User.email == second_user))
    )
