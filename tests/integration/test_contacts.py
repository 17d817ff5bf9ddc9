"""Recording contacts through the web pages (R1, R2, R5–R8): drafts, submitting, the validation
rules with their field-named errors, addenda, acknowledgement, deleting drafts, return visits and
reallocation by a team leader. Every test checks what a user would notice (the page and its status)
and what is stored (read back from the database in a fresh transaction)."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from html.parser import HTMLParser

from sqlalchemy import func, select

from fieldapp.models import (
    Addendum,
    Allocation,
    AuditEvent,
    Child,
    Contact,
    ReturnVisit,
)

from ..factories import org_today

BUTTONS = ("save_draft", "submit", "add_participant", "add_action")


def page_text(response) -> str:
    """The page as a reader sees it: tags removed, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


class _FormValues(HTMLParser):
    """What a browser would send from the first form `is_wanted(attributes)` picks: text
    inputs, checked checkboxes, the selected option of each select, textarea contents."""

    def __init__(self, is_wanted):
        super().__init__(convert_charrefs=True)
        self.is_wanted = is_wanted
        self.inside = False
        self.done = False
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self.done and self.is_wanted(attrs):
            self.inside = True
            return
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind == "checkbox":
                if "checked" in attrs:
                    self.values[name] = attrs.get("value") or "on"
            elif kind not in ("submit", "button"):
                self.values[name] = attrs.get("value") or ""
        elif tag == "select":
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = attrs.get("value") or ""
            if self._first_option is None:
                self._first_option = value
            if "selected" in attrs:
                self.values[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "form":
            self.inside, self.done = False, True
        elif tag == "select" and self._select:
            self.values.setdefault(self._select, self._first_option or "")
            self._select = None
        elif tag == "textarea" and self._textarea:
            # The HTML parsing rules drop one newline right after <textarea>.
            text = self.values[self._textarea]
            self.values[self._textarea] = (
                text[2:]
                if text.startswith("\r\n")
                else (text[1:] if text.startswith("\n") else text)
            )
            self._textarea = None

    def handle_data(self, data):
        if self.inside and self._textarea:
            self.values[self._textarea] += data


def form_values(response, is_wanted) -> dict[str, str]:
    parser = _FormValues(is_wanted)
    parser.feed(response.text)
    assert parser.done, "the page has no such form"
    return parser.values


def contact_form_values(response) -> dict[str, str]:
    return form_values(response, lambda attrs: "contact-form" in (attrs.get("class") or "").split())


def addendum_form_values(response) -> dict[str, str]:
    return form_values(response, lambda attrs: (attrs.get("action") or "").endswith("/addenda"))


def assert_form_shows(response, typed: dict[str, str]) -> None:
    """Every value the user typed is on the re-displayed form; blank fields stay blank."""
    shown = contact_form_values(response)
    for name, value in typed.items():
        if name in BUTTONS or name == "csrf_token":
            continue
        assert shown.get(name, "") == value, f"{name}: shown {shown.get(name)!r}, typed {value!r}"


def complete_contact(today: date, **changes: str) -> dict[str, str]:
    """A fully filled-in contact form, as a browser posts it (field names of SPEC §4, the
    participant and action lists as WTForms FieldList names)."""
    data = {
        "contact_date": (today - timedelta(days=2)).isoformat(),
        "start_time": "14:30",
        "duration_minutes": "45",
        "mode": "face_to_face",
        "made_by": "practitioner",
        "third_party_name": "",
        "third_party_role": "",
        "child_seen": "y",
        "seen_alone": "y",
        "location": "placement",
        "location_detail": "Aunty's house in Palmerston",
        "child_views": "I like my new school.\nI want to see Mum on Saturdays.",
        "views_method": "play_or_drawing",
        "views_not_recorded_reason": "",
        "language_used": "Kriol",
        "interpreter_used": "y",
        "worries": "Missed two family time visits this month.",
        "working_well": "Strong bond with carer; goes to school every day.",
        "needs_to_happen": "Arrange family time with Mum fortnightly.",
        "safety_scale": "7",
        "notes": "Carer asked about respite.",
        "participants-0-role": "child",
        "participants-0-name": "Mia Anderson",
        "participants-0-took_part_in_decisions": "y",
        "participants-0-views_and_wishes": "Wants to see Mum more.",
        "participants-0-feedback": "",
        "participants-0-concerns": "",
        "participants-1-role": "aboriginal_community_worker",
        "participants-1-name": "Rosie Munkara",
        "participants-1-views_and_wishes": "Keep her connection to country strong.",
        "participants-1-feedback": "The visit went well.",
        "participants-1-concerns": "Transport to community is unreliable.",
        "actions-0-description": "Book family time with Mum",
        "actions-0-responsible": "Pat Practitioner",
        "actions-0-due_date": (today + timedelta(days=14)).isoformat(),
    }
    data.update(changes)
    return data


def contacts_of(db, child_id) -> list[Contact]:
    return list(db().scalars(select(Contact).where(Contact.child_id == child_id)))


def audit_actions(db, object_type: str, object_id) -> list[str]:
    return list(
        db().scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == object_type, AuditEvent.object_id == str(object_id))
            .order_by(AuditEvent.id)
        )
    )


