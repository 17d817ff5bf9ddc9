"""JSON endpoints for the tablet (SPEC §4): thin handlers over services/sync/. Each request is
one transaction, committed before the answer is sent."""

from __future__ import annotations

import hashlib
import uuid
from functools import wraps

from flask import Blueprint, current_app, jsonify, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from itsdangerous import BadSignature, URLSafeSerializer

from ..access import audit, session, signed_in_user, today
from ..extensions import login_manager
from ..services import sync
from ..services.sync_records import FieldErrors, parse_uuid
from ..services.text import storable
from . import bodies
from .errors import ANSWERED, InvalidRequest, RequestRefusal, UnknownFields, answer
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.before_request
def _json_only():
    if request.endpoint == "api.openapi":
        return None
    if not current_user.is_authenticated:
        return not_signed_in()
    if request.method == "POST" and not request.is_json:
        return jsonify(error="Send JSON (Content-Type: application/json)."), 415
    return None


def not_signed_in():
    """The answer to an API request without a session: 410 for a revoked tablet (it wipes itself),
    otherwise the app's "Sign in first." (401). Also the answer when such a request fails the
    CSRF check (web.py), which without a session guards nothing."""
    if _names_revoked_device():
        return answer(sync.DeviceRevoked())
    return login_manager.unauthorized()


@bp.app_errorhandler(RequestRefusal)
@bp.app_errorhandler(sync.SyncRefusal)
def _refused(exc: RequestRefusal | sync.SyncRefusal):
    """A refusal raised outside a `transaction` (the sign-in's body), answered as inside one."""
    if (response := answer(exc)) is None:
        raise exc
    return response


def _user():
    """The signed-in user itself, not the proxy: a push reads the user once per mutation."""
    return current_user._get_current_object()


def _names_revoked_device() -> bool:
    body = request.get_json(silent=True) if request.is_json else None
    raw = request.args.get("device_id") or (
        body.get("device_id") if isinstance(body, dict) else None
    )
    try:
        device_id = uuid.UUID(str(raw))
    except ValueError:
        return False
    return sync.device_revoked(session(), device_id)


