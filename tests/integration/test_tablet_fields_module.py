"""/tablet/fields.js: the server's definition of the record fields (services/record_fields.py)
as the tablet's ES module, part of the offline shell: same-origin JavaScript with the shell's
caching, listed in the worker's shell, and a change to the definition is a new shell version."""

from __future__ import annotations

import re

from fieldapp import web
from fieldapp.services import record_fields


def test_the_module_is_served_like_the_other_shell_files(client):
    response = client.get("/tablet/fields.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["Content-Type"]
    assert response.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.text == record_fields.tablet_module()
    for name in ("FIELDS", "MODE", "MADE_BY", "LOCATION", "VIEWS_METHOD", "PARTICIPANT_ROLE"):
        assert f"export const {name} = " in response.text
    assert '"location_detail": {"label": "Location details", "kind": "text", "maxLength": 500' in (
        response.text
    )


def test_the_worker_caches_it_and_a_change_to_the_definition_is_a_new_version(client, monkeypatch):
    def version() -> str:
        web._service_worker_source.cache_clear()
        source = client.get("/sw.js").text
        assert '"/tablet/fields.js"' in re.search(r"const SHELL = (.*);", source)[1]
        return re.search(r'const VERSION = "(\w+)"', source)[1]

    before = version()
    changed = record_fields.tablet_module().replace("500", "501")
    monkeypatch.setattr(record_fields, "tablet_module", lambda: changed)
    assert version() != before
    monkeypatch.undo()
    assert version() == before