def snapshot(contact: Contact) -> dict:
    """Everything a user could see change on a contact."""
    return {
        "status": contact.status, "version": contact.version,
        "contact_date": contact.contact_date, "child_views": contact.child_views,
        "mode": contact.mode, "safety_scale": contact.safety_scale,
        "submitted_at": contact.submitted_at, "acknowledged_at": contact.acknowledged_at,
        "participants": [(p.role, p.name) for p in contact.participants],
        "actions": [a.description for a in contact.actions],
    }  # fmt: skip


# --- recording, reopening and submitting -------------------------------------------------------


def test_record_a_complete_contact_as_draft_reopen_it_and_submit(client, auth, org, db):
    today = org_today()
    auth.login("pat@example.org")
    blank = client.get(f"/children/{org.child.id}/contacts/new")
    assert blank.status_code == 200
    assert contact_form_values(blank)["contact_date"] == today.isoformat()
    assert contact_form_values(blank)["participants-0-role"] == "child"
    assert contact_form_values(blank)["participants-0-name"] == "Mia Anderson"

    data = complete_contact(today)
    saved = auth.post(
        f"/children/{org.child.id}/contacts/new", {**data, "save_draft": "Save draft"}
    )
    assert saved.status_code == 302
    new = [c for c in contacts_of(db, org.child.id) if c.id not in (org.contact.id, org.draft.id)]
    assert len(new) == 1
    contact = new[0]
    assert saved.headers["Location"].endswith(f"/contacts/{contact.id}")
    assert contact.status == "draft" and contact.submitted_at is None
    assert contact.author_id == org.practitioner.id
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

    reopened = client.get(f"/contacts/{contact.id}")
    assert reopened.status_code == 200
    assert "Draft contact" in reopened.text
    assert_form_shows(reopened, data)
    assert contact_form_values(reopened).get("participants-1-took_part_in_decisions") is None

    submitted = auth.post(f"/contacts/{contact.id}", {**data, "submit": "Submit"})
    assert submitted.status_code == 302
    contact = db().get(Contact, contact.id)
    assert contact.status == "submitted" and contact.submitted_at is not None
    assert contact.version == 2
    assert len(contact.participants) == 2 and len(contact.actions) == 1
    assert audit_actions(db, "contact", contact.id)[:1] == ["create"]
    assert audit_actions(db, "contact", contact.id).count("submit") == 1

    shown = client.get(f"/contacts/{contact.id}")
    text = page_text(shown)
    assert shown.status_code == 200
    assert "Submitted" in text and "Rosie Munkara" in text and "Book family time with Mum" in text
    assert "I want to see Mum on Saturdays." in text
    assert 'class="contact-form"' not in shown.text  # read-only now
    assert "Add addendum" in text


