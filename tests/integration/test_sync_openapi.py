"""The published contract (SPEC §4: "Publish them as OpenAPI at GET /api/openapi.json"): the
document is valid OpenAPI 3.1, and the API answers what the document says for generated
requests, valid and garbage alike, never with a 5xx.

Two generators: schemathesis, from the document itself (every operation but logout, in its
positive and negative modes), and a hypothesis strategy for push that knows the protocol well
enough to get past the envelope (real seq numbering, real record ids) and into the handlers with
garbage in every field. Bounded and derandomised so the file runs in seconds, the same way
every time."""

from __future__ import annotations

import uuid
from datetime import timedelta

import jsonschema_rs
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR
from sqlalchemy import select

from fieldapp import create_app
from fieldapp.models import SyncMutation
from fieldapp.services.contacts import CONTACT_FIELDS

from .sync_helpers import Tablet, contact_fields, org_today

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def bounded(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )


def test_the_document_is_valid_openapi_3_1(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'none.sqlite3'}",
            "SECRET_KEY": "test-secret",
        }
    )
    response = app.test_client().get("/api/openapi.json")  # public: no sign-in needed
    assert response.status_code == 200 and response.is_json
    document = response.get_json()
    assert document["openapi"].startswith("3.1.")
    errors = [str(error) for error in OPENAPI_31_VALIDATOR.iter_errors(document)]
    assert errors == []  # against the official OpenAPI 3.1 schema

    # Every schema in it is a valid JSON Schema (2020-12, the dialect of OpenAPI 3.1).
    def schemas(node):
        if isinstance(node, dict):
            if "schema" in node and isinstance(node["schema"], dict):
                yield node["schema"]
            for value in node.values():
                yield from schemas(value)
        elif isinstance(node, list):
            for value in node:
                yield from schemas(value)

    found = list(schemas(document)) + list(document["components"]["schemas"].values())
    assert len(found) > 10
    for schema in found:
        jsonschema_rs.meta.validate(schema)

    operations = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    # Every JSON endpoint the app serves, and nothing else.
    served = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert operations == served
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "post" and path != "/api/auth/login":
                assert {"csrf": [], "session": []} in operation["security"], path
    push = document["paths"]["/api/sync/push"]["post"]["requestBody"]["content"]
    assert push["application/json"]["schema"]["properties"]["mutations"]["maxItems"] == 200
    # Every $ref resolves and every operation can be generated from.
    loaded = schemathesis.openapi.from_dict(document)
    assert all(result.ok() for result in loaded.get_all_operations())


# (path, method, examples per mode). Login is slow on purpose (argon2): a few are enough.
OPERATIONS = [
    ("/api/sync/devices", "POST", 25),
    ("/api/sync/push", "POST", 30),
    ("/api/sync/pull", "GET", 30),
    ("/api/sync/conflicts", "GET", 5),
    ("/api/permanency", "GET", 10),
    ("/api/auth/login", "POST", 5),
]


def test_generated_requests_get_documented_answers_and_never_a_5xx(app, client, org):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must show as the 500 it would be
    tablet = Tablet.signed_in(client, "pat@example.org")
    headers = {"X-CSRFToken": tablet.csrf_token}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    anonymous = app.test_client()  # login attempts must not disturb the signed-in client

    def aim(case, data) -> None:
        """Sometimes point a generated request at the tablet's real device, so the answers
        behind the device check (200, gaps, rejections) are generated too."""
        if not data.draw(st.booleans(), label="use the registered device"):
            return
        if isinstance(case.body, dict) and "device_id" in case.body:
            case.body["device_id"] = str(tablet.device_id)
        if case.operation.path == "/api/sync/pull" and isinstance(case.query, dict):
            case.query.pop("cursor", None)
            case.query["device_id"] = str(tablet.device_id)

    for path, method, examples in OPERATIONS:
        operation = schema[path][method]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @bounded(examples)
            @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
            def answers_as_documented(case, data):
                if case.operation.path == "/api/auth/login":
                    response = case.call(app=app, session=anonymous)
                else:
                    aim(case, data)
                    response = case.call(app=app, session=client, headers=headers)
                case.validate_response(response, checks=CHECKS)

            answers_as_documented()


