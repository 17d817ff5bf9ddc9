"""An admin's work on accounts (issue 13): change a user's name, role and teams; deactivate (which
ends their sessions at once and refuses their sign-in, after a warning about tablets that may
hold unsent work) and reactivate; unlock; set a temporary password that must be changed at the
next sign-in. Every action is audited, and the last active admin can be neither deactivated nor
demoted, by themselves or anyone."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.models import AuditEvent, Device, User, UserSession
from fieldapp.models.base import utcnow
from fieldapp.services import user_admin
from fieldapp.services.errors import ValidationError

from ..conftest import AuthActions
from ..factories import PASSWORD, gen_user
from .sync_helpers import sign_in

TEMPORARY = "plum kettle onward heron"
CHANGED = "quiet lantern orbit maple"


def _events(db, action: str) -> list[AuditEvent]:
    return db().scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def _user(db, email: str) -> User:
    return db().scalar(select(User).where(User.email == email))


@pytest.fixture
def admin(client, org) -> AuthActions:
    auth = AuthActions(client)
    assert auth.login(org.admin.email).status_code == 302
    return auth


# ---------------------------------------------------------------- name, role and teams


def test_an_admin_changes_a_users_name_role_and_teams_and_it_is_audited(client, admin, org, db):
    page = client.get("/admin/users")
    assert f'href="/admin/user?id={org.practitioner.id}"' in page.text
    page = client.get(f"/admin/user?id={org.practitioner.id}")
    assert page.status_code == 200
    assert "<h1>Pat Practitioner" in page.text
    response = admin.post(
        f"/admin/user?id={org.practitioner.id}",
        {"name": "Pat Smith", "role": "team_leader", "teams": ["Team A", "Team B"]},
    )
    assert response.status_code == 302
    assert "Saved the changes to Pat Smith" in client.get(response.location).text
    user = _user(db, "pat@example.org")
    assert (user.name, user.role, sorted(t.name for t in user.teams)) == (
        "Pat Smith",
        "team_leader",
        ["Team A", "Team B"],
    )
    [event] = _events(db, "update")
    assert (event.user_id, event.object_type, event.object_id) == (
        org.admin.id,
        "user",
        str(org.practitioner.id),
    )
    assert event.detail == {
        "changes": {
            "name": ["Pat Practitioner", "Pat Smith"],
            "role": ["practitioner", "team_leader"],
            "teams": [["Team A"], ["Team A", "Team B"]],
        }
    }
    # Saving again with nothing changed writes nothing.
    admin.post(
        f"/admin/user?id={org.practitioner.id}",
        {"name": "Pat Smith", "role": "team_leader", "teams": ["Team A", "Team B"]},
    )
    assert len(_events(db, "update")) == 1


def test_a_practitioner_needs_a_team_and_a_name(client, admin, org, db):
    response = admin.post(
        f"/admin/user?id={org.practitioner.id}", {"name": " ", "role": "practitioner"}
    )
    assert response.status_code == 422
    assert "Name is required." in response.text
    assert "Practitioners and team leaders need a team." in response.text
    assert _user(db, "pat@example.org").name == "Pat Practitioner"
    assert _events(db, "update") == []


def test_an_unknown_or_malformed_account_id_is_not_found(client, admin, org):
    for query in ("id=999999", "id=abc", "id=", "id=99999999999999999999", ""):
        assert client.get(f"/admin/user?{query}").status_code == 404, query
        assert client.get(f"/admin/user/deactivate?{query}").status_code == 404, query
        assert admin.post(f"/admin/user/unlock?{query}").status_code == 404, query


def test_only_admins_reach_the_account_pages(client, auth, org, db):
    auth.login(org.leader.email)
    target = org.practitioner.id
    assert client.get(f"/admin/user?id={target}").status_code == 404
    assert client.get(f"/admin/user/deactivate?id={target}").status_code == 404
    for path in ("user", "user/deactivate", "user/reactivate", "user/unlock"):
        assert auth.post(f"/admin/{path}?id={target}", {"name": "x"}).status_code == 404, path
    response = auth.post(f"/admin/user/temporary-password?id={target}", {"password": TEMPORARY})
    assert response.status_code == 404
    assert client.get("/admin/audit.csv").status_code == 404
    user = _user(db, "pat@example.org")
    assert user.active and user.name == "Pat Practitioner" and not user.must_change_password


# ---------------------------------------------------------------- deactivation


def test_deactivation_ends_the_users_sessions_at_once_and_refuses_sign_in(app, admin, org, db):
    browser = app.test_client()
    practitioner = AuthActions(browser)
    assert practitioner.login(org.practitioner.email).status_code == 302
    tablet = app.test_client()
    sign_in(tablet, org.practitioner.email)
    assert tablet.get("/api/me").status_code == 200

    response = admin.post(f"/admin/user/deactivate?id={org.practitioner.id}")
    assert response.status_code == 302

    # At once: the next request of each session is signed out.
    assert browser.get("/").status_code == 302
    assert tablet.get("/api/me").status_code == 401
    assert (
        db().scalar(
            select(UserSession.id).where(
                UserSession.user_id == org.practitioner.id, UserSession.revoked_at.is_(None)
            )
        )
        is None
    )
    # And signing in is refused, with the same words as a wrong password.
    refused = practitioner.login(org.practitioner.email)
    assert refused.status_code == 401
    assert "Email or password is incorrect" in refused.text
    api = app.test_client().post(
        "/api/auth/login", json={"email": org.practitioner.email, "password": PASSWORD}
    )
    assert api.status_code == 401
    assert not _user(db, "pat@example.org").active
    [event] = _events(db, "deactivate")
    assert (event.user_id, event.object_id) == (org.admin.id, str(org.practitioner.id))

    # Reactivated, the user signs in again; that too is audited.
    page = admin._client.get(f"/admin/user?id={org.practitioner.id}")
    assert "Deactivated" in page.text and "Reactivate account" in page.text
    assert admin.post(f"/admin/user/reactivate?id={org.practitioner.id}").status_code == 302
    assert practitioner.login(org.practitioner.email).status_code == 302
    [event] = _events(db, "reactivate")
    assert (event.user_id, event.object_id) == (org.admin.id, str(org.practitioner.id))


def _device(db_session, user, *, last_seen=None, name="Pat's tablet", revoked=False) -> Device:
    device = Device(
        id=uuid.uuid4(),
        user_id=user.id,
        name=name,
        last_seen_at=last_seen,
        revoked_at=utcnow() if revoked else None,
    )
    db_session.add(device)
    db_session.commit()
    return device


def test_the_deactivation_page_warns_of_a_tablet_not_synced_for_a_day(
    client, admin, org, db_session
):
    url = f"/admin/user/deactivate?id={org.practitioner.id}"
    _device(db_session, org.practitioner, last_seen=utcnow() - timedelta(hours=2))
    _device(db_session, org.practitioner, last_seen=utcnow() - timedelta(days=9), revoked=True)
    page = client.get(url)
    assert page.status_code == 200
    assert "may hold work not yet sent" not in page.text
    assert "Deactivate account" in page.text

    _device(db_session, org.practitioner, name="Spare tablet")  # registered, never synced
    _device(
        db_session, org.practitioner, name="Car tablet", last_seen=utcnow() - timedelta(hours=25)
    )
    page = client.get(url)
    assert "A tablet may hold work not yet sent" in page.text
    assert "Spare tablet: has never synced" in page.text
    assert "Car tablet: last synced" in page.text
    assert "Ask Pat Practitioner to sync first" in page.text
    assert "Pat&#39;s tablet" not in page.text  # synced two hours ago: no warning for it
    assert "Deactivate anyway" in page.text
    # The warning is a warning: the admin may still deactivate, and the audit says so.
    assert admin.post(url).status_code == 302
    [event] = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "deactivate"))
    assert event.detail == {"tablets_not_synced_for_a_day": 2}


# ---------------------------------------------------------------- the last active admin


def test_the_last_active_admin_cannot_deactivate_or_demote_themselves(client, admin, org, db):
    me = org.admin.id
    page = client.get(f"/admin/user/deactivate?id={me}")
    assert "You are the last active admin" in page.text
    assert "Deactivate account" not in page.text

    response = admin.post(f"/admin/user/deactivate?id={me}")
    assert response.status_code == 302
    assert "You are the last active admin" in client.get(response.location).text
    response = admin.post(
        f"/admin/user?id={me}", {"name": org.admin.name, "role": "team_leader", "teams": "Team A"}
    )
    assert response.status_code == 422
    assert "You are the last active admin" in response.text
    admin_now = _user(db, org.admin.email)
    assert admin_now.active and admin_now.role == "admin"
    assert _events(db, "deactivate") == [] and _events(db, "update") == []
    # Still signed in and still an admin.
    assert client.get("/admin/users").status_code == 200


def test_with_another_active_admin_either_may_step_down_but_not_both(
    app, client, admin, org, db, db_session
):
    second = gen_user(db_session, "admin", email="second@example.org", name="Sam Second")
    inactive = gen_user(db_session, "admin", email="gone@example.org", active=False)
    db_session.commit()
    # A deactivated admin does not count; an active one does.
    assert admin.post(f"/admin/user/deactivate?id={second.id}").status_code == 302
    assert not _user(db, "second@example.org").active
    response = admin.post(f"/admin/user/deactivate?id={org.admin.id}")
    assert "You are the last active admin" in client.get(response.location).text
    assert admin.post(f"/admin/user/reactivate?id={second.id}").status_code == 302
    assert inactive.id not in (org.admin.id, second.id)

    # Now the first admin may demote themselves...
    response = admin.post(
        f"/admin/user?id={org.admin.id}",
        {"name": org.admin.name, "role": "coordinator", "teams": "Team A"},
    )
    assert response.status_code == 302
    assert _user(db, org.admin.email).role == "coordinator"
    # ... and the second is then the last: nobody may deactivate or demote them.
    other = AuthActions(app.test_client())
    assert other.login("second@example.org").status_code == 302
    response = other.post(f"/admin/user/deactivate?id={second.id}")
    assert "You are the last active admin" in other._client.get(response.location).text
    response = other.post(
        f"/admin/user?id={second.id}",
        {"name": "Sam Second", "role": "practitioner", "teams": "Team A"},
    )
    assert response.status_code == 422
    assert _user(db, "second@example.org").role == "admin"


def test_the_guard_names_who_is_the_last_admin(org, db_session):
    admin = db_session.get(User, org.admin.id)
    leader = db_session.get(User, org.leader.id)
    # The check as someone else would meet it (e.g. a script acting as another account).
    problem = user_admin.last_admin_problem(db_session, leader, admin)
    assert problem.startswith(f"{admin.name} is the last active admin")
    with pytest.raises(ValidationError) as refused:
        user_admin.deactivate_user(db_session, user_admin.Actor(leader), admin)
    assert "last active admin" in refused.value.errors["account"][0]
    assert user_admin.last_admin_problem(db_session, admin, leader) is None  # not an admin
    db_session.rollback()


# ---------------------------------------------------------------- unlocking


def test_an_admin_unlocks_a_locked_account(app, client, admin, org, db):
    practitioner = AuthActions(app.test_client())
    for _ in range(10):
        practitioner.login(org.practitioner.email, "not it at all")
    assert practitioner.login(org.practitioner.email).status_code == 401  # locked
    page = client.get(f"/admin/user?id={org.practitioner.id}")
    assert "Locked after 10 failed sign-ins, until" in page.text
    assert "UTC" not in page.text
    assert "Locked until" in client.get("/admin/users").text

    assert admin.post(f"/admin/user/unlock?id={org.practitioner.id}").status_code == 302
    user = _user(db, "pat@example.org")
    assert user.failed_logins == 0 and user.locked_until is None
    assert practitioner.login(org.practitioner.email).status_code == 302
    [event] = _events(db, "unlock")
    assert (event.user_id, event.object_id, event.detail) == (
        org.admin.id,
        str(org.practitioner.id),
        {"failed_logins": 10},
    )
    # Nothing to unlock: nothing audited.
    admin.post(f"/admin/user/unlock?id={org.practitioner.id}")
    assert len(_events(db, "unlock")) == 1


# ---------------------------------------------------------------- temporary passwords


def test_a_temporary_password_must_pass_the_password_policy(client, admin, org, db):
    response = admin.post(
        f"/admin/user/temporary-password?id={org.practitioner.id}", {"password": "short"}
    )
    assert response.status_code == 422
    assert "at least 12 characters" in response.text
    assert not _user(db, "pat@example.org").must_change_password
    assert _events(db, "temporary_password") == []


def test_a_common_temporary_password_is_refused_with_a_reason(client, admin, org, db):
    """Long enough but on the offline list of common passwords: refused, saying why."""
    response = admin.post(
        f"/admin/user/temporary-password?id={org.practitioner.id}",
        {"password": "1qaz2wsx3edc4rfv"},
    )
    assert response.status_code == 422
    assert "list of common or breached passwords" in response.text
    assert not _user(db, "pat@example.org").must_change_password
    assert _events(db, "temporary_password") == []


def test_a_temporary_password_must_be_changed_at_the_next_sign_in(app, client, admin, org, db):
    practitioner = AuthActions(app.test_client())
    assert practitioner.login(org.practitioner.email).status_code == 302
    for _ in range(10):  # locked out as well
        AuthActions(app.test_client()).login(org.practitioner.email, "not it at all")

    response = admin.post(
        f"/admin/user/temporary-password?id={org.practitioner.id}", {"password": TEMPORARY}
    )
    assert response.status_code == 302
    user = _user(db, "pat@example.org")
    assert user.must_change_password and user.locked_until is None and user.failed_logins == 0
    [event] = _events(db, "temporary_password")
    assert (event.user_id, event.object_id, event.detail) == (
        org.admin.id,
        str(org.practitioner.id),
        {"unlocked": True},
    )
    assert all(TEMPORARY not in str(e.detail) for e in db().scalars(select(AuditEvent)))
    # The user's session ended; the old password no longer works; the temporary one does.
    browser = practitioner._client
    assert browser.get("/").status_code == 302
    assert practitioner.login(org.practitioner.email).status_code == 401
    assert practitioner.login(org.practitioner.email, TEMPORARY).status_code == 302

    # Every page leads to the password change; the API says why, in a code the tablet acts on.
    for path in ("/", "/tablet", f"/children/{org.child.id}", "/team/compliance"):
        response = browser.get(path)
        assert response.status_code == 302, path
        assert response.location.endswith("/account/password"), path
    page = browser.get("/account/password")
    assert page.status_code == 200
    assert "the one you signed in with was temporary" in page.text
    refused = browser.get("/api/me")
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "password_change_required"
    assert browser.get("/static/css/app.css").status_code == 200
    assert browser.get("/sw.js").status_code == 200

    # The temporary password cannot be kept.
    kept = practitioner.post(
        "/account/password", {"current_password": TEMPORARY, "new_password": TEMPORARY}
    )
    assert kept.status_code == 400
    assert "not the temporary one" in kept.text
    changed = practitioner.post(
        "/account/password", {"current_password": TEMPORARY, "new_password": CHANGED}
    )
    assert changed.status_code == 302
    assert not _user(db, "pat@example.org").must_change_password
    assert practitioner.login(org.practitioner.email, CHANGED).status_code == 302
    assert browser.get("/").status_code == 200
    assert browser.get("/api/me").status_code == 200


def test_the_tablets_sign_in_learns_a_password_change_is_required(app, admin, org):
    admin.post(f"/admin/user/temporary-password?id={org.practitioner.id}", {"password": TEMPORARY})
    tablet = app.test_client()
    response = tablet.post(
        "/api/auth/login", json={"email": org.practitioner.email, "password": TEMPORARY}
    )
    assert response.status_code == 200
    token = response.get_json()["csrf_token"]
    refused = tablet.post(
        "/api/sync/devices",
        json={"device_id": str(uuid.uuid4()), "name": "Tablet"},
        headers={"X-CSRFToken": token},
    )
    assert refused.status_code == 403
    assert refused.get_json()["code"] == "password_change_required"
    assert tablet.post("/api/auth/logout", headers={"X-CSRFToken": token}).status_code == 204


def test_an_admin_who_sets_their_own_temporary_password_is_signed_out(client, admin, org, db):
    response = admin.post(
        f"/admin/user/temporary-password?id={org.admin.id}", {"password": TEMPORARY}
    )
    assert response.status_code == 302 and response.location.endswith("/login")
    assert client.get("/admin/users").status_code == 302
    assert _user(db, org.admin.email).must_change_password


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # SQLite: one writer
def test_two_admins_cannot_each_deactivate_the_other_at_once(database, engine, org, db_session):
    """The guard locks the active admins' rows until commit, so the second of two crossing
    deactivations waits for the first, then sees it and refuses."""
    second = gen_user(db_session, "admin", email="second@example.org", name="Sam Second")
    db_session.commit()
    outcome: dict[str, object] = {}

    def the_other_admin():
        with Session(engine) as session:
            me, target = session.get(User, second.id), session.get(User, org.admin.id)
            try:
                user_admin.deactivate_user(session, user_admin.Actor(me), target)
                session.commit()
                outcome["done"] = True
            except ValidationError as refused:
                outcome["refused"] = refused.errors["account"][0]

    with Session(engine) as first:
        me, target = first.get(User, org.admin.id), first.get(User, second.id)
        assert user_admin.deactivate_user(first, user_admin.Actor(me), target)
        crossing = threading.Thread(target=the_other_admin)
        crossing.start()
        crossing.join(timeout=1)
        assert crossing.is_alive(), "the second deactivation did not wait for the first"
        first.commit()
    crossing.join(timeout=10)
    assert outcome == {"refused": outcome.get("refused")}
    assert str(outcome["refused"]).startswith(f"{org.admin.name} is the last active admin")
    db_session.expire_all()
    assert db_session.get(User, org.admin.id).active
    assert not db_session.get(User, second.id).active


def test_an_account_an_admin_creates_chooses_its_own_password_first(app, admin, org, db):
    """Security review (ASVS 2.3.1): the password an admin types for a new account is a
    temporary one; signing in with it leads to the password page, and nothing else opens."""
    answer = admin.post(
        "/admin/users",
        data={"email": "new@example.org", "name": "New Practitioner", "role": "practitioner",
              "password": "a fresh start for Sam 2026", "teams": ["Team A"]},
    )  # fmt: skip
    assert answer.status_code == 302
    assert _user(db, "new@example.org").must_change_password
    newcomer = AuthActions(app.test_client())
    assert newcomer.login("new@example.org", "a fresh start for Sam 2026").status_code == 302
    assert newcomer._client.get("/").headers["Location"] == "/account/password"
    assert newcomer._client.get("/api/me").status_code == 403
