"""Recording contacts, drafts, addenda and NT return visits through the sync API (R1, R2, R5–R8),
as the offline app does: the practitioner's tablet pushes, and what happened is read back where a
user would notice it. The result of each mutation (`applied`, or `rejected` with the field's
error), what is stored (read in a fresh transaction), what the practitioner's other tablet pulls,
and what the team leader sees on the server pages. The server's contact form is gone; its tests
(test_contacts.py) moved here."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

from sqlalchemy import func, select

from fieldapp.models import Addendum, AuditEvent, Contact, ReturnVisit

from ..factories import org_today
from .reading import audit_actions, page_text, snapshot
from .sync_helpers import Tablet, reallocate_child, statuses

PAT = "pat@example.org"


def complete_contact(today: date, **changes) -> dict:
    """A fully filled-in contact as the tablet sends it (SPEC §4 field names), a draft."""
    data = {
        "child_id": None,  # set by the caller
        "status": "draft",
        "contact_date": (today - timedelta(days=2)).isoformat(),
        "start_time": "14:30",
        "duration_minutes": 45,
        "mode": "face_to_face",
        "made_by": "practitioner",
        "third_party_name": None,
        "third_party_role": None,
        "child_seen": True,
        "seen_alone": True,
        "location": "placement",
        "location_detail": "Aunty's house in Palmerston",
        "child_views": "I like my new school.\nI want to see Mum on Saturdays.",
        "views_method": "play_or_drawing",
        "views_not_recorded_reason": None,
        "language_used": "Kriol",
        "interpreter_used": True,
        "worries": "Missed two family time visits this month.",
        "working_well": "Strong bond with carer; goes to school every day.",
        "needs_to_happen": "Arrange family time with Mum fortnightly.",
        "safety_scale": 7,
        "notes": "Carer asked about respite.",
        "participants": [
            {
                "role": "child",
                "name": "Mia Anderson",
                "took_part_in_decisions": True,
                "views_and_wishes": "Wants to see Mum more.",
                "feedback": None,
                "concerns": None,
            },
            {
                "role": "aboriginal_community_worker",
                "name": "Rosie Munkara",
                "took_part_in_decisions": False,
                "views_and_wishes": "Keep her connection to country strong.",
                "feedback": "The visit went well.",
                "concerns": "Transport to community is unreliable.",
            },
        ],
        "actions": [
            {
                "description": "Book family time with Mum",
                "responsible": "Pat Practitioner",
                "due_date": (today + timedelta(days=14)).isoformat(),
            }
        ],
    }
    data.update(changes)
    return data


def create_contact(tablet: Tablet, child_id, record_id=None, **changes) -> dict:
    data = complete_contact(org_today(), **changes)
    data["child_id"] = str(child_id)
    return tablet.mutation("create", "contact", record_id or uuid.uuid4(), data)


def result_of(response) -> dict:
    (result,) = response.get_json()["results"]
    return result


def pulled(tablet: Tablet, record_type: str) -> dict[str, dict]:
    """What the tablet holds of `record_type` after a full pull: record id → change."""
    return {
        change["record_id"]: change
        for page in tablet.pull_all()
        for change in page["changes"]
        if change["record_type"] == record_type
    }


def contact_ids(db, child_id) -> set[uuid.UUID]:
    return set(db().scalars(select(Contact.id).where(Contact.child_id == child_id)))


def contact_events(db) -> int:
    return db().scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.object_type == "contact")
    )


# --- recording, reopening and submitting -------------------------------------------------------


def test_a_complete_contact_saved_as_a_draft_then_submitted_is_kept_as_typed(
    app, client, auth, org, db
):
    today = org_today()
    tablet = Tablet.signed_in(app.test_client(), PAT)
    other = tablet.another()  # Pat's second tablet, where the draft is reopened
    created = create_contact(tablet, org.child.id)
    contact_id = uuid.UUID(created["record_id"])
    saved = result_of(tablet.push([created]))
    assert (saved["status"], saved["version"]) == ("applied", 1)

    contact = db().get(Contact, contact_id)
    assert contact.status == "draft" and contact.submitted_at is None
    assert contact.child_id == org.child.id and contact.author_id == org.practitioner.id
    assert (contact.contact_date, contact.start_time, contact.duration_minutes) == (
        today - timedelta(days=2),
        "14:30",
        45,
    )
    assert (contact.mode, contact.made_by, contact.child_seen, contact.seen_alone) == (
        "face_to_face",
        "practitioner",
        True,
        True,
    )
    assert (contact.location, contact.location_detail) == (
        "placement",
        "Aunty's house in Palmerston",
    )
    assert contact.child_views == "I like my new school.\nI want to see Mum on Saturdays."
    assert contact.views_method == "play_or_drawing"
    assert (contact.language_used, contact.interpreter_used) == ("Kriol", True)
    assert contact.worries == "Missed two family time visits this month."
    assert contact.working_well == "Strong bond with carer; goes to school every day."
    assert contact.needs_to_happen == "Arrange family time with Mum fortnightly."
    assert contact.safety_scale == 7 and contact.notes == "Carer asked about respite."
    assert contact.third_party_name is None and contact.views_not_recorded_reason is None
    assert [
        (p.role, p.name, p.took_part_in_decisions, p.views_and_wishes, p.feedback, p.concerns)
        for p in contact.participants
    ] == [
        ("child", "Mia Anderson", True, "Wants to see Mum more.", None, None),
        (
            "aboriginal_community_worker",
            "Rosie Munkara",
            False,
            "Keep her connection to country strong.",
            "The visit went well.",
            "Transport to community is unreliable.",
        ),
    ]
    assert [(a.description, a.responsible, a.due_date) for a in contact.actions] == [
        ("Book family time with Mum", "Pat Practitioner", today + timedelta(days=14))
    ]

    # Reopened on the other tablet: every field comes back as it was typed.
    draft = pulled(other, "contact")[str(contact_id)]
    assert draft["version"] == 1
    assert draft["data"] == created["data"] | {"author_id": org.practitioner.id}

    submitted = tablet.push([tablet.mutation("submit", "contact", contact_id)])
    assert result_of(submitted)["status"] == "applied"
    assert result_of(submitted)["version"] == 2
    contact = db().get(Contact, contact_id)
    assert contact.status == "submitted" and contact.submitted_at is not None
    assert contact.version == 2
    assert len(contact.participants) == 2 and len(contact.actions) == 1
    assert contact.child_views == "I like my new school.\nI want to see Mum on Saturdays."
    assert audit_actions(db, "contact", contact_id)[:1] == ["create"]
    assert audit_actions(db, "contact", contact_id).count("submit") == 1
    again = [c for c in other.pull()["changes"] if c["record_type"] == "contact"]
    assert [(c["record_id"], c["version"], c["data"]["status"]) for c in again] == [
        (str(contact_id), 2, "submitted")
    ]

    # The team leader reads it on the server, read-only, with the addendum form.
    auth.login("lee@example.org")
    shown = client.get(f"/contacts/{contact_id}")
    text = page_text(shown)
    assert shown.status_code == 200
    assert "Submitted" in text and "Recorded by Pat Practitioner" in text
    assert "Rosie Munkara" in text and "Book family time with Mum" in text
    assert "I want to see Mum on Saturdays." in text
    assert "Add addendum" in text


def test_a_contact_submitted_directly_counts_as_the_last_contact(app, client, auth, org, db):
    today = org_today()
    tablet = Tablet.signed_in(app.test_client(), PAT)
    tablet.pull_all()
    created = create_contact(
        tablet, org.child.id, status="submitted", contact_date=today.isoformat()
    )
    assert statuses(tablet.push([created])) == ["applied"]
    contact_id = uuid.UUID(created["record_id"])
    assert db().get(Contact, contact_id).status == "submitted"
    assert audit_actions(db, "contact", contact_id)[:2] == ["create", "submit"]

    due = today + timedelta(days=42)
    # On the practitioner's tablet: the child comes again with the new dates.
    child = pulled(tablet, "child")[str(org.child.id)]["data"]
    assert (child["last_qualifying_contact_date"], child["due_date"]) == (
        today.isoformat(),
        due.isoformat(),
    )
    # In the compliance API (the practitioner's own caseload).
    rows = {r["child_id"]: r for r in tablet.client.get("/api/compliance").get_json()["rows"]}
    assert (rows[str(org.child.id)]["last_contact_date"], rows[str(org.child.id)]["due_date"]) == (
        today.isoformat(),
        due.isoformat(),
    )
    # On the team leader's child page.
    auth.login("lee@example.org")
    child_page = page_text(client.get(f"/children/{org.child.id}"))
    assert f"Last face-to-face contact: {today:%d/%m/%Y}" in child_page
    assert f"next due {due:%d/%m/%Y}" in child_page


def test_a_draft_may_be_incomplete_but_submitting_it_needs_the_third_party(app, org, db):
    """Drafts may be incomplete; the completeness rules apply when submitting."""
    tablet = Tablet.signed_in(app.test_client(), PAT)
    created = create_contact(tablet, org.child.id, made_by="third_party")
    contact_id = uuid.UUID(created["record_id"])
    assert statuses(tablet.push([created])) == ["applied"]
    contact = db().get(Contact, contact_id)
    assert (contact.status, contact.made_by, contact.third_party_name) == (
        "draft",
        "third_party",
        None,
    )

    refused = result_of(tablet.push([tablet.mutation("submit", "contact", contact_id)]))
    assert refused["status"] == "rejected"
    assert refused["errors"] == {
        "third_party_name": ["Enter the name of the third party who made the contact."],
        "third_party_role": ["Enter the role of the third party who made the contact."],
    }
    contact = db().get(Contact, contact_id)
    assert (contact.status, contact.submitted_at) == ("draft", None)

    completed = tablet.update_contact(
        contact_id,
        third_party_name=(None, "Dana Reid"),
        third_party_role=(None, "Interstate caseworker"),
    )
    done = tablet.push([completed, tablet.mutation("submit", "contact", contact_id)])
    assert statuses(done) == ["applied", "applied"]
    contact = db().get(Contact, contact_id)
    assert (contact.status, contact.third_party_name, contact.third_party_role) == (
        "submitted",
        "Dana Reid",
        "Interstate caseworker",
    )


# --- validation: rejected, the field named, nothing written ------------------------------------


def _validation_cases(today: date, care_start: date):
    """(name, changes to a complete submitted contact, the errors the result carries)."""
    scale = ["The safety scale must be a whole number from 0 to 10."]
    third_party_name = ["Enter the name of the third party who made the contact."]
    third_party_role = ["Enter the role of the third party who made the contact."]
    no_role = complete_contact(today)["participants"]
    no_role[1] = no_role[1] | {"role": ""}
    return [
        (
            "contact date in the future",
            {"contact_date": (today + timedelta(days=1)).isoformat()},
            {"contact_date": ["The date of contact cannot be in the future."]},
        ),
        (
            "contact date before care start",
            {"contact_date": (care_start - timedelta(days=1)).isoformat()},
            {
                "contact_date": [
                    "The date of contact cannot be before the child came into care "
                    f"({care_start:%d/%m/%Y})."
                ]
            },
        ),
        (
            "third party without name or role",
            {"made_by": "third_party", "third_party_name": "", "third_party_role": " "},
            {"third_party_name": third_party_name, "third_party_role": third_party_role},
        ),
        (
            "third party without role",
            {"made_by": "third_party", "third_party_name": "Dana Reid", "third_party_role": None},
            {"third_party_role": third_party_role},
        ),
        (
            "third party without name",
            {"made_by": "third_party", "third_party_name": None, "third_party_role": "Caseworker"},
            {"third_party_name": third_party_name},
        ),
        (
            "face-to-face without the child's views or a reason (R6)",
            {"child_views": "", "views_method": None, "views_not_recorded_reason": None},
            {
                "views_not_recorded_reason": [
                    "Record the child's views in their own words, or give the reason they were "
                    "not recorded (for example an infant, or the child declined)."
                ]
            },
        ),
        ("safety scale above 10", {"safety_scale": 11}, {"safety_scale": scale}),
        ("safety scale below 0", {"safety_scale": -1}, {"safety_scale": scale}),
        (
            "safety scale not a number",
            {"safety_scale": "seven"},
            {"safety_scale": ["Must be a whole number."]},
        ),
        (
            "participant without a role",
            {"participants": no_role},
            {"participants-1-role": ["Participant 2: choose a role."]},
        ),
    ]


def test_each_rule_refuses_a_new_contact_naming_the_field(app, org, db, subtests):
    today = org_today()
    tablet = Tablet.signed_in(app.test_client(), PAT)
    other = tablet.another()
    other.pull_all()
    before = contact_ids(db, org.child.id)
    events_before = contact_events(db)
    for name, changes, errors in _validation_cases(today, org.child.care_start_date):
        with subtests.test(msg=name):
            refused = create_contact(tablet, org.child.id, status="submitted", **changes)
            result = result_of(tablet.push([refused]))
            assert (result["status"], result["errors"]) == ("rejected", errors)
            assert contact_ids(db, org.child.id) == before
            assert contact_events(db) == events_before
            assert refused["record_id"] not in pulled(other, "contact")
    # The same contact without the mistake goes through: the rules, not the contact, refused it.
    assert statuses(tablet.push([create_contact(tablet, org.child.id, status="submitted")])) == [
        "applied"
    ]


def test_saving_a_draft_applies_the_rules_that_make_it_wrong(app, org, db):
    """A draft may be incomplete, but never wrong: a future date or a safety scale of 11 is
    refused even when only saving a draft, and the draft keeps what it had."""
    today = org_today()
    future = (today + timedelta(days=3)).isoformat()
    tablet = Tablet.signed_in(app.test_client(), PAT)
    before_ids = contact_ids(db, org.child.id)
    new = result_of(tablet.push([create_contact(tablet, org.child.id, contact_date=future)]))
    assert (new["status"], new["errors"]) == (
        "rejected",
        {"contact_date": ["The date of contact cannot be in the future."]},
    )
    assert contact_ids(db, org.child.id) == before_ids

    before = snapshot(db().get(Contact, org.draft.id))
    was = org.draft.contact_date.isoformat()
    for change, errors in (
        (
            {"contact_date": (was, future)},
            {"contact_date": ["The date of contact cannot be in the future."]},
        ),
        (
            {"safety_scale": (None, 11)},
            {"safety_scale": ["The safety scale must be a whole number from 0 to 10."]},
        ),
    ):
        result = result_of(tablet.push([tablet.update_contact(org.draft.id, **change)]))
        assert (result["status"], result["errors"]) == ("rejected", errors)
        assert snapshot(db().get(Contact, org.draft.id)) == before
    # A right change to the same draft is saved.
    assert statuses(tablet.push([tablet.update_contact(org.draft.id, safety_scale=(None, 6))])) == [
        "applied"
    ]
    assert db().get(Contact, org.draft.id).safety_scale == 6


# --- who may change what (R8) ------------------------------------------------------------------


def test_a_submitted_contact_cannot_be_edited_or_submitted_again(app, org, db):
    tablet = Tablet.signed_in(app.test_client(), PAT)
    before = snapshot(db().get(Contact, org.contact.id))
    edit = result_of(
        tablet.push(
            [tablet.update_contact(org.contact.id, child_views=("I am fine.", "Changed words"))]
        )
    )
    assert edit["status"] == "rejected"
    assert list(edit["errors"]) == ["record_id"]
    assert "can no longer be edited" in edit["errors"]["record_id"][0]
    assert "add an addendum" in edit["errors"]["record_id"][0]
    assert snapshot(db().get(Contact, org.contact.id)) == before

    again = result_of(tablet.push([tablet.mutation("submit", "contact", org.contact.id)]))
    assert (again["status"], again["errors"]) == (
        "rejected",
        {"record_id": ["This contact is already submitted."]},
    )
    assert snapshot(db().get(Contact, org.contact.id)) == before
    assert audit_actions(db, "contact", org.contact.id) == []


def test_only_the_author_may_edit_submit_or_delete_a_draft(app, org, db):
    """The team leader holds the practitioner's draft on their tablet but may not change it."""
    leader = Tablet.signed_in(app.test_client(), "lee@example.org")
    held = pulled(leader, "contact")
    assert held[str(org.draft.id)]["data"]["child_views"] == "Draft words"  # the leader sees it
    before = snapshot(db().get(Contact, org.draft.id))
    # Submit first: a submit right after a refused edit is refused for that reason instead.
    answer = leader.push(
        [
            leader.mutation("submit", "contact", org.draft.id),
            leader.mutation("delete", "contact", org.draft.id),
            leader.update_contact(org.draft.id, child_views=("Draft words", "Leader's words")),
        ]
    ).get_json()
    assert [(r["status"], r["errors"]) for r in answer["results"]] == [
        ("rejected", {"record_id": ["Only the author of a draft can edit it."]})
    ] * 3
    assert snapshot(db().get(Contact, org.draft.id)) == before
    assert audit_actions(db, "contact", org.draft.id) == []


