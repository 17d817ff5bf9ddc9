"""Object-level access (SPEC §2): every route that takes a record id answers 404 to a user who
may not see the record, and writes a `denied` audit event. The routes are discovered from
`app.url_map`, so a new route is covered the day it is added."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from fieldapp.models import AuditEvent

ID_ARGUMENTS = {
    "child_id",
    "contact_id",
    "visit_id",
    "addendum_id",
    "conflict_id",
    "item_id",
    "device_id",
    "decision",
}


# Permanency records a practitioner may not make (scope.PERMANENCY_RECORDERS).
PRACTITIONER_FORBIDDEN = {
    f"permanency_child.{endpoint}": 403
    for endpoint in (
        "goal",
        "review",
        "consultation",
        "cultural_consultation",
        "transfer",
        "retention",
        "extension",
        "extension_decision",
    )
}


def _id_routes(app):
    routes = []
    for rule in app.url_map.iter_rules():
        arguments = set(rule.arguments)
        if not arguments or rule.endpoint in ("static", "web.tablet_shell"):
            continue  # static files, and the offline shell (client routes, no data)
        unknown = arguments - ID_ARGUMENTS
        assert not unknown, f"{rule.rule} takes {unknown}: teach this test which record it names"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule, method))
    return routes


def _url(rule, org):
    ids = {
        "child_id": org.child.id,
        "contact_id": org.contact.id,
        "visit_id": org.visit.id,
        # Sync conflicts, review items and devices of the org: none exist, and an unknown id must
        # look exactly like someone else's.
        "conflict_id": uuid.UUID(int=1),
        "item_id": uuid.UUID(int=2),
        "device_id": uuid.UUID(int=3),
        "decision": "accept",
    }
    return rule.build({name: ids[name] for name in rule.arguments})[1]


def _denied_count(db_session) -> int:
    db_session.rollback()  # a new read transaction sees what the last request committed
    return db_session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "denied")
    )


@pytest.mark.parametrize("who", ["outsider", "outsider_leader"])
def test_another_teams_staff_get_404_on_every_id_route(app, client, auth, org, db_session, who):
    routes = _id_routes(app)
    assert len(routes) >= 8, "expected the child, contact and return-visit routes"
    auth.login(getattr(org, who).email)
    for rule, method in routes:
        url = _url(rule, org)
        before = _denied_count(db_session)
        if method == "GET":
            response = client.get(url)
        else:
            response = auth.post(
                url, {"reason": "x", "text": "x", "practitioner_id": org.outsider.id}
            )
        assert response.status_code == 404, f"{method} {url} answered {response.status_code}"
        assert org.child.given_name not in response.text
        assert _denied_count(db_session) == before + 1, f"{method} {url} wrote no denied event"


def test_the_same_routes_answer_the_owner(app, client, auth, org):
    """The walk above would pass for a route that 404s for everyone; prove the ids are real."""
    auth.login(org.practitioner.email)
    for rule, method in _id_routes(app):
        if method == "GET" and set(rule.arguments) <= {"child_id", "contact_id", "visit_id"}:
            # A permanency form the practitioner's role may not record is refused with 403:
            # they see the child, so the child's existence is no secret to them.
            expected = PRACTITIONER_FORBIDDEN.get(rule.endpoint, 200)
            assert client.get(_url(rule, org)).status_code == expected, rule.rule


def test_draft_of_a_colleague_is_invisible(client, auth, org):
    auth.login(org.colleague.email)
    # The colleague is in the same team but does not hold the child.
    assert client.get(f"/children/{org.child.id}").status_code == 404
    assert client.get(f"/contacts/{org.draft.id}").status_code == 404


def test_team_leader_sees_team_children_and_drafts(client, auth, org):
    auth.login(org.leader.email)
    page = client.get("/")
    assert "Mia Anderson" in page.text and "Kai Baker" in page.text
    assert "Zed Other" not in page.text
    assert client.get(f"/contacts/{org.draft.id}").status_code == 200


def test_coordinator_sees_the_child_but_not_contact_narratives(client, auth, org):
    auth.login(org.coordinator.email)
    page = client.get(f"/children/{org.child.id}")
    assert page.status_code == 200
    assert "I am fine." not in page.text
    assert client.get(f"/contacts/{org.contact.id}").status_code == 404
    assert client.get(f"/children/{org.child.id}/contacts/new").status_code == 404


def test_admin_sees_no_case_content(client, auth, org):
    auth.login(org.admin.email)
    assert client.get("/").status_code == 302
    assert client.get(f"/children/{org.child.id}").status_code == 404
    assert client.get(f"/contacts/{org.contact.id}").status_code == 404
    assert client.get("/admin/users").status_code == 200


def test_non_admins_cannot_open_admin_pages(client, auth, org):
    auth.login(org.leader.email)
    for path in ("/admin/users", "/admin/teams", "/admin/import", "/admin/devices", "/admin/audit"):
        assert client.get(path).status_code == 404, path


def test_signed_out_users_are_sent_to_sign_in(client, org):
    response = client.get(f"/children/{org.child.id}")
    assert response.status_code == 302 and "/login" in response.location
