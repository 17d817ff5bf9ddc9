"""The team leader's acknowledgement queue (issue 13): submitted contacts of their teams not yet
acknowledged, the longest waiting first, acknowledged from the list."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.models import AuditEvent, Contact
from fieldapp.models.base import utcnow

from ..factories import gen_contact, org_today


def _queue_rows(html: str) -> list[tuple[str, str, str]]:
    if "<table" not in html:
        return []
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(
        r'<td data-label="Child">([^<]+)</td>\s*<td data-label="Practitioner">([^<]+)</td>\s*'
        r'<td data-label="Contact date"><a [^>]*>([^<]+)</a>',
        body,
    )


def test_the_queue_lists_waiting_contacts_oldest_first(client, auth, org, engine):
    with Session(engine) as session:
        now = utcnow()
        older = gen_contact(
            session,
            org.interstate_child,
            org.colleague,
            contact_date=org_today() - timedelta(days=9),
            submitted_at=now - timedelta(days=8),
        )
        session.get(Contact, org.contact.id).submitted_at = now - timedelta(days=2)
        gen_contact(  # already acknowledged: not in the queue
            session,
            org.child,
            org.practitioner,
            submitted_at=now - timedelta(days=20),
            acknowledged_by_id=org.leader.id,
            acknowledged_at=now - timedelta(days=19),
        )
        session.commit()
        older_date = older.contact_date
    auth.login(org.leader.email)
    html = client.get("/team/acknowledgements").text
    contact_date = org.contact.contact_date
    assert _queue_rows(html) == [
        ("Kai Baker", org.colleague.name, f"{older_date:%d/%m/%Y}"),
        ("Mia Anderson", "Pat Practitioner", f"{contact_date:%d/%m/%Y}"),
    ]
    # Drafts and other teams' contacts are not the leader's to acknowledge.
    assert "Zed Other" not in html and "Draft words" not in html
    assert "<strong>2</strong> contacts waiting." in html
    home = client.get("/").text
    assert re.search(r'href="/team/acknowledgements">2 contacts to acknowledge</a>', home)


def test_acknowledging_from_the_list(client, auth, org, db):
    auth.login(org.leader.email)
    answer = auth.post(f"/team/acknowledgements/{org.contact.id}")
    assert answer.status_code == 302 and answer.headers["Location"] == "/team/acknowledgements"
    page = client.get(answer.headers["Location"]).text
    assert (
        f"Acknowledged Mia Anderson&#39;s contact of {org.contact.contact_date:%d/%m/%Y} "
        "by Pat Practitioner." in page
    )
    assert "Every contact submitted in your team has been acknowledged." in page
    contact = db().get(Contact, org.contact.id)
    assert contact.acknowledged_by_id == org.leader.id and contact.acknowledged_at is not None
    assert db().scalar(
        select(AuditEvent.id).where(
            AuditEvent.action == "acknowledge", AuditEvent.object_id == str(org.contact.id)
        )
    )
    assert 'href="/team/acknowledgements">' not in client.get("/").text.split("</nav>", 1)[1]


def test_only_a_leader_of_the_childs_team_acknowledges(client, auth, org, db):
    auth.login(org.outsider_leader.email)
    assert auth.post(f"/team/acknowledgements/{org.contact.id}").status_code == 404
    assert _queue_rows(client.get("/team/acknowledgements").text) == [
        ("Zed Other", org.outsider.name, f"{org.other_contact.contact_date:%d/%m/%Y}")
    ]
    assert db().get(Contact, org.contact.id).acknowledged_at is None
    auth.logout()
    auth.login(org.practitioner.email)
    assert client.get("/team/acknowledgements").status_code == 404
    assert auth.post(f"/team/acknowledgements/{org.contact.id}").status_code == 404


def test_a_draft_cannot_be_acknowledged_from_the_list(client, auth, org, db):
    auth.login(org.leader.email)
    answer = auth.post(f"/team/acknowledgements/{org.draft.id}")
    assert answer.status_code == 302
    page = client.get(answer.headers["Location"]).text
    assert "Only submitted contacts can be acknowledged." in page
    assert db().get(Contact, org.draft.id).acknowledged_at is None


def test_a_leader_does_not_acknowledge_their_own_or_an_imported_contact(
    client, auth, org, engine, db
):
    with Session(engine) as session:
        own = gen_contact(session, org.child, org.leader, submitted_at=utcnow())
        imported = gen_contact(session, org.child, org.practitioner, source="import")
        session.commit()
        own_id, imported_id = own.id, imported.id
    auth.login(org.leader.email)
    html = client.get("/team/acknowledgements").text
    assert len(_queue_rows(html)) == 1  # org.contact only
    for contact_id, message in (
        (own_id, "A contact you recorded is acknowledged by another team leader."),
        (imported_id, "An imported contact has nothing to read, so it needs no acknowledgement."),
    ):
        answer = auth.post(f"/team/acknowledgements/{contact_id}")
        assert message in client.get(answer.headers["Location"]).text
        assert db().get(Contact, contact_id).acknowledged_at is None
