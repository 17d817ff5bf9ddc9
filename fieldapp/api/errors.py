"""How a JSON request that went wrong is answered, said once (issue 14). The services raise what
happened (services/sync/errors.py) and the API raises what is wrong with the request itself
(below); `STATUS` gives each its status, and `answer` is the one maker of those answers, for the
request's transaction (views.py `transaction`) and outside it (the sign-in's body) alike. The
bodies are the wire contract's (SPEC §4): `{"error": message}` and any fields naming what was
wrong; the tablet acts on the status and, for some, on the message (`reset_required`)."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import DBAPIError

from ..services.errors import is_transient
from ..services.sync import (
    DeviceOfAnotherUser,
    DeviceRevoked,
    ResetRequired,
    SyncRefusal,
    UnknownDevice,
)


class RequestRefusal(Exception):
    """What is wrong with the request itself, found by the API before or around the service that
    would serve it: `message` for the user, `extra` naming what (`field="limit"`)."""

    def __init__(self, message: str, **extra: Any):
        super().__init__(message)
        self.message = message
        self.extra = extra


class InvalidRequest(RequestRefusal):
    """A request the API cannot read: a body that is not a JSON object, an id that is not a UUID,
    a limit out of range, a mutation without a usable envelope."""


class UnknownFields(RequestRefusal):
    """Fields a body does not define, named as the field errors are (`mutations[0].mood`): refused,
    never ignored (SPEC §7)."""

    def __init__(self, names: list[str]):
        plural = "s" if len(names) > 1 else ""
        super().__init__(
            f"Unknown field{plural}: {', '.join(names)}.", field=names[0], fields=names
        )


# The status of each refusal, a subclass answering as its nearest listed class. A database error
# answers 503 only when transient (down or busy: the tablet retries with backoff); any other is a
# bug, which answers 500 like every unforeseen failure, since a 503 would have it retried for ever.
STATUS: dict[type[Exception], int] = {
    InvalidRequest: 400,
    UnknownDevice: 404,
    DeviceOfAnotherUser: 409,
    ResetRequired: 409,
    DeviceRevoked: 410,
    UnknownFields: 422,
    DBAPIError: 503,
}
# What a request's transaction catches and rolls back; `answer` says which of them it answers.
ANSWERED = (RequestRefusal, SyncRefusal, DBAPIError)

UNAVAILABLE = "The database is unavailable; retry later."
RETRY_AFTER_SECONDS = 5


def status_for(exc: BaseException) -> int | None:
    """The status answering `exc`, or None when it is not a refusal the API answers (a bug)."""
    if isinstance(exc, DBAPIError) and not is_transient(exc):
        return None
    return next((STATUS[cls] for cls in type(exc).__mro__ if cls in STATUS), None)


def body(exc: RequestRefusal | SyncRefusal | DBAPIError) -> dict[str, Any]:
    """The answer's JSON: the message, then any fields naming what was wrong."""
    if isinstance(exc, DBAPIError):
        return {"error": UNAVAILABLE}
    return {"error": exc.message, **exc.extra}


def answer(exc: BaseException) -> ResponseReturnValue | None:
    """The JSON answer to `exc`, or None for what the API does not answer: the caller re-raises
    it. A transient database error is logged, and says when to retry (Retry-After)."""
    status = status_for(exc)
    if status is None:
        return None
    if isinstance(exc, DBAPIError):
        current_app.logger.warning("sync: database unavailable: %s", exc)
        return jsonify(body(exc)), status, {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return jsonify(body(exc)), status
