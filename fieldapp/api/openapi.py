"""The sync wire contract (SPEC §4) and the permanency data (SPEC §6) as OpenAPI 3.1, served at
GET /api/openapi.json."""

from __future__ import annotations

from ..services.permanency_report import ROW_COLUMNS
from ..services.sync import MAX_BATCH, MAX_PULL_LIMIT

_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
_UUID = {"type": "string", "format": "uuid"}
_DATE = {"type": ["string", "null"], "format": "date"}
# SPEC §6 `/api/permanency` rows, from the one definition of the row.
_PERMANENCY_ROW = {"type": "object", "required": list(ROW_COLUMNS), "properties": ROW_COLUMNS}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict:
    texts = {
        400: "Bad request: the field is named",
        401: "Not signed in",
        404: "Unknown device (sync), or no such data for this role",
        409: "Conflict (device of another user, or reset_required)",
        410: "Device revoked: wipe local data",
        415: "Not JSON",
        503: "Database unavailable: retry with backoff",
    }
    return {
        str(code): {"description": texts[code], **_json({"$ref": "#/components/schemas/Error"})}
        for code in codes
    }


def openapi_document() -> dict:
    mutation = {
        "type": "object",
        "required": ["mutation_id", "seq", "op", "record_type", "record_id", "data"],
        "properties": {
            "mutation_id": _UUID,
            "seq": {"type": "integer", "minimum": 1},
            "op": {"enum": ["create", "update", "submit", "delete"]},
            "record_type": {"enum": ["contact", "addendum", "return_visit"]},
            "record_id": _UUID,
            "base_version": {"type": ["integer", "null"]},
            "data": {"type": "object"},
        },
    }
    result = {
        "type": "object",
        "required": ["mutation_id", "seq", "status"],
        "properties": {
            "mutation_id": {"type": "string"},
            "seq": {"type": "integer"},
            "status": {"enum": ["applied", "duplicate", "conflict", "rejected"]},
            "version": {"type": "integer"},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
    }
    change = {
        "type": "object",
        "required": ["record_type", "record_id", "op"],
        "properties": {
            "record_type": {"enum": ["child", "contact", "addendum", "return_visit"]},
            "record_id": {"type": "string"},
            "version": {"type": ["integer", "null"]},
            "op": {"enum": ["upsert", "delete"]},
            "data": {"type": ["object", "null"]},
        },
    }
    csrf = [{"csrf": [], "session": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "fieldapp sync API",
            "version": "1.0.0",
            "description": "The tablet's wire contract (SPEC §4). Every POST but login needs "
            "the CSRF token that login returned, in X-CSRFToken.",
        },
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken"},
            },
            "schemas": {
                "Error": _ERROR,
                "Mutation": mutation,
                "MutationResult": result,
                "Change": change,
            },
        },
        "paths": {
            "/api/auth/login": {
                "post": {
                    "operationId": "login",
                    "security": [],
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "required": ["email", "password"],
                                "properties": {
                                    "email": {"type": "string"},
                                    "password": {"type": "string"},
                                },
                            }
                        ),
                    },
                    "responses": {
                        "200": {
                            "description": "Signed in",
                            **_json(
                                {
                                    "type": "object",
                                    "required": ["user", "csrf_token"],
                                    "properties": {
                                        "csrf_token": {"type": "string"},
                                        "user": {
                                            "type": "object",
                                            "required": ["id", "name", "role"],
                                            "properties": {
                                                "id": {"type": "integer"},
                                                "name": {"type": "string"},
                                                "role": {"type": "string"},
                                            },
                                        },
                                    },
                                }
                            ),
                        },
                        **_errors(400, 401, 415),
                    },
                }
            },
            "/api/auth/logout": {
                "post": {
                    "operationId": "logout",
                    "security": csrf,
                    "responses": {"204": {"description": "Signed out"}},
                }
            },
            "/api/sync/devices": {
                "post": {
                    "operationId": "registerDevice",
                    "security": csrf,
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "required": ["device_id", "name"],
                                "properties": {
                                    "device_id": _UUID,
                                    "name": {"type": "string", "minLength": 1},
                                },
                            }
                        ),
                    },
                    "responses": {
                        "201": {"description": "Registered", **_json({"type": "object"})},
                        "200": {
                            "description": "Already registered to you",
                            **_json({"type": "object"}),
                        },
                        **_errors(400, 401, 409, 410, 415, 503),
                    },
                }
            },
            "/api/sync/push": {
                "post": {
                    "operationId": "push",
                    "security": csrf,
                    "requestBody": {
                        "required": True,
                        **_json(
                            {
                                "type": "object",
                                "required": ["device_id", "mutations"],
                                "properties": {
                                    "device_id": _UUID,
                                    "mutations": {
                                        "type": "array",
                                        "maxItems": MAX_BATCH,
                                        "items": {"$ref": "#/components/schemas/Mutation"},
                                    },
                                },
                            }
                        ),
                    },
                    "responses": {
                        "200": {
                            "description": "Results in seq order; stops at a seq gap",
                            **_json(
                                {
                                    "type": "object",
                                    "required": ["results", "last_seq"],
                                    "properties": {
                                        "last_seq": {"type": "integer"},
                                        "results": {
                                            "type": "array",
                                            "items": {
                                                "$ref": "#/components/schemas/MutationResult"
                                            },
                                        },
                                    },
                                }
                            ),
                        },
                        **_errors(400, 401, 404, 410, 415, 503),
                    },
                }
            },
            "/api/sync/pull": {
                "get": {
                    "operationId": "pull",
                    "security": [{"session": []}],
                    "parameters": [
                        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "device_id",
                            "in": "query",
                            "schema": _UUID,
                            "description": "Required when there is no cursor yet.",
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PULL_LIMIT},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of changes",
                            **_json(
                                {
                                    "type": "object",
                                    "required": ["changes", "purge", "cursor", "has_more"],
                                    "properties": {
                                        "changes": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/Change"},
                                        },
                                        "purge": {
                                            "type": "array",
                                            "items": {
                                                "type": "object",
                                                "required": ["record_type", "record_id"],
                                                "properties": {
                                                    "record_type": {"type": "string"},
                                                    "record_id": {"type": "string"},
                                                },
                                            },
                                        },
                                        "cursor": {"type": "string"},
                                        "has_more": {"type": "boolean"},
                                        "server_date": {
                                            "type": "string",
                                            "format": "date",
                                            "description": "The server's date, so a tablet can "
                                            "warn that its clock is wrong.",
                                        },
                                    },
                                }
                            ),
                        },
                        **_errors(400, 401, 404, 409, 410, 503),
                    },
                }
            },
            "/api/permanency": {
                "get": {
                    "operationId": "permanency",
                    "summary": "Permanency position of every child in scope (SPEC §6)",
                    "security": [{"session": []}],
                    "parameters": [
                        {
                            "name": "as_of",
                            "in": "query",
                            "required": False,
                            "description": "YYYY-MM-DD; a future date is read as today",
                            "schema": {"type": "string", "format": "date"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "One row per child in care in the user's scope",
                            **_json(
                                {
                                    "type": "object",
                                    "required": ["as_of", "rows"],
                                    "properties": {
                                        "as_of": {"type": "string", "format": "date"},
                                        "rows": {"type": "array", "items": _PERMANENCY_ROW},
                                    },
                                }
                            ),
                        },
                        **_errors(400, 401, 404),
                    },
                }
            },
            "/api/sync/conflicts": {
                "get": {
                    "operationId": "conflicts",
                    "security": [{"session": []}],
                    "responses": {
                        "200": {
                            "description": "Open conflicts and review items",
                            **_json(
                                {
                                    "type": "object",
                                    "required": ["conflicts", "review"],
                                    "properties": {
                                        "conflicts": {"type": "array"},
                                        "review": {"type": "array"},
                                    },
                                }
                            ),
                        },
                        **_errors(401),
                    },
                }
            },
        },
    }