def transaction(view):
    """Runs the view in the request's transaction: commit, then answer. A refusal, or a database
    that is unavailable (503, so the tablet retries with backoff), is answered as api/errors.py
    says; either way nothing half-done is kept."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        db_session = session()
        try:
            response = view(*args, **kwargs)
            db_session.commit()
            return response
        except ANSWERED as exc:
            db_session.rollback()
            if (response := answer(exc)) is None:
                raise
            return response

    return wrapper


def _device_id(raw) -> uuid.UUID:
    errors = FieldErrors()
    device_id = parse_uuid(raw, "device_id", errors)
    if errors:
        raise InvalidRequest("device_id must be a UUID.", field="device_id")
    return device_id


def _whole_number(name: str, low: int, high: int, default: int | None) -> int | None:
    """A whole-number query parameter in [low, high], or 400 naming it."""
    raw = request.args.get(name)
    if raw is None:
        return default
    # isdigit() alone admits "²", which int() refuses; int() refuses over 4,300 digits.
    if (
        not (raw.isascii() and raw.isdigit())
        or len(raw) > len(str(high))
        or not low <= int(raw) <= high
    ):
        raise InvalidRequest(f"{name} must be a whole number from {low} to {high}.", field=name)
    return int(raw)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="fieldapp-sync-cursor")


@bp.get("/me")
def me():
    # The session's CSRF token too: a tab whose token went stale (another tab signed in and
    # rotated it) takes the current one here instead of asking for the password again.
    return jsonify(user=signed_in_user(current_user), csrf_token=generate_csrf())


@bp.post("/sync/devices")
@transaction
def register_device():
    body = bodies.read(bodies.DEVICE)
    device_id = _device_id(body.get("device_id"))
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequest("name is required.", field="name")
    if not storable(name):
        raise InvalidRequest("name contains characters that cannot be stored.", field="name")
    device, created = sync.register_device(
        session(), current_user, device_id, name, request.headers.get("User-Agent")
    )
    if created:
        audit("register", "device", device.id)
    return jsonify(device_id=str(device.id), name=device.name), 201 if created else 200


@bp.post("/sync/push")
@transaction
def push():
    # What the tablet holds unsent, reported with the push too: a push that stops at a gap is
    # not followed by a pull.
    unsent = _whole_number("unsent", 0, sync.MAX_UNSENT, None)
    # A tablet sends a batch again when the answer was lost: the same bytes, answered from one
    # row without reading them (SPEC §4's answer to a resend: every result `duplicate`).
    body_digest = hashlib.sha256(request.get_data(cache=True)).hexdigest()
    if (answered := sync.answer_resent(session(), _user(), body_digest)) is not None:
        device, results_json = answered
        sync.note_unsent(device, unsent)
        # Kept as JSON as jsonify writes it (keys sorted, compact): sent as it is.
        return current_app.response_class(
            f'{{"last_seq":{int(device.last_seq)},"results":{results_json}}}\n',
            mimetype="application/json",
        )
    body = bodies.read(bodies.PUSH)
    device = sync.device_for(session(), current_user, _device_id(body.get("device_id")))
    sync.note_unsent(device, unsent)
    mutations = body.get("mutations")
    if not isinstance(mutations, list):
        raise InvalidRequest("mutations must be a list.", field="mutations")
    if len(mutations) > sync.MAX_BATCH:
        raise InvalidRequest(f"At most {sync.MAX_BATCH} mutations a request.", field="mutations")
    unknown = [
        name
        for index, mutation in enumerate(mutations)
        if isinstance(mutation, dict)
        for name in bodies.unknown(mutation, bodies.MUTATION, f"mutations[{index}].")
    ]
    if unknown:
        raise UnknownFields(unknown)
    errors = FieldErrors()
    for index, mutation in enumerate(mutations):
        errors.update(sync.check_envelope(mutation, index))
    if errors:
        raise InvalidRequest("Some mutations cannot be read.", fields=errors)
    text_storable = bodies.text_is_storable(request.get_data(cache=True))
    return jsonify(
        sync.push(
            session(),
            _user(),
            device,
            mutations,
            today(),
            text_storable=text_storable,
            body_digest=body_digest,
        )
    )


@bp.get("/sync/pull")
@transaction
def pull():
    # A page is asked for by the cursor the last one gave, or (the first pull) by the device.
    raw_cursor, named_device = request.args.get("cursor"), request.args.get("device_id")
    if (raw_cursor is None) == (named_device is None):
        raise InvalidRequest(
            "Send the cursor, or on the first pull the device_id (not both).", field="cursor"
        )
    cursor = None
    if raw_cursor is not None:
        try:
            cursor = sync.Cursor.from_dict(_serializer().loads(raw_cursor))
        except (BadSignature, KeyError, TypeError, ValueError):
            # Not one this server can read (cut short, forged, or signed with a key since
            # changed): like a cursor from another epoch, the tablet refetches everything.
            raise sync.ResetRequired() from None
        device_id = uuid.UUID(cursor.device_id)
    else:
        device_id = _device_id(named_device)
    limit = _whole_number("limit", 1, sync.MAX_PULL_LIMIT, sync.DEFAULT_PULL_LIMIT)
    # What the tablet holds and has not sent, for the admin's Devices page (optional).
    unsent = _whole_number("unsent", 0, sync.MAX_UNSENT, None)
    device = sync.device_for(session(), current_user, device_id)
    sync.note_unsent(device, unsent)
    page, next_cursor = sync.pull(session(), _user(), device, cursor, limit, today())
    # server_date lets the tablet warn when its own date is wrong (SPEC §3: "today" on the
    # tablet is the device date, with a warning if it differs from the server's by over a day).
    return jsonify(
        page
        | {"cursor": _serializer().dumps(next_cursor.as_dict()), "server_date": today().isoformat()}
    )


@bp.get("/sync/conflicts")
@transaction
def conflicts():
    """Open conflicts and review items of this user (a team leader: of their teams)."""
    return jsonify(
        conflicts=[
            {
                "id": str(c.id),
                "record_type": c.record_type,
                "record_id": str(c.record_id),
                "child_id": str(c.child_id),
                "field": c.field,
                "server_value": c.server_value,
                "device_value": c.device_value,
                "base_value": c.base_value,
                "created_at": c.created_at.isoformat(),
            }
            for c in sync.conflicts_for(session(), current_user)
        ],
        review=[
            {
                "id": str(item.id),
                "record_type": item.record_type,
                "record_id": str(item.record_id),
                "child_id": str(item.child_id),
                "reason": item.reason,
                "created_at": item.created_at.isoformat(),
            }
            for item in sync.review_items_for(session(), current_user)
        ],
    )


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
