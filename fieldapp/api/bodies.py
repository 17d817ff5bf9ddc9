"""The JSON bodies the API takes (SPEC §4), each said once as the JSON Schema the OpenAPI document
publishes, and the one reader of them: a body that is not a JSON object is a 400; a field the
body does not define is a 422 naming it (SPEC §7), never ignored."""

from __future__ import annotations

import re

from flask import request

from ..services.sync import MAX_BATCH, MAX_SEQ, MUTATION_FIELDS
from .errors import InvalidRequest, UnknownFields

UUID = {"type": "string", "format": "uuid"}
# Text the databases can store (services/text.py `storable`) holds no NUL (a lone surrogate
# cannot be written in JSON Schema's strings at all). Not blank: something left after Python's
# strip(), whose whitespace is spelled out, since regular expression engines disagree on `\s`.
_SPACE = "".join(f"\\u{ord(c):04x}" for c in map(chr, range(0x10000)) if c.isspace())
NAMED = f"^[^\\u0000]*[^\\u0000{_SPACE}][^\\u0000]*$"


def body_schema(properties: dict[str, dict]) -> dict:
    """A JSON object with these fields, all required, and no others."""
    return {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }


LOGIN = body_schema(
    {"email": {"type": "string", "minLength": 1}, "password": {"type": "string", "minLength": 1}}
)
DEVICE = body_schema(
    {
        "device_id": UUID,
        "name": {
            "type": "string",
            "pattern": NAMED,
            "description": "Shown to the user and admins; cut to 200 characters.",
        },
    }
)
PUSH = body_schema(
    {
        "device_id": UUID,
        "mutations": {
            "type": "array",
            "maxItems": MAX_BATCH,
            "items": {"$ref": "#/components/schemas/Mutation"},
        },
    }
)
# A mutation's envelope: only what the server needs to record the mutation at all (mutation_id,
# seq) refuses the request when wrong. Everything else wrong with a mutation (its op, record,
# data) is answered in its result, `rejected` with errors naming the field, and the mutation is
# marked processed so the tablet's queue never wedges (SPEC §4); so the schema does not constrain
# those fields, and describes them instead.
MUTATION = {
    "type": "object",
    "required": ["mutation_id", "seq"],
    "properties": {
        "mutation_id": UUID,
        "seq": {"type": "integer", "minimum": 1, "maximum": MAX_SEQ},
        "op": {"description": "create | update | submit | delete"},
        "record_type": {"description": "contact | addendum | return_visit"},
        "record_id": {"description": "The record's UUID, made on the client."},
        "base_version": {"description": "integer or null"},
        "data": {
            "description": "create: the record (ContactData, AddendumData, ReturnVisitData); "
            "update: {field: {old, new}} of contact fields (ContactUpdate); submit and delete: "
            "{} or null. A field the record does not define is answered rejected, naming it."
        },
    },
    "additionalProperties": False,
}
assert tuple(MUTATION["properties"]) == MUTATION_FIELDS


# How a NUL or half a surrogate pair can reach a decoded string: an escape (`\u0000`,
# `\ud83d`), or the raw bytes of a surrogate, which Python's JSON decoder lets through. Other
# encodings than UTF-8 (which JSON allows) hold NUL bytes, so they are caught by the first test.
_UNSTORABLE_SPELLINGS = re.compile(
    rb"\\u(?:0000|[dD][89a-fA-F]|(?![0-9a-fA-F]{4}))|\xed[\xa0-\xbf]"
)  # (and any `\u` not followed by four hex digits, which a lenient decoder might still read)


def text_is_storable(raw: bytes) -> bool:
    """Whether every string in this JSON body is text the databases can store (see
    services/text.py `storable`), told from its bytes in one pass. False may also mean "look
    closer" (a backslash before `u0000` spelled out in a note reads the same)."""
    return b"\x00" not in raw and _UNSTORABLE_SPELLINGS.search(raw) is None


def unknown(value: dict, schema: dict, prefix: str = "") -> list[str]:
    return [f"{prefix}{name}" for name in value if name not in schema["properties"]]


def read(schema: dict) -> dict:
    """The request's JSON object, with only the fields `schema` defines."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object.", field="body")
    if names := unknown(body, schema):
        raise UnknownFields(names)
    return body
