"""The password policy at every place a password is set: the admin's new-user form (its initial,
temporary password), `flask users create`, `flask seed-demo --password` and the user's own
password change. Each refuses a short, a common and a too-long password with a message naming
the field, and takes a Unicode passphrase of 12 characters or more, up to 128."""

from __future__ import annotations

import html
import unicodedata

import pytest
from argon2 import PasswordHasher
from flask.cli import FlaskGroup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapp.models import User
from fieldapp.services.accounts import authenticate, change_password
from fieldapp.services.passwords import HINT, MAX_LENGTH

from ..factories import PASSWORD, gen_agency, gen_team, gen_user

PASSPHRASE = "kia ora, tōku whānau ☀"
LONGEST = ("Q7 vx9 Lp2 zR " * 10)[:MAX_LENGTH]  # 128 characters
TOO_LONG = LONGEST + "m"  # 129

SHORT_MESSAGE = "Password must be at least 12 characters; this one has 5."
COMMON_MESSAGE = "This password is on a list of common or breached passwords; choose another."
LONG_MESSAGE = "Password must be at most 128 characters; this one has 129."
REFUSALS = [
    ("short", "short", SHORT_MESSAGE),
    ("common", "Qwerty123456", COMMON_MESSAGE),
    ("129 characters", TOO_LONG, LONG_MESSAGE),
]


def users_named(db_session, email: str) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(User).where(User.email == email))


# --- the admin's new-user form -----------------------------------------------------------------


def new_user(auth, email: str, password: str):
    return auth.post(
        "/admin/users",
        {"email": email, "name": "Ngaio Test", "role": "admin", "password": password},
    )


def test_admin_form_shows_the_hint_and_the_limits(client, auth, org):
    auth.login(org.admin.email)
    page = client.get("/admin/users").text
    assert HINT in html.unescape(page)
    assert 'maxlength="128"' in page and 'minlength="12"' in page
    assert 'autocomplete="new-password"' in page


@pytest.mark.parametrize(("case", "password", "message"), REFUSALS)
def test_admin_form_refuses_a_bad_initial_password_naming_the_field(
    auth, org, db_session, case, password, message
):
    auth.login(org.admin.email)
    response = new_user(auth, "new@example.org", password)
    assert response.status_code == 422, case
    text = html.unescape(response.text)
    assert f"Initial password: {message}" in text  # the error summary names the field
    assert 'id="password-error"' in response.text  # and the message sits under the field
    assert users_named(db_session, "new@example.org") == 0


@pytest.mark.parametrize("password", [PASSPHRASE, LONGEST], ids=["unicode passphrase", "128"])
def test_admin_form_takes_a_passphrase_the_user_then_signs_in_with(
    app, auth, org, db_session, password
):
    auth.login(org.admin.email)
    response = new_user(auth, "new@example.org", password)
    assert response.status_code == 302, html.unescape(response.text)
    assert users_named(db_session, "new@example.org") == 1
    newcomer = type(auth)(app.test_client())
    assert newcomer.login("new@example.org", password).status_code == 302


def test_admin_form_refuses_the_users_own_name(auth, org, db_session):
    auth.login(org.admin.email)
    response = new_user(auth, "ngaio.test@example.org", "I am Ngaio Test 2026")
    assert response.status_code == 422
    assert "contains the account&#39;s name or email address" in response.text
    assert users_named(db_session, "ngaio.test@example.org") == 0


# --- flask users create and seed-demo ----------------------------------------------------------


@pytest.fixture
def flask_cli(app, runner):
    cli = FlaskGroup(create_app=lambda: app, load_dotenv=False, set_debug_flag=False)

    def run(*args: str, **kwargs):
        return runner.invoke(cli, list(args), **kwargs)

    return run


@pytest.fixture
def team(engine) -> str:
    with Session(engine) as session:
        gen_team(session, "Darwin North", gen_agency(session, "Territory Families"))
        session.commit()
    return "Darwin North"


def create_user_cli(flask_cli, team: str, email: str, password: str, **kwargs):
    return flask_cli(
        *("users", "create", "--email", email, "--name", "Jo Nguyen"),
        *("--role", "practitioner", "--team", team, "--password-stdin"),
        input=password + "\n",
        **kwargs,
    )