def test_a_contact_can_be_submitted_directly_and_counts_as_the_last_contact(client, auth, org, db):
    today = org_today()
    auth.login("pat@example.org")
    response = auth.post(
        f"/children/{org.child.id}/contacts/new",
        {**complete_contact(today, contact_date=today.isoformat()), "submit": "Submit"},
    )
    assert response.status_code == 302
    (contact,) = [
        c for c in contacts_of(db, org.child.id) if c.id not in (org.contact.id, org.draft.id)
    ]
    assert contact.status == "submitted"
    assert audit_actions(db, "contact", contact.id)[:2] == ["create", "submit"]
    child_page = page_text(client.get(f"/children/{org.child.id}"))
    assert f"Last face-to-face contact: {today:%d/%m/%Y}" in child_page
    due = today + timedelta(days=42)
    assert f"next due {due:%d/%m/%Y}" in child_page


def test_a_draft_may_be_incomplete_but_submitting_it_needs_the_third_party(client, auth, org, db):
    """Drafts may be incomplete; the completeness rules apply when submitting."""
    today = org_today()
    auth.login("pat@example.org")
    data = complete_contact(today, made_by="third_party", third_party_name="", third_party_role="")
    draft = auth.post(
        f"/children/{org.child.id}/contacts/new", {**data, "save_draft": "Save draft"}
    )
    assert draft.status_code == 302
    (contact,) = [
        c for c in contacts_of(db, org.child.id) if c.id not in (org.contact.id, org.draft.id)
    ]
    assert contact.status == "draft" and contact.made_by == "third_party"

    refused = auth.post(f"/contacts/{contact.id}", {**data, "submit": "Submit"})
    assert refused.status_code == 422
    assert "Third party name: Enter the name" in page_text(refused)
    assert db().get(Contact, contact.id).status == "draft"

    done = auth.post(
        f"/contacts/{contact.id}",
        {
            **data,
            "third_party_name": "Dana Reid",
            "third_party_role": "Interstate caseworker",
            "submit": "Submit",
        },
    )
    assert done.status_code == 302
    contact = db().get(Contact, contact.id)
    assert (contact.status, contact.third_party_name, contact.third_party_role) == (
        "submitted",
        "Dana Reid",
        "Interstate caseworker",
    )


# --- validation: 422, the field named, nothing written, nothing the user typed lost -------------


def _validation_cases(today: date, care_start: date):
    future = (today + timedelta(days=1)).isoformat()
    before_care = (care_start - timedelta(days=1)).isoformat()
    return [
        (
            "contact date in the future",
            {"contact_date": future},
            ["Date of contact: The date of contact cannot be in the future."],
            "contact_date",
        ),
        (
            "contact date before care start",
            {"contact_date": before_care},
            [
                "Date of contact: The date of contact cannot be before the child came into care "
                f"({care_start:%d/%m/%Y})."
            ],
            "contact_date",
        ),
        (
            "third party without name or role",
            {"made_by": "third_party", "third_party_name": "", "third_party_role": ""},
            [
                "Third party name: Enter the name of the third party",
                "Third party role: Enter the role of the third party",
            ],
            "third_party_name",
        ),
        (
            "third party without role",
            {"made_by": "third_party", "third_party_name": "Dana Reid", "third_party_role": ""},
            ["Third party role: Enter the role of the third party"],
            "third_party_role",
        ),
        (
            "third party without name",
            {"made_by": "third_party", "third_party_name": "", "third_party_role": "Caseworker"},
            ["Third party name: Enter the name of the third party"],
            "third_party_name",
        ),
        (
            "face-to-face without the child's views or a reason (R6)",
            {"child_views": "", "views_method": "", "views_not_recorded_reason": ""},
            [
                "Reason views were not recorded: Record the child's views in their own words, or "
                "give the reason"
            ],
            "views_not_recorded_reason",
        ),
        (
            "safety scale above 10",
            {"safety_scale": "11"},
            ["Safety scale: The safety scale must be a whole number from 0 to 10."],
            "safety_scale",
        ),
        (
            "safety scale below 0",
            {"safety_scale": "-1"},
            ["Safety scale: The safety scale must be a whole number from 0 to 10."],
            "safety_scale",
        ),
        (
            "safety scale not a number",
            {"safety_scale": "seven"},
            ["Safety scale: "],
            "safety_scale",
        ),
        (
            "participant without a role",
            {"participants-1-role": ""},
            ["Participant 2 role: Participant 2: choose a role."],
            "participants-1-role",
        ),
    ]


