"""The audit trail is append-only for the application (SPEC §7): migration 0008's triggers refuse
every change and removal of an audit row, through the app's own engine, on both databases; on
PostgreSQL the app's role as docs/deployment.md sets it up may only read and add audit rows.
The app's ordinary work still writes its audit events."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError
from sqlalchemy.orm import Session

from fieldapp import create_app, migrate
from fieldapp.extensions import build_engine, db
from fieldapp.models import AuditEvent
from fieldapp.services.audit import record_event

from ..databases import PG_ADMIN_URL, empty_all_tables
from ..factories import PASSWORD, TIMEZONE, gen_user

DEPLOYMENT_GUIDE = Path(__file__).resolve().parents[2] / "docs" / "deployment.md"
REFUSED = "audit_events is append-only"


def add_event(session: Session, action: str = "export") -> int:
    event = record_event(session, user_id=None, action=action, object_type="report")
    session.commit()
    return event.id


def stored(engine, event_id: int) -> tuple[str, str]:
    with engine.connect() as conn:
        return conn.execute(
            select(AuditEvent.action, AuditEvent.outcome).where(AuditEvent.id == event_id)
        ).one()


def test_the_app_adds_audit_events_but_cannot_change_or_delete_them(app):
    with app.app_context():
        session = db.session
        event_id = add_event(session)
        statements = [
            update(AuditEvent).where(AuditEvent.id == event_id).values(outcome="denied"),
            update(AuditEvent).values(detail=None),
            delete(AuditEvent).where(AuditEvent.id == event_id),
            delete(AuditEvent),
        ]
        for statement in statements:
            with pytest.raises(IntegrityError, match=REFUSED):
                session.execute(statement)
            session.rollback()
        assert stored(db.engine, event_id) == ("export", "ok")
        assert add_event(session, "view") > event_id  # adding still works after the refusals


def test_the_orm_cannot_change_or_delete_a_loaded_audit_event(app):
    with app.app_context():
        session = db.session
        event_id = add_event(session)
        event = session.get(AuditEvent, event_id)
        event.outcome = "denied"
        with pytest.raises(IntegrityError, match=REFUSED):
            session.commit()
        session.rollback()
        session.delete(session.get(AuditEvent, event_id))
        with pytest.raises(IntegrityError, match=REFUSED):
            session.commit()
        session.rollback()
        assert stored(db.engine, event_id) == ("export", "ok")


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # TRUNCATE is its own
def test_postgresql_refuses_truncating_the_audit_trail_even_by_cascade(app, database):
    with app.app_context():
        event_id = add_event(db.session)
        for statement in ("TRUNCATE audit_events", "TRUNCATE users CASCADE"):
            with pytest.raises(IntegrityError, match=REFUSED):
                db.session.execute(text(statement))
            db.session.rollback()
        assert stored(db.engine, event_id) == ("export", "ok")


def test_sign_in_sign_out_and_viewing_a_child_are_still_audited(client, auth, org, db_session):
    auth.login("lee@example.org", "not the password")
    auth.login("lee@example.org")
    assert client.get(f"/children/{org.child.id}").status_code == 200
    auth.logout()
    events = db_session.execute(
        select(AuditEvent.action, AuditEvent.outcome, AuditEvent.object_id).order_by(AuditEvent.id)
    ).all()
    assert events == [
        ("login", "failed", None),
        ("login", "ok", str(org.leader.id)),
        ("view", "ok", str(org.child.id)),
        ("logout", "ok", str(org.leader.id)),
    ]


def test_emptying_the_tables_between_tests_keeps_the_triggers(engine):
    """The suite empties every table after each test (tests/databases.py) past the triggers,
    and must leave them in place for the next test."""
    with Session(engine) as session:
        add_event(session)
    empty_all_tables(engine)
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0
        event_id = add_event(session)
        with pytest.raises(IntegrityError, match=REFUSED):
            session.execute(delete(AuditEvent).where(AuditEvent.id == event_id))


def test_the_migration_down_removes_the_triggers_and_up_restores_them(engine):
    migrate.downgrade(engine, "0007_session_activity")
    try:
        with Session(engine) as session:
            event_id = add_event(session)
            session.execute(update(AuditEvent).values(outcome="changed"))
            session.execute(delete(AuditEvent).where(AuditEvent.id == event_id))
            session.commit()
    finally:
        migrate.upgrade(engine)
    with Session(engine) as session:
        event_id = add_event(session)
        with pytest.raises(IntegrityError, match=REFUSED):
            session.execute(update(AuditEvent).values(outcome="changed"))


# ------------------------------------------------------- PostgreSQL: the documented grants


def documented_grants(app_role: str) -> list[str]:
    """The SQL block of docs/deployment.md that sets up the app's role, for `app_role`."""
    blocks = re.findall(r"```sql\n(.*?)```", DEPLOYMENT_GUIDE.read_text(), re.DOTALL)
    (block,) = [block for block in blocks if "audit_events" in block]
    without_comments = re.sub(r"--[^\n]*", "", block).replace("fieldapp_app", app_role)
    return [statement.strip() for statement in without_comments.split(";") if statement.strip()]


