"""Per-address throttling of sign-in (SPEC §7): refused sign-ins from one address, by the page
and the API together, are answered 429 with Retry-After once the address has used its limit
(FIELDAPP_SIGN_IN_RATE_LIMIT, by default 20 a minute and 100 an hour). Other addresses, the
sign-in page itself and successful sign-ins are not held up. The client's address is the
connecting one unless the app is told it sits behind proxies (FIELDAPP_TRUSTED_PROXIES)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from fieldapp import create_app
from fieldapp.models import AuditEvent

from ..conftest import CSRF_INPUT
from ..factories import PASSWORD, TIMEZONE

ATTACKER = "192.0.2.66"
COLLEAGUE = "198.51.100.7"
THROTTLED = "Too many failed sign-ins from this address."


def page_token(client) -> str:
    match = CSRF_INPUT.search(client.get("/login").text)
    return match.group(1) or match.group(2)


def form_sign_in(client, email: str, password: str, address: str = ATTACKER, **kwargs):
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": page_token(client)},
        environ_base={"REMOTE_ADDR": address},
        **kwargs,
    )


def api_sign_in(client, email: str, password: str, address: str = ATTACKER, **kwargs):
    return client.post(
        "/api/auth/login",
        json={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
        **kwargs,
    )


def guess(sign_in, client, number: int, **kwargs):
    """A wrong password for another account each time: guessing across accounts."""
    return sign_in(client, f"user{number}@example.org", "Summer2026!", **kwargs)


def assert_throttled_page(response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.mimetype == "text/html"
    assert THROTTLED in response.text and "Try again in a minute." in response.text


def assert_throttled_json(response) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.get_json() == {"error": f"{THROTTLED} Try again in a minute."}


def test_the_default_limit_is_twenty_refusals_a_minute_and_a_hundred_an_hour(app):
    assert app.config["FIELDAPP_SIGN_IN_RATE_LIMIT"] == "20 per minute; 100 per hour"


def test_the_page_answers_429_with_retry_after_after_twenty_refusals_in_a_minute(client, org):
    for number in range(20):
        assert guess(form_sign_in, client, number).status_code == 401
    # The 21st, even with the right password, is not checked at all.
    throttled = form_sign_in(client, "pat@example.org", PASSWORD)
    assert_throttled_page(throttled)
    assert client.get("/", environ_base={"REMOTE_ADDR": ATTACKER}).status_code == 302
    # The sign-in page itself stays open: only attempts are limited.
    assert client.get("/login", environ_base={"REMOTE_ADDR": ATTACKER}).status_code == 200


def test_the_api_answers_429_json_with_retry_after_after_twenty_refusals(client, org):
    for number in range(20):
        assert guess(api_sign_in, client, number).status_code == 401
    throttled = api_sign_in(client, "pat@example.org", PASSWORD)
    assert_throttled_json(throttled)
    assert throttled.headers["Cache-Control"] == "no-store"
    assert client.get("/api/me").status_code == 401


def test_the_page_and_the_api_share_one_count(app, client, org):
    app.config["FIELDAPP_SIGN_IN_RATE_LIMIT"] = "4 per minute"
    for number in range(2):
        assert guess(form_sign_in, client, number).status_code == 401
        assert guess(api_sign_in, client, number).status_code == 401
    assert_throttled_json(guess(api_sign_in, client, 9))
    assert_throttled_page(guess(form_sign_in, client, 9))


def test_another_address_is_not_held_up(app, client, org):
    app.config["FIELDAPP_SIGN_IN_RATE_LIMIT"] = "3 per minute"
    for number in range(3):
        guess(api_sign_in, client, number)
    assert api_sign_in(client, "pat@example.org", PASSWORD).status_code == 429
    colleague = app.test_client()
    assert form_sign_in(colleague, "lee@example.org", PASSWORD, COLLEAGUE).status_code == 302
    assert api_sign_in(client, "pat@example.org", PASSWORD, COLLEAGUE).status_code == 200


def test_successful_sign_ins_do_not_count(app, client, org):
    """An office's tablets may all sign in through one address."""
    app.config["FIELDAPP_SIGN_IN_RATE_LIMIT"] = "2 per minute"
    for _ in range(4):
        assert api_sign_in(app.test_client(), "pat@example.org", PASSWORD).status_code == 200
    assert guess(api_sign_in, client, 1).status_code == 401
    assert guess(api_sign_in, client, 2).status_code == 401
    assert guess(api_sign_in, client, 3).status_code == 429


