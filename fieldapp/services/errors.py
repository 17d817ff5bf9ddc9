"""Errors services raise for the caller to turn into a form error, a 404 or an API answer."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, OperationalError

_TRANSIENT_SQLITE = ("database is locked", "unable to open", "disk i/o error")


def is_transient(exc: DBAPIError) -> bool:
    """A database that is down or busy, as opposed to a bug or a poisoned record: only the first
    is worth a retry (503). The one rule the sync service and the API both apply."""
    if exc.connection_invalidated:
        return True
    original = exc.orig
    if isinstance(original, sqlite3.OperationalError):
        return any(text in str(original).lower() for text in _TRANSIENT_SQLITE)
    return isinstance(exc, OperationalError) and type(original).__module__.startswith("psycopg")


class ValidationError(Exception):
    """Field-named validation failures: `errors` maps a field name to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items()))
        self.errors = errors


class ImmutableRecord(Exception):
    """A submitted contact cannot be changed; corrections are addenda (R8)."""


class Forbidden(Exception):
    """In scope but not allowed for this role, e.g. editing another author's draft."""
