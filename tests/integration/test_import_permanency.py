"""Importing permanency history from the previous system (SPEC §6 `import-permanency`): all rows
or none with every bad line reported, idempotent by (external_id, event, date), imported goals
and reviews driving R3 exactly as the app's, and transfers moving primary case responsibility
(R10)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask.cli import FlaskGroup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapp.models import (
    Agency,
    AuditEvent,
    CasePlanGoalRecord,
    CaseResponsibilityTransfer,
    Child,
    CulturalConsultation,
    GoalReview,
    PermanencyConsultation,
)
from fieldapp.services import permanency as rules
from fieldapp.services.permanency_records import goal_in_force, last_review_date

from ..factories import gen_agency, gen_goal, gen_review, org_today

HEADER = (
    "external_id,event,date,case_plan_goal,permanency_unlikely,progress,trigger,kind,"
    "from_agency,to_agency,basis,by,notes"
)
TODAY = org_today()


def ago(days: int) -> str:
    return (TODAY - timedelta(days=days)).isoformat()


GOOD_ROWS = [
    f"C-1,goal_set,{ago(400)},restoration,false,,,,,,,Lee Leader,Mum engaged with rehab",
    f"C-1,review,{ago(300)},,,on_track,,,,,,Casey Coord,Continue restoration plan",
    f"C-1,consultation,{ago(200)},,,,goal_change_considered,formal,,,,Casey; Pat,"
    '"Consider guardianship with Aunty, if restoration stalls"',
    f"C-1,goal_set,{ago(120)},guardianship,true,,,,,,,Lee Leader,Restoration not practicable",
    f"C-1,review,{ago(40)},,,progress_concerns,,,,,,Casey Coord,Guardianship application lodged",
    f"C-2,cultural_consultation,{ago(90)},,,,,aboriginal_consultant,,,,Aunty Rosie Munkara,"
    "Keep Kai connected to his grandmother's country",
    f"C-2,transfer,{ago(60)},,,,,,Territory Families,Top End Kids,final_orders_minister,,"
    "Final orders made; NGO case management",
]
GOOD_FILE = "\n".join([HEADER, *GOOD_ROWS]) + "\n"


@pytest.fixture
def ngo(org, engine) -> int:
    with Session(engine) as session:
        agency = gen_agency(session, "Top End Kids", "ngo")
        session.commit()
        return agency.id


@pytest.fixture
def import_cli(app, runner, tmp_path):
    """`flask --app fieldapp import-permanency FILE` through FlaskGroup, as the shell runs it."""
    cli = FlaskGroup(create_app=lambda: app, load_dotenv=False, set_debug_flag=False)

    def run(text: str):
        path = tmp_path / "permanency.csv"
        path.write_text(text, encoding="utf-8")
        return runner.invoke(cli, ["import-permanency", str(path)])

    return run


MODELS = (
    CasePlanGoalRecord,
    GoalReview,
    PermanencyConsultation,
    CulturalConsultation,
    CaseResponsibilityTransfer,
)


def counts(db) -> dict[str, int]:
    session = db()
    return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in MODELS}


def child(db, external_id: str) -> Child:
    return db().scalar(select(Child).where(Child.external_id == external_id))


def test_a_good_file_writes_every_event(import_cli, org, ngo, db):
    result = import_cli(GOOD_FILE)
    assert result.exit_code == 0, result.output
    assert "Imported 7 record(s) for 2 child(ren)" in result.stdout
    assert "0 row(s) already there" in result.stdout
    session = db()
    mia = child(db, "C-1")
    goals = session.scalars(
        select(CasePlanGoalRecord)
        .where(CasePlanGoalRecord.child_id == mia.id)
        .order_by(CasePlanGoalRecord.date_set)
    ).all()
    assert [(g.goal, g.source, g.decided_by_name) for g in goals] == [
        ("restoration", "import", "Lee Leader"),
        ("guardianship", "import", "Lee Leader"),
    ]
    assert goals[1].permanency_unlikely and goals[1].reason == "Restoration not practicable"
    reviews = session.scalars(
        select(GoalReview).where(GoalReview.child_id == mia.id).order_by(GoalReview.review_date)
    ).all()
    # Each review belongs to the goal in force on its date.
    assert [r.goal_id for r in reviews] == [goals[0].id, goals[1].id]
    assert reviews[1].progress == "progress_concerns"
    assert reviews[1].reviewed_by_name == "Casey Coord"
    assert reviews[1].recommendation == "Guardianship application lodged"
    consultation = session.scalar(select(PermanencyConsultation))
    assert (consultation.kind, consultation.trigger, consultation.source) == (
        "formal",
        "goal_change_considered",
        "import",
    )
    assert consultation.recommendations.startswith("Consider guardianship with Aunty,")
    cultural = session.scalar(select(CulturalConsultation))
    assert cultural.consultant_kind == "aboriginal_consultant"
    assert cultural.consultant_name == "Aunty Rosie Munkara"
    # The child's mirror is the goal in force today.
    assert (mia.case_plan_goal, mia.goal_set_date, mia.permanency_unlikely) == (
        "guardianship",
        TODAY - timedelta(days=120),
        True,
    )
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "import_permanency")
        )
        == 1
    )


def test_a_transfer_moves_primary_case_responsibility(import_cli, org, ngo, db):
    assert import_cli(GOOD_FILE).exit_code == 0
    kai = child(db, "C-2")
    assert kai.primary_agency_id == ngo
    transfer = db().scalar(select(CaseResponsibilityTransfer))
    assert transfer.basis == "final_orders_minister"
    assert transfer.source == "import"
    assert transfer.from_agency.name == "Territory Families"
    assert transfer.reason == "Final orders made; NGO case management"


def test_the_latest_transfer_decides_the_agency_whatever_the_line_order(import_cli, org, ngo, db):
    text = "\n".join(
        [
            HEADER,
            f"C-2,transfer,{ago(10)},,,,,,,Territory Families,,,Returned: high risk",
            f"C-2,transfer,{ago(100)},,,,,,,Top End Kids,protection_action_complete,,Moved",
        ]
    )
    assert import_cli(text).exit_code == 0
    assert child(db, "C-2").primary_agency.name == "Territory Families"


def test_reimporting_the_same_file_writes_nothing(import_cli, org, ngo, db):
    assert import_cli(GOOD_FILE).exit_code == 0
    before = counts(db)
    again = import_cli(GOOD_FILE)
    assert again.exit_code == 0, again.output
    assert "Imported 0 record(s) for 0 child(ren); 7 row(s) already there." in again.stdout
    assert counts(db) == before
    # A file that repeats the old rows and adds one writes only the new one.
    extra = GOOD_FILE + f"C-1,review,{ago(5)},,,on_track,,,,,,Casey Coord,On track\n"
    third = import_cli(extra)
    assert "Imported 1 record(s) for 1 child(ren) (1 review); 7 row(s) already there." in (
        third.stdout
    )


def test_a_row_matching_an_app_record_is_already_there(import_cli, org, db, engine):
    with Session(engine) as session:
        mia = session.get(Child, org.child.id)
        gen_goal(session, mia, "restoration", date_set=TODAY - timedelta(days=50))
        session.commit()
    result = import_cli(f"{HEADER}\nC-1,goal_set,{ago(50)},restoration,,,,,,,,,\n")
    assert "1 row(s) already there" in result.stdout
    assert counts(db)["case_plan_goals"] == 1


BAD_ROWS = [
    (2, f"C-1,goal_set,{ago(400)},restoration,false,,,,,,,,", None),
    (3, "C-1,review,2025-02-30,,,on_track,,,,,,,", "date '2025-02-30' is not a date"),
    (4, f"C-9,goal_set,{ago(10)},restoration,,,,,,,,,", "external_id 'C-9' is not a known child"),
    (5, f"C-1,goal_set,{ago(9)},forever_home,,,,,,,,,", "case_plan_goal 'forever_home' is not"),
    (6, f"C-1,review,{ago(8)},,,great,,,,,,,", "progress 'great' is not one of"),
    (7, f"C-1,consultation,{ago(7)},,,,whenever,formal,,,,,", "trigger 'whenever' is not one"),
    (8, f"C-1,consultation,{ago(6)},,,,requested,chat,,,,,", "kind 'chat' is not one of"),
    (9, f"C-1,transfer,{ago(5)},,,,,,,Nowhere Inc,,,", "to_agency 'Nowhere Inc' is not a known"),
    (10, f"C-1,transfer,{ago(4)},,,,,,,Top End Kids,because,,", "basis 'because' is not one"),
    (11, f"C-1,cultural_consultation,{ago(3)},,,,,elder,,,,,advice", "kind 'elder' is not"),
    (12, f"C-1,review,{ago(2)},,,,,,,,,,", "progress is required for this event"),
    (13, f"C-2,review,{ago(2)},,,on_track,,,,,,,", "C-2 had no case plan goal on"),
    (14, f"C-1,meeting,{ago(2)},,,,,,,,,,", "event 'meeting' is not one of"),
    (
        15,
        f"C-1,goal_set,{ago(400)},guardianship,,,,,,,,,",
        f"goal_set of C-1 on {ago(400)} repeats line 2",
    ),
    (16, f"C-1,transfer,{ago(1)},,,,,,,,,,", "to_agency is required for this event"),
    (
        17,
        f"C-1,goal_set,{(TODAY + timedelta(days=3)).isoformat()},restoration,,,,,,,,,",
        "is in the future",
    ),  # fmt: skip
]


def test_a_file_with_bad_rows_writes_nothing_and_reports_every_line(import_cli, org, ngo, db):
    before = counts(db)
    text = "\n".join([HEADER, *(row for _line, row, _message in BAD_ROWS)]) + "\n"
    result = import_cli(text)
    assert result.exit_code == 1
    reported = result.stderr.splitlines()
    for line, _row, message in BAD_ROWS:
        if message:
            assert any(
                text.startswith(f"error: line {line}: ") and message in text for text in reported
            ), (line, result.stderr)
    assert "error: line 2:" not in result.stderr
    assert "Nothing was imported" in result.stderr
    assert counts(db) == before
    assert child(db, "C-1").case_plan_goal is None


def test_a_review_before_its_goal_line_is_refused(import_cli, org, db):
    """A review finds a goal already recorded or set on an earlier line of the same file."""
    text = "\n".join(
        [
            HEADER,
            f"C-1,review,{ago(10)},,,on_track,,,,,,,",
            f"C-1,goal_set,{ago(20)},restoration,,,,,,,,,",
        ]
    )
    result = import_cli(text)
    assert result.exit_code == 1
    assert "line 2: C-1 had no case plan goal on" in result.stderr


@pytest.mark.parametrize(
    "text, message",
    [
        ("external_id,date\nC-1,2026-01-01\n", "line 1: missing column(s): event"),
        (HEADER + ",colour\n", "line 1: unknown column(s): colour"),
        (HEADER + "\n", "line 1: the file has no rows"),
    ],
)
def test_a_malformed_file_writes_nothing(import_cli, org, db, text, message):
    result = import_cli(text)
    assert result.exit_code == 1
    assert message in result.stderr


@pytest.mark.parametrize("unlikely", [False, True])
def test_an_imported_goal_and_review_drive_r3_as_the_apps_do(
    import_cli, org, ngo, db, engine, unlikely
):
    """The same goal and review recorded in the app (Kai) and imported (Mia) give the same
    next review due and two-year timeframe."""
    set_on, reviewed_on = TODAY - timedelta(days=200), TODAY - timedelta(days=31)
    with Session(engine) as session:
        kai = session.get(Child, org.interstate_child.id)
        goal = gen_goal(session, kai, "adoption", date_set=set_on, permanency_unlikely=unlikely)
        gen_review(session, kai, goal, review_date=reviewed_on)
        for external_id in ("C-1", "C-2"):
            session.scalar(
                select(Child).where(Child.external_id == external_id)
            ).primary_agency_id = ngo
        session.commit()
    flag = "true" if unlikely else "false"
    text = "\n".join(
        [
            HEADER,
            f"C-1,goal_set,{set_on},adoption,{flag},,,,,,,Lee Leader,",
            f"C-1,review,{reviewed_on},,,on_track,,,,,,Casey Coord,Continue",
        ]
    )
    assert import_cli(text).exit_code == 0

    def position(child_id):
        session = db()
        goal = goal_in_force(session, child_id, TODAY)
        agency = session.get(Child, child_id).primary_agency
        return rules.assess_goal(
            goal.goal,
            goal.date_set,
            goal.permanency_unlikely,
            last_review_date(session, goal, TODAY),
            agency.kind,
            TODAY,
        )

    imported, recorded = position(org.child.id), position(org.interstate_child.id)
    assert imported == recorded
    assert imported.next_review_due == rules.add_months(reviewed_on, 3 if unlikely else 6)
    assert imported.two_year_deadline == rules.add_months(set_on, 24)


def test_agency_names_match_whatever_their_case(import_cli, org, ngo, db):
    text = f"{HEADER}\nC-1,transfer,{ago(3)},,,,,,,TOP END KIDS,Final_Orders_Minister,,Orders\n"
    result = import_cli(text)
    assert result.exit_code == 0, result.output
    assert child(db, "C-1").primary_agency_id == ngo
    assert db().scalar(select(Agency.kind).where(Agency.id == ngo)) == "ngo"
