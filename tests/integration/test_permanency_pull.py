"""Permanency on the wire (SPEC §4 `child`, since 2026-12-01): the goal in force, next review due
and two-year deadline computed with the R3 rules, the primary agency (R10) and the Youth Justice
collaboration (R12) reach the tablet with the child, in a fixed number of queries for a page of
children, and are sent again when they change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from fieldapp.models import Child, YouthJusticeRecord
from fieldapp.services import permanency as rules
from fieldapp.services.children_import import import_children
from fieldapp.services.permanency_import import import_permanency
from fieldapp.services.permanency_records import goal_in_force

from ..factories import gen_agency, gen_goal, gen_review, org_today
from .sync_helpers import Tablet, ids_of

TODAY = org_today()
PERMANENCY_KEYS = {
    "case_plan_goal",
    "goal_set_date",
    "permanency_unlikely",
    "primary_agency",
    "next_review_due",
    "two_year_deadline",
    "youth_justice",
}
OFFICERS = [
    {"name": "Dana Officer", "team": "community_support_programs", "contact": "0400 000 111"},
    {"name": "Rob Guard", "team": "detention_operations", "contact": None},
]
ACTIONS = [
    {"description": "Enrol in TAFE course before release", "due_date": "2027-01-20"},
    {"description": "Stable accommodation with Aunty confirmed", "due_date": None},
]


def youth_justice(session, child, status="engaged", **fields):
    session.add(
        YouthJusticeRecord(
            child_id=child.id,
            status=status,
            lead_practitioner=fields.get("lead", "Pat Practitioner"),
            officers=fields.get("officers", OFFICERS),
            court_order_conditions=fields.get("conditions", "Curfew 8pm; attend school daily"),
            plan_actions=fields.get("actions", ACTIONS),
        )
    )
    child.youth_justice_status = status


@pytest.fixture
def planned(org, engine):
    """Mia (held by an NGO): adoption set 200 days ago, permanency unlikely, reviewed 20 days
    ago, engaged with Youth Justice. Kai: no goal, no Youth Justice."""
    with Session(engine) as session:
        mia = session.get(Child, org.child.id)
        mia.primary_agency = gen_agency(session, "Top End Kids", "ngo")
        goal = gen_goal(
            session,
            mia,
            "adoption",
            date_set=TODAY - timedelta(days=200),
            permanency_unlikely=True,
        )
        # An earlier goal and a review of it: neither counts for the goal in force.
        gen_goal(session, mia, "restoration", date_set=TODAY - timedelta(days=600))
        gen_review(session, mia, goal, review_date=TODAY - timedelta(days=20))
        gen_review(session, mia, goal, review_date=TODAY - timedelta(days=90))
        youth_justice(session, mia, status="at_risk", lead="Someone Earlier", officers=[])
        session.flush()
        youth_justice(session, mia)
        session.commit()
    return org


def children_of(changes) -> dict[str, dict]:
    return {c["record_id"]: c["data"] for c in changes if c["record_type"] == "child"}


def test_the_first_pull_carries_the_goal_in_force_and_youth_justice(client, planned):
    tablet = Tablet.signed_in(client, planned.practitioner.email)
    pulled = children_of(tablet.pull_all()[0]["changes"])
    mia, kai = pulled[str(planned.child.id)], pulled[str(planned.interstate_child.id)]
    assert PERMANENCY_KEYS <= set(mia)
    set_on, reviewed = TODAY - timedelta(days=200), TODAY - timedelta(days=20)
    expected = rules.assess_goal("adoption", set_on, True, reviewed, "ngo", TODAY)
    assert mia["case_plan_goal"] == "adoption"
    assert mia["goal_set_date"] == set_on.isoformat()
    assert mia["permanency_unlikely"] is True
    assert mia["primary_agency"] == "Top End Kids"
    assert mia["next_review_due"] == expected.next_review_due.isoformat()
    assert mia["next_review_due"] == rules.add_months(reviewed, 3).isoformat()
    assert mia["two_year_deadline"] == expected.two_year_deadline.isoformat()
    assert mia["youth_justice_status"] == "engaged"
    assert mia["youth_justice"] == {
        "status": "engaged",
        "lead_practitioner": "Pat Practitioner",
        "officers": OFFICERS,
        "court_order_conditions": "Curfew 8pm; attend school daily",
        "plan_actions": ACTIONS,
    }
    assert kai["case_plan_goal"] is None
    assert kai["next_review_due"] is None and kai["two_year_deadline"] is None
    assert kai["youth_justice"] is None
    assert kai["primary_agency"] == "Territory Families"


def test_long_term_care_has_no_two_year_deadline(client, org, engine):
    with Session(engine) as session:
        gen_goal(
            session,
            session.get(Child, org.child.id),
            "long_term_care",
            date_set=TODAY - timedelta(days=10),
        )
        session.commit()
    tablet = Tablet.signed_in(client, org.practitioner.email)
    mia = children_of(tablet.pull_all()[0]["changes"])[str(org.child.id)]
    assert mia["two_year_deadline"] is None
    assert mia["next_review_due"] == rules.add_months(TODAY - timedelta(days=10), 12).isoformat()


def test_a_goal_brought_by_import_children_reaches_the_tablet(client, org, engine):
    """import-children writes the file's goal into the goal history, which is what the pull
    reads (there is no second source of the current goal)."""
    header = "external_id,given_name,family_name,date_of_birth,care_start_date,team,"
    header += "practitioner_email,case_plan_goal,goal_set_date"
    row = f"C-1,Mia,Anderson,2015-01-01,{TODAY - timedelta(days=400)},Team A,pat@example.org,"
    row += f"guardianship,{TODAY - timedelta(days=30)}"
    with Session(engine) as session:
        import_children(session, f"{header}\n{row}\n", TODAY)
        session.commit()
    tablet = Tablet.signed_in(client, org.practitioner.email)
    mia = children_of(tablet.pull_all()[0]["changes"])[str(org.child.id)]
    assert mia["case_plan_goal"] == "guardianship"
    assert mia["next_review_due"] == rules.add_months(TODAY - timedelta(days=30), 6).isoformat()


def test_a_new_goal_sends_the_child_again(client, planned, engine):
    tablet = Tablet.signed_in(client, planned.practitioner.email)
    tablet.pull_all()
    with Session(engine) as session:
        gen_goal(
            session,
            session.get(Child, planned.child.id),
            "guardianship",
            date_set=TODAY - timedelta(days=1),
        )
        session.commit()
    changes = tablet.pull_all()[0]["changes"]
    assert ids_of(changes, "child") == {str(planned.child.id)}
    mia = children_of(changes)[str(planned.child.id)]
    assert mia["case_plan_goal"] == "guardianship"
    assert mia["next_review_due"] == rules.add_months(TODAY - timedelta(days=1), 6).isoformat()


def test_imported_history_sends_the_child_again(client, planned, engine):
    tablet = Tablet.signed_in(client, planned.practitioner.email)
    tablet.pull_all()
    reviewed = TODAY - timedelta(days=2)
    with Session(engine) as session:
        import_permanency(
            session,
            "external_id,event,date,progress,by\n"
            f"C-1,review,{reviewed.isoformat()},on_track,Casey Coord\n",
            TODAY,
        )
        session.commit()
    mia = children_of(tablet.pull_all()[0]["changes"])[str(planned.child.id)]
    assert mia["next_review_due"] == rules.add_months(reviewed, 3).isoformat()


@pytest.mark.parametrize("what", ["review", "youth_justice"])
def test_a_review_or_youth_justice_record_sends_the_child_again(client, planned, engine, what):
    """services/change_seq.py counts them as changes of the child (SUMMARISED_IN_CHILD)."""
    tablet = Tablet.signed_in(client, planned.practitioner.email)
    tablet.pull_all()
    with Session(engine) as session:
        mia = session.get(Child, planned.child.id)
        if what == "review":
            gen_review(session, mia, goal_in_force(session, mia.id, TODAY), review_date=TODAY)
        else:
            youth_justice(session, mia, conditions="Curfew 9pm")  # status unchanged
        session.commit()
    assert str(planned.child.id) in ids_of(tablet.pull_all()[0]["changes"], "child")


def test_a_page_of_children_costs_a_fixed_number_of_queries(client, planned, engine, app):
    """Incremental pull of many changed children: the permanency tables are read once per
    page, not once per child."""
    tablet = Tablet.signed_in(client, planned.practitioner.email)
    tablet.pull_all()
    with Session(engine) as session:
        for child in session.scalars(
            select(Child).where(Child.practitioner_id == planned.practitioner.id)
        ):
            gen_goal(session, child, "restoration", date_set=TODAY)
            youth_justice(session, child)
        session.commit()
    statements: list[str] = []
    app_engine = app.extensions["fieldapp_db"]["engine"]

    def note(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(app_engine, "before_cursor_execute", note)
    try:
        changes = tablet.pull_all()[0]["changes"]
    finally:
        event.remove(app_engine, "before_cursor_execute", note)
    assert len(ids_of(changes, "child")) == 2
    reading = lambda table: [s for s in statements if f"FROM {table}" in s]  # noqa: E731
    assert len(reading("case_plan_goals")) == 1
    assert len(reading("youth_justice_records")) == 1
