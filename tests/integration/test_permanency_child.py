"""The child page's Permanency section and its forms (R3, R4, R10, R11, R12), on both databases:
the adoption and consultation gates, goal history, reviews moving the next due date, transfers,
retention, extensions, Youth Justice, who may record what, and scope (404 with a `denied`
audit event on every permanency route). Each test checks the page a user sees and what is stored
(read back in a fresh transaction)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from fieldapp.models import (
    AuditEvent,
    CaseManagementRetention,
    CasePlanGoalRecord,
    CaseResponsibilityTransfer,
    Child,
    ConsultationRequest,
    GoalExtension,
    GoalReview,
    PermanencyConsultation,
    YouthJusticeRecord,
)
from fieldapp.services.permanency import add_months

from ..factories import gen_agency, org_today
from .reading import page_text

TODAY = org_today()
S10A_3E = "Care Act s10A(3)(e)"


def dmy(day) -> str:
    return day.strftime("%d/%m/%Y")


def url(child, what: str) -> str:
    return f"/children/{child.id}/permanency/{what}"


def count(db, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db().scalar(query)


def update_child(db, child, **fields) -> None:
    session = db()
    row = session.get(Child, child.id)
    for name, value in fields.items():
        setattr(row, name, value)
    session.commit()


def make_agency_ngo(db, child) -> None:
    session = db()
    session.get(Child, child.id).primary_agency.kind = "ngo"
    session.commit()


def set_goal(auth, child, goal="family_preservation", date_set=TODAY, reason="", **more):
    data = {"case_plan_goal": goal, "date_set": date_set.isoformat(), "reason": reason, **more}
    return auth.post(url(child, "goal"), data)


def record_cultural(auth, child, day=TODAY):
    return auth.post(
        url(child, "cultural-consultation"),
        {
            "consultation_date": day.isoformat(),
            "consultant_kind": "aboriginal_consultant",
            "consultant_name": "Aunty June",
            "advice": "Explore kinship guardianship with the father's family first.",
        },
    )


def record_consultation(auth, child, day=TODAY, **more):
    data = {
        "consultation_date": day.isoformat(),
        "kind": "formal",
        "trigger": "goal_change_considered",
        "recommendations": "Consider guardianship with the carers.",
        **more,
    }
    return auth.post(url(child, "consultation"), data)


def denied_count(db) -> int:
    return count(db, AuditEvent, outcome="denied")


# ---------------------------------------------------------------- R4: the adoption gate


@pytest.mark.parametrize("status", ["aboriginal", "torres_strait_islander", "both"])
def test_adoption_for_a_first_nations_child_needs_a_cultural_consultation(
    client, auth, org, db, status
):
    update_child(db, org.child, aboriginal_status=status)
    auth.login(org.leader.email)
    form = client.get(url(org.child, "goal"))
    assert form.status_code == 200
    assert S10A_3E in page_text(form)
    assert "No cultural consultation is on record" in page_text(form)

    reason = "Restoration and guardianship were assessed as not practicable."
    refused = set_goal(auth, org.child, "adoption", reason=reason)
    assert refused.status_code == 400
    assert 'id="case_plan_goal-error"' in refused.text
    assert S10A_3E in page_text(refused)
    assert reason in page_text(refused)  # the typed values are kept
    assert count(db, CasePlanGoalRecord) == 0

    # A permanency consultation never counts as a cultural one (`002`).
    auth.logout()
    auth.login(org.coordinator.email)
    assert record_consultation(auth, org.child).status_code == 302
    auth.logout()
    auth.login(org.leader.email)
    assert set_goal(auth, org.child, "adoption", reason=reason).status_code == 400

    assert record_cultural(auth, org.child).status_code == 302
    assert "A cultural consultation is on record" in page_text(client.get(url(org.child, "goal")))
    saved = set_goal(auth, org.child, "adoption", reason=reason)
    assert saved.status_code == 302 and saved.location.endswith(f"/children/{org.child.id}")
    assert count(db, CasePlanGoalRecord, goal="adoption") == 1
    assert db().get(Child, org.child.id).case_plan_goal == "adoption"


@pytest.mark.parametrize("status", ["neither", "unknown"])
def test_adoption_needs_no_cultural_consultation_otherwise(client, auth, org, db, status):
    update_child(db, org.child, aboriginal_status=status)
    auth.login(org.leader.email)
    assert S10A_3E not in page_text(client.get(url(org.child, "goal")))
    saved = set_goal(auth, org.child, "adoption", reason="Earlier goals are not practicable.")
    assert saved.status_code == 302
    assert count(db, CasePlanGoalRecord, goal="adoption") == 1


def test_goals_are_offered_in_the_order_of_preference(client, auth, org):
    auth.login(org.leader.email)
    text = page_text(client.get(url(org.child, "goal")))
    positions = [
        text.index(label)
        for label in (
            "Family preservation",
            "Restoration",
            "Guardianship",
            "Open adoption",
            "Long-term care",
        )  # fmt: skip
    ]
    assert positions == sorted(positions)


def test_a_later_goal_needs_a_reason(client, auth, org, db):
    auth.login(org.leader.email)
    refused = set_goal(auth, org.child, "guardianship", coordinator_recommendation="Guardianship")
    assert refused.status_code == 400
    assert 'id="reason-error"' in refused.text
    assert "not practicable or not in the child's best interests" in page_text(refused)
    assert "Guardianship</textarea>" in refused.text  # kept
    assert count(db, CasePlanGoalRecord) == 0
    saved = set_goal(auth, org.child, "guardianship", reason="Restoration is not safe.")
    assert saved.status_code == 302
    assert count(db, CasePlanGoalRecord) == 1


# ---------------------------------------------------------------- R11: the NGO consultation gate


def test_an_ngo_goal_change_needs_a_recent_permanency_consultation(client, auth, org, db):
    make_agency_ngo(db, org.child)
    auth.login(org.leader.email)
    assert "There is no permanency consultation in the last 90 days" in page_text(
        client.get(url(org.child, "goal"))
    )
    refused = set_goal(auth, org.child)
    assert refused.status_code == 400
    assert "permanency consultation in the 90 days before it" in page_text(refused)
    assert count(db, CasePlanGoalRecord) == 0

    auth.logout()
    auth.login(org.coordinator.email)
    # One too old to count, then one within 90 days.
    assert record_consultation(auth, org.child, TODAY - timedelta(days=120)).status_code == 302
    auth.logout()
    auth.login(org.leader.email)
    assert set_goal(auth, org.child).status_code == 400
    auth.logout()
    auth.login(org.coordinator.email)
    assert record_consultation(auth, org.child, TODAY - timedelta(days=10)).status_code == 302
    auth.logout()
    auth.login(org.leader.email)
    assert "A permanency consultation is on record" in page_text(client.get(url(org.child, "goal")))
    assert set_goal(auth, org.child).status_code == 302
    assert count(db, CasePlanGoalRecord) == 1


# ---------------------------------------------------------------- R3: history and reviews


def test_goal_history_keeps_every_goal(client, auth, org, db):
    auth.login(org.leader.email)
    first_day = TODAY - timedelta(days=200)
    assert set_goal(auth, org.child, "restoration", first_day).status_code == 302
    reason = "Restoration is not safe: father's home assessed unsuitable."
    assert set_goal(auth, org.child, "guardianship", reason=reason).status_code == 302

    assert count(db, CasePlanGoalRecord) == 2
    child = db().get(Child, org.child.id)
    assert (child.case_plan_goal, child.goal_set_date) == ("guardianship", TODAY)
    text = page_text(client.get(f"/children/{org.child.id}"))
    assert f"Restoration {dmy(first_day)}" in text and "Superseded" in text
    assert f"Guardianship {dmy(TODAY)}" in text and "In force" in text
    assert reason in text
    assert text.count("Superseded") == 1


def test_a_review_moves_the_next_review_due(client, auth, org, db):
    set_day = TODAY - timedelta(days=60)
    auth.login(org.leader.email)
    assert set_goal(auth, org.child, "family_preservation", set_day).status_code == 302
    page = page_text(client.get(f"/children/{org.child.id}"))
    assert f"Next review due {dmy(add_months(set_day, 3))}" in page
    auth.logout()

    auth.login(org.coordinator.email)
    review = auth.post(
        url(org.child, "review"),
        {
            "review_date": TODAY.isoformat(),
            "progress": "progress_concerns",
            "psp_package_reviewed": "y",
            "recommendation": "Keep the goal; add family group conferencing.",
            "next_steps": "Book a conference.",
            "participants": "Coordinator, practitioner",
        },
    )
    assert review.status_code == 302
    page = page_text(client.get(f"/children/{org.child.id}"))
    assert f"Next review due {dmy(add_months(TODAY, 3))}" in page
    assert "Progress concerns" in page and "Book a conference." in page
    stored = db().scalar(select(GoalReview))
    assert stored.psp_package_reviewed and stored.reviewed_by_id == org.coordinator.id


def test_bad_review_input_names_the_fields_and_saves_nothing(client, auth, org, db):
    auth.login(org.leader.email)
    assert set_goal(auth, org.child).status_code == 302
    auth.logout()
    auth.login(org.coordinator.email)
    refused = auth.post(
        url(org.child, "review"),
        {"review_date": "2024-02-31", "progress": "great", "next_steps": "Call Mum"},
    )
    assert refused.status_code == 400
    assert 'id="review_date-error"' in refused.text
    assert "Call Mum</textarea>" in refused.text
    refused = auth.post(
        url(org.child, "review"),
        {"review_date": (TODAY + timedelta(days=1)).isoformat(), "progress": "great"},
    )
    assert refused.status_code == 400
    for name in ("review_date", "progress", "recommendation"):
        assert f'id="{name}-error"' in refused.text, name
    assert "Cannot be in the future." in page_text(refused)
    assert count(db, GoalReview) == 0


# ---------------------------------------------------------------- R11: requests


def test_a_request_stays_open_until_a_consultation_answers_it(client, auth, org, db):
    auth.login(org.practitioner.email)
    assert auth.post(url(org.child, "request"), {"reason": ""}).status_code == 400
    sent = auth.post(url(org.child, "request"), {"reason": "Placement breakdown"})
    # A practitioner's child page is the offline app's: a page says it is done and links back
    # to it, reached by a redirect so that a reload cannot send the request twice.
    assert sent.status_code == 302 and sent.location.endswith(url(org.child, "saved"))
    done = client.get(sent.location)
    assert "Consultation requested from the permanency coordinator." in done.text
    assert f'href="/children/{org.child.id}"' in done.text
    assert "Consultation requested" not in client.get(sent.location).text  # said once
    assert count(db, ConsultationRequest) == 1
    auth.logout()
    auth.login(org.coordinator.email)
    page = page_text(client.get(f"/children/{org.child.id}"))
    assert "Open consultation requests" in page and "Placement breakdown" in page
    form = client.get(url(org.child, "consultation")).text
    request_id = re.search(r'<option value="([0-9a-f-]{36})"', form).group(1)
    answered = record_consultation(
        auth,
        org.child,
        trigger="requested",
        request_id=request_id,
        **{
            "actions-0-description": "Refer to FGC",
            "actions-0-responsible": "Pat",
            "actions-0-due_date": (TODAY + timedelta(days=14)).isoformat(),
        },  # fmt: skip
    )
    assert answered.status_code == 302
    page = page_text(client.get(f"/children/{org.child.id}"))
    assert "Open consultation requests" not in page
    assert f"Refer to FGC · Pat · by {dmy(TODAY + timedelta(days=14))}" in page
    assert db().scalar(select(PermanencyConsultation)).request_id is not None


# ---------------------------------------------------------------- R10: responsibility


def test_transfers_are_logged_with_their_basis_and_never_edited(app, client, auth, org, db):
    session = db()
    ngo = gen_agency(session, "Kinship Care NT", kind="ngo")
    government_id = session.get(Child, org.child.id).primary_agency_id
    session.commit()
    auth.login(org.leader.email)
    data = {"to_agency_id": ngo.id, "transfer_date": TODAY.isoformat(), "reason": "Final orders"}
    refused = auth.post(url(org.child, "transfer"), data)
    assert refused.status_code == 400 and 'id="basis-error"' in refused.text
    assert count(db, CaseResponsibilityTransfer) == 0

    saved = auth.post(url(org.child, "transfer"), {**data, "basis": "final_orders_minister"})
    assert saved.status_code == 302
    assert db().get(Child, org.child.id).primary_agency_id == ngo.id
    back = {"to_agency_id": government_id, "transfer_date": TODAY.isoformat(), "reason": "Back"}
    assert auth.post(url(org.child, "transfer"), back).status_code == 302

    transfers = db().scalars(select(CaseResponsibilityTransfer)).all()
    assert sorted(t.basis or "" for t in transfers) == ["", "final_orders_minister"]
    text = page_text(client.get(f"/children/{org.child.id}"))
    assert "Basis: Final Children's Court orders allocating parental responsibility" in text
    # No route edits or deletes a transfer: the only one creates.
    rules = [r for r in app.url_map.iter_rules() if "transfer" in r.rule]
    assert [r.endpoint for r in rules] == ["permanency_child.transfer"]
    assert rules[0].methods - {"HEAD", "OPTIONS"} == {"GET", "POST"}


def test_keeping_case_management_needs_all_three_criteria(auth, org, db):
    auth.login(org.leader.email)
    data = {"decision_date": TODAY.isoformat(), "reason": "Complex health needs"}
    refused = auth.post(
        url(org.child, "retention"), {**data, "complex_needs": "y", "high_risk": "y"}
    )
    assert refused.status_code == 400 and 'id="collaboration-error"' in refused.text
    assert 'id="complex_needs-error"' not in refused.text
    assert count(db, CaseManagementRetention) == 0
    criteria = {"complex_needs": "y", "high_risk": "y", "collaboration": "y"}
    assert auth.post(url(org.child, "retention"), {**data, **criteria}).status_code == 302
    assert count(db, CaseManagementRetention) == 1


def test_an_extension_is_decided_once(client, auth, org, db):
    auth.login(org.leader.email)
    assert set_goal(auth, org.child, "guardianship", reason="Not safe at home").status_code == 302
    applied = {"applied_date": TODAY.isoformat(), "reason": "Court delays"}
    assert auth.post(url(org.child, "extension"), applied).status_code == 302
    form = client.get(url(org.child, "extension/decision")).text
    extension_id = re.search(r'name="extension_id" type="hidden" value="([^"]+)"', form).group(1)
    decision = {"extension_id": extension_id, "decision": "approved",
                "decision_date": TODAY.isoformat()}  # fmt: skip
    assert auth.post(url(org.child, "extension/decision"), decision).status_code == 302
    again = auth.post(url(org.child, "extension/decision"), {**decision, "decision": "declined"})
    assert again.status_code == 400 and "already recorded" in page_text(again)
    assert db().scalar(select(GoalExtension)).decision == "approved"
    assert f"Approved {dmy(TODAY)}" in page_text(client.get(f"/children/{org.child.id}"))


# ---------------------------------------------------------------- R12: Youth Justice


def test_the_practitioner_records_youth_justice_for_their_child(client, auth, org, db):
    auth.login(org.practitioner.email)
    due = TODAY + timedelta(days=30)
    data = {
        "youth_justice_status": "engaged",
        "lead_practitioner": "Pat Practitioner",
        "officers-0-name": "Sam Officer",
        "officers-0-team": "community_support_programs",
        "officers-0-contact": "0400 000 000",
        "court_order_conditions": "Curfew 7pm",
        "plan_actions-0-description": "Enrol at school",
        "plan_actions-0-due_date": due.isoformat(),
    }
    missing = auth.post(url(org.child, "youth-justice"), {**data, "officers-0-team": ""})
    assert missing.status_code == 400 and 'id="officers-0-team-error"' in missing.text
    assert count(db, YouthJusticeRecord) == 0
    assert auth.post(url(org.child, "youth-justice"), data).status_code == 302
    record = db().scalar(select(YouthJusticeRecord))
    assert record.officers[0]["name"] == "Sam Officer"
    assert db().get(Child, org.child.id).youth_justice_status == "engaged"
    # The form starts from the collaboration as recorded.
    assert 'value="Sam Officer"' in client.get(url(org.child, "youth-justice")).text
    # The practitioner reads it in the offline app (the pull's child record); the team leader
    # on the child's page.
    auth.logout()
    auth.login(org.leader.email)
    text = page_text(client.get(f"/children/{org.child.id}"))
    assert "Sam Officer · Community Support Programs · 0400 000 000" in text
    assert f"Enrol at school · by {dmy(due)}" in text and "Curfew 7pm" in text


# ---------------------------------------------------------------- who may record what


def test_a_coordinator_decides_goals_only_in_the_pilot(app, client, auth, org, db):
    auth.login(org.coordinator.email)
    assert client.get(url(org.child, "goal")).status_code == 403
    assert set_goal(auth, org.child).status_code == 403
    assert "Change case plan goal" not in client.get(f"/children/{org.child.id}").text
    assert count(db, CasePlanGoalRecord) == 0
    app.config["FIELDAPP_COORDINATORS_DECIDE_GOALS"] = "1"
    assert "Change case plan goal" in client.get(f"/children/{org.child.id}").text
    assert set_goal(auth, org.child).status_code == 302
    assert count(db, CasePlanGoalRecord) == 1


def test_a_practitioner_cannot_record_a_review(client, auth, org, db):
    auth.login(org.leader.email)
    assert set_goal(auth, org.child).status_code == 302
    auth.logout()
    auth.login(org.practitioner.email)
    assert client.get(url(org.child, "review")).status_code == 403
    data = {"review_date": TODAY.isoformat(), "progress": "on_track", "recommendation": "x"}
    assert auth.post(url(org.child, "review"), data).status_code == 403
    assert count(db, GoalReview) == 0


# A practitioner's child page is the offline app's, which links to the two forms they may use
# (tests/browser/test_tablet_permanency.py).
LINKS = {
    "leader": {
        "Request consultation",
        "Change case plan goal",
        "Record cultural consultation",
        "Record transfer of case responsibility",
        "Record decision to keep case management",
        "Record Youth Justice collaboration",
        "Apply for an extension",
    },  # fmt: skip
    "coordinator": {"Record goal review", "Record consultation", "Record cultural consultation"},
}
ALL_LINKS = set().union(*LINKS.values()) | {
    "Request consultation",
    "Record Youth Justice collaboration",
}


@pytest.mark.parametrize("who", sorted(LINKS))
def test_each_role_sees_the_links_it_may_use(client, auth, org, who):
    auth.login(org.leader.email)
    assert set_goal(auth, org.child).status_code == 302  # reviews and extensions need a goal
    auth.logout()
    auth.login(getattr(org, who).email)
    page = client.get(f"/children/{org.child.id}").text
    shown = {name for name in ALL_LINKS if f">{name}</a>" in page}
    assert shown == LINKS[who]


def _permanency_routes(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("permanency_child.")]
    assert len(rules) >= 10, "expected the permanency form routes"
    for rule in rules:
        assert set(rule.arguments) == {"child_id"}, rule.rule
    return [(r, m) for r in rules for m in sorted(r.methods - {"HEAD", "OPTIONS"})]


@pytest.mark.parametrize("who", ["outsider", "outsider_leader", "admin"])
def test_every_permanency_route_is_404_and_denied_out_of_scope(app, client, auth, org, db, who):
    auth.login(getattr(org, who).email)
    for rule, method in _permanency_routes(app):
        path = rule.build({"child_id": org.child.id})[1]
        before = denied_count(db)
        if method == "GET":
            response = client.get(path)
        else:
            response = auth.post(path, {"reason": "x", "case_plan_goal": "adoption"})
        assert response.status_code == 404, f"{method} {path} answered {response.status_code}"
        assert org.child.given_name not in response.text
        assert denied_count(db) == before + 1, f"{method} {path} wrote no denied event"
    assert count(db, CasePlanGoalRecord) == 0


def test_the_coordinator_sees_permanency_but_no_contact_narratives(client, auth, org):
    auth.login(org.coordinator.email)
    page = client.get(f"/children/{org.child.id}")
    assert page.status_code == 200
    assert re.search(r"<h2[^>]*>Permanency</h2>", page.text)
    for words in ("I am fine.", "Draft words", "Contacts</h2>"):
        assert words not in page.text


def test_a_role_that_may_not_record_is_refused_and_the_refusal_audited(client, auth, org, db):
    auth.login(org.practitioner.email)
    url = f"/children/{org.child.id}/permanency/review"
    assert client.get(url).status_code == 403
    assert auth.post(url, {"review_date": org_today().isoformat()}).status_code == 403
    denied = (
        db()
        .scalars(
            select(AuditEvent.detail).where(
                AuditEvent.outcome == "denied", AuditEvent.user_id == org.practitioner.id
            )
        )
        .all()
    )
    assert [d["path"] for d in denied] == [url, url]