def test_requests_that_check_no_password_do_not_count(app, client, org):
    app.config["FIELDAPP_SIGN_IN_RATE_LIMIT"] = "1 per minute"
    assert client.post("/api/auth/login", data={"email": "x"}).status_code == 415
    assert client.post("/api/auth/login", json={"email": "pat@example.org"}).status_code == 400
    no_token = client.post("/login", data={"email": "pat@example.org", "password": "x"})
    assert no_token.status_code == 400
    assert api_sign_in(client, "pat@example.org", PASSWORD).status_code == 200


def test_an_exhausted_hourly_limit_says_how_long_in_minutes(app, client, org):
    app.config["FIELDAPP_SIGN_IN_RATE_LIMIT"] = "50 per minute; 2 per hour"
    guess(api_sign_in, client, 1)
    guess(api_sign_in, client, 2)
    throttled = guess(api_sign_in, client, 3)
    assert throttled.status_code == 429
    assert 3540 <= int(throttled.headers["Retry-After"]) <= 3600
    assert throttled.get_json()["error"] == f"{THROTTLED} Try again in 60 minutes."


def test_the_address_may_try_again_once_the_window_moves_on(app, client, org):
    app.config["FIELDAPP_SIGN_IN_RATE_LIMIT"] = "1 per 2 seconds"
    assert guess(api_sign_in, client, 1).status_code == 401
    throttled = guess(api_sign_in, client, 2)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] in ("1", "2")
    time.sleep(2.1)
    assert api_sign_in(client, "pat@example.org", PASSWORD).status_code == 200


def test_a_forged_x_forwarded_for_does_not_escape_the_throttle(app, client, org):
    """With no proxy configured the app reads no header a client could choose."""
    app.config["FIELDAPP_SIGN_IN_RATE_LIMIT"] = "2 per minute"
    for number in range(2):
        headers = {"X-Forwarded-For": f"203.0.113.{number}"}
        assert guess(api_sign_in, client, number, headers=headers).status_code == 401
    fresh = {"X-Forwarded-For": "203.0.113.99"}
    assert guess(api_sign_in, client, 9, headers=fresh).status_code == 429


@pytest.fixture
def proxied_app(database, tmp_path):
    """The app behind one reverse proxy at 10.0.0.2, as docs/deployment.md sets it up."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database.url,
            "SECRET_KEY": "test-secret",
            "SESSION_COOKIE_SECURE": False,
            "FIELDAPP_TIMEZONE": TIMEZONE,
            "FIELDAPP_TRUSTED_PROXIES": 1,
            "FIELDAPP_SIGN_IN_RATE_LIMIT": "2 per minute",
        }
    )
    app.instance_path = str(tmp_path)
    yield app
    app.extensions["fieldapp_db"]["engine"].dispose()


def through_proxy(client, forwarded_for: str, email: str, password: str):
    return api_sign_in(
        client, email, password, "10.0.0.2", headers={"X-Forwarded-For": forwarded_for}
    )


def test_behind_a_trusted_proxy_each_client_has_its_own_count(proxied_app, org, db_session):
    client = proxied_app.test_client()
    # The client put its own entry first; the proxy appended the address it saw.
    for number in range(2):
        response = through_proxy(client, f"1.2.3.{number}, {ATTACKER}", "x@example.org", "no")
        assert response.status_code == 401
    assert through_proxy(client, f"9.9.9.9, {ATTACKER}", "x@example.org", "no").status_code == 429
    assert through_proxy(client, COLLEAGUE, "pat@example.org", PASSWORD).status_code == 200
    addresses = db_session.scalars(
        select(AuditEvent.ip).where(AuditEvent.action == "login").order_by(AuditEvent.id)
    ).all()
    assert addresses == [ATTACKER, ATTACKER, COLLEAGUE]  # the clients', not the proxy's


def test_with_its_storage_unreachable_the_throttle_counts_in_memory(database, tmp_path, org):
    """Several app servers share counts in Redis; if it is down, sign-in keeps working and
    each process counts on its own."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database.url,
            "SECRET_KEY": "test-secret",
            "FIELDAPP_TIMEZONE": TIMEZONE,
            "FIELDAPP_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0",  # nothing listens there
            "FIELDAPP_SIGN_IN_RATE_LIMIT": "2 per minute",
        }
    )
    app.instance_path = str(tmp_path)
    client = app.test_client()
    try:
        assert guess(api_sign_in, client, 1).status_code == 401
        assert guess(api_sign_in, client, 2).status_code == 401
        assert_throttled_json(api_sign_in(client, "pat@example.org", PASSWORD))
        assert api_sign_in(client, "pat@example.org", PASSWORD, COLLEAGUE).status_code == 200
    finally:
        app.extensions["fieldapp_db"]["engine"].dispose()
