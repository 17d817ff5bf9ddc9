"""Importing children from the old system's CSV (SPEC §6), by the command line and by the admin
page: all rows or none, every bad row reported by its line number, idempotent by external_id,
changes of practitioner logged as allocations and of primary agency as transfers (R10)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from flask.cli import FlaskGroup
from sqlalchemy import func, select

from fieldapp.models import (
    Agency,
    Allocation,
    AuditEvent,
    CasePlanGoalRecord,
    CaseResponsibilityTransfer,
    Child,
)

from ..factories import org_today
from .reading import page_text

HEADER = (
    "external_id,given_name,family_name,preferred_name,date_of_birth,aboriginal_status,"
    "residence,care_start_date,care_end_date,team,practitioner_email,primary_agency,"
    "case_plan_goal,goal_set_date,permanency_unlikely"
)
ROWS = {
    "IMP-1": "IMP-1,Ruby,Walker,,2015-03-02,aboriginal,nt,2024-01-10,,Team A,pat@example.org,,"
    "restoration,2024-02-01,false",
    "IMP-2": "IMP-2,Jarrah,Nelson,Jay,2012-07-19,Both,interstate,2023-05-01,,Team A,"
    "COL@example.org,Other Agency,long_term_care,2023-06-01,true",
    "IMP-3": "IMP-3,Isla,Quinn,,2010-11-30,neither,boarding_interstate,2022-02-14,2025-01-31,"
    "Team B,out@example.org,,,,",
    "IMP-4": "IMP-4,Noah,Fraser,,2019-01-01,,,2024-06-01,,team a,,,,,",
}
GOOD_FILE = "\n".join([HEADER, *ROWS.values()]) + "\n"
IMPORTED = ["IMP-1", "IMP-2", "IMP-3", "IMP-4"]

# Each bad row has a different fault; the first row is good and must not be written either.
BAD_ROWS = [
    (2, ROWS["IMP-1"], None),
    (
        3,
        "IMP-5,Ava,Kelly,,2015-02-30,aboriginal,nt,2024-01-10,,Team A,,,,,",
        "date_of_birth '2015-02-30' is not a date (use YYYY-MM-DD)",
    ),
    (
        4,
        "IMP-6,Eli,Lewis,,2014-01-01,neither,nt,2024-01-10,,Team Z,,,,,",
        "team 'Team Z' does not exist",
    ),
    (
        5,
        "IMP-7,Zara,Young,,2014-01-01,neither,nt,2024-01-10,,Team A,nobody@example.org,,,,",
        "practitioner_email 'nobody@example.org' is not a practitioner's account",
    ),
    (
        6,
        "IMP-8,Kobe,Turner,,2014-01-01,yes,nt,2024-01-10,,Team A,,,,,",
        "aboriginal_status 'yes' is not one of: aboriginal, torres_strait_islander, both, neither, "
        "unknown",
    ),
    (
        7,
        "IMP-1,Ruby,Walker,,2015-03-02,aboriginal,nt,2024-01-10,,Team A,,,,,",
        "external_id 'IMP-1' repeats line 2",
    ),
    (
        8,
        "IMP-9,Skye,Parker,,2012-01-01,neither,nt,2024-01-10,2023-12-31,Team A,,,,,",
        "care_end_date is before care_start_date",
    ),
    (
        9,
        "IMP-10,Indi,Stewart,,2012-01-01,neither,nt,2024-01-10,,Team A,out@example.org,,,,",
        "practitioner 'out@example.org' is not in team 'Team A'",
    ),
    (
        10,
        "IMP-11,Oscar,Green,,2012-01-01,neither,nt,2024-01-10,,Team A,lee@example.org,,,,",
        "practitioner_email 'lee@example.org' is not a practitioner's account",
    ),
    (11, "IMP-12,,Harris,,2012-01-01,neither,nt,,,Team A,,,,,", "given_name is required"),
    (11, None, "care_start_date is required"),
]
BAD_FILE = "\n".join([HEADER, *(row for _line, row, _message in BAD_ROWS if row)]) + "\n"
BAD_ERRORS = [(line, message) for line, _row, message in BAD_ROWS if message]


@pytest.fixture
def csv_file(tmp_path):
    def write(text: str, name: str = "children.csv"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


def imported(db) -> dict[str, Child]:
    return {
        child.external_id: child
        for child in db().scalars(select(Child).where(Child.external_id.like("IMP-%")))
    }


def state(db) -> dict:
    """Everything an import may write, for before/after comparisons."""
    session = db()
    return {
        "children": sorted(
            (
                c.external_id,
                c.version,
                c.practitioner_id,
                c.primary_agency_id,
                c.team_id,
                c.updated_at,
            )
            for c in session.scalars(select(Child))
        ),
        "allocations": sorted(
            (str(a.child_id), a.practitioner_id, a.start_date, a.end_date)
            for a in session.scalars(select(Allocation))
        ),
        "transfers": session.scalar(select(func.count()).select_from(CaseResponsibilityTransfer)),
        "goals": session.scalar(select(func.count()).select_from(CasePlanGoalRecord)),
        "import_events": session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "import_children")
        ),
    }


def agency_id(db, name: str) -> int:
    return db().scalar(select(Agency.id).where(Agency.name == name))


def flask_cli(app, runner, *args: str, **kwargs):
    """Runs `flask --app fieldapp <args>` as the `flask` command does: through FlaskGroup, which
    pushes the app context for every command. (`runner.invoke(args=...)` calls `app.cli`
    directly, and `import-children` is a plain click command that then has no app context.)"""
    cli = FlaskGroup(create_app=lambda: app, load_dotenv=False, set_debug_flag=False)
    return runner.invoke(cli, list(args), **kwargs)


@pytest.fixture
def import_cli(app, runner):
    def run(path: str):
        return flask_cli(app, runner, "import-children", path)

    return run


# --- the command line --------------------------------------------------------------------------


def test_a_good_file_creates_children_allocated_to_their_practitioners(
    import_cli, org, db, csv_file
):
    result = import_cli(csv_file(GOOD_FILE))
    assert result.exit_code == 0, result.output
    assert "Imported: 4 created, 0 updated, 0 unchanged." in result.stdout

    children = imported(db)
    assert sorted(children) == IMPORTED
    ruby, jay, isla, noah = (children[key] for key in IMPORTED)
    assert (ruby.given_name, ruby.family_name, ruby.date_of_birth) == (
        "Ruby",
        "Walker",
        date(2015, 3, 2),
    )
    assert (ruby.aboriginal_status, ruby.residence) == ("aboriginal", "nt")
    assert (ruby.care_start_date, ruby.care_end_date) == (date(2024, 1, 10), None)
    assert (ruby.case_plan_goal, ruby.goal_set_date, ruby.permanency_unlikely) == (
        "restoration",
        date(2024, 2, 1),
        False,
    )
    assert ruby.team_id == org.child.team_id
    assert ruby.practitioner_id == org.practitioner.id
    assert ruby.primary_agency_id == agency_id(db, "Territory Families")  # the team's agency
    assert (jay.preferred_name, jay.aboriginal_status, jay.residence) == (
        "Jay",
        "both",
        "interstate",
    )
    assert jay.practitioner_id == org.colleague.id  # email matched case-insensitively
    assert jay.primary_agency_id == agency_id(db, "Other Agency")
    assert jay.permanency_unlikely is True
    assert (isla.residence, isla.care_end_date) == ("boarding_interstate", date(2025, 1, 31))
    assert isla.team_id == org.other_child.team_id and isla.practitioner_id == org.outsider.id
    assert (noah.aboriginal_status, noah.residence) == ("unknown", "nt")  # the defaults
    assert noah.practitioner_id is None and noah.team_id == org.child.team_id
    assert all(child.version == 1 for child in children.values())

    allocations = (
        db()
        .scalars(
            select(Allocation).where(
                Allocation.child_id.in_([child.id for child in children.values()])
            )
        )
        .all()
    )
    assert sorted(
        (a.child_id, a.practitioner_id, a.start_date, a.end_date) for a in allocations
    ) == sorted(
        [
            (ruby.id, org.practitioner.id, date(2024, 1, 10), None),
            (jay.id, org.colleague.id, date(2023, 5, 1), None),
            (isla.id, org.outsider.id, date(2022, 2, 14), None),
        ]
    )
    assert state(db)["import_events"] == 1


def test_reimporting_the_same_file_changes_nothing(import_cli, org, db, csv_file):
    path = csv_file(GOOD_FILE)
    assert import_cli(path).exit_code == 0
    before = state(db)
    again = import_cli(path)
    assert again.exit_code == 0, again.output
    assert "Imported: 0 created, 0 updated, 4 unchanged." in again.stdout
    after = state(db)
    assert after["children"] == before["children"]  # no new rows, same versions
    assert after["allocations"] == before["allocations"]
    assert after["transfers"] == before["transfers"] == 0
    assert after["goals"] == before["goals"]


def test_an_imported_goal_joins_the_goal_history(import_cli, org, db, csv_file):
    """R3: the goal in the file is a record in the child's goal history (what the permanency
    pages and the tablet read), not only a value on the child; a changed goal supersedes it."""
    assert import_cli(csv_file(GOOD_FILE)).exit_code == 0
    ruby = imported(db)["IMP-1"]

    def goals():
        return (
            db()
            .execute(
                select(
                    CasePlanGoalRecord.goal, CasePlanGoalRecord.date_set, CasePlanGoalRecord.source
                )
                .where(CasePlanGoalRecord.child_id == ruby.id)
                .order_by(CasePlanGoalRecord.date_set)
            )
            .all()
        )

    assert goals() == [("restoration", date(2024, 2, 1), "import")]
    changed = GOOD_FILE.replace("restoration,2024-02-01", "guardianship,2025-03-01", 1)
    assert changed != GOOD_FILE
    assert import_cli(csv_file(changed)).exit_code == 0
    assert goals() == [
        ("restoration", date(2024, 2, 1), "import"),
        ("guardianship", date(2025, 3, 1), "import"),
    ]
    ruby = imported(db)["IMP-1"]
    assert (ruby.case_plan_goal, ruby.goal_set_date) == ("guardianship", date(2025, 3, 1))


def test_a_new_practitioner_or_agency_on_reimport_is_logged(import_cli, org, db, csv_file):
    assert import_cli(csv_file(GOOD_FILE)).exit_code == 0
    versions = {key: child.version for key, child in imported(db).items()}
    changed = GOOD_FILE.replace(
        ROWS["IMP-1"], ROWS["IMP-1"].replace("pat@example.org", "col@example.org")
    ).replace(ROWS["IMP-2"], ROWS["IMP-2"].replace("Other Agency", "Territory Families"))
    result = import_cli(csv_file(changed, "changed.csv"))
    assert result.exit_code == 0, result.output
    assert "Imported: 0 created, 2 updated, 2 unchanged." in result.stdout

    today = org_today()
    children = imported(db)
    ruby, jay = children["IMP-1"], children["IMP-2"]
    assert ruby.practitioner_id == org.colleague.id
    assert sorted(
        (a.practitioner_id, a.start_date, a.end_date, a.reason) for a in ruby.allocations
    ) == sorted(
        [
            (org.practitioner.id, date(2024, 1, 10), today, None),
            (org.colleague.id, today, None, "Changed by import"),
        ]
    )
    assert jay.primary_agency_id == agency_id(db, "Territory Families")
    assert [(t.from_agency_id, t.to_agency_id, t.transfer_date) for t in jay.transfers] == [
        (agency_id(db, "Other Agency"), agency_id(db, "Territory Families"), today)
    ]
    assert jay.transfers[0].reason
    assert ruby.version > versions["IMP-1"] and jay.version > versions["IMP-2"]
    assert children["IMP-3"].version == versions["IMP-3"]
    assert children["IMP-4"].version == versions["IMP-4"]


def test_a_file_with_bad_rows_writes_nothing_and_reports_every_one(import_cli, org, db, csv_file):
    before = state(db)
    result = import_cli(csv_file(BAD_FILE))
    assert result.exit_code == 1
    reported = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert reported == [f"error: line {line}: {message}" for line, message in BAD_ERRORS]
    assert f"Nothing was imported: {len(BAD_ERRORS)} error(s)." in result.stderr
    assert "Imported:" not in result.output
    assert state(db) == before
    assert imported(db) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD_FILE.replace(",team,", ",")
            .replace(",Team A,", ",")
            .replace(",Team B,", ",")
            .replace(",team a,", ","),
            "line 1: missing column(s): team",
        ),
        (
            HEADER.replace("preferred_name", "nickname") + "\n" + ROWS["IMP-1"] + "\n",
            "line 1: unknown column(s): nickname",
        ),
        (HEADER + "\n", "line 1: the file has no rows"),
        (HEADER + "\n" + ROWS["IMP-1"] + ",extra\n", "line 2: more fields than columns"),
    ],
    ids=["missing required column", "unknown column", "no rows", "extra field"],
)
def test_a_malformed_file_writes_nothing(import_cli, org, db, csv_file, text, message):
    before = state(db)
    result = import_cli(csv_file(text))
    assert result.exit_code == 1
    assert f"error: {message}" in result.stderr
    assert state(db) == before


def test_a_file_with_a_byte_order_mark_imports(import_cli, org, db, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD_FILE.encode())
    result = import_cli(str(path))
    assert result.exit_code == 0, result.output
    assert sorted(imported(db)) == IMPORTED


# --- the admin page ----------------------------------------------------------------------------


def upload(auth, text: str | bytes, name: str = "children.csv"):
    data = text.encode() if isinstance(text, str) else text
    return auth.post(
        "/admin/import", {"file": (io.BytesIO(data), name)}, content_type="multipart/form-data"
    )


def test_admin_imports_a_file_from_the_page(client, auth, org, db):
    auth.login("admin@example.org")
    assert client.get("/admin/import").status_code == 200

    bad = upload(auth, BAD_FILE)
    assert bad.status_code == 422
    text = page_text(bad)
    assert f"Nothing was imported: {len(BAD_ERRORS)} errors" in text
    for line, message in BAD_ERRORS:
        assert f"Line {line}: {message}" in text
    assert imported(db) == {}

    good = upload(auth, GOOD_FILE)
    assert good.status_code == 200
    assert "Imported: 4 created, 0 updated, 0 unchanged." in page_text(good)
    children = imported(db)
    assert sorted(children) == IMPORTED
    assert children["IMP-1"].practitioner_id == org.practitioner.id
    (event,) = db().scalars(select(AuditEvent).where(AuditEvent.action == "import_children"))
    assert event.user_id == org.admin.id
    assert event.detail == {"created": 4, "updated": 0, "unchanged": 0}

    before = state(db)
    again = upload(auth, GOOD_FILE)
    assert again.status_code == 200
    assert "Imported: 0 created, 0 updated, 4 unchanged." in page_text(again)
    after = state(db)
    assert after["children"] == before["children"]
    assert after["allocations"] == before["allocations"]


def test_admin_page_refuses_a_missing_or_unreadable_file(client, auth, org, db):
    auth.login("admin@example.org")
    before = state(db)
    nothing = auth.post("/admin/import", {}, content_type="multipart/form-data")
    assert nothing.status_code == 422
    assert "CSV file: Choose a CSV file to import." in page_text(nothing)
    not_utf8 = upload(auth, GOOD_FILE.replace("Ruby", "Rüby").encode("latin-1"))
    assert not_utf8.status_code == 422
    assert "The file is not UTF-8 text" in page_text(not_utf8)
    assert state(db) == before
