"""Browser fixtures: the real app served over HTTP from a background thread, driven by headless
Chromium through Playwright (sync API).

Browser tests run on SQLite only: they get their own migrated SQLite database here and never use
the session `database` fixture (which is parametrised over SQLite and PostgreSQL).

Without Chromium at /usr/bin/chromium or an importable Playwright the tests skip, except with
CI=true, where they fail: CI must never silently skip the browser suite.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from fieldapp import create_app
from fieldapp.models import Child, User
from fieldapp.services.clock import today_in

from ..databases import IN_CI, TestDatabase, create_sqlite, empty_all_tables
from ..factories import PASSWORD, TIMEZONE, gen_agency, gen_child, gen_contact, gen_team, gen_user
from .chromium import CHROMIUM, CHROMIUM_ARGS

TABLET = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: browser tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright_instance():
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"Playwright is not importable: {exc}")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def browser_database(tmp_path_factory) -> TestDatabase:
    """A migrated SQLite database for the whole browser run."""
    db = create_sqlite(tmp_path_factory.mktemp("browser-sqlite"))
    yield db
    db.engine.dispose()


@pytest.fixture(scope="session")
def live_app(browser_database, tmp_path_factory):
    """The app the live server serves: a test may change its config (and must put it back)."""
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": browser_database.url,
            "SECRET_KEY": "browser-test-secret",
            "SESSION_COOKIE_SECURE": False,
            "FIELDAPP_TIMEZONE": TIMEZONE,
        }
    )
    app.instance_path = str(tmp_path_factory.mktemp("browser-instance"))
    yield app
    app.extensions["fieldapp_db"]["engine"].dispose()


@pytest.fixture(scope="session")
def live_server(live_app) -> str:
    """The real app on 127.0.0.1 and a free port (the OS picks it), in a background thread."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture
def engine(browser_database):
    """The browser database's engine; every table is emptied after the test."""
    yield browser_database.engine
    empty_all_tables(browser_database.engine)


@dataclass
class Caseload:
    practitioner: User
    child: Child  # Mia Anderson, in care for 400 days, one earlier contact
    others: list[Child]


@pytest.fixture
def caseload(engine) -> Caseload:
    """A practitioner (Pat Practitioner, pat@example.org) holding three children."""
    with Session(engine, expire_on_commit=False) as session:
        team = gen_team(session, "Darwin North", gen_agency(session, "Territory Families"))
        practitioner = gen_user(
            session, "practitioner", team, email="pat@example.org", name="Pat Practitioner"
        )
        start = today_in(TIMEZONE) - timedelta(days=400)
        child = gen_child(
            session,
            team,
            practitioner,
            care_start_date=start,
            given_name="Mia",
            family_name="Anderson",
            external_id="C-1",
        )
        gen_contact(
            session, child, practitioner, contact_date=today_in(TIMEZONE) - timedelta(days=30)
        )
        others = [
            gen_child(
                session,
                team,
                practitioner,
                care_start_date=start,
                given_name="Kai",
                family_name="Baker",
                external_id="C-2",
            ),
            # A long name, to catch overflow on a phone.
            gen_child(
                session,
                team,
                practitioner,
                care_start_date=start,
                given_name="Nathaniel-Alexander",
                family_name="Montgomery-Worthington",
                external_id="C-3",
            ),
        ]
        session.commit()
        return Caseload(practitioner, child, others)


class ConsoleLog:
    """Console errors, uncaught page errors and CSP violations seen by one browser page."""

    CSP_LISTENER = """
        window.__cspViolations = [];
        document.addEventListener("securitypolicyviolation", (event) => {
            window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
        });
    """

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.add_init_script(self.CSP_LISTENER)

    def _on_console(self, message) -> None:
        if message.type in ("error", "warning") and (
            message.type == "error" or "Content Security Policy" in message.text
        ):
            self.errors.append(f"console {message.type}: {message.text}")

    def csp_violations(self) -> list[str]:
        return self.page.evaluate("window.__cspViolations || []")


@pytest.fixture
def context(browser, live_server, engine):
    # Takes `engine` so the pages close before the tables are emptied (teardown runs in reverse).
    context = browser.new_context(
        base_url=live_server, viewport=TABLET, locale="en-AU", timezone_id=TIMEZONE
    )
    context.set_default_timeout(10_000)
    yield context
    # A route a test left in place must not fail the next test with a request still in flight.
    context.unroute_all(behavior="ignoreErrors")
    context.close()


@pytest.fixture
def two_tablets(browser, live_server, engine):
    """Two tablets (separate browsers, as two devices), each with a page."""
    contexts = [
        browser.new_context(
            base_url=live_server, viewport=TABLET, locale="en-AU", timezone_id=TIMEZONE
        )
        for _ in range(2)
    ]
    yield tuple(context.new_page() for context in contexts)
    for context in contexts:
        context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.console_log = ConsoleLog(page)
    yield page
    page.unroute_all(behavior="ignoreErrors")
    page.close()


@pytest.fixture
def sign_in(page):
    """Signs in through the sign-in page, by accessible names only, and waits for the caseload."""
    from playwright.sync_api import expect

    def sign_in_as(email: str = "pat@example.org", password: str = PASSWORD):
        page.goto("/login")
        page.get_by_label("Email", exact=True).fill(email)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        expect(page.get_by_role("heading", name="My caseload")).to_be_visible()

    return sign_in_as
