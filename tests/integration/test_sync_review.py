"""The team leader's sync page: conflicts and records waiting for review; device revocation."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapp.models import AuditEvent, Contact, Device, SyncConflict, SyncReviewItem

from ..factories import TIMEZONE, org_today


@pytest.fixture
def issues(org, engine):
    """A conflict on the practitioner's draft and a contact for team A's child, recorded offline
    by the colleague (who never held the child), waiting for review."""
    with Session(engine, expire_on_commit=False) as session:
        device = Device(id=uuid.uuid4(), user_id=org.colleague.id, name="Colleague tablet")
        session.add(device)
        conflict = SyncConflict(
            record_type="contact",
            record_id=org.draft.id,
            child_id=org.child.id,
            field="child_views",
            server_value="Server words",
            device_value="Tablet words",
            device_id=device.id,
            user_id=org.practitioner.id,
            mutation_id=uuid.uuid4(),
        )
        record_id = uuid.uuid4()
        item = SyncReviewItem(
            mutation_id=uuid.uuid4(),
            device_id=device.id,
            user_id=org.colleague.id,
            child_id=org.child.id,
            team_id=org.child.team_id,
            record_type="contact",
            record_id=record_id,
            reason="Not on the caseload on the contact date.",
            payload={
                "data": {
                    "child_id": str(org.child.id),
                    "status": "submitted",
                    "mode": "face_to_face",
                    "made_by": "practitioner",
                    "child_seen": True,
                    "contact_date": (org_today() - timedelta(days=2)).isoformat(),
                    "child_views": "Offline words that must not be lost.",
                    "views_method": "conversation",
                }
            },
        )
        session.add_all([conflict, item])
        session.commit()
        return {"conflict": conflict, "item": item, "device": device, "record_id": record_id}


def test_leader_sees_both_texts_and_the_review_item(client, auth, org, issues):
    auth.login(org.leader.email)
    html = client.get("/team/sync-issues").text
    assert "Server words" in html and "Tablet words" in html
    assert "Offline words that must not be lost." in html


def test_author_sees_their_conflict(client, auth, org, issues):
    auth.login(org.practitioner.email)
    html = client.get("/team/sync-issues").text
    assert "Tablet words" in html


def test_accepting_files_the_contact_as_its_author_made_it(client, auth, org, issues, db_session):
    auth.login(org.leader.email)
    item = issues["item"]
    response = auth.post(f"/team/sync-issues/review/{item.id}/accept")
    assert response.status_code == 302
    contact = db_session.get(Contact, issues["record_id"])
    assert contact is not None and contact.status == "submitted"
    assert contact.author_id == org.colleague.id
    assert contact.child_views == "Offline words that must not be lost."
    assert db_session.get(SyncReviewItem, item.id).outcome == "accepted"


def test_declining_keeps_the_item(client, auth, org, issues, db_session):
    auth.login(org.leader.email)
    item = issues["item"]
    auth.post(f"/team/sync-issues/review/{item.id}/decline")
    kept = db_session.get(SyncReviewItem, item.id)
    assert kept.outcome == "declined"
    assert kept.payload["data"]["child_views"] == "Offline words that must not be lost."
    assert db_session.get(Contact, issues["record_id"]) is None


def test_resolving_a_conflict_keeps_both_texts(client, auth, org, issues, db_session):
    auth.login(org.practitioner.email)
    conflict = issues["conflict"]
    assert auth.post(f"/team/sync-issues/conflicts/{conflict.id}/resolve").status_code == 302
    kept = db_session.get(SyncConflict, conflict.id)
    assert kept.resolved_at is not None and kept.device_value == "Tablet words"
    html = client.get("/team/sync-issues").text
    assert "Conflicts (0)" in html  # no longer open...
    resolved = html[html.index("Resolved conflicts") :]  # ...but both texts stay in view
    assert "Tablet words" in resolved and "Server words" in resolved
    assert "marked it resolved" in resolved


def test_another_teams_leader_gets_404(client, auth, org, issues):
    auth.login(org.outsider_leader.email)
    assert "Tablet words" not in client.get("/team/sync-issues").text
    assert auth.post(f"/team/sync-issues/review/{issues['item'].id}/accept").status_code == 404
    assert (
        auth.post(f"/team/sync-issues/conflicts/{issues['conflict'].id}/resolve").status_code == 404
    )


def test_admin_sees_devices_and_revokes_one(client, auth, org, issues, db_session):
    auth.login(org.admin.email)
    assert "Colleague tablet" in client.get("/admin/devices").text
    assert auth.post(f"/admin/devices/{issues['device'].id}/revoke").status_code == 302
    assert db_session.scalar(select(Device.revoked_at).where(Device.id == issues["device"].id))
    events = db_session.execute(
        select(AuditEvent.user_id, AuditEvent.outcome, AuditEvent.object_id).where(
            AuditEvent.action == "revoke", AuditEvent.object_type == "device"
        )
    ).all()
    assert events == [(org.admin.id, "ok", str(issues["device"].id))]
    # Revoking again changes nothing and writes no second event.
    assert auth.post(f"/admin/devices/{issues['device'].id}/revoke").status_code == 302
    assert (
        db_session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "revoke")
        )
        == 1
    )


def return_visit_for_review(engine, org, issues, data: dict) -> SyncReviewItem:
    with Session(engine, expire_on_commit=False) as session:
        item = SyncReviewItem(
            mutation_id=uuid.uuid4(),
            device_id=issues["device"].id,
            user_id=org.colleague.id,
            child_id=org.interstate_child.id,
            team_id=org.interstate_child.team_id,
            record_type="return_visit",
            record_id=uuid.uuid4(),
            reason="Recorded offline for a child who is no longer on the caseload.",
            payload={"data": {"child_id": str(org.interstate_child.id), **data}},
        )
        session.add(item)
        session.commit()
        return item


def test_accepting_a_return_visit_files_it_and_a_bad_date_is_named_not_a_crash(
    client, auth, org, issues, engine, db
):
    from fieldapp.models import ReturnVisit

    auth.login(org.leader.email)
    bad = return_visit_for_review(
        engine,
        org,
        issues,
        {
            "arrival_date": "20/12/2026",
            "departure_date": "2027-01-10",
            "arrangement_note": ["not text"],
        },
    )
    response = auth.post(f"/team/sync-issues/review/{bad.id}/accept", follow_redirects=True)
    assert response.status_code == 200 and "arrival_date" in response.text
    assert db().get(SyncReviewItem, bad.id).outcome is None  # still waiting, kept

    good = return_visit_for_review(
        engine,
        org,
        issues,
        {
            "arrival_date": "2026-12-20",
            "departure_date": "2027-01-10",
            "arrangement_note": "Plan 4.2",
        },
    )
    assert auth.post(f"/team/sync-issues/review/{good.id}/accept").status_code == 302
    visit = db().get(ReturnVisit, good.record_id)
    assert (visit.arrival_date, visit.arrangement_note) == (date(2026, 12, 20), "Plan 4.2")


def test_each_issue_names_its_child_and_contact_in_local_time(client, auth, org, issues, db):
    """Issue 13: not "Contact by Jo Nguyen · 01/12/2026 21:14 UTC" but which child, which
    contact (its date, a link) and the time in the organisation's timezone."""
    from fieldapp.services.clock import local_time

    auth.login(org.leader.email)
    html = client.get("/team/sync-issues").text
    assert "UTC" not in html
    draft = db().get(Contact, org.draft.id)
    conflict = db().get(SyncConflict, issues["conflict"].id)
    conflicts = html.split('id="conflicts-heading"', 1)[1].split("</article>", 1)[0]
    assert f'<a href="/children/{org.child.id}">Mia Anderson</a>' in conflicts
    if draft.contact_date:
        assert f'<a href="/contacts/{draft.id}">{draft.contact_date:%d/%m/%Y}</a>' in conflicts
    local = local_time(conflict.created_at, TIMEZONE)
    assert f"{local:%d/%m/%Y %H:%M}" in conflicts
    waiting = html.split('id="review-heading"', 1)[1]
    contact_date = org_today() - timedelta(days=2)
    assert f"Mia Anderson</a> · contact of {contact_date:%d/%m/%Y}" in waiting


def test_an_issue_about_a_child_out_of_scope_does_not_name_them(client, auth, org, engine):
    with Session(engine) as session:
        session.add(
            SyncConflict(
                record_type="contact",
                record_id=org.other_contact.id,
                child_id=org.other_child.id,
                field="child_views",
                server_value="Theirs",
                device_value="Mine",
                user_id=org.practitioner.id,
                mutation_id=uuid.uuid4(),
            )
        )
        session.commit()
    auth.login(org.practitioner.email)
    html = client.get("/team/sync-issues").text
    assert "Zed Other" not in html
    assert "A child no longer in your caseload" in html