def test_a_colleague_cannot_see_or_change_another_practitioners_draft(app, engine, org, db):
    colleague = Tablet.signed_in(app.test_client(), "col@example.org")
    before = snapshot(db().get(Contact, org.draft.id))
    not_yours = {"record_id": ["No such contact, or it is no longer on your caseload."]}

    def try_to_change() -> None:
        answer = colleague.push(
            [
                colleague.update_contact(org.draft.id, child_views=("Draft words", "Col's words")),
                colleague.mutation("delete", "contact", org.draft.id),
            ]
        ).get_json()
        assert [(r["status"], r["errors"]) for r in answer["results"]] == [
            ("rejected", not_yours)
        ] * 2
        assert snapshot(db().get(Contact, org.draft.id)) == before

    assert str(org.draft.id) not in pulled(colleague, "contact")
    try_to_change()

    # Even once the colleague holds the child, Pat's draft stays Pat's: the colleague's tablet
    # gets the submitted contact, not the draft.
    reallocate_child(engine, org.leader.id, org.child.id, org.colleague.id, org_today())
    held = pulled(colleague, "contact")
    assert str(org.contact.id) in held
    assert str(org.draft.id) not in held
    try_to_change()


# --- addenda -----------------------------------------------------------------------------------


def test_an_addendum_corrects_a_submitted_contact(app, client, auth, org, db):
    tablet = Tablet.signed_in(app.test_client(), PAT)
    other = tablet.another()
    addendum_id = uuid.uuid4()
    data = {
        "contact_id": str(org.contact.id),
        "reason": "Wrong placement recorded",
        "text": "The visit was at the school, not the placement.",
    }
    result = result_of(tablet.push([tablet.mutation("create", "addendum", addendum_id, data)]))
    assert (result["status"], result["version"]) == ("applied", 1)

    (addendum,) = db().scalars(select(Addendum).where(Addendum.contact_id == org.contact.id))
    assert addendum.id == addendum_id
    assert addendum.author_id == org.practitioner.id
    assert addendum.reason == "Wrong placement recorded"
    assert addendum.text == "The visit was at the school, not the placement."
    assert addendum.created_at is not None
    assert "addendum" in audit_actions(db, "contact", org.contact.id)
    contact = db().get(Contact, org.contact.id)
    assert (contact.child_views, contact.version) == ("I am fine.", 1)  # the original stays

    on_other = pulled(other, "addendum")[str(addendum_id)]["data"]
    assert (on_other["contact_id"], on_other["reason"], on_other["text"]) == (
        str(org.contact.id),
        "Wrong placement recorded",
        "The visit was at the school, not the placement.",
    )
    assert on_other["author_id"] == org.practitioner.id

    auth.login("lee@example.org")
    page = page_text(client.get(f"/contacts/{org.contact.id}"))
    assert "Pat Practitioner" in page and "Wrong placement recorded" in page
    assert "The visit was at the school, not the placement." in page
    assert "No addenda." not in page