def test_each_rule_refuses_a_new_contact_naming_the_field(client, auth, org, db, subtests):
    today = org_today()
    auth.login("pat@example.org")
    before = {c.id for c in contacts_of(db, org.child.id)}
    events_before = db().scalar(select(func.count()).select_from(AuditEvent))
    for name, changes, messages, field_id in _validation_cases(today, org.child.care_start_date):
        with subtests.test(msg=name):
            typed = complete_contact(today, **changes)
            response = auth.post(
                f"/children/{org.child.id}/contacts/new", {**typed, "submit": "Submit"}
            )
            assert response.status_code == 422
            text = page_text(response)
            assert "There is a problem" in text
            for message in messages:
                assert message in text
            assert f'href="#{field_id}"' in response.text  # the summary links to the field
            assert f'id="{field_id}-error"' in response.text  # and the field shows its error
            assert_form_shows(response, typed)  # nothing the user typed is lost
            assert {c.id for c in contacts_of(db, org.child.id)} == before
            assert db().scalar(select(func.count()).select_from(AuditEvent)) == events_before


def test_saving_a_draft_applies_the_rules_that_make_it_wrong(client, auth, org, db):
    """A draft may be incomplete, but never wrong: a future date or a safety scale of 11 is
    refused even when only saving a draft, and the draft keeps what it had."""
    today = org_today()
    auth.login("pat@example.org")
    before = snapshot(db().get(Contact, org.draft.id))
    for changes, message in (
        (
            {"contact_date": (today + timedelta(days=3)).isoformat()},
            "Date of contact: The date of contact cannot be in the future.",
        ),
        ({"safety_scale": "11"}, "Safety scale: The safety scale must be a whole number"),
    ):
        typed = complete_contact(today, **changes)
        response = auth.post(f"/contacts/{org.draft.id}", {**typed, "save_draft": "Save draft"})
        assert response.status_code == 422
        assert message in page_text(response)
        assert_form_shows(response, typed)
        assert snapshot(db().get(Contact, org.draft.id)) == before


def test_a_submitted_contact_cannot_be_edited(client, auth, org, db):
    auth.login("pat@example.org")
    before = snapshot(db().get(Contact, org.contact.id))
    response = auth.post(
        f"/contacts/{org.contact.id}",
        {**complete_contact(org_today(), child_views="Changed words"), "save_draft": "Save draft"},
    )
    assert response.status_code == 409
    assert "can no longer be edited" in page_text(response)
    assert "Add an addendum" in page_text(response)
    assert snapshot(db().get(Contact, org.contact.id)) == before
    again = auth.post(
        f"/contacts/{org.contact.id}", {**complete_contact(org_today()), "submit": "Submit"}
    )
    assert again.status_code == 409
    assert snapshot(db().get(Contact, org.contact.id)) == before


def test_only_the_author_may_edit_or_delete_a_draft(client, auth, org, db):
    """The team leader sees the practitioner's draft but may not change or delete it."""
    auth.login("lee@example.org")
    before = snapshot(db().get(Contact, org.draft.id))
    page = client.get(f"/contacts/{org.draft.id}")
    assert page.status_code == 200
    assert 'class="contact-form"' not in page.text  # shown read-only

    edit = auth.post(
        f"/contacts/{org.draft.id}",
        {**complete_contact(org_today(), child_views="Leader's words"), "save_draft": "Save draft"},
    )
    assert edit.status_code == 403
    assert "Only the author of a draft can edit it." in page_text(edit)
    delete = auth.post(f"/contacts/{org.draft.id}/delete")
    assert delete.status_code == 403
    assert snapshot(db().get(Contact, org.draft.id)) == before