@pytest.mark.parametrize(
    "email", ["pat\x00@example.org", "pat\ud83d@example.org"], ids=["NUL", "half an emoji"]
)
def test_login_with_text_no_database_stores_is_refused_not_a_crash(app, database, email):
    """Found by the run above: PostgreSQL cannot compare text holding NUL, and neither driver
    can encode a lone surrogate. Login refuses such text like any wrong credentials."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().post("/api/auth/login", json={"email": email, "password": "x"})
    assert response.status_code == 401


# ---------------------------------------------------------------- push, deep

GARBAGE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    # Control characters (NUL among them) and lone surrogates, which tablets can produce.
    st.text(st.characters(categories=["Cc", "Cs", "Lu"]), max_size=6),
    st.lists(st.one_of(st.integers(), st.text(max_size=4)), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def contact_with(child_id: str, status: str, changes: list[tuple], extra: dict) -> dict:
    """A contact as a tablet makes it, with some fields replaced and an unknown one added."""
    data = contact_fields(child_id, status=status)
    data.update({key: value for key, value in extra.items() if key not in data})
    data.update(changes)
    return data


def contact_values(child_ids: list[str]) -> dict:
    today = org_today()
    dates = st.dates(min_value=today - timedelta(days=500), max_value=today + timedelta(days=2))
    text = st.one_of(
        st.none(), st.just(""), st.text(max_size=40), st.text(min_size=195, max_size=230)
    )
    valid = {
        "contact_date": dates.map(lambda d: d.isoformat()),
        "start_time": st.sampled_from(["09:00", "23:59", "24:00", "7:5"]),
        "duration_minutes": st.integers(-5, 1500),
        "mode": st.sampled_from(["face_to_face", "video", "phone", "carrier pigeon"]),
        "made_by": st.sampled_from(["practitioner", "third_party", "nobody"]),
        "child_seen": st.booleans(),
        "seen_alone": st.booleans(),
        "interpreter_used": st.booleans(),
        "location": st.sampled_from(["placement", "school", "interstate", "moon"]),
        "views_method": st.sampled_from(["conversation", "play_or_drawing", "telepathy"]),
        "safety_scale": st.integers(-2, 12),
        "participants": st.lists(
            st.fixed_dictionaries(
                {"role": st.sampled_from(["child", "carer", "interpreter", "boss"])},
                optional={
                    "name": text,
                    "took_part_in_decisions": GARBAGE,
                    "views_and_wishes": text,
                    "concerns": GARBAGE,
                },
            ),
            max_size=3,
        ),
        "actions": st.lists(
            st.fixed_dictionaries(
                {"description": text},
                optional={"responsible": text, "due_date": dates.map(lambda d: d.isoformat())},
            ),
            max_size=2,
        ),
    }
    fields = {name: st.one_of(valid.get(name, text), GARBAGE) for name in CONTACT_FIELDS}
    fields["participants"] = st.one_of(valid["participants"], GARBAGE)
    fields["actions"] = st.one_of(valid["actions"], GARBAGE)
    fields["status"] = st.sampled_from(["draft", "submitted", "deleted"])
    # A real contact with up to two fields replaced: most get past validation, some do not.
    override = st.sampled_from(sorted(fields)).flatmap(
        lambda name: st.tuples(st.just(name), fields[name])
    )
    create = st.builds(
        contact_with,
        st.sampled_from(child_ids),
        st.sampled_from(["draft", "draft", "submitted"]),
        st.lists(override, max_size=2),
        st.dictionaries(st.text(max_size=6), GARBAGE, max_size=1),
    )
    change = st.one_of(
        st.fixed_dictionaries(
            {"new": st.one_of(*fields.values())}, optional={"old": st.one_of(*fields.values())}
        ),
        GARBAGE,
    )
    update = st.dictionaries(
        st.sampled_from([*CONTACT_FIELDS, "participants", "nonsense"]), change, max_size=3
    )
    return {"create": create, "update": update}


def test_pushes_of_garbage_in_every_field_are_answered_as_documented(app, client, org, db):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    tablet = Tablet.signed_in(client, "pat@example.org")
    operation = schemathesis.openapi.from_wsgi("/api/openapi.json", app)["/api/sync/push"]["POST"]
    pull_operation = operation.schema["/api/sync/pull"]["GET"]
    child_ids = [str(org.child.id), str(org.interstate_child.id)] * 3 + [
        str(org.other_child.id),
        str(uuid.uuid4()),
        "not-a-uuid",
    ]
    record_ids = [
        str(org.draft.id),
        str(org.contact.id),
        str(org.other_contact.id),
        str(org.visit.id),
        str(uuid.uuid4()),
    ]
    values = contact_values(child_ids)
    text = st.one_of(st.none(), st.text(max_size=30))
    data_for = {
        ("contact", "create"): values["create"],
        ("contact", "update"): values["update"],
        ("addendum", "create"): st.fixed_dictionaries(
            {"contact_id": st.sampled_from(record_ids)}, optional={"reason": text, "text": text}
        ),
        ("return_visit", "create"): st.fixed_dictionaries(
            {"child_id": st.sampled_from(child_ids)},
            optional={
                "arrival_date": st.one_of(st.dates().map(str), GARBAGE),
                "departure_date": st.one_of(st.dates().map(str), GARBAGE),
                "arrangement_note": text,
            },
        ),
    }

    # Mostly what tablets send, some of what they never should.
    kinds = st.sampled_from(
        [("contact", "create")] * 4
        + [("contact", "update")] * 3
        + [
            ("contact", "submit"),
            ("contact", "delete"),
            ("addendum", "create"),
            ("return_visit", "create"),
            ("contact", "upsert"),
            ("visit", "create"),
        ]
    )
    created: list[str] = []
    last_seq = 0

    def draw_mutation(data) -> dict:
        record_type, op = data.draw(kinds)
        # Drawn as a position, not from the list itself: the list grows as the run goes on.
        pool = record_ids + created
        known = st.integers(0, 255).map(lambda index: pool[index % len(pool)])
        if op != "create" or data.draw(st.integers(0, 3), label="reuse an id") == 3:
            record_id = data.draw(known)
        else:
            record_id = str(uuid.uuid4())  # hypothesis's own uuids repeat under derandomize
        return {
            "mutation_id": str(uuid.uuid4()),
            "op": op,
            "record_type": record_type,
            "record_id": record_id,
            "base_version": data.draw(st.one_of(st.none(), GARBAGE)),
            "data": data.draw(data_for.get((record_type, op), st.one_of(st.just({}), GARBAGE))),
        }

    @bounded(50)
    @given(data=st.data(), size=st.integers(1, 5), replay=st.booleans())
    def answered(data, size, replay):
        nonlocal last_seq
        batch = [draw_mutation(data) for _ in range(size)]
        for offset, item in enumerate(batch, start=1):
            item["seq"] = last_seq + offset
        body = {"device_id": str(tablet.device_id), "mutations": batch}
        response = tablet.post("/api/sync/push", body)
        operation.Case(body=body, media_type="application/json").validate_response(
            response, checks=CHECKS
        )
        answer = response.get_json()
        assert [r["seq"] for r in answer["results"]] == [m["seq"] for m in batch]
        assert all(r["status"] != "rejected" or r["errors"] for r in answer["results"])
        last_seq = answer["last_seq"]
        assert last_seq == batch[-1]["seq"]  # every one processed: nothing wedges the queue
        created.extend(
            m["record_id"]
            for m, r in zip(batch, answer["results"], strict=True)
            if m["op"] == "create" and r["status"] == "applied"
        )
        if replay:  # the answer was lost
            again = tablet.post("/api/sync/push", body).get_json()
            assert {r["status"] for r in again["results"]} == {"duplicate"}
            assert again["last_seq"] == last_seq
        query = {"cursor": tablet.cursor} if tablet.cursor else {"device_id": str(tablet.device_id)}
        pulled = client.get("/api/sync/pull", query_string=query)
        pull_operation.Case(query=query).validate_response(pulled, checks=CHECKS)
        tablet.cursor = pulled.get_json()["cursor"]

    answered()
    processed = (
        db()
        .scalars(
            select(SyncMutation.seq)
            .where(SyncMutation.device_id == tablet.device_id)
            .order_by(SyncMutation.seq)
        )
        .all()
    )
    assert processed == list(range(1, last_seq + 1))
