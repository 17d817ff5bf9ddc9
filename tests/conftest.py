"""Fixture stack: database → app → client → auth (flaskr style), on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from fieldapp import create_app

from .databases import create_postgresql, create_sqlite, empty_all_tables
from .factories import TIMEZONE


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    """A migrated database (`alembic upgrade head`), one per kind per test run."""
    if request.param == "sqlite":
        db = create_sqlite(tmp_path_factory.mktemp("sqlite"))
        yield db
        db.engine.dispose()
    else:
        db, drop = create_postgresql()
        yield db
        drop()


@pytest.fixture
def engine(database):
    yield database.engine
    empty_all_tables(database.engine)


@pytest.fixture
def db_session(engine):
    """A plain SQLAlchemy session, no Flask: for service tests and for checking what a request
    stored. The one name for a database session in every suite (the browser suite's `engine`
    overrides the one above, so this fixture serves it too)."""
    with Session(engine, expire_on_commit=False) as db_session:
        yield db_session


@pytest.fixture
def app(database, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database.url,
            "SECRET_KEY": "test-secret",
            "SESSION_COOKIE_SECURE": False,
            "FIELDAPP_TIMEZONE": TIMEZONE,
        }
    )
    app.instance_path = str(tmp_path)
    yield app
    app.extensions["fieldapp_db"]["engine"].dispose()
    empty_all_tables(database.engine)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


CSRF_INPUT = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


class AuthActions:
    """Signs in through the real form (with its CSRF token) and posts forms as a browser would."""

    def __init__(self, client):
        self._client = client
        self.csrf_token: str | None = None

    def _token_from(self, html: str) -> str:
        match = CSRF_INPUT.search(html)
        assert match, "page has no CSRF token"
        return match.group(1) or match.group(2)

    def login(self, email: str, password: str = "correct horse battery"):
        page = self._client.get("/login")
        self.csrf_token = self._token_from(page.text)
        response = self._client.post(
            "/login", data={"email": email, "password": password, "csrf_token": self.csrf_token}
        )
        if response.status_code == 302:
            # Take the signed-in session's token, as the next page a browser loads would.
            self.csrf_token = self._token_from(self._client.get("/account/password").text)
        return response

    def logout(self):
        return self._client.post("/logout", data={"csrf_token": self.csrf_token})

    def post(self, url: str, data: dict | None = None, **kwargs):
        data = dict(data or {})
        data.setdefault("csrf_token", self.csrf_token)
        return self._client.post(url, data=data, **kwargs)


@pytest.fixture
def auth(client):
    return AuthActions(client)
