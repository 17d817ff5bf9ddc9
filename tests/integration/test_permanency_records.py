"""Recording permanency decisions (services/permanency_records.py) on a plain session, both
databases: the R4 and R11 gates, goals superseded and never overwritten, reviews moving the
next due date, transfers appended, retention's three criteria, extensions decided once, and who
may record what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from fieldapp.models import (
    Agency,
    AuditEvent,
    CaseManagementRetention,
    CasePlanGoalRecord,
    CaseResponsibilityTransfer,
    Child,
    Team,
    User,
)
from fieldapp.services import permanency as rules
from fieldapp.services import permanency_records as records
from fieldapp.services.errors import Forbidden, ValidationError

from ..factories import gen_agency, gen_child, gen_goal, gen_review, gen_team, gen_user, org_today


@dataclass
class Org:
    government: Agency
    ngo: Agency
    team: Team
    leader: User
    coordinator: User
    practitioner: User
    child: Child


@pytest.fixture
def org(db_session) -> Org:
    government = gen_agency(db_session, "Territory Families", kind="government")
    ngo = gen_agency(db_session, "Kinship Care NT", kind="ngo")
    team = gen_team(db_session, "Darwin North", government)
    practitioner = gen_user(db_session, "practitioner", team)
    child = gen_child(db_session, team, practitioner, aboriginal_status="neither")
    return Org(
        government=government,
        ngo=ngo,
        team=team,
        leader=gen_user(db_session, "team_leader", team),
        coordinator=gen_user(db_session, "coordinator", team),
        practitioner=practitioner,
        child=child,
    )


def change_goal(session, org, goal, *, date_set=None, reason="", **kwargs):
    return records.record_goal(
        session,
        org.leader,
        org.child,
        goal=goal,
        date_set=date_set or org_today(),
        permanency_unlikely=False,
        reason=reason,
        coordinator_recommendation=None,
        today=org_today(),
        **kwargs,
    )


def record_cultural(session, org, on):
    return records.record_cultural_consultation(
        session,
        org.leader,
        org.child,
        consultation_date=on,
        consultant_kind="consultation_panel",
        consultant_name="Aboriginal Consultation Panel",
        advice="Adoption considered with the panel; connection to country planned.",
        today=org_today(),
    )


def record_consultation(session, org, on):
    return records.record_consultation(
        session,
        org.coordinator,
        org.child,
        consultation_date=on,
        kind="formal",
        trigger="goal_change_considered",
        participants="Caseworker, manager",
        discussion="Guardianship with the grandmother.",
        recommendations="Change the goal to guardianship.",
        actions=[records.ActionInput("Refer for guardianship assessment", "Caseworker", None)],
        request_id=None,
        today=org_today(),
    )


@pytest.mark.parametrize("status", ["aboriginal", "torres_strait_islander", "both"])
def test_adoption_for_a_first_nations_child_waits_for_a_cultural_consultation(
    db_session, org, status
):
    org.child.aboriginal_status = status
    reason = "Restoration and guardianship assessed as not practicable."
    with pytest.raises(ValidationError) as refused:
        change_goal(db_session, org, "adoption", reason=reason)
    assert "s10A(3)(e)" in " ".join(refused.value.errors["case_plan_goal"])
    assert db_session.scalar(select(func.count()).select_from(CasePlanGoalRecord)) == 0

    record_cultural(db_session, org, org_today() - timedelta(days=3))
    goal = change_goal(db_session, org, "adoption", reason=reason)
    assert goal.goal == "adoption" and org.child.case_plan_goal == "adoption"


@pytest.mark.parametrize("status", ["neither", "unknown"])
def test_adoption_is_not_gated_for_other_children(db_session, org, status):
    org.child.aboriginal_status = status
    change_goal(db_session, org, "adoption", reason="Guardianship assessed as not practicable.")
    assert org.child.case_plan_goal == "adoption"


def test_a_permanency_consultation_is_not_a_cultural_consultation(db_session, org):
    org.child.aboriginal_status = "aboriginal"
    record_consultation(db_session, org, org_today() - timedelta(days=5))
    with pytest.raises(ValidationError) as refused:
        change_goal(db_session, org, "adoption", reason="Guardianship not practicable.")
    assert (
        "does not replace an Aboriginal consultation" in refused.value.errors["case_plan_goal"][0]
    )


def test_a_later_goal_asks_why_the_earlier_ones_are_not_practicable(db_session, org):
    with pytest.raises(ValidationError) as refused:
        change_goal(db_session, org, "long_term_care", reason="   ")
    assert list(refused.value.errors) == ["reason"]
    assert "guardianship, open adoption" in refused.value.errors["reason"][0]


def test_an_ngo_goal_change_needs_a_recent_permanency_consultation(db_session, org):
    org.child.primary_agency = org.ngo
    db_session.flush()
    record_consultation(db_session, org, org_today() - timedelta(days=91))
    with pytest.raises(ValidationError) as refused:
        change_goal(db_session, org, "restoration")
    assert "permanency consultation in the 90 days" in refused.value.errors["case_plan_goal"][0]

    record_consultation(db_session, org, org_today() - timedelta(days=90))
    assert change_goal(db_session, org, "restoration").goal == "restoration"


def test_goals_are_superseded_never_overwritten(db_session, org):
    first = change_goal(db_session, org, "restoration", date_set=org_today() - timedelta(days=400))
    second = change_goal(db_session, org, "guardianship", reason="Restoration not safe.")
    history = records.goal_history(db_session, org.child.id)
    assert [g.id for g in history] == [second.id, first.id]
    assert (first.goal, second.goal) == ("restoration", "guardianship")
    assert (org.child.case_plan_goal, org.child.goal_set_date) == ("guardianship", org_today())
    # The goal in force on a past day is the one set then.
    past = org_today() - timedelta(days=100)
    assert records.goal_in_force(db_session, org.child.id, past).id == first.id


def test_a_goal_cannot_be_set_before_the_goal_in_force_nor_in_the_future(db_session, org):
    change_goal(db_session, org, "restoration", date_set=org_today() - timedelta(days=10))
    with pytest.raises(ValidationError) as earlier:
        change_goal(db_session, org, "restoration", date_set=org_today() - timedelta(days=20))
    assert list(earlier.value.errors) == ["date_set"]
    with pytest.raises(ValidationError) as future:
        change_goal(db_session, org, "restoration", date_set=org_today() + timedelta(days=1))
    assert future.value.errors == {"date_set": ["Cannot be in the future."]}


def test_a_review_moves_the_next_review_due(db_session, org):
    goal = gen_goal(db_session, org.child, "restoration", date_set=org_today() - timedelta(200))
    before = rules.next_review_due(goal.goal, goal.date_set, False, None)
    review = records.record_review(
        db_session,
        org.coordinator,
        org.child,
        review_date=org_today(),
        participants="Caseworker, carer",
        progress="on_track",
        psp_package_reviewed=True,
        recommendation="Continue restoration work.",
        next_steps="Family time weekly.",
        today=org_today(),
    )
    last = records.last_review_date(db_session, goal, org_today())
    assert review.goal_id == goal.id and last == org_today()
    after = rules.next_review_due(goal.goal, goal.date_set, False, last)
    assert before == rules.add_months(goal.date_set, 6)
    assert after == rules.add_months(org_today(), 6)


def test_a_review_needs_a_goal_and_a_recommendation(db_session, org):
    with pytest.raises(ValidationError) as refused:
        records.record_review(
            db_session,
            org.coordinator,
            org.child,
            review_date=org_today(),
            participants=None,
            progress="sideways",
            psp_package_reviewed=False,
            recommendation=" ",
            next_steps=None,
            today=org_today(),
        )
    assert sorted(refused.value.errors) == ["progress", "recommendation"]
    with pytest.raises(ValidationError) as no_goal:
        records.record_review(
            db_session,
            org.coordinator,
            org.child,
            review_date=org_today(),
            participants=None,
            progress="on_track",
            psp_package_reviewed=False,
            recommendation="Set a goal first.",
            next_steps=None,
            today=org_today(),
        )
    assert list(no_goal.value.errors) == ["review_date"]


@pytest.mark.parametrize(
    ("role", "what"),
    [("practitioner", "review"), ("team_leader", "review"), ("coordinator", "goal")],
)
def test_who_may_record_what(db_session, org, role, what):
    user = {"practitioner": org.practitioner, "team_leader": org.leader}.get(role, org.coordinator)
    gen_goal(db_session, org.child)
    with pytest.raises(Forbidden):
        if what == "review":
            records.record_review(
                db_session,
                user,
                org.child,
                review_date=org_today(),
                participants=None,
                progress="on_track",
                psp_package_reviewed=False,
                recommendation="x",
                next_steps=None,
                today=org_today(),
            )
        else:
            records.record_goal(
                db_session,
                user,
                org.child,
                goal="restoration",
                date_set=org_today(),
                permanency_unlikely=False,
                reason="",
                coordinator_recommendation=None,
                today=org_today(),
            )


def test_coordinators_decide_goals_only_in_the_pilot(db_session, org):
    goal = records.record_goal(
        db_session,
        org.coordinator,
        org.child,
        goal="restoration",
        date_set=org_today(),
        permanency_unlikely=False,
        reason="",
        coordinator_recommendation="Restoration is realistic.",
        today=org_today(),
        coordinators_decide=True,
    )
    assert goal.decided_by_id == org.coordinator.id


def test_transfers_are_appended_and_an_ngo_transfer_names_its_basis(db_session, org):
    with pytest.raises(ValidationError) as refused:
        records.record_transfer(
            db_session,
            org.leader,
            org.child,
            to_agency_id=org.ngo.id,
            transfer_date=org_today(),
            basis=None,
            reason="Final orders made.",
            today=org_today(),
        )
    assert list(refused.value.errors) == ["basis"]
    first = records.record_transfer(
        db_session,
        org.leader,
        org.child,
        to_agency_id=org.ngo.id,
        transfer_date=org_today() - timedelta(days=1),
        basis="final_orders_minister",
        reason="Final orders allocate parental responsibility to the Minister.",
        today=org_today(),
    )
    back = records.record_transfer(
        db_session,
        org.leader,
        org.child,
        to_agency_id=org.government.id,
        transfer_date=org_today(),
        basis="final_orders_minister",
        reason="Complex needs emerged.",
        today=org_today(),
    )
    rows = db_session.execute(
        select(
            CaseResponsibilityTransfer.from_agency_id,
            CaseResponsibilityTransfer.to_agency_id,
            CaseResponsibilityTransfer.basis,
        ).order_by(CaseResponsibilityTransfer.transfer_date)
    ).all()
    assert rows == [
        (org.government.id, org.ngo.id, "final_orders_minister"),
        (org.ngo.id, org.government.id, None),  # a basis applies only to an NGO transfer
    ]
    assert (first.id != back.id) and org.child.primary_agency_id == org.government.id


def test_retention_needs_all_three_criteria_and_the_database_agrees(db_session, org):
    with pytest.raises(ValidationError) as refused:
        records.record_retention(
            db_session,
            org.leader,
            org.child,
            decision_date=org_today(),
            criteria={"complex_needs": True, "high_risk": True, "collaboration": False},
            reason="Health and police involvement.",
            today=org_today(),
        )
    assert list(refused.value.errors) == ["collaboration"]
    kept = records.record_retention(
        db_session,
        org.leader,
        org.child,
        decision_date=org_today(),
        criteria={"complex_needs": True, "high_risk": True, "collaboration": True},
        reason="Health and police involvement.",
        today=org_today(),
    )
    assert kept.complex_needs and kept.high_risk and kept.collaboration
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(
            CaseManagementRetention(
                child_id=org.child.id,
                decision_date=org_today(),
                complex_needs=True,
                high_risk=False,
                collaboration=True,
                reason="Not all three.",
            )
        )
        db_session.flush()


def test_an_extension_is_decided_once(db_session, org):
    gen_goal(db_session, org.child, "guardianship", date_set=org_today() - timedelta(days=700))
    extension = records.apply_for_extension(
        db_session,
        org.leader,
        org.child,
        applied_date=org_today() - timedelta(days=5),
        reason="Guardianship orders listed for hearing after the deadline.",
        today=org_today(),
    )
    records.decide_extension(
        db_session,
        org.leader,
        org.child,
        extension.id,
        decision="approved",
        decision_date=org_today(),
        today=org_today(),
    )
    with pytest.raises(ValidationError) as again:
        records.decide_extension(
            db_session,
            org.leader,
            org.child,
            extension.id,
            decision="declined",
            decision_date=org_today(),
            today=org_today(),
        )
    assert list(again.value.errors) == ["decision"]
    assert extension.decision == "approved"


def test_long_term_care_has_no_timeframe_to_extend(db_session, org):
    gen_goal(db_session, org.child, "long_term_care")
    with pytest.raises(ValidationError) as refused:
        records.apply_for_extension(
            db_session,
            org.leader,
            org.child,
            applied_date=org_today(),
            reason="x",
            today=org_today(),
        )
    assert list(refused.value.errors) == ["applied_date"]


def test_a_consultation_answers_an_open_request_once(db_session, org):
    request = records.request_consultation(
        db_session, org.practitioner, org.child, reason="Mother re-engaged; is restoration back?"
    )
    assert [r.id for r in db_session.scalars(records.open_requests_query())] == [request.id]
    answered = records.record_consultation(
        db_session,
        org.coordinator,
        org.child,
        consultation_date=org_today(),
        kind="informal",
        trigger="requested",
        participants=None,
        discussion=None,
        recommendations="Explore restoration with a PSP preservation package.",
        actions=[],
        request_id=request.id,
        today=org_today(),
    )
    assert answered.request_id == request.id
    assert list(db_session.scalars(records.open_requests_query())) == []
    with pytest.raises(ValidationError) as twice:
        records.record_consultation(
            db_session,
            org.coordinator,
            org.child,
            consultation_date=org_today(),
            kind="informal",
            trigger="requested",
            participants=None,
            discussion=None,
            recommendations="Again.",
            actions=[],
            request_id=request.id,
            today=org_today(),
        )
    assert list(twice.value.errors) == ["request_id"]


def test_youth_justice_collaboration_names_its_lead_and_officers(db_session, org):
    with pytest.raises(ValidationError) as refused:
        records.record_youth_justice(
            db_session,
            org.practitioner,
            org.child,
            status="engaged",
            lead_practitioner="",
            officers=[{"name": "Sam Officer", "team": "night_shift", "contact": "0400 000 000"}],
            court_order_conditions=None,
            plan_actions=[],
        )
    assert sorted(refused.value.errors) == ["lead_practitioner", "officers-0-team"]
    record = records.record_youth_justice(
        db_session,
        org.practitioner,
        org.child,
        status="engaged",
        lead_practitioner="Jo Nguyen",
        officers=[{"name": "Sam Officer", "team": "community_support_programs", "contact": "x"}],
        court_order_conditions="Curfew 8 pm; school attendance.",
        plan_actions=[{"description": "Enrol in TAFE", "due_date": org_today()}],
    )
    assert org.child.youth_justice_status == "engaged"
    assert records.current_youth_justice(db_session, org.child.id).id == record.id
    assert record.plan_actions == [
        {"description": "Enrol in TAFE", "due_date": org_today().isoformat()}
    ]


def test_every_record_is_audited(db_session, org):
    goal = gen_goal(db_session, org.child)
    gen_review(db_session, org.child, goal)
    record_consultation(db_session, org, org_today())
    record_cultural(db_session, org, org_today())
    records.request_consultation(db_session, org.practitioner, org.child, reason="Please.")
    audited = set(
        db_session.scalars(select(AuditEvent.object_type).where(AuditEvent.action == "create"))
    )
    assert audited == {"permanency_consultation", "cultural_consultation", "consultation_request"}


def test_a_review_sends_the_child_to_tablets_again(db_session, org):
    """The child's pulled record carries the next review due (SPEC §4), so a new review must
    give the child a new change number."""
    goal = gen_goal(db_session, org.child)
    db_session.commit()
    before = db_session.scalar(select(Child.change_seq).where(Child.id == org.child.id))
    gen_review(db_session, org.child, goal)
    db_session.commit()
    after = db_session.scalar(select(Child.change_seq).where(Child.id == org.child.id))
    assert before is not None and after > before


def test_deciding_an_application_of_another_child_names_the_field(db_session, org):
    other = gen_child(db_session, org.team, org.practitioner)
    gen_goal(db_session, other, "guardianship", date_set=org_today() - timedelta(days=700))
    theirs = records.apply_for_extension(
        db_session,
        org.leader,
        other,
        applied_date=org_today(),
        reason="Orders listed late.",
        today=org_today(),
    )
    with pytest.raises(ValidationError) as refused:
        records.decide_extension(
            db_session,
            org.leader,
            org.child,
            theirs.id,
            decision="approved",
            decision_date=org_today(),
            today=org_today(),
        )
    assert list(refused.value.errors) == ["extension_id"]
    assert theirs.decision is None
