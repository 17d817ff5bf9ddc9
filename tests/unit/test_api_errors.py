"""The services say what happened and the API alone says how it is answered (issue 14): sync's
refusals know nothing of HTTP, and api/errors.py gives every refusal its status, the one table
the tablet's answers come from (the answers themselves: tests/integration/test_api_errors.py)."""

from __future__ import annotations

import ast
import inspect
import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from fieldapp.api import errors
from fieldapp.services import sync
from fieldapp.services.sync import errors as refusals


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    return found.union(*(_subclasses(sub) for sub in found))


REFUSALS = sorted(
    _subclasses(sync.SyncRefusal) | _subclasses(errors.RequestRefusal), key=lambda c: c.__name__
)


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda c: c.__name__)
def test_every_refusal_has_a_status(refusal):
    """A refusal the table forgot would answer 500 instead of telling the tablet what to do."""
    exc = refusal.__new__(refusal)
    assert errors.status_for(exc) is not None


def test_the_statuses_of_the_wire_contract():
    transient = OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked"))
    a_bug = OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: x"))
    assert {
        name: errors.status_for(exc)
        for name, exc in {
            "unknown device": sync.UnknownDevice(),
            "another user's device": sync.DeviceOfAnotherUser(),
            "revoked": sync.DeviceRevoked(),
            "reset": sync.ResetRequired(),
            "unreadable": errors.InvalidRequest("limit must be a whole number.", field="limit"),
            "unknown field": errors.UnknownFields(["mood"]),
            "database unavailable": transient,
            "database bug": a_bug,
            "anything else": RuntimeError("worker died"),
        }.items()
    } == {
        "unknown device": 404,
        "another user's device": 409,
        "revoked": 410,
        "reset": 409,
        "unreadable": 400,
        "unknown field": 422,
        "database unavailable": 503,
        "database bug": None,
        "anything else": None,
    }


def test_the_bodies_the_tablet_reads():
    assert errors.body(sync.UnknownDevice()) == {
        "error": "Unknown device: register it first.",
        "field": "device_id",
    }
    assert errors.body(sync.ResetRequired()) == {"error": "reset_required"}  # nothing else
    assert errors.body(errors.UnknownFields(["mutations[0].mood", "os"])) == {
        "error": "Unknown fields: mutations[0].mood, os.",
        "field": "mutations[0].mood",
        "fields": ["mutations[0].mood", "os"],
    }


def test_sync_refusals_know_nothing_of_http():
    tree = ast.parse(inspect.getsource(refusals))
    imported = {
        alias.name.split(".")[0] if isinstance(node, ast.Import) else node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"__future__", "typing"}
    numbers = {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, int)
    }
    assert not numbers, f"status codes in services/sync/errors.py: {numbers}"
    names = {
        getattr(node, "arg", None) or getattr(node, "attr", None) or getattr(node, "id", None)
        for node in ast.walk(tree)
        if isinstance(node, ast.arg | ast.Attribute | ast.Name)
    }
    assert "status" not in names  # a refusal says what happened, not how it is answered
