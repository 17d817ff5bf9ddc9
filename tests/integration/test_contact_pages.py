"""The team leader's contact pages on the server (R8 and SPEC §2): reading a contact, a
practitioner's draft shown read-only, acknowledging, the addendum form, reallocating a child, and
viewing a child is audited; a practitioner may do none of the team leader's actions. The records
are made with the factories: contacts are recorded in the offline app (test_contacts_api.py).
Every test checks what a user would notice (the page and its status) and what is stored (read
back from the database in a fresh transaction)."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from fieldapp.models import Addendum, Allocation, AuditEvent, Child, Contact

from ..factories import org_today
from .reading import audit_actions, page_text, snapshot
from .sync_helpers import Tablet


def addendum_form_values(response) -> tuple[str, str]:
    """The reason and text the addendum form shows (what the user typed, after a refusal)."""
    form = re.search(r'<form[^>]*action="[^"]*/addenda".*?</form>', response.text, re.S)
    assert form, "the page has no addendum form"
    reason = re.search(r'<input\b[^>]*\bname="reason"[^>]*>', form.group(0))
    value = re.search(r'\bvalue="([^"]*)"', reason.group(0)) if reason else None
    text = re.search(r'<textarea\b[^>]*\bname="text"[^>]*>(.*?)</textarea>', form.group(0), re.S)
    assert reason and text, "the addendum form lacks its fields"
    # The HTML parsing rules drop one newline right after <textarea>.
    typed_text = re.sub(r"\A\r?\n", "", text.group(1))
    return html.unescape(value.group(1) if value else ""), html.unescape(typed_text)


def form_actions(response) -> set[str]:
    """Where the page's forms post to."""
    return set(re.findall(r'<form\b[^>]*\baction="([^"]*)"', response.text))


# --- reading -----------------------------------------------------------------------------------


def test_team_leader_sees_a_practitioners_draft_read_only(client, auth, org, db):
    """The team leader may read the draft (R8: only its author edits it) and gets nothing to
    change, submit, acknowledge or correct it with."""
    auth.login("lee@example.org")
    before = snapshot(db().get(Contact, org.draft.id))
    page = client.get(f"/contacts/{org.draft.id}")
    text = page_text(page)
    assert page.status_code == 200
    assert "Draft" in text and "Draft words" in text
    assert form_actions(page) == {"/logout"}  # no edit, submit, delete, acknowledge or addendum
    assert snapshot(db().get(Contact, org.draft.id)) == before
    assert audit_actions(db, "contact", org.draft.id) == ["view"]


# --- acknowledgement ---------------------------------------------------------------------------


def test_team_leader_acknowledges_a_submitted_contact(client, auth, org, db):
    auth.login("lee@example.org")
    assert ">Acknowledge</button>" in client.get(f"/contacts/{org.contact.id}").text
    response = auth.post(f"/contacts/{org.contact.id}/acknowledge")
    assert response.status_code == 302
    contact = db().get(Contact, org.contact.id)
    assert contact.acknowledged_by_id == org.leader.id
    assert contact.acknowledged_at is not None
    assert audit_actions(db, "contact", org.contact.id).count("acknowledge") == 1
    page = client.get(f"/contacts/{org.contact.id}")
    assert f"Acknowledged by {org.leader.name}." in page.text
    assert ">Acknowledge</button>" not in page.text

    again = auth.post(f"/contacts/{org.contact.id}/acknowledge")
    assert again.status_code == 302
    assert audit_actions(db, "contact", org.contact.id).count("acknowledge") == 1


# --- the addendum form -------------------------------------------------------------------------


