"""Flask extensions and the database binding.

The database layer is plain SQLAlchemy 2.x: models and services never import Flask, so they can
be tested with an ordinary `Session`. This module binds one engine and a request-scoped session
to the app.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, current_app, g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix

csrf = CSRFProtect()
login_manager = LoginManager()

# True while a web request runs. Every request may write (sessions, audit events, sync), and on
# SQLite a transaction that read first and writes later fails at once ("database is locked")
# if another request wrote in between; BEGIN IMMEDIATE takes the write lock up front, so
# concurrent requests wait their turn (busy timeout) instead. Outside requests (CLI, tests'
# own sessions) transactions stay deferred.
_begin_immediate: ContextVar[bool] = ContextVar("fieldapp_sqlite_begin_immediate", default=False)


@contextmanager
def writing_transactions() -> Iterator[None]:
    """Outside a request (CLI, tests' clean-up): transactions opened inside this block take
    SQLite's write lock at BEGIN, like a request's, so one that reads before it writes cannot
    fail at once when another connection wrote in between."""
    token = _begin_immediate.set(True)
    try:
        yield
    finally:
        _begin_immediate.reset(token)


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


def _init_limiter(app: Flask) -> None:
    """Throttling by client address (SPEC §7); the limits themselves are set where their routes
    are (auth/views.py). One limiter per app, as one engine per app: Flask-Limiter keeps its
    storage and its state on the instance, so apps in one process (tests) never share counts.
    The counts live in FIELDAPP_RATELIMIT_STORAGE_URI, in a moving window (no burst fits
    across a window's edge); if that storage (Redis) cannot be reached they are kept in this
    process's memory meanwhile, rather than refuse every sign-in."""
    app.extensions["fieldapp_limiter"] = Limiter(
        get_remote_address,
        app=app,
        storage_uri=app.config["FIELDAPP_RATELIMIT_STORAGE_URI"],
        strategy="moving-window",
        key_prefix="fieldapp",
        headers_enabled=False,  # Retry-After goes on 429 answers (web.py), not on every sign-in
        in_memory_fallback_enabled=True,
    )


def limiter(app: Flask | None = None) -> Limiter:
    """The app's limiter (the current app's by default)."""
    return (app or current_app).extensions["fieldapp_limiter"]


def retry_after_seconds() -> int:
    """Whole seconds until the address may try again, for the request a limit just refused:
    until the oldest attempt in the broken limit's window leaves it."""
    breached = limiter().current_limit
    if breached is None:
        return 60
    return max(1, math.ceil(breached.window.reset_time - time.time()))


def init_app(app: Flask) -> None:
    proxies = app.config["FIELDAPP_TRUSTED_PROXIES"]
    if proxies:
        # The client's address as the proxies nearest the app saw it, so the throttle and the
        # audit log see clients, not the proxy; any further X-Forwarded-For entries are ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies)
    _init_limiter(app)
    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
