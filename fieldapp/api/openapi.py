"""Every JSON endpoint under /api/ as OpenAPI 3.1, served at GET /api/openapi.json: the sync wire
contract (SPEC §4) and the data endpoints (SPEC §6).

Nothing in it is said twice. The request bodies are the schemas the server reads them with
(`bodies.py`); the records' `data` shapes are derived from their one definition
(services/record_fields.py); the permanency row from services/permanency_report.py. The document
describes the server exactly: schemathesis checks it with every check, as two users
(tests/integration/test_openapi_conformance.py)."""

from __future__ import annotations

from datetime import date

from flask import current_app

from ..access import today
from ..permanency import dashboard as permanency
from ..services import record_fields as fields
from ..services.compliance_report import VisitStatus
from ..services.permanency_report import REVIEW_STATUSES, ROW_COLUMNS
from ..services.sync import MAX_PULL_LIMIT, MAX_UNSENT, RECORD_TYPES
from ..services.sync_records import (
    CONTACT_STATUSES,
    EDITABLE_CONTACT_FIELDS,
    TIME,
    UPDATE_KEYS,
)
from ..services.synced_types import SYNCED_TYPES
from ..team import compliance
from . import bodies
from .bodies import UUID

# What a tablet holds and has not sent, reported with each push and pull (optional).
UNSENT = {
    "type": "integer",
    "minimum": 0,
    "maximum": MAX_UNSENT,
    "description": "Changes the tablet holds and has not sent (queued, or being typed) as it "
    "starts this request, for the admin's Devices page and the deactivation warning.",
}

_DATE = {"type": "string", "format": "date"}
_DATE_TIME = {"type": "string", "format": "date-time"}
_NAME = {"type": "string"}
_LARGEST = 2**31 - 1  # a whole-number query parameter's largest value (the pages' `_whole_number`)
# SPEC §6 `/api/permanency` rows, from the one definition of the row.
_PERMANENCY_ROW = {
    "type": "object",
    "required": list(ROW_COLUMNS),
    "properties": ROW_COLUMNS,
    "additionalProperties": False,
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _object(properties: dict, required: list[str] | None = None) -> dict:
    """A response object: these fields and no others (all of them there unless said)."""
    return {
        "type": "object",
        "required": list(properties) if required is None else required,
        "properties": properties,
        "additionalProperties": False,
    }


def _nullable(schema: dict) -> dict:
    if "enum" in schema:
        return {**schema, "enum": [*schema["enum"], None]}
    if "type" in schema:
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


_ERROR_TEXTS = {
    400: "Bad request: the field or parameter is named",
    401: "Not signed in",
    404: "Unknown device (sync), or no such data for this role",
    409: "Conflict: the device is another user's, or reset_required (refetch everything)",
    410: "Device revoked: wipe local data",
    415: "Not JSON",
    422: "A field the body does not define: named in `field` (all of them in `fields`)",
    429: "Too many refused sign-ins from this address: Retry-After says when to try again",
    503: "Database unavailable: retry with backoff",
}


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "required": True,
        "schema": {"type": "integer", "minimum": 0},
    }
}


def _errors(*codes: int) -> dict:
    return {
        str(code): {
            "description": _ERROR_TEXTS[code],
            **({"headers": _RETRY_AFTER} if code in (429, 503) else {}),
            **_json(_ref("Error")),
        }
        for code in codes
    }


# --- record data, derived from services/record_fields.py -------------------------------------


def _schema_name(record: str) -> str:
    return "".join(part.capitalize() for part in record.split("_")) + "Data"