def test_an_addendum_needs_a_reason_and_text(app, org, db, subtests):
    tablet = Tablet.signed_in(app.test_client(), PAT)
    for name, typed, errors in (
        (
            "no reason",
            {"reason": "", "text": "Some correction"},
            {"reason": ["Give the reason for the addendum."]},
        ),
        (
            "no text",
            {"reason": "Typo", "text": "   "},
            {"text": ["Enter the text of the addendum."]},
        ),
        (
            "neither",
            {},
            {
                "reason": ["Give the reason for the addendum."],
                "text": ["Enter the text of the addendum."],
            },
        ),
    ):
        with subtests.test(msg=name):
            data = {"contact_id": str(org.contact.id), **typed}
            result = result_of(
                tablet.push([tablet.mutation("create", "addendum", uuid.uuid4(), data)])
            )
            assert (result["status"], result["errors"]) == ("rejected", errors)
            assert db().scalars(select(Addendum)).all() == []
            assert "addendum" not in audit_actions(db, "contact", org.contact.id)


def test_a_draft_takes_no_addendum(app, org, db):
    tablet = Tablet.signed_in(app.test_client(), PAT)
    data = {"contact_id": str(org.draft.id), "reason": "Correction", "text": "Some text"}
    result = result_of(tablet.push([tablet.mutation("create", "addendum", uuid.uuid4(), data)]))
    assert (result["status"], result["errors"]) == (
        "rejected",
        {"contact_id": ["A draft can be edited directly; addenda are for submitted contacts."]},
    )
    assert db().scalars(select(Addendum)).all() == []
    assert "addendum" not in audit_actions(db, "contact", org.draft.id)


