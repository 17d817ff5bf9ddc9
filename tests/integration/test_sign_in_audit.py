"""What the audit trail records of failed sign-ins (SPEC §7): the failure that locks an account
writes a `lockout` event, an attempt on a locked account says so, and the name typed is kept
only when it is an email address; anything else (it may be a password typed into the email
box) only as a keyed hash."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update

from fieldapp.models import AuditEvent, User
from fieldapp.models.base import utcnow
from fieldapp.services import accounts
from fieldapp.services.errors import ValidationError

from ..factories import PASSWORD

WRONG = "not it at all"


def events(db_session, action: str) -> list[AuditEvent]:
    return db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def test_the_tenth_failure_writes_one_lockout_event(auth, org, db_session):
    for _ in range(10):
        assert auth.login("Pat@Example.org ", WRONG).status_code == 401
    (lockout,) = events(db_session, "lockout")
    assert (lockout.object_type, lockout.object_id) == ("user", str(org.practitioner.id))
    assert (lockout.user_id, lockout.outcome, lockout.ip) == (None, "ok", "127.0.0.1")
    assert lockout.detail["failures"] == 10
    until = datetime.fromisoformat(lockout.detail["until"])
    assert timedelta(minutes=14) < until - utcnow() <= timedelta(minutes=15)
    failures = events(db_session, "login")
    assert [event.detail for event in failures] == [{"email": "pat@example.org"}] * 9 + [
        {"email": "pat@example.org", "account_locked": True}
    ]


def test_an_attempt_on_a_locked_account_is_audited_as_such_and_locks_nothing_more(
    client, auth, org, db_session
):
    for _ in range(10):
        auth.login("pat@example.org", WRONG)
    assert auth.login("pat@example.org", PASSWORD).status_code == 401
    api = client.post("/api/auth/login", json={"email": "pat@example.org", "password": PASSWORD})
    assert api.status_code == 401
    assert len(events(db_session, "lockout")) == 1
    last_two = [event.detail for event in events(db_session, "login")[-2:]]
    assert last_two == [{"email": "pat@example.org", "account_locked": True}] * 2


def test_the_lock_lifting_and_locking_again_writes_a_second_lockout(auth, org, db_session):
    for _ in range(10):
        auth.login("pat@example.org", WRONG)
    lifted = utcnow() - timedelta(seconds=1)
    db_session.execute(
        update(User).where(User.id == org.practitioner.id).values(locked_until=lifted)
    )
    db_session.commit()
    for _ in range(10):
        auth.login("pat@example.org", WRONG)
    assert [event.detail["failures"] for event in events(db_session, "lockout")] == [10, 10]


def test_a_wrong_current_password_at_password_change_locks_and_is_audited(auth, org, db_session):
    auth.login("pat@example.org")
    for _ in range(10):
        response = auth.post(
            "/account/password",
            {"current_password": WRONG, "new_password": "a much better passphrase"},
        )
        assert response.status_code == 400
    (lockout,) = events(db_session, "lockout")
    assert lockout.object_id == str(org.practitioner.id)


@pytest.mark.parametrize(
    "typed",
    ["correct horse battery", "hunter2", "Tr0ub4dor&3", "pat.example.org", "p@ss", "a b@c.de"],
)
def test_a_password_typed_into_the_email_box_is_never_stored(client, org, db_session, typed):
    response = client.post("/api/auth/login", json={"email": typed, "password": PASSWORD})
    assert response.status_code == 401
    (event,) = events(db_session, "login")
    assert set(event.detail) == {"email_hmac_sha256"}
    assert len(event.detail["email_hmac_sha256"]) == 64
    stored = json.dumps(event.detail) + str(event.object_id)
    assert typed.lower() not in stored.lower()


def test_the_same_text_gives_the_same_hash_so_attempts_can_be_matched(client, org, db_session):
    for typed in ("hunter2", " HUNTER2 ", "hunter3"):
        client.post("/api/auth/login", json={"email": typed, "password": "x"})
    first, again, other = (event.detail for event in events(db_session, "login"))
    assert first == again != other


def test_an_address_that_is_no_account_is_kept_as_typed(client, org, db_session):
    client.post("/api/auth/login", json={"email": "Nobody@Example.org", "password": "x"})
    (event,) = events(db_session, "login")
    assert event.detail == {"email": "nobody@example.org"}


@pytest.mark.parametrize("email", ["someone", "someone@localhost", "some one@example.org"])
def test_accounts_are_made_only_with_what_passes_as_an_email_address(db_session, org, email):
    with pytest.raises(ValidationError) as refused:
        accounts.create_user(
            db_session, email=email, name="Sam", role="admin", password="a long passphrase here"
        )
    assert refused.value.errors["email"] == ["Enter a valid email address."]