@pytest.mark.parametrize(("case", "password", "message"), REFUSALS)
def test_cli_refuses_a_bad_password_naming_the_field(
    flask_cli, team, db_session, case, password, message
):
    result = create_user_cli(flask_cli, team, "jo@example.org", password)
    assert result.exit_code == 1, case
    assert f"error: password: {message}" in result.stderr
    assert users_named(db_session, "jo@example.org") == 0


@pytest.mark.parametrize("password", [PASSPHRASE, LONGEST], ids=["unicode passphrase", "128"])
def test_cli_takes_a_passphrase(flask_cli, team, db_session, password):
    result = create_user_cli(flask_cli, team, "jo@example.org", password)
    assert result.exit_code == 0, result.output
    assert authenticate(db_session, "jo@example.org", password) is not None


def test_cli_takes_a_windows_line_ending_off_the_password(flask_cli, team, db_session):
    result = create_user_cli(flask_cli, team, "jo@example.org", PASSPHRASE + "\r")
    assert result.exit_code == 0, result.output
    assert authenticate(db_session, "jo@example.org", PASSPHRASE) is not None


def test_cli_prompt_shows_the_hint(flask_cli, team):  # without --password-stdin
    result = flask_cli(
        *("users", "create", "--email", "jo@example.org", "--name", "Jo Nguyen"),
        *("--role", "practitioner", "--team", team),
        input=f"{PASSPHRASE}\n{PASSPHRASE}\n",
    )
    assert result.exit_code == 0, result.output
    assert HINT in result.stderr


def test_seed_demo_refuses_a_common_password(flask_cli, db_session):
    result = flask_cli("seed-demo", "--password", "password1234")
    assert result.exit_code == 1
    assert f"error: password: {COMMON_MESSAGE}" in result.stderr
    assert db_session.scalar(select(func.count()).select_from(User)) == 0


# --- the user's own password change ------------------------------------------------------------


def test_password_page_shows_the_hint_and_the_limits(client, auth, org):
    auth.login(org.practitioner.email)
    page = client.get("/account/password").text
    assert HINT in html.unescape(page)
    assert 'maxlength="128"' in page and 'autocomplete="new-password"' in page
    assert 'autocomplete="current-password"' in page


@pytest.mark.parametrize(("case", "password", "message"), REFUSALS)
def test_password_change_refuses_a_bad_password_naming_the_field(
    app, auth, org, case, password, message
):
    auth.login(org.practitioner.email)
    response = auth.post(
        "/account/password", {"current_password": PASSWORD, "new_password": password}
    )
    assert response.status_code == 400, case
    assert f"New password: {message}" in html.unescape(response.text)
    assert 'id="new_password-error"' in response.text
    # The password did not change.
    other = type(auth)(app.test_client())
    assert other.login(org.practitioner.email, PASSWORD).status_code == 302


def test_password_change_refuses_the_users_own_name(auth, org):
    auth.login(org.practitioner.email)  # Pat Practitioner, pat@example.org
    response = auth.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "Pat Practitioner rocks"},
    )
    assert response.status_code == 400
    assert "contains the account&#39;s name or email address" in response.text


@pytest.mark.parametrize("password", [PASSPHRASE, LONGEST], ids=["unicode passphrase", "128"])
def test_password_change_takes_a_passphrase(app, auth, org, password):
    auth.login(org.practitioner.email)
    response = auth.post(
        "/account/password", {"current_password": PASSWORD, "new_password": password}
    )
    assert response.status_code == 302
    assert auth.login(org.practitioner.email, password).status_code == 302


# --- one normal form, whatever the keyboard ----------------------------------------------------


def test_a_passphrase_typed_decomposed_signs_in_as_typed_composed(db_session, engine):
    composed = "café au lait à deux"
    with Session(engine) as session:
        gen_user(session, email="cafe@example.org")
        session.commit()
    user = db_session.scalar(select(User).where(User.email == "cafe@example.org"))
    change_password(db_session, user, unicodedata.normalize("NFD", composed))
    db_session.commit()
    assert authenticate(db_session, "cafe@example.org", composed) is not None
    assert authenticate(db_session, "cafe@example.org", composed.replace(" ", "\u00a0")) is not None


def test_a_hash_made_before_normalising_still_signs_in(db_session, engine):
    typed = unicodedata.normalize("NFD", "café au lait à deux")
    with Session(engine) as session:
        gen_user(session, email="old@example.org").password_hash = PasswordHasher().hash(typed)
        session.commit()
    assert authenticate(db_session, "old@example.org", typed) is not None