def test_team_leader_adds_an_addendum_on_the_contact_page(client, auth, org, db):
    auth.login("lee@example.org")
    response = auth.post(
        f"/contacts/{org.contact.id}/addenda",
        {
            "reason": "Wrong placement recorded",
            "text": "The visit was at the school, not the placement.",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/contacts/{org.contact.id}")
    (addendum,) = db().scalars(select(Addendum).where(Addendum.contact_id == org.contact.id))
    assert addendum.author_id == org.leader.id
    assert addendum.reason == "Wrong placement recorded"
    assert addendum.text == "The visit was at the school, not the placement."
    assert addendum.created_at is not None
    assert "addendum" in audit_actions(db, "contact", org.contact.id)

    page = page_text(client.get(f"/contacts/{org.contact.id}"))
    assert "Addendum added." in page
    assert f"{org.leader.name}, " in page and "Wrong placement recorded" in page
    assert "The visit was at the school, not the placement." in page
    contact = db().get(Contact, org.contact.id)
    assert (contact.child_views, contact.version) == ("I am fine.", 1)  # the original stays


def test_the_addendum_form_needs_a_reason_and_text_and_keeps_the_typing(
    client, auth, org, db, subtests
):
    auth.login("lee@example.org")
    for name, typed, message in (
        (
            "no reason",
            {"reason": "", "text": "Some correction"},
            "Reason for the addendum: Give the reason for the addendum.",
        ),
        ("no text", {"reason": "Typo", "text": "   "}, "Addendum: Enter the text of the addendum."),
    ):
        with subtests.test(msg=name):
            response = auth.post(f"/contacts/{org.contact.id}/addenda", typed)
            assert response.status_code == 422
            assert message in page_text(response)
            assert addendum_form_values(response) == (typed["reason"], typed["text"])
            assert db().scalars(select(Addendum)).all() == []
            assert "addendum" not in audit_actions(db, "contact", org.contact.id)


def test_a_draft_takes_no_addendum_on_the_page(client, auth, org, db):
    auth.login("lee@example.org")
    response = auth.post(
        f"/contacts/{org.draft.id}/addenda", {"reason": "Correction", "text": "Some text"}
    )
    assert response.status_code == 422
    assert "addenda are for submitted contacts" in page_text(response)
    assert db().scalars(select(Addendum)).all() == []


# --- reallocation by the team leader -----------------------------------------------------------


def allocation_rows(db, child_id):
    return [
        (a.practitioner_id, a.start_date, a.end_date, a.allocated_by_id, a.reason)
        for a in db().scalars(
            select(Allocation).where(Allocation.child_id == child_id).order_by(Allocation.id)
        )
    ]


def test_team_leader_reallocates_a_child_within_the_team(app, client, auth, org, db):
    today = org_today()
    pats_tablet = Tablet.signed_in(app.test_client(), "pat@example.org")
    pats_tablet.pull_all()
    auth.login("lee@example.org")
    response = auth.post(
        f"/children/{org.child.id}/reallocate",
        {"practitioner_id": str(org.colleague.id), "reason": "Pat on leave"},
    )
    assert response.status_code == 302
    assert f"now allocated to {org.colleague.name}" in page_text(
        client.get(response.headers["Location"])
    )
    assert db().get(Child, org.child.id).practitioner_id == org.colleague.id
    assert allocation_rows(db, org.child.id) == [
        (org.practitioner.id, org.child.care_start_date, today, None, None),
        (org.colleague.id, today, None, org.leader.id, "Pat on leave"),
    ]
    assert "reallocate" in audit_actions(db, "child", org.child.id)

    # Pat's tablet lets Mia go at its next sync and keeps Kai.
    page = pats_tablet.pull()
    assert ("child", str(org.child.id)) in {
        (p["record_type"], p["record_id"]) for p in page["purge"]
    }
    assert str(org.interstate_child.id) not in {p["record_id"] for p in page["purge"]}
    caseload = pats_tablet.client.get("/api/compliance").get_json()["rows"]
    assert [row["child_id"] for row in caseload] == [str(org.interstate_child.id)]
    # The colleague's tablet gets Mia.
    colleagues_tablet = Tablet.signed_in(app.test_client(), "col@example.org")
    children = {
        c["record_id"]
        for p in colleagues_tablet.pull_all()
        for c in p["changes"]
        if c["record_type"] == "child"
    }
    assert children == {str(org.child.id)}


def test_reallocation_to_another_teams_practitioner_is_refused(client, auth, org, db):
    auth.login("lee@example.org")
    before = allocation_rows(db, org.child.id)
    response = auth.post(
        f"/children/{org.child.id}/reallocate",
        {"practitioner_id": str(org.outsider.id), "reason": "Moving"},
    )
    assert response.status_code == 302
    page = page_text(client.get(response.headers["Location"]))
    assert "New practitioner: Choose a practitioner of the child's team." in page
    assert db().get(Child, org.child.id).practitioner_id == org.practitioner.id
    assert allocation_rows(db, org.child.id) == before
    assert "reallocate" not in audit_actions(db, "child", org.child.id)


# --- what a practitioner may not do ------------------------------------------------------------


def test_a_practitioner_cannot_acknowledge_or_reallocate(client, auth, org, db):
    """Team leaders' actions: refused to a practitioner, even for their own child. (Their
    `/contacts/<id>` and `/children/<id>` open the offline app, which offers neither.)"""
    auth.login("pat@example.org")
    contact_page = client.get(f"/contacts/{org.contact.id}").text
    assert f'action="/contacts/{org.contact.id}/acknowledge"' not in contact_page
    response = auth.post(f"/contacts/{org.contact.id}/acknowledge")
    assert response.status_code == 403
    assert "Only team leaders acknowledge contacts." in response.text
    contact = db().get(Contact, org.contact.id)
    assert contact.acknowledged_at is None and contact.acknowledged_by_id is None
    assert "acknowledge" not in audit_actions(db, "contact", org.contact.id)

    before = allocation_rows(db, org.child.id)
    child_page = client.get(f"/children/{org.child.id}").text
    assert f'action="/children/{org.child.id}/reallocate"' not in child_page
    response = auth.post(
        f"/children/{org.child.id}/reallocate",
        {"practitioner_id": str(org.colleague.id), "reason": "Swap"},
    )
    assert response.status_code == 404
    assert db().get(Child, org.child.id).practitioner_id == org.practitioner.id
    assert allocation_rows(db, org.child.id) == before


# --- audit -------------------------------------------------------------------------------------


def test_viewing_a_child_is_audited(client, auth, org, db):
    auth.login("lee@example.org")
    assert client.get(f"/children/{org.child.id}").status_code == 200
    (event,) = db().scalars(
        select(AuditEvent).where(
            AuditEvent.action == "view",
            AuditEvent.object_type == "child",
            AuditEvent.object_id == str(org.child.id),
        )
    )
    assert event.user_id == org.leader.id and event.outcome == "ok"