def test_a_colleague_cannot_see_or_edit_another_practitioners_draft(client, auth, org, db):
    auth.login("col@example.org")
    before = snapshot(db().get(Contact, org.draft.id))
    assert client.get(f"/contacts/{org.draft.id}").status_code == 404
    response = auth.post(
        f"/contacts/{org.draft.id}", {**complete_contact(org_today()), "save_draft": "Save draft"}
    )
    assert response.status_code == 404
    assert snapshot(db().get(Contact, org.draft.id)) == before


# --- addenda, acknowledgement, deleting drafts -------------------------------------------------


def test_an_addendum_corrects_a_submitted_contact(client, auth, org, db):
    auth.login("pat@example.org")
    response = auth.post(
        f"/contacts/{org.contact.id}/addenda",
        {
            "reason": "Wrong placement recorded",
            "text": "The visit was at the school, not the placement.",
        },
    )
    assert response.status_code == 302
    (addendum,) = db().scalars(select(Addendum).where(Addendum.contact_id == org.contact.id))
    assert addendum.author_id == org.practitioner.id
    assert addendum.reason == "Wrong placement recorded"
    assert addendum.text == "The visit was at the school, not the placement."
    assert addendum.created_at is not None
    assert "addendum" in audit_actions(db, "contact", org.contact.id)

    page = page_text(client.get(f"/contacts/{org.contact.id}"))
    assert "Pat Practitioner" in page and "Wrong placement recorded" in page
    assert "The visit was at the school, not the placement." in page
    contact = db().get(Contact, org.contact.id)
    assert (contact.child_views, contact.version) == ("I am fine.", 1)  # the original stays


def test_an_addendum_needs_a_reason_and_text(client, auth, org, db, subtests):
    auth.login("pat@example.org")
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
            shown = addendum_form_values(response)  # what was typed is still in the form
            assert (shown["reason"], shown["text"]) == (typed["reason"], typed["text"])
            assert db().scalars(select(Addendum)).all() == []
            assert "addendum" not in audit_actions(db, "contact", org.contact.id)


def test_a_draft_takes_no_addendum(client, auth, org, db):
    auth.login("pat@example.org")
    response = auth.post(
        f"/contacts/{org.draft.id}/addenda", {"reason": "Correction", "text": "Some text"}
    )
    assert response.status_code == 422
    assert "addenda are for submitted contacts" in page_text(response)
    assert db().scalars(select(Addendum)).all() == []


def test_team_leader_acknowledges_a_submitted_contact(client, auth, org, db):
    auth.login("lee@example.org")
    assert "Acknowledge" in client.get(f"/contacts/{org.contact.id}").text
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


def test_the_author_deletes_a_draft_but_not_a_submitted_contact(client, auth, org, db):
    auth.login("pat@example.org")
    deleted = auth.post(f"/contacts/{org.draft.id}/delete")
    assert deleted.status_code == 302
    assert deleted.headers["Location"].endswith(f"/children/{org.child.id}")
    assert db().get(Contact, org.draft.id) is None
    assert "delete_draft" in audit_actions(db, "contact", org.draft.id)
    assert client.get(f"/contacts/{org.draft.id}").status_code == 404

    refused = auth.post(f"/contacts/{org.contact.id}/delete")
    assert refused.status_code == 409
    assert "can no longer be edited" in page_text(refused)
    assert db().get(Contact, org.contact.id) is not None


# --- return visits (R2) ------------------------------------------------------------------------