@pytest.fixture
def roles_database(database):
    """A database owned by its own owner role and migrated by it, with an app role granted as
    the deployment guide says: (owner URL, app URL)."""
    suffix = uuid.uuid4().hex[:10]
    owner, app_role, name = f"fa_owner_{suffix}", f"fa_app_{suffix}", f"fa_roles_{suffix}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {owner} LOGIN"))
        conn.execute(text(f"CREATE ROLE {app_role} LOGIN"))
        conn.execute(text(f"CREATE DATABASE {name} OWNER {owner}"))
    base = admin.url.set(database=name)
    owner_url = base.set(username=owner, password=None).render_as_string(hide_password=False)
    app_url = base.set(username=app_role, password=None).render_as_string(hide_password=False)
    owner_engine = build_engine(owner_url)
    try:
        migrate.upgrade(owner_engine)
        with owner_engine.begin() as conn:
            for statement in documented_grants(app_role):
                conn.execute(text(statement))
        yield owner_url, app_url
    finally:
        owner_engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"DROP ROLE IF EXISTS {app_role}"))
            conn.execute(text(f"DROP ROLE IF EXISTS {owner}"))
        admin.dispose()


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)  # roles and grants
def test_the_documented_app_role_works_but_may_only_add_and_read_audit_events(
    roles_database, tmp_path
):
    _owner_url, app_url = roles_database
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": app_url,
            "SECRET_KEY": "test-secret",
            "SESSION_COOKIE_SECURE": False,
            "FIELDAPP_TIMEZONE": TIMEZONE,
        }
    )
    app.instance_path = str(tmp_path)
    engine = app.extensions["fieldapp_db"]["engine"]
    try:
        with Session(engine) as session:  # the app's role adds users (a sequence, too)
            gen_user(session, "admin", email="ada@example.org")
            session.commit()
        client = app.test_client()
        wrong = {"email": "ada@example.org", "password": "not the password"}
        assert client.post("/api/auth/login", json=wrong).status_code == 401
        right = {"email": "ada@example.org", "password": PASSWORD}
        assert client.post("/api/auth/login", json=right).status_code == 200
        with Session(engine) as session:
            outcomes = session.scalars(select(AuditEvent.outcome).order_by(AuditEvent.id)).all()
            assert outcomes == ["failed", "ok"]
            for statement in (
                update(AuditEvent).values(outcome="changed"),
                delete(AuditEvent),
                text("TRUNCATE audit_events"),
            ):
                with pytest.raises(ProgrammingError, match="permission denied"):
                    session.execute(statement)
                session.rollback()
            with pytest.raises(DBAPIError, match="permission denied"):
                session.execute(text("CREATE TABLE escape (id int)"))
    finally:
        engine.dispose()