def _field(spec: fields.FieldSpec) -> dict:
    """A record field's JSON Schema, from its definition. An optional field may be null."""
    if spec.kind in fields.TEXT_KINDS:
        schema: dict = {"type": "string"}
        if spec.max_length is not None:
            schema["maxLength"] = spec.max_length
            schema["description"] = "Counted as stored: trimmed."
    elif spec.kind == fields.DATE:
        schema = dict(_DATE)
    elif spec.kind == fields.TIME:
        schema = {"type": "string", "pattern": TIME.pattern}
    elif spec.kind == fields.INT:
        schema = {"type": "integer", "minimum": spec.min, "maximum": spec.max}
    elif spec.kind == fields.BOOL:
        schema = {"type": "boolean"}
    elif spec.kind == fields.CHOICE:
        schema = {"enum": [value for value, _label in spec.choices]}
    elif spec.kind == fields.ID:
        return dict(UUID)
    else:  # ROWS
        schema = {
            "type": "array",
            "maxItems": spec.max_rows,
            "items": _ref(_schema_name(spec.rows_of)),
        }
    schema["title"] = spec.label
    return schema if spec.required == "always" else _nullable(schema)


def _record(name: str, extra: dict | None = None, *, pulled: bool = False) -> dict:
    """A record's `data`: what a create sends (SPEC §4 record shapes), or with `pulled` what a
    pull brings, which also holds what the server sets."""
    specs = fields.RECORDS[name]
    properties = {field_name: _field(spec) for field_name, spec in specs.items()}
    properties |= extra or {}
    required = [n for n, s in specs.items() if s.kind == fields.ID or s.required == "always"]
    if pulled:
        required = list(properties)  # a pull sends every field, null when unset
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


SYNCED = [kind.name for kind in SYNCED_TYPES]  # every record type a pull may carry


def _record_schemas() -> dict:
    # A contact's `status` (a create may submit at once) and what a pull adds to each record.
    status = {"status": {"enum": list(CONTACT_STATUSES)}}
    author = {"author_id": {"type": ["integer", "null"]}}
    pulled_addendum = {"child_id": UUID, **author, "created_at": _nullable(_DATE_TIME)}
    editable = sorted(EDITABLE_CONTACT_FIELDS)
    return {
        "ContactData": _record("contact", status),
        "ParticipantData": _record("participant"),
        "ActionData": _record("action"),
        "AddendumData": _record("addendum"),
        "ReturnVisitData": _record("return_visit"),
        "ContactUpdate": {
            "type": "object",
            "description": "Each changed field with the value the tablet last had (`old`) and "
            "its new one (SPEC §4: merged field by field).",
            "propertyNames": {"enum": editable},
            "additionalProperties": {
                "type": "object",
                "required": ["new"],
                "properties": {key: {} for key in UPDATE_KEYS},
                "additionalProperties": False,
            },
        },
        "PulledContact": _record("contact", status | author, pulled=True),
        "PulledAddendum": _record("addendum", pulled_addendum, pulled=True),
        "PulledReturnVisit": _record("return_visit", pulled=True),
    }


def _change() -> dict:
    """A pull's change: an upsert carries the record's data, a delete none."""
    pulled = {kind.name: kind.pulled_schema for kind in SYNCED_TYPES if kind.pulled_schema}
    return {
        "type": "object",
        "required": ["record_type", "record_id", "version", "op", "data"],
        "properties": {
            "record_type": {"enum": list(SYNCED)},
            "record_id": UUID,
            "version": {"type": ["integer", "null"]},
            "op": {"enum": ["upsert", "delete"]},
            "data": {"type": ["object", "null"]},
        },
        "additionalProperties": False,
        "allOf": [
            {
                "if": {"properties": {"op": {"const": "delete"}}},
                "then": {"properties": {"data": {"type": "null"}}},
            },
            *(
                {
                    "if": {
                        "properties": {
                            "op": {"const": "upsert"},
                            "record_type": {"const": record_type},
                        }
                    },
                    "then": {"properties": {"data": _ref(name)}},
                }
                for record_type, name in pulled.items()
            ),
        ],
    }


