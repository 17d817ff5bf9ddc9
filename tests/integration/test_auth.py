"""Sign-in, lockout, sign-out and the JSON auth endpoints (SPEC §4, §7)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fieldapp.models import Addendum, AuditEvent, User, UserSession
from fieldapp.models.base import utcnow

from ..factories import PASSWORD

GENERIC = "Email or password is incorrect, or the account is locked"


def test_a_practitioner_signing_in_gets_the_offline_app(client, auth, org):
    """Practitioners have one app: their `/` is the app's shell (which holds no case data; the
    caseload comes encrypted through the pull), the same page as `/tablet`."""
    response = auth.login("pat@example.org")
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert page.text == client.get("/tablet").text
    assert 'src="/static/js/tablet/main.js"' in page.text
    assert "Mia Anderson" not in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_a_team_leader_signing_in_gets_the_teams_children(client, auth, org):
    assert auth.login(org.leader.email).status_code == 302
    page = client.get("/")
    assert "My team&#39;s children" in page.text or "My team's children" in page.text
    assert "Mia Anderson" in page.text and "Kai Baker" in page.text
    assert "Zed Other" not in page.text


def test_wrong_password_and_unknown_user_get_the_same_error(client, auth, org):
    wrong = auth.login("pat@example.org", "wrong password!")
    unknown = auth.login("nobody@example.org", "wrong password!")
    assert wrong.status_code == unknown.status_code == 401
    assert GENERIC in wrong.text and GENERIC in unknown.text
    assert client.get("/").status_code == 302  # still signed out


def test_lockout_after_ten_failures_even_with_the_right_password(client, auth, org, db_session):
    for _ in range(10):
        assert auth.login("pat@example.org", "not it at all").status_code == 401
    locked = auth.login("pat@example.org", PASSWORD)
    assert locked.status_code == 401
    assert GENERIC in locked.text
    user = db_session.scalar(select(User).where(User.email == "pat@example.org"))
    assert user.locked_until is not None


def test_lock_expires_after_fifteen_minutes(client, auth, org, db_session):
    for _ in range(10):
        auth.login("pat@example.org", "not it at all")
    user = db_session.scalar(select(User).where(User.email == "pat@example.org"))
    user.locked_until = utcnow() - timedelta(seconds=1)
    db_session.commit()
    assert auth.login("pat@example.org", PASSWORD).status_code == 302


def test_nine_failures_then_success_resets_the_counter(client, auth, org, db_session):
    for _ in range(9):
        auth.login("pat@example.org", "not it at all")
    assert auth.login("pat@example.org", PASSWORD).status_code == 302
    user = db_session.scalar(select(User).where(User.email == "pat@example.org"))
    assert user.failed_logins == 0 and user.locked_until is None


def test_sign_out_invalidates_the_session_on_the_server(app, client, auth, org):
    auth.login("pat@example.org")
    stolen_cookie = client.get_cookie("session").value
    auth.logout()
    replay = app.test_client()
    replay.set_cookie("session", stolen_cookie)
    assert replay.get("/").status_code == 302  # the copied cookie no longer signs anyone in


def test_password_change_signs_out_everywhere(app, client, auth, org):
    auth.login("pat@example.org")
    other_device = app.test_client()
    other_auth = type(auth)(other_device)
    other_auth.login("pat@example.org")
    response = auth.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "a much better passphrase"},
    )
    assert response.status_code == 302
    assert other_device.get("/").status_code == 302
    assert auth.login("pat@example.org", "a much better passphrase").status_code == 302


def test_password_change_rejects_a_short_password(client, auth, org):
    auth.login("pat@example.org")
    response = auth.post(
        "/account/password", {"current_password": PASSWORD, "new_password": "short"}
    )
    assert response.status_code == 400
    assert "at least 12 characters" in response.text


def test_sign_in_without_csrf_token_is_refused_and_signs_no_one_in(client, org, db_session):
    response = client.post("/login", data={"email": "pat@example.org", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302  # still signed out: sent to sign in
    assert db_session.scalar(select(func.count()).select_from(UserSession)) == 0
    assert (
        db_session.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "login")).all()
        == []
    )


def test_forms_without_csrf_token_are_refused_and_change_nothing(client, auth, org, db_session):
    auth.login("pat@example.org")
    addenda_before = db_session.scalar(select(func.count()).select_from(Addendum))
    new_addendum = client.post(
        f"/contacts/{org.contact.id}/addenda",
        data={"reason": "A correction", "text": "Forged without a token."},
    )
    new_password = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert new_addendum.status_code == new_password.status_code == 400
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Addendum)) == addenda_before
    # The password did not change and the session was not ended.
    assert client.get("/").status_code == 200
    auth.logout()
    assert auth.login("pat@example.org").status_code == 302


def test_api_login_returns_user_and_csrf_token(client, org):
    response = client.post(
        "/api/auth/login", json={"email": "pat@example.org", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"]["name"] == "Pat Practitioner"
    assert body["user"]["role"] == "practitioner"
    assert body["csrf_token"]
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get("/api/me").get_json()["user"]["id"] == body["user"]["id"]


def test_api_login_failures(client, org):
    wrong = client.post("/api/auth/login", json={"email": "pat@example.org", "password": "nope"})
    unknown = client.post("/api/auth/login", json={"email": "x@example.org", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    form = client.post("/api/auth/login", data={"email": "pat@example.org", "password": PASSWORD})
    assert form.status_code == 415
    missing = client.post("/api/auth/login", json={"email": "pat@example.org"})
    assert missing.status_code == 400 and "password" in missing.get_json()["error"]


def test_api_logout_needs_the_csrf_token(client, org):
    token = client.post(
        "/api/auth/login", json={"email": "pat@example.org", "password": PASSWORD}
    ).get_json()["csrf_token"]
    missing = client.post("/api/auth/logout")
    assert missing.status_code == 400 and missing.get_json()["code"] == "csrf_failed"
    assert client.post("/api/auth/logout", headers={"X-CSRFToken": token}).status_code == 204
    assert client.get("/api/me").status_code == 401


def test_failed_and_successful_sign_ins_are_audited(client, auth, org, db_session):
    auth.login("pat@example.org", "wrong password!")
    auth.login("pat@example.org")
    outcomes = db_session.scalars(
        select(AuditEvent.outcome).where(AuditEvent.action == "login").order_by(AuditEvent.id)
    ).all()
    assert outcomes == ["failed", "ok"]


def test_pages_carry_security_headers(client, auth, org):
    auth.login("pat@example.org")
    response = client.get("/")
    assert response.headers["Cache-Control"] == "no-store"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in response.text and "style=" not in response.text


def test_service_worker_is_served_at_the_root(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert "javascript" in response.headers["Content-Type"]


def test_a_coordinator_lands_on_permanency_reviews(client, auth, org):
    """Coordinators work on permanency, not caseloads (SPEC §2): signing in opens their page."""
    auth.login(org.coordinator.email)
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/permanency")
    page = client.get("/permanency")
    assert "<h1>Permanency reviews</h1>" in page.text
    assert 'href="/permanency/cohort"' in page.text  # the coordinator's menu


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "/\\evil.example",
        "/\\/evil.example",
        "/\t/evil.example",
        "/.//evil.example",
        "/x/..//evil.example",
    ],
)
def test_sign_in_never_redirects_to_another_site(client, org, target):
    # The page the sign-in script hands over to is the same safe one.
    assert 'data-next="/"' in client.get("/login", query_string={"next": target}).text
    page = client.get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": "pat@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_sign_in_returns_to_the_page_asked_for(client, auth, org):
    page = client.get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    response = client.post(
        f"/login?next=/children/{org.child.id}",
        data={"email": "pat@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == f"/children/{org.child.id}"


def test_headers_isolate_the_window_and_sign_out_clears_cookies_and_cache(client, auth, org):
    auth.login(org.leader.email)
    page = client.get("/")
    assert page.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in page.headers  # not in the demo over HTTP
    signed_out = auth.logout()
    assert signed_out.headers["Clear-Site-Data"] == '"cache", "cookies"'
    assert "Clear-Site-Data" not in client.get("/login").headers


def test_production_sends_hsts_and_a_host_only_session_cookie(database, tmp_path):
    from fieldapp import create_app

    app = create_app(
        {
            "FIELDAPP_PRODUCTION": True,
            "DATABASE_URL": database.url,
            "SECRET_KEY": "production-test",
            "FIELDAPP_TIMEZONE": "Australia/Darwin",
        }
    )
    app.instance_path = str(tmp_path)
    try:
        response = app.test_client().get("/login", base_url="https://fieldapp.example")
        assert response.headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains"
        )
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("__Host-session=") and "Secure" in cookie and "Path=/" in cookie
        assert "Domain=" not in cookie
    finally:
        app.extensions["fieldapp_db"]["engine"].dispose()


def test_a_server_error_names_a_reference_on_the_page_in_json_and_in_the_log(
    app, client, auth, org, monkeypatch, caplog
):
    from fieldapp.caseload import views as caseload_views

    def broken(*_args, **_kwargs):
        raise RuntimeError("the database went away")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(caseload_views, "caseload", broken)
    auth.login(org.leader.email)
    page = client.get("/")
    assert page.status_code == 500
    reference = re.search(r"reference ([0-9a-f]{12})", page.text).group(1)
    assert "the database went away" not in page.text
    assert any(reference in record.getMessage() for record in caplog.records)
    from fieldapp.team import compliance as compliance_views

    monkeypatch.setattr(compliance_views, "_rows", broken)
    answer = client.get("/api/compliance")
    assert answer.status_code == 500
    body = answer.get_json()
    assert re.fullmatch(r"[0-9a-f]{12}", body["request_id"])
    assert body["request_id"] in body["error"]


def test_a_refused_sign_out_clears_nothing(client, org):
    """A stale sign-out (an old tab's token) must not clear the cookie of the session signed in
    since."""
    from .sync_helpers import sign_in

    stale = sign_in(client, "pat@example.org")
    sign_in(client, "pat@example.org")  # a new session, a new token
    refused = client.post("/api/auth/logout", headers={"X-CSRFToken": stale})
    assert refused.status_code == 400
    assert "Clear-Site-Data" not in refused.headers
    assert client.get("/api/me").status_code == 200


def test_a_huge_password_is_refused_without_hashing_it(client, org, db_session):
    """A megabyte typed as a password is wrong credentials at once, not seconds of hashing."""
    answer = client.post(
        "/api/auth/login", json={"email": "pat@example.org", "password": "x" * 1_000_000}
    )
    assert answer.status_code == 401
    user = db_session.scalar(select(User).where(User.email == "pat@example.org"))
    assert user.failed_logins == 0  # refused before the account was even looked at
