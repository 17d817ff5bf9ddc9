"""The OpenAPI document describes the server exactly (issue 12 item 7): schemathesis, with every
check it has (as `st run --checks all`) in all its phases (coverage, fuzzing, stateful), signed
in as a practitioner and as a practitioner of another team, finds nothing, on SQLite and on
PostgreSQL.

It runs the engine the CLI runs, against the app served on a loopback port: requests go over
HTTP as the CLI's do (the engine's in-process WSGI transport passes it network options Werkzeug
refuses). Bounded and seeded, the file takes about a minute and finds the same things every
time. Each user signs in and registers a tablet first; the tablet's id is one of the values
generated for `device_id`, so pushes get past the device check into the handlers. Signing out
ends the session the run goes by, so it has a run of its own."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema
from werkzeug.serving import WSGIRequestHandler, make_server

from .sync_helpers import Tablet

MAX_EXAMPLES = 20
SEED = 20261202
USERS = {"practitioner": "pat@example.org", "another team": "out@example.org"}


def _config(app, tablet: Tablet, **extra) -> SchemathesisConfig:
    cookie = tablet.client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "workers": 1,
            "suppress-health-check": ["all"],
            "checks": {"enabled": True},
            "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
            "auth": {
                "openapi": {
                    "session": {"api_key": cookie},
                    "csrf": {"api_key": tablet.csrf_token},
                }
            },
            # The tablet's own device, now and then, where a device is named.
            "dictionaries": {"devices": {"values": [str(tablet.device_id)]}},
            "parameters": {"body.device_id": {"dictionary": "devices", "probability": 0.5}},
            **extra,
        }
    )


class _Quiet(WSGIRequestHandler):
    def log(self, *args) -> None:
        pass


@contextmanager
def served(app):
    """The app on a free loopback port, for as long as the block runs."""
    server = make_server("127.0.0.1", 0, app, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def findings(app, config: SchemathesisConfig) -> list[str]:
    """What schemathesis reports: every failed check, and any error of its own."""
    with served(app) as base_url:
        schema = schemathesis.openapi.from_url(f"{base_url}/api/openapi.json", config=config)
        return _run(schema)


def _run(schema) -> list[str]:
    found: dict[str, str] = {}  # each finding once, with one request that shows it
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        key = f"{failure.operation}: {failure.title} ({failure.code})"
                        key += f"\n{failure.message}"
                        found.setdefault(key, check.failure_info.code_sample)
        elif isinstance(event, events.NonFatalError):
            found.setdefault(f"{event.label}: {event.info.title}\n{event.info.message}", "")
        elif isinstance(event, events.FatalError):
            raise event.exception
        elif isinstance(event, events.EngineFinished):
            found.update((f"{f.operation}: {f.title}\n{f.message}", "") for f in event.failures)
    return [f"{key}\n{sample}" for key, sample in sorted(found.items())]


def nothing_in(found: list[str]) -> None:
    assert not found, f"schemathesis found {len(found)}:\n\n" + "\n\n".join(found)


@pytest.mark.parametrize("user", USERS)
def test_schemathesis_finds_nothing(app, org, user):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must show as the 500 it would be
    tablet = Tablet.signed_in(app.test_client(), USERS[user])
    config = _config(app, tablet, operations=[{"include-operation-id": "logout", "enabled": False}])
    nothing_in(findings(app, config))


def test_schemathesis_finds_nothing_in_signing_out(app, org):
    """Signing out on its own: its first success ends the session every later request has."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    tablet = Tablet.signed_in(app.test_client(), USERS["practitioner"])
    config = _config(app, tablet, operations=[{"exclude-operation-id": "logout", "enabled": False}])
    nothing_in(findings(app, config))
