"""The synced record types are said once (services/synced_types.py) and everything that lists
them is derived from that list: a table that carries change numbers but is missing from it
would never reach a tablet, and a type added to it reaches the pull, the purge, the change
order, the push and the OpenAPI document without another edit."""

from __future__ import annotations

from fieldapp.api.openapi import _change, _record_schemas
from fieldapp.models import Base
from fieldapp.models.base import SyncedMixin
from fieldapp.services import change_seq
from fieldapp.services.sync import handlers
from fieldapp.services.synced_types import BY_NAME, PUSHED, SYNCED_TYPES


def test_every_table_with_change_numbers_is_a_synced_type():
    numbered = {
        mapper.class_ for mapper in Base.registry.mappers if issubclass(mapper.class_, SyncedMixin)
    }
    assert numbered == {kind.model for kind in SYNCED_TYPES}


def test_the_change_order_and_the_push_take_their_types_from_the_list():
    assert change_seq.SYNCED == {kind.model: kind.name for kind in SYNCED_TYPES}
    assert set(handlers.RECORD_TYPES) == set(PUSHED) == {"contact", "return_visit", "addendum"}
    assert {name for name, _op in handlers.HANDLERS} == set(PUSHED)  # each has a handler
    assert "child" not in PUSHED  # pulled only


def test_the_openapi_change_names_every_type_and_the_schema_of_its_data():
    change = _change()
    assert change["properties"]["record_type"]["enum"] == [kind.name for kind in SYNCED_TYPES]
    schemas = _record_schemas()
    pulled = {
        rule["if"]["properties"]["record_type"]["const"]: rule["then"]["properties"]["data"]
        for rule in change["allOf"][1:]
    }
    assert pulled == {
        name: {"$ref": f"#/components/schemas/{BY_NAME[name].pulled_schema}"}
        for name in ("contact", "return_visit", "addendum")
    }
    assert all(BY_NAME[name].pulled_schema in schemas for name in pulled)
