"""Errors services raise for the caller to turn into a form error, a 404 or an API answer."""
from __future__ import annotations


class ValidationError(Exception):
    """Field-named validation failures: `errors` maps a field name to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items()))
        self.errors = errors


class NotFound(Exception):
    """The record does not exist or is outside the user's scope (both look the same)."""


class ImmutableRecord(Exception):
    """A submitted contact cannot be changed; corrections are addenda (R8)."""


class Forbidden(Exception):
    """In scope but not allowed for this role, e.g. editing another author's draft."""