def test_record_a_return_visit_for_an_interstate_child(client, auth, org, db):
    today = org_today()
    auth.login("pat@example.org")
    arrival, departure = today + timedelta(days=20), today + timedelta(days=27)
    response = auth.post(
        f"/children/{org.interstate_child.id}/return-visits/new",
        {
            "arrival_date": arrival.isoformat(),
            "departure_date": departure.isoformat(),
            "arrangement_note": "School holidays; contact planned for day two (My Care Plan).",
        },
    )
    assert response.status_code == 302
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
        (v.arrival_date, v.departure_date, v.arrangement_note, v.created_by_id) for v in visits
    ] == [
        (
            arrival,
            departure,
            "School holidays; contact planned for day two (My Care Plan).",
            org.practitioner.id,
        )
    ]
    assert audit_actions(db, "return_visit", visits[0].id) == ["create"]
    child_page = page_text(client.get(f"/children/{org.interstate_child.id}"))
    assert f"{arrival:%d/%m/%Y} – {departure:%d/%m/%Y}" in child_page


def test_a_return_visit_cannot_depart_before_it_arrives(client, auth, org, db):
    today = org_today()
    auth.login("pat@example.org")
    response = auth.post(
        f"/children/{org.interstate_child.id}/return-visits/new",
        {
            "arrival_date": (today + timedelta(days=10)).isoformat(),
            "departure_date": (today + timedelta(days=9)).isoformat(),
            "arrangement_note": "Christmas visit",
        },
    )
    assert response.status_code == 422
    text = page_text(response)
    assert "Departure date: The departure date cannot be before the arrival date." in text
    assert "Christmas visit" in text
    assert db().scalar(select(func.count()).select_from(ReturnVisit)) == 1  # only org.visit


def test_no_return_visits_for_a_child_living_in_the_nt(client, auth, org, db):
    today = org_today()
    auth.login("pat@example.org")
    response = auth.post(
        f"/children/{org.child.id}/return-visits/new",
        {
            "arrival_date": today.isoformat(),
            "departure_date": (today + timedelta(days=3)).isoformat(),
        },
    )
    assert response.status_code == 422
    assert "Return visits are recorded for children who live or board interstate." in page_text(
        response
    )
    assert db().scalars(select(ReturnVisit).where(ReturnVisit.child_id == org.child.id)).all() == []


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

    pats_tablet = app.test_client()
    type(auth)(pats_tablet).login("pat@example.org")
    caseload = pats_tablet.get("/")
    assert "My caseload" in caseload.text
    assert "Mia Anderson" not in caseload.text and "Kai Baker" in caseload.text
    assert pats_tablet.get(f"/children/{org.child.id}").status_code == 404


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


def test_a_practitioner_cannot_acknowledge_or_reallocate(client, auth, org, db):
    """Team leaders' actions: refused to a practitioner, even for their own child."""
    auth.login("pat@example.org")
    assert ">Acknowledge</button>" not in client.get(f"/contacts/{org.contact.id}").text
    response = auth.post(f"/contacts/{org.contact.id}/acknowledge")
    assert response.status_code == 403
    assert "Only team leaders acknowledge contacts." in response.text
    contact = db().get(Contact, org.contact.id)
    assert contact.acknowledged_at is None and contact.acknowledged_by_id is None
    assert "acknowledge" not in audit_actions(db, "contact", org.contact.id)

    before = allocation_rows(db, org.child.id)
    assert "Reallocate" not in client.get(f"/children/{org.child.id}").text
    response = auth.post(
        f"/children/{org.child.id}/reallocate",
        {"practitioner_id": str(org.colleague.id), "reason": "Swap"},
    )
    assert response.status_code == 404
    assert db().get(Child, org.child.id).practitioner_id == org.practitioner.id
    assert allocation_rows(db, org.child.id) == before


def test_viewing_a_child_is_audited(client, auth, org, db):
    auth.login("pat@example.org")
    assert client.get(f"/children/{org.child.id}").status_code == 200
    (event,) = db().scalars(
        select(AuditEvent).where(
            AuditEvent.action == "view",
            AuditEvent.object_type == "child",
            AuditEvent.object_id == str(org.child.id),
        )
    )
    assert event.user_id == org.practitioner.id and event.outcome == "ok"