def _result() -> dict:
    return _object(
        {
            "mutation_id": {"type": "string"},
            "seq": {"type": "integer"},
            "status": {"enum": ["applied", "duplicate", "conflict", "rejected"]},
            "version": {"type": "integer"},
            "errors": {
                "type": "object",
                "description": "Messages by field, named as sent (`participants-0-name`).",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
            "review": {
                "const": True,
                "description": "The record went to the team leader's review queue.",
            },
            "first_status": {
                "enum": ["applied", "duplicate", "conflict", "rejected"],
                "description": "A duplicate: the outcome when the mutation was first seen.",
            },
            # A duplicate's first outcome also names what the mutation was about.
            "record_id": {"type": "string"},
            "op": {"description": "The op as the mutation sent it."},
        },
        required=["mutation_id", "seq", "status"],
    )


# --- query parameters ---------------------------------------------------------------------------


def range_pattern(low: str, high: str) -> str:
    """A regular expression for the strings shaped like `low` (digits, and dashes where it has
    them) from `low` to `high`, in order."""

    def shaped(digit: str, text: str) -> str:
        return "".join(digit if c.isdigit() else c for c in text)

    if low == high:
        return low
    at = next(i for i, (a, b) in enumerate(zip(low, high, strict=True)) if a != b)
    first, last, rest_low, rest_high = int(low[at]), int(high[at]), low[at + 1 :], high[at + 1 :]
    parts, head, tail = [], first, last
    if rest_low != shaped("0", rest_low):  # the first digit does not take every rest
        parts.append(f"{first}{range_pattern(rest_low, shaped('9', rest_low))}")
        head += 1
    if rest_high != shaped("9", rest_high):
        tail -= 1
    if head <= tail:
        digit = str(head) if head == tail else f"[{head}-{tail}]"
        parts.append(digit + shaped("[0-9]", rest_low))
    if tail < last:
        parts.append(f"{last}{range_pattern(shaped('0', rest_high), rest_high)}")
    return low[:at] + (parts[0] if len(parts) == 1 else f"(?:{'|'.join(parts)})")


def _as_of(first: date, last: date | None, description: str) -> dict:
    """The `as_of` parameter: empty (today) or a date from `first` to `last`, exactly the values
    the server takes. The pattern bounds the dates; `format: date` rules out 30 February (so a
    bound may name month or day 00 or 99)."""
    low = f"{first.year:04}-00-00" if (first.month, first.day) == (1, 1) else first.isoformat()
    high = last.isoformat() if last else "9999-99-99"
    dated = dict(_DATE, pattern=f"^{range_pattern(low, high)}$")
    return _query("as_of", {"anyOf": [{"const": ""}, dated]}, description)


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _choice(name: str, values, description: str) -> dict:
    return _query(name, {"enum": ["", *values]}, f"{description} Empty: all.")


def _whole_number(name: str, description: str) -> dict:
    number = {"type": "integer", "minimum": 1, "maximum": _LARGEST}
    return _query(name, {"anyOf": [{"const": ""}, number]}, f"{description} Empty: all.")


# --- the document ---------------------------------------------------------------------------------


def openapi_document() -> dict:
    cookie = current_app.config.get("SESSION_COOKIE_NAME", "session")
    signed_in = [{"session": []}]
    csrf = [{"csrf": [], "session": []}]
    user = _object(
        {
            "id": {"type": "integer"},
            "name": _NAME,
            "role": {"type": "string"},
            "must_change_password": {
                "type": "boolean",
                "description": "A temporary password: change it at /account/password first.",
            },
        }
    )
    signed_in_answer = _object({"user": user, "csrf_token": {"type": "string"}})
    post_body = {"required": True}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "fieldapp API",
            "version": "1.0.0",
            "description": "The tablet's wire contract (SPEC §4) and the data endpoints "
            "(SPEC §6). Every POST but login needs the CSRF token that login (or /api/me) "
            "returned, in X-CSRFToken. A JSON body with a field it does not define is refused "
            "with 422 naming the field; a field a mutation's data does not define is answered "
            "`rejected`, naming it.",
        },
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": cookie},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string"},
                        "field": {"type": "string"},
                        "fields": {},
                        "code": {"type": "string"},
                        "parameter": {"type": "string"},
                        "request_id": {"type": "string"},
                    },
                    "additionalProperties": False,
                },
                "Mutation": bodies.MUTATION,
                "MutationResult": _result(),
                "Change": _change(),
                **_record_schemas(),
            },
        },
        "paths": {
            "/api/auth/login": {
                "post": {
                    "operationId": "login",
                    "security": [],
                    "requestBody": post_body | _json(bodies.LOGIN),
                    "responses": {
                        "200": {"description": "Signed in", **_json(signed_in_answer)},
                        **_errors(400, 401, 415, 422, 429),
                    },
                }
            },
            "/api/auth/logout": {
                "post": {
                    "operationId": "logout",
                    "security": csrf,
                    "responses": {"204": {"description": "Signed out"}, **_errors(400, 401)},
                }
            },
            "/api/me": {
                "get": {
                    "operationId": "me",
                    "summary": "Who is signed in, and the session's current CSRF token",
                    "security": signed_in,
                    "responses": {
                        "200": {"description": "Signed in", **_json(signed_in_answer)},
                        **_errors(401, 410),
                    },
                }
            },
            "/api/sync/devices": {
                "post": {
                    "operationId": "registerDevice",
                    "security": csrf,
                    "requestBody": post_body | _json(bodies.DEVICE),
                    "responses": {
                        "201": {
                            "description": "Registered",
                            **_json(_object({"device_id": UUID, "name": _NAME})),
                        },
                        "200": {
                            "description": "Already registered to you",
                            **_json(_object({"device_id": UUID, "name": _NAME})),
                        },
                        **_errors(400, 401, 409, 410, 415, 422, 503),
                    },
                }
            },
            "/api/sync/push": {
                "post": {
                    "operationId": "push",
                    "security": csrf,
                    "parameters": [
                        {"name": "unsent", "in": "query", "required": False, "schema": UNSENT}
                    ],
                    "requestBody": post_body | _json(bodies.PUSH),
                    "responses": {
                        "200": {
                            "description": "Results in seq order; stops at a seq gap",
                            **_json(
                                _object(
                                    {
                                        "results": {
                                            "type": "array",
                                            "items": _ref("MutationResult"),
                                        },
                                        "last_seq": {"type": "integer"},
                                    }
                                )
                            ),
                        },
                        **_errors(400, 401, 404, 410, 415, 422, 503),
                    },
                }
            },
            "/api/sync/pull": {
                "get": {
                    "operationId": "pull",
                    "security": signed_in,
                    "parameters": [
                        {
                            "name": "page",
                            "in": "query",
                            "required": True,
                            "style": "form",
                            "explode": True,
                            "description": "Which page: `cursor` (from the last page) or, on "
                            "the first pull, `device_id`; exactly one of them. A cursor the "
                            "server cannot read answers 409 reset_required.",
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "cursor": {"type": "string"},
                                    "device_id": UUID,
                                    "limit": {
                                        "type": "integer",
                                        "minimum": 1,
                                        "maximum": MAX_PULL_LIMIT,
                                    },
                                    "unsent": UNSENT,
                                },
                                "oneOf": [{"required": ["cursor"]}, {"required": ["device_id"]}],
                            },
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of changes",
                            **_json(
                                _object(
                                    {
                                        "changes": {"type": "array", "items": _ref("Change")},
                                        "purge": {
                                            "type": "array",
                                            "items": _object(
                                                {
                                                    "record_type": {"enum": list(SYNCED)},
                                                    "record_id": UUID,
                                                }
                                            ),
                                        },
                                        "cursor": {"type": "string"},
                                        "has_more": {"type": "boolean"},
                                        "server_date": dict(
                                            _DATE,
                                            description="The server's date, so a tablet can "
                                            "warn that its clock is wrong.",
                                        ),
                                    }
                                )
                            ),
                        },
                        **_errors(400, 401, 404, 409, 410, 503),
                    },
                }
            },
            "/api/sync/conflicts": {
                "get": {
                    "operationId": "conflicts",
                    "security": signed_in,
                    "responses": {
                        "200": {
                            "description": "Open conflicts and review items",
                            **_json(
                                _object(
                                    {
                                        "conflicts": {
                                            "type": "array",
                                            "items": _object(
                                                {
                                                    "id": UUID,
                                                    "record_type": {"enum": list(RECORD_TYPES)},
                                                    "record_id": UUID,
                                                    "child_id": UUID,
                                                    "field": {"type": "string"},
                                                    "server_value": {"type": ["string", "null"]},
                                                    "device_value": {"type": ["string", "null"]},
                                                    "base_value": {"type": ["string", "null"]},
                                                    "created_at": _DATE_TIME,
                                                }
                                            ),
                                        },
                                        "review": {
                                            "type": "array",
                                            "items": _object(
                                                {
                                                    "id": UUID,
                                                    "record_type": {"enum": list(RECORD_TYPES)},
                                                    "record_id": UUID,
                                                    "child_id": UUID,
                                                    "reason": {"type": "string"},
                                                    "created_at": _DATE_TIME,
                                                }
                                            ),
                                        },
                                    }
                                )
                            ),
                        },
                        **_errors(401, 410, 503),
                    },
                }
            },
            "/api/permanency": {
                "get": {
                    "operationId": "permanency",
                    "summary": "Permanency position of every child in scope (SPEC §6)",
                    "security": signed_in,
                    "parameters": [
                        _as_of(
                            permanency.EARLIEST_AS_OF,
                            None,
                            "Empty: today. A future date is read as today.",
                        ),
                        _choice("goal", permanency.GOALS, "Only this goal."),
                        _choice("status", REVIEW_STATUSES, "Only this review status."),
                        _whole_number("agency", "Only the children of this agency (its id)."),
                    ],
                    "responses": {
                        "200": {
                            "description": "One row per child in care in the user's scope",
                            **_json(
                                _object(
                                    {
                                        "as_of": _DATE,
                                        "rows": {"type": "array", "items": _PERMANENCY_ROW},
                                    }
                                )
                            ),
                        },
                        **_errors(400, 401, 404),
                    },
                }
            },
            "/api/compliance": {
                "get": {
                    "operationId": "compliance",
                    "summary": "Contact compliance of every child in scope (SPEC §6): a team "
                    "leader's teams, a practitioner's caseload",
                    "security": signed_in,
                    "parameters": [
                        _as_of(
                            compliance.EARLIEST_AS_OF, today(), "Empty: today. Never in the future."
                        ),
                        _whole_number(
                            "practitioner", "A team leader's filter: this practitioner's children."
                        ),
                        _choice("status", compliance.STATUSES, "Only this status."),
                    ],
                    "responses": {
                        "200": {
                            "description": "One row per child in care in the user's scope",
                            **_json(
                                _object(
                                    {
                                        "as_of": _DATE,
                                        "rows": {"type": "array", "items": _compliance_row()},
                                    }
                                )
                            ),
                        },
                        **_errors(400, 401, 404),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {"description": "OpenAPI 3.1", **_json({"type": "object"})}
                    },
                }
            },
        },
    }


def _compliance_row() -> dict:
    """SPEC §6: the CSV's columns (team/compliance.py), and the return visits themselves (R2)."""
    columns = {
        "child_id": UUID,
        "external_id": {"type": "string"},
        "child_name": {"type": "string"},
        "practitioner_email": {"type": ["string", "null"]},
        "last_contact_date": _nullable(_DATE),
        "due_date": _DATE,
        "status": {"enum": list(compliance.STATUSES)},
        "days_overdue": {"type": "integer"},
        "return_visits_missed": {"type": "integer", "minimum": 0},
        "cultural_support": {"type": ["boolean", "null"]},
    }
    assert tuple(columns) == compliance.CSV_COLUMNS
    visit = {"arrival_date": _DATE, "departure_date": _DATE}
    visit["status"] = {"enum": [status.value for status in VisitStatus]}
    return _object(columns | {"return_visits": {"type": "array", "items": _object(visit)}})
