"""SPEC §2: a permanency coordinator sees permanency data, never contact narratives. Every free
text of a contact, its participants, actions and addenda holds a marker; the coordinator opens
every page and API the app has (routes found from `app.url_map`, with the org's ids filled in)
and syncs a tablet, and the marker must never come back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from fieldapp.models import Addendum, ContactAction, ContactParticipant, YouthJusticeRecord

from ..factories import gen_contact, gen_goal, gen_review, org_today
from .sync_helpers import Tablet

MARKER = "NARRATIVE-MARKER"
NARRATIVE_FIELDS = (
    "child_views",
    "views_not_recorded_reason",
    "worries",
    "working_well",
    "needs_to_happen",
    "location_detail",
    "notes",
)


@pytest.fixture
def narratives(org, engine):
    with Session(engine, expire_on_commit=False) as session:
        contact = gen_contact(
            session,
            org.child,
            org.practitioner,
            contact_date=org_today() - timedelta(days=2),
            **{field: f"{MARKER} {field}" for field in NARRATIVE_FIELDS},
        )
        session.add_all(
            [
                ContactParticipant(
                    contact=contact,
                    role="parent",
                    name="Mum",
                    views_and_wishes=f"{MARKER} wishes",
                    feedback=f"{MARKER} feedback",
                    concerns=f"{MARKER} concerns",
                ),
                ContactAction(contact=contact, description=f"{MARKER} action", responsible="Jo"),
                Addendum(
                    contact=contact,
                    author_id=org.practitioner.id,
                    reason=f"{MARKER} reason",
                    text=f"{MARKER} addendum",
                ),
            ]
        )
        # R12's collaboration is case content too: only the status may reach a coordinator.
        session.add(
            YouthJusticeRecord(
                child_id=org.child.id,
                status="engaged",
                lead_practitioner=f"{MARKER} lead",
                officers=[{"name": f"{MARKER} officer", "team": "detention_operations"}],
                court_order_conditions=f"{MARKER} conditions",
                plan_actions=[{"description": f"{MARKER} plan", "due_date": None}],
            )
        )
        goal = gen_goal(session, org.child, "restoration", date_set=org_today() - timedelta(60))
        gen_review(session, org.child, goal, recommendation="Visible permanency words")
        session.commit()
        return contact


def _get_urls(app, org, contact) -> list[str]:
    ids = {
        "child_id": org.child.id,
        "contact_id": contact.id,
        "visit_id": org.visit.id,
        "addendum_id": contact.id,
    }
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if not set(rule.arguments) <= set(ids):
            continue  # sync issues and devices take other ids; they hold no contact of a child
        urls.append(rule.build({name: ids[name] for name in rule.arguments})[1])
    return urls


def test_no_page_or_api_gives_a_coordinator_a_contact_narrative(app, client, auth, org, narratives):
    auth.login(org.coordinator.email)
    urls = _get_urls(app, org, narratives)
    assert "/permanency" in urls and f"/children/{org.child.id}" in urls and len(urls) > 20
    seen_permanency = False
    for url in urls:
        response = client.get(url, follow_redirects=True)
        assert response.status_code < 500, url
        assert MARKER not in response.get_data(as_text=True), url
        seen_permanency |= "Visible permanency words" in response.get_data(as_text=True)
    assert seen_permanency  # the coordinator did reach the child's permanency data


def test_a_coordinators_tablet_receives_no_contact(client, org, narratives):
    tablet = Tablet.signed_in(client, org.coordinator.email)
    pages = tablet.pull_all()
    body = repr(pages)
    assert MARKER not in body
    assert [c for page in pages for c in page["changes"]] == []  # no records at all
