"""Flask extensions and the database binding.

The database layer is plain SQLAlchemy 2.x: models and services never import Flask, so they can
be tested with an ordinary `Session`. This module binds one engine and a request-scoped session
to the app.
"""

from __future__ import annotations

from contextvars import ContextVar

from flask import Flask, current_app, g
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

csrf = CSRFProtect()
login_manager = LoginManager()

# True while a web request runs. Every request may write (sessions, audit events, sync), and on
# SQLite a transaction that read first and writes later fails at once ("database is locked")
# if another request wrote in between; BEGIN IMMEDIATE takes the write lock up front, so
# concurrent requests wait their turn (busy timeout) instead. Outside requests (CLI, tests'
# own sessions) transactions stay deferred.
_begin_immediate: ContextVar[bool] = ContextVar("fieldapp_sqlite_begin_immediate", default=False)


def build_engine(url: str) -> Engine:
    """An engine with the durability settings the product relies on.

    SQLite: WAL so readers never block the writer, `synchronous=FULL` so an acknowledged write
    survives power loss, foreign keys enforced, and a busy timeout instead of instant
    "database is locked" errors.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # pysqlite opens transactions lazily and not for SELECT; take over so BEGIN is explicit.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=15000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if _begin_immediate.get() else "BEGIN")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # JIT compilation costs more than it saves on this app's short, index-driven queries.
    return create_engine(url, pool_pre_ping=True, connect_args={"options": "-c jit=off"})


class Database:
    """One engine per app and one session per application context.

    State lives in `app.extensions`, so several apps (one per test database) can coexist.
    """

    def init_app(self, app: Flask) -> None:
        engine = build_engine(app.config["DATABASE_URL"])
        app.extensions["fieldapp_db"] = {
            "engine": engine,
            "sessionmaker": sessionmaker(engine, expire_on_commit=False),
        }
        app.teardown_appcontext(self._close_session)
        # First of all before_request functions, so no query of the request runs before it.
        app.before_request_funcs.setdefault(None, []).insert(0, self._request_started)
        app.teardown_request(self._request_finished)

    @staticmethod
    def _request_started() -> None:
        g.db_begin_token = _begin_immediate.set(True)

    @staticmethod
    def _request_finished(_exc: BaseException | None) -> None:
        # What the request left uncommitted is discarded here, so a transaction it began (with
        # the write lock, on SQLite) never outlives it, even when the app context does.
        session = g.get("db_session")
        if session is not None and session.in_transaction():
            session.rollback()
        token = g.pop("db_begin_token", None)
        if token is not None:
            _begin_immediate.reset(token)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["fieldapp_db"]["engine"]

    @property
    def session(self) -> Session:
        if "db_session" not in g:
            g.db_session = current_app.extensions["fieldapp_db"]["sessionmaker"]()
        return g.db_session

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


db = Database()


def init_app(app: Flask) -> None:
    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