# --- deleting drafts ---------------------------------------------------------------------------


def test_the_author_deletes_a_draft_but_not_a_submitted_contact(app, client, auth, org, db):
    """What test_sync_pull's delete test leaves out: the deletion is audited, the refusal says
    why, and the team leader's child page no longer lists the draft."""
    auth.login("lee@example.org")

    def listed() -> set[str]:
        page = client.get(f"/children/{org.child.id}").text
        return set(re.findall(r'href="/contacts/([0-9a-f-]{36})"', page))

    assert listed() == {str(org.contact.id), str(org.draft.id)}
    tablet = Tablet.signed_in(app.test_client(), PAT)
    answer = tablet.push(
        [
            tablet.mutation("delete", "contact", org.draft.id),
            tablet.mutation("delete", "contact", org.contact.id),
        ]
    ).get_json()
    deleted, refused = answer["results"]
    assert deleted["status"] == "applied"
    assert db().get(Contact, org.draft.id) is None
    assert "delete_draft" in audit_actions(db, "contact", org.draft.id)

    assert refused["status"] == "rejected"
    assert "can no longer be edited" in refused["errors"]["record_id"][0]
    assert db().get(Contact, org.contact.id) is not None
    assert "delete_draft" not in audit_actions(db, "contact", org.contact.id)
    assert listed() == {str(org.contact.id)}


