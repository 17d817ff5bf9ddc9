"""`import-children` takes each child's last face-to-face contact from the previous system
(issue 13; SPEC §6): an imported qualifying contact, marked as imported, so R1 is right on the
first day instead of every child looking years overdue."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.models import Child, Contact, User
from fieldapp.services.children_import import IMPORTED_CONTACT_NOTE

from ..factories import gen_contact, org_today
from .test_import_children import HEADER, flask_cli, imported

LAST_HEADER = HEADER + ",last_face_to_face_date,last_face_to_face_by"


def _row(external_id: str, last: str = "", by: str = "", practitioner: str = "pat@example.org"):
    start = (org_today() - timedelta(days=900)).isoformat()
    return (
        f"{external_id},Ruby,Walker,,2015-03-02,neither,nt,{start},,Team A,{practitioner},,,,,"
        f"{last},{by}"
    )


def _import(app, runner, tmp_path, *rows: str):
    path = tmp_path / "children.csv"
    path.write_text("\n".join([LAST_HEADER, *rows]) + "\n", encoding="utf-8")
    return flask_cli(app, runner, "import-children", str(path))


def test_the_last_contact_drives_r1_from_day_one(app, runner, client, auth, org, db, tmp_path):
    seen = org_today() - timedelta(days=20)
    result = _import(
        app,
        runner,
        tmp_path,
        _row("IMP-1", seen.isoformat()),
        _row("IMP-2", seen.isoformat(), by="col@example.org"),
        _row("IMP-3"),  # no contact on record there: overdue since care began, as before
    )
    assert result.exit_code == 0, result.output
    children = imported(db)
    contact = db().scalar(select(Contact).where(Contact.child_id == children["IMP-1"].id))
    assert contact.source == "import" and contact.status == "submitted"
    assert contact.contact_date == seen and contact.child_seen and contact.mode == "face_to_face"
    assert contact.author_id == org.practitioner.id
    assert contact.notes == IMPORTED_CONTACT_NOTE
    by_colleague = db().scalar(select(Contact).where(Contact.child_id == children["IMP-2"].id))
    assert by_colleague.author_id == org.colleague.id

    auth.login(org.leader.email)
    rows = {row["external_id"]: row for row in client.get("/api/compliance").get_json()["rows"]}
    assert rows["IMP-1"]["last_contact_date"] == seen.isoformat()
    assert rows["IMP-1"]["status"] == "on_track"
    assert rows["IMP-1"]["due_date"] == (seen + timedelta(days=42)).isoformat()
    assert rows["IMP-3"]["status"] == "overdue"
    # Nothing to read, so nothing for the team leader to acknowledge.
    assert "Ruby Walker" not in client.get("/team/acknowledgements").text


def test_reimporting_adds_no_second_contact_and_a_later_one_is_added(
    app, runner, org, db, tmp_path
):
    first = (org_today() - timedelta(days=60)).isoformat()
    later = (org_today() - timedelta(days=5)).isoformat()
    assert _import(app, runner, tmp_path, _row("IMP-1", first)).exit_code == 0
    assert _import(app, runner, tmp_path, _row("IMP-1", first)).exit_code == 0
    child = imported(db)["IMP-1"]
    dates = lambda: sorted(  # noqa: E731
        db().scalars(select(Contact.contact_date).where(Contact.child_id == child.id))
    )
    assert [d.isoformat() for d in dates()] == [first]
    assert _import(app, runner, tmp_path, _row("IMP-1", later)).exit_code == 0
    assert [d.isoformat() for d in dates()] == [first, later]


def test_bad_last_contacts_are_reported_by_line_and_nothing_is_written(
    app, runner, org, db, tmp_path
):
    future = (org_today() + timedelta(days=1)).isoformat()
    long_ago = "2001-01-01"
    result = _import(
        app,
        runner,
        tmp_path,
        _row("IMP-1", "2024-13-01"),
        _row("IMP-2", future),
        _row("IMP-3", long_ago),
        _row("IMP-4", "", by="pat@example.org"),
        _row("IMP-5", org_today().isoformat(), by="admin@example.org"),
        _row("IMP-6", org_today().isoformat(), practitioner=""),
    )
    assert result.exit_code != 0
    for line, message in [
        (2, "last_face_to_face_date '2024-13-01' is not a date (use YYYY-MM-DD)"),
        (3, "last_face_to_face_date is in the future"),
        (4, "last_face_to_face_date is before care_start_date"),
        (5, "last_face_to_face_by is given without last_face_to_face_date"),
        (6, "last_face_to_face_by 'admin@example.org' is not the account of a practitioner"),
        (7, "last_face_to_face_by is required when the child has no practitioner_email"),
    ]:
        assert f"line {line}: {message}" in result.output, result.output
    assert imported(db) == {}


def test_a_file_cannot_add_a_contact_once_one_is_recorded_in_fieldapp(
    app, runner, org, db, tmp_path
):
    """Security review: re-importing a "last contact" for a child already recorded in fieldapp
    would make an overdue child look seen. The file is taken, the contact is not; each imported
    contact is audited."""
    from fieldapp.models import AuditEvent

    assert _import(app, runner, tmp_path, _row("IMP-1")).exit_code == 0
    child = imported(db)["IMP-1"]
    with Session(db().get_bind()) as session:
        gen_contact(session, session.get(Child, child.id), session.get(User, org.practitioner.id),
                    contact_date=org_today() - timedelta(days=100))  # fmt: skip
        session.commit()
    result = _import(app, runner, tmp_path, _row("IMP-1", org_today().isoformat()))
    assert result.exit_code == 0, result.output
    sources = db().scalars(select(Contact.source).where(Contact.child_id == child.id)).all()
    assert sources == ["app"]

    assert _import(app, runner, tmp_path, _row("IMP-2", org_today().isoformat())).exit_code == 0
    event = db().scalar(select(AuditEvent).where(AuditEvent.action == "import_contact"))
    assert event.detail["child_id"] == str(imported(db)["IMP-2"].id)
    assert event.detail["contact_date"] == org_today().isoformat()
