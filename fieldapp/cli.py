"""Command-line interface (SPEC §6): `flask --app fieldapp <command>`."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from . import migrate
from .extensions import db
from .services import accounts, demo, passwords
from .services.children_import import ImportFailed, import_children
from .services.clock import today_in
from .services.errors import ValidationError
from .services.permanency_import import import_permanency

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")
teams_cli = AppGroup("teams", help="Teams.")
users_cli = AppGroup("users", help="User accounts.")


def _today():
    return today_in(current_app.config["FIELDAPP_TIMEZONE"])


def _fail(errors: dict[str, list[str]]) -> None:
    for field, messages in errors.items():
        for message in messages:
            click.echo(f"error: {field}: {message}", err=True)
    sys.exit(1)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    migrate.upgrade(db.engine, revision)
    click.echo(f"Database upgraded to {revision}.")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION."""
    migrate.downgrade(db.engine, revision)
    click.echo(f"Database downgraded to {revision}.")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (review it before committing)."""
    migrate.revision(db.engine, message)


@click.command("seed-demo")
@with_appcontext
@click.option(
    "--password",
    default=demo.DEFAULT_PASSWORD,
    show_default=True,
    help="Password for every demo account.",
)
def seed_demo_command(password: str) -> None:
    """Load a small demo organisation and print how to sign in."""
    session = db.session
    if demo.is_seeded(session):
        click.echo("Demo data is already loaded.")
    elif demo.holds_real_data(session):
        click.echo("Refusing to seed: this database already holds real data.", err=True)
        sys.exit(1)
    else:
        try:
            demo.seed_demo(session, _today(), password)
        except ValidationError as exc:
            session.rollback()
            _fail(exc.errors)
        session.commit()
        click.echo("Demo data loaded.")
    click.echo(f"Sign in with any of these accounts (password: {password}):")
    for handle, name, role, _teams in demo.USERS:
        click.echo(f"  {role:<13} {name:<14} {handle}@{demo.DEMO_DOMAIN}")


@teams_cli.command("create")
@click.option("--name", required=True)
@click.option("--agency", required=True, help="Agency name (created if new).")
@click.option("--agency-kind", type=click.Choice(["government", "ngo"]), default="government")
def teams_create(name: str, agency: str, agency_kind: str) -> None:
    """Create a team (and its agency if new)."""
    try:
        team = accounts.create_team(db.session, name, agency, agency_kind)
    except ValidationError as exc:
        _fail(exc.errors)
    db.session.commit()
    click.echo(f"Created team {team.name} ({team.agency.name}).")


@users_cli.command(
    "create", epilog=f"Password: {passwords.HINT} Common or breached passwords are refused."
)
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role",
    required=True,
    type=click.Choice(["practitioner", "team_leader", "coordinator", "admin"]),
)
@click.option("--team", "teams", multiple=True, help="Team name; repeat for several.")
@click.option("--agency", default=None, help="Agency name (defaults to the team's).")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from standard input (one line; its line ending is not part of it).",
)
def users_create(email, name, role, teams, agency, password_stdin) -> None:
    """Create a user account."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        click.echo(f"Password: {passwords.HINT}", err=True)
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(
            db.session,
            email=email,
            name=name,
            role=role,
            password=password,
            team_names=list(teams),
            agency_name=agency,
        )
    except ValidationError as exc:
        db.session.rollback()
        _fail(exc.errors)
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}.")


@click.command("import-children")
@with_appcontext
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
def import_children_command(file) -> None:
    """Import children from a CSV file (all rows or none)."""
    try:
        result = import_children(db.session, file.read(), _today())
    except ImportFailed as failure:
        db.session.rollback()
        for error in failure.errors:
            click.echo(f"error: {error}", err=True)
        click.echo(f"Nothing was imported: {len(failure.errors)} error(s).", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(
        f"Imported: {result.created} created, {result.updated} updated, "
        f"{result.unchanged} unchanged."
    )


@click.command("import-permanency")
@with_appcontext
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
def import_permanency_command(file) -> None:
    """Import permanency history (goals, reviews, consultations, cultural consultations and
    transfers) from a CSV file: all rows or none, idempotent by (external_id, event, date)."""
    try:
        result = import_permanency(db.session, file.read(), _today())
    except ImportFailed as failure:
        db.session.rollback()
        for error in failure.errors:
            click.echo(f"error: {error}", err=True)
        click.echo(f"Nothing was imported: {len(failure.errors)} error(s).", err=True)
        sys.exit(1)
    db.session.commit()
    written = ", ".join(f"{result.written[event]} {event}" for event in sorted(result.written))
    click.echo(
        f"Imported {result.total_written} record(s) for {result.children} child(ren)"
        f"{f' ({written})' if written else ''}; {result.already_there} row(s) already there."
    )


@click.command("seed-large")
@with_appcontext
@click.option("--children", type=click.IntRange(1, 1_000_000), required=True)
@click.option(
    "--contacts",
    type=click.IntRange(0, 500),
    default=50,
    show_default=True,
    help="Contacts per child.",
)
@click.option("--password", default="large-password-2026", show_default=True)
@click.option(
    "--prefix",
    default="large",
    show_default=True,
    help="Names the agency, teams and accounts, so several runs can coexist.",
)
def seed_large_command(children: int, contacts: int, password: str, prefix: str) -> None:
    """Bulk-load a large synthetic organisation for benchmarks."""
    import time

    from .services.large_seed import seed_large

    started = time.perf_counter()
    leader = seed_large(db.session, children, contacts, _today(), password, prefix=prefix)
    db.session.commit()
    click.echo(
        f"Loaded {children} children and {children * contacts} contacts in "
        f"{time.perf_counter() - started:.1f} s. Team leader: {leader.email}"
    )


sync_cli = AppGroup("sync", help="Sync housekeeping.")


@sync_cli.command("purge-tombstones")
def purge_tombstones() -> None:
    """Delete tombstones older than 180 days (run daily). Devices whose cursor is older than
    that are told to reset and refetch, so nothing is missed."""
    from .services.sync import purge_expired_tombstones

    removed = purge_expired_tombstones(db.session)
    db.session.commit()
    click.echo(f"Removed {removed} expired tombstone(s).")


def init_app(app: Flask) -> None:
    for command in (
        db_cli,
        teams_cli,
        users_cli,
        sync_cli,
        seed_demo_command,
        import_children_command,
        import_permanency_command,
        seed_large_command,
    ):
        app.cli.add_command(command)