# --- return visits (R2) ------------------------------------------------------------------------


def return_visit(tablet: Tablet, child_id, arrival: date, departure: date, note=None) -> dict:
    data = {
        "child_id": str(child_id),
        "arrival_date": arrival.isoformat(),
        "departure_date": departure.isoformat(),
    }
    if note is not None:
        data["arrangement_note"] = note
    return tablet.mutation("create", "return_visit", uuid.uuid4(), data)


def test_record_a_return_visit_for_an_interstate_child(app, client, auth, org, db):
    today = org_today()
    arrival, departure = today + timedelta(days=20), today + timedelta(days=27)
    note = "School holidays; contact planned for day two (My Care Plan)."
    tablet = Tablet.signed_in(app.test_client(), PAT)
    other = tablet.another()
    visit = return_visit(tablet, org.interstate_child.id, arrival, departure, note)
    result = result_of(tablet.push([visit]))
    assert (result["status"], result["version"]) == ("applied", 1)

    visits = (
        db()
        .scalars(
            select(ReturnVisit).where(
                ReturnVisit.child_id == org.interstate_child.id, ReturnVisit.id != org.visit.id
            )
        )
        .all()
    )
    assert [
        (str(v.id), v.arrival_date, v.departure_date, v.arrangement_note, v.created_by_id)
        for v in visits
    ] == [(visit["record_id"], arrival, departure, note, org.practitioner.id)]
    assert audit_actions(db, "return_visit", visits[0].id) == ["create"]

    assert pulled(other, "return_visit")[visit["record_id"]]["data"] == visit["data"]
    rows = {r["child_id"]: r for r in tablet.client.get("/api/compliance").get_json()["rows"]}
    assert [
        (v["arrival_date"], v["departure_date"])
        for v in rows[str(org.interstate_child.id)]["return_visits"]
    ] == [
        (org.visit.arrival_date.isoformat(), org.visit.departure_date.isoformat()),
        (arrival.isoformat(), departure.isoformat()),
    ]
    auth.login("lee@example.org")
    child_page = page_text(client.get(f"/children/{org.interstate_child.id}"))
    assert f"{arrival:%d/%m/%Y} – {departure:%d/%m/%Y}" in child_page
    assert note in child_page


def test_a_return_visit_cannot_depart_before_it_arrives(app, org, db):
    today = org_today()
    tablet = Tablet.signed_in(app.test_client(), PAT)
    visit = return_visit(
        tablet,
        org.interstate_child.id,
        today + timedelta(days=10),
        today + timedelta(days=9),
        "Christmas visit",
    )
    result = result_of(tablet.push([visit]))
    assert (result["status"], result["errors"]) == (
        "rejected",
        {"departure_date": ["The departure date cannot be before the arrival date."]},
    )
    assert db().scalars(select(ReturnVisit.id)).all() == [org.visit.id]


def test_no_return_visits_for_a_child_living_in_the_nt(app, org, db):
    today = org_today()
    tablet = Tablet.signed_in(app.test_client(), PAT)
    visit = return_visit(tablet, org.child.id, today, today + timedelta(days=3))
    result = result_of(tablet.push([visit]))
    assert (result["status"], result["errors"]) == (
        "rejected",
        {"child_id": ["Return visits are recorded for children who live or board interstate."]},
    )
    assert db().scalars(select(ReturnVisit).where(ReturnVisit.child_id == org.child.id)).all() == []
