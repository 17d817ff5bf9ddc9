"""The administration commands of SPEC §6: `teams create`, `users create` and `seed-demo`."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask.cli import FlaskGroup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapp.models import Agency, Child, Contact, ReturnVisit, Team, User
from fieldapp.services.accounts import authenticate
from fieldapp.services.demo import DEMO_DOMAIN, USERS

from ..factories import gen_agency, gen_child, gen_team, gen_user


@pytest.fixture
def flask_cli(app, runner):
    """Runs `flask --app fieldapp <args>` as the `flask` command does: through FlaskGroup, which
    pushes the app context for every command (`seed-demo` is a plain click command, so
    `runner.invoke(args=...)`, which calls `app.cli` directly, would run it without one)."""
    cli = FlaskGroup(create_app=lambda: app, load_dotenv=False, set_debug_flag=False)

    def run(*args: str, **kwargs):
        return runner.invoke(cli, list(args), **kwargs)

    return run


@pytest.fixture
def darwin_north(engine) -> int:
    with Session(engine) as session:
        team = gen_team(session, "Darwin North", gen_agency(session, "Territory Families"))
        session.commit()
        return team.id


def count(db, model) -> int:
    return db().scalar(select(func.count()).select_from(model))


# --- teams create ------------------------------------------------------------------------------


def test_teams_create_makes_a_team_and_its_agency_if_new(flask_cli, db):
    result = flask_cli(
        "teams", "create", "--name", "Darwin North", "--agency", "Territory Families"
    )
    assert result.exit_code == 0, result.output
    assert "Created team Darwin North (Territory Families)." in result.stdout
    second = flask_cli(
        "teams", "create", "--name", "Alice Springs", "--agency", "Territory Families"
    )
    assert second.exit_code == 0, second.output
    ngo = flask_cli(
        "teams",
        "create",
        "--name",
        "Top End",
        "--agency",
        "Top End Kids Care",
        "--agency-kind",
        "ngo",
    )
    assert ngo.exit_code == 0, ngo.output

    teams = {team.name: team.agency for team in db().scalars(select(Team))}
    assert sorted(teams) == ["Alice Springs", "Darwin North", "Top End"]
    assert teams["Darwin North"] is teams["Alice Springs"]  # one agency, reused
    assert (teams["Darwin North"].name, teams["Darwin North"].kind) == (
        "Territory Families",
        "government",
    )
    assert (teams["Top End"].name, teams["Top End"].kind) == ("Top End Kids Care", "ngo")
    assert count(db, Agency) == 2


def test_teams_create_refuses_a_duplicate(flask_cli, darwin_north, db):
    result = flask_cli(
        "teams", "create", "--name", "Darwin North", "--agency", "Territory Families"
    )
    assert result.exit_code == 1
    assert "error: name: Team 'Darwin North' already exists in Territory Families." in result.stderr
    assert count(db, Team) == 1
    bad_kind = flask_cli(
        "teams", "create", "--name", "X", "--agency", "Y", "--agency-kind", "private"
    )
    assert bad_kind.exit_code == 2
    assert count(db, Team) == 1 and count(db, Agency) == 1


# --- users create ------------------------------------------------------------------------------


def test_users_create_reads_the_password_from_standard_input(flask_cli, darwin_north, db):
    result = flask_cli(
        "users",
        "create",
        "--email",
        "Jo.Nguyen@Example.org",
        "--name",
        "Jo Nguyen",
        "--role",
        "practitioner",
        "--team",
        "Darwin North",
        "--password-stdin",
        input="a long enough passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created practitioner jo.nguyen@example.org." in result.stdout
    assert "a long enough passphrase" not in result.output

    session = db()
    user = session.scalar(select(User).where(User.email == "jo.nguyen@example.org"))
    assert (user.name, user.role, user.active) == ("Jo Nguyen", "practitioner", True)
    assert user.team_ids == [darwin_north]
    assert user.agency.name == "Territory Families"
    assert "a long enough passphrase" not in user.password_hash
    assert authenticate(session, "jo.nguyen@example.org", "a long enough passphrase") is not None
    assert authenticate(session, "jo.nguyen@example.org", "a long enough passphras") is None
    session.rollback()


def test_users_create_prompts_for_the_password_and_its_confirmation(flask_cli, darwin_north, db):
    result = flask_cli(
        "users",
        "create",
        "--email",
        "lee@example.org",
        "--name",
        "Lee Martin",
        "--role",
        "team_leader",
        "--team",
        "Darwin North",
        input="leader passphrase\nleader passphrase\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created team_leader lee@example.org." in result.stdout
    session = db()
    assert authenticate(session, "lee@example.org", "leader passphrase").role == "team_leader"
    session.rollback()


def test_users_create_refuses_bad_input_and_creates_nothing(
    flask_cli, darwin_north, engine, db, subtests
):
    with Session(engine) as session:
        gen_user(session, "practitioner", email="taken@example.org")
        session.commit()
    base = ["users", "create", "--name", "Someone", "--password-stdin"]
    cases = [
        (
            "short password",
            ["--email", "a@example.org", "--role", "practitioner", "--team", "Darwin North"],
            "short\n",
            "error: password: Password must be at least 12 characters; this one has 5.",
        ),
        (
            "unknown team",
            ["--email", "b@example.org", "--role", "practitioner", "--team", "Nowhere"],
            "a long enough passphrase\n",
            "error: team: No team named 'Nowhere'.",
        ),
        (
            "practitioner without a team",
            ["--email", "c@example.org", "--role", "practitioner"],
            "a long enough passphrase\n",
            "error: team: Practitioners and team leaders need a team.",
        ),
        (
            "email already used",
            ["--email", "TAKEN@example.org", "--role", "practitioner", "--team", "Darwin North"],
            "a long enough passphrase\n",
            "error: email: A user with email taken@example.org already exists.",
        ),
        (
            "not an email",
            ["--email", "someone", "--role", "admin"],
            "a long enough passphrase\n",
            "error: email: Enter a valid email address.",
        ),
        (
            "coordinator without an agency",
            ["--email", "d@example.org", "--role", "coordinator"],
            "a long enough passphrase\n",
            "error: agency: A coordinator needs an agency (or a team).",
        ),
    ]
    for name, args, password, message in cases:
        with subtests.test(msg=name):
            result = flask_cli(*base, *args, input=password)
            assert result.exit_code == 1
            assert message in result.stderr
            assert count(db, User) == 1


# --- seed-demo ---------------------------------------------------------------------------------


def test_seed_demo_loads_an_organisation_once(flask_cli, db):
    first = flask_cli("seed-demo", "--password", "try-the-demo-2026")
    assert first.exit_code == 0, first.output
    assert "Demo data loaded." in first.stdout
    assert "(password: try-the-demo-2026)" in first.stdout
    for handle, _name, _role, _teams in USERS:
        assert f"{handle}@{DEMO_DOMAIN}" in first.stdout

    session = db()
    users = {user.email: user for user in session.scalars(select(User))}
    assert {user.role for user in users.values()} == {
        "practitioner",
        "team_leader",
        "coordinator",
        "admin",
    }
    assert len(users) == len(USERS)
    children = session.scalars(select(Child)).all()
    assert len(children) == 30
    for child in children:  # every child is held by a practitioner of the child's team
        assert child.practitioner.role == "practitioner"
        assert child.team_id in child.practitioner.team_ids
        assert [a.practitioner_id for a in child.allocations] == [child.practitioner_id]
    assert any(child.care_end_date is not None for child in children)
    assert any(child.is_interstate for child in children)
    assert session.scalar(select(func.count()).select_from(Contact)) > 100
    assert session.scalar(select(func.count()).select_from(ReturnVisit)) > 0
    # The team leader has acknowledged all but the last three weeks' contacts: the queue is short.
    darwin = [c for c in session.scalars(select(Contact)) if c.child.team.name == "Darwin North"]
    waiting = [c for c in darwin if c.acknowledged_at is None]
    assert waiting and len(waiting) < len(darwin) / 4
    assert min(c.contact_date for c in waiting) >= date.today() - timedelta(days=22)
    assert all(c.acknowledged_by.role == "team_leader" for c in darwin if c.acknowledged_at)
    assert authenticate(session, f"jo.nguyen@{DEMO_DOMAIN}", "try-the-demo-2026") is not None
    session.rollback()
    counts = {model: count(db, model) for model in (User, Child, Contact, ReturnVisit, Team)}

    second = flask_cli("seed-demo")
    assert second.exit_code == 0, second.output
    assert "Demo data is already loaded." in second.stdout
    assert "Demo data loaded." not in second.stdout
    assert {model: count(db, model) for model in counts} == counts


@pytest.mark.parametrize("real_data", ["a user", "a child"])
def test_seed_demo_refuses_a_database_with_real_data(flask_cli, engine, db, real_data):
    with Session(engine) as session:
        if real_data == "a user":
            gen_user(session, "admin", email="root@agency.example")
        else:
            gen_child(session, gen_team(session))
        session.commit()
    before = {model: count(db, model) for model in (User, Child, Contact, Team)}
    result = flask_cli("seed-demo")
    assert result.exit_code == 1
    assert "Refusing to seed: this database already holds real data." in result.stderr
    assert "Demo data loaded." not in result.output
    assert {model: count(db, model) for model in before} == before
