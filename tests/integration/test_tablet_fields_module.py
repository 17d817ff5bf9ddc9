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


def test_the_tablet_gets_the_permanency_labels_the_pages_use(client):
    """The tablet's child screen shows the goal and Youth Justice labels of the server pages and
    computes the two-year timeframe with the server's numbers (no copies in static/js)."""
    import json

    from fieldapp.services import permanency

    text = client.get("/tablet/fields.js").text

    def exported(name):
        match = re.search(rf"^export const {name} = (.*);$", text, re.MULTILINE)
        assert match, name
        return json.loads(match.group(1))

    assert exported("GOAL_LABELS") == dict(permanency.GOAL_LABELS)
    assert exported("YOUTH_JUSTICE_STATUS") == permanency.YOUTH_JUSTICE_STATUS_LABELS
    assert exported("YOUTH_JUSTICE_TEAM") == permanency.YOUTH_JUSTICE_TEAM_LABELS
    assert (exported("TWO_YEAR_MONTHS"), exported("APPROACHING_DAYS")) == (24, 90)
