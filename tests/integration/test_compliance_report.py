"""The SQL compliance report agrees with the shared vectors, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from fieldapp.models import Contact
from fieldapp.services.compliance_report import compliance_rows

from ..factories import gen_child, gen_return_visit, gen_team, gen_user
from ..vectors import VECTORS, case_ids, contacts_of, parse_date


@pytest.mark.parametrize("case", VECTORS, ids=case_ids())
def test_sql_report_matches_vector(db_session, case):
    team = gen_team(db_session)
    practitioner = gen_user(db_session, "practitioner", team)
    child_spec = case["child"]
    care_start = parse_date(child_spec["care_start_date"])
    child = gen_child(
        db_session,
        team,
        practitioner,
        care_start_date=care_start,
        care_end_date=parse_date(child_spec["care_end_date"]),
        residence=child_spec["residence"],
    )
    for contact in contacts_of(case):
        db_session.add(Contact(child=child, author_id=practitioner.id, **contact))
    for visit in case["return_visits"]:
        gen_return_visit(
            db_session,
            child,
            practitioner,
            arrival_date=parse_date(visit["arrival_date"]),
            departure_date=parse_date(visit["departure_date"]),
        )
    db_session.flush()

    rows = compliance_rows(
        db_session, [team.id], parse_date(case["as_of"]), case.get("due_soon_days", 7)
    )
    expected = case["expected"]
    if not expected["in_care"]:
        assert rows == []
        return
    (row,) = rows
    assert row.last_contact_date == parse_date(expected["last_contact_date"])
    assert row.due_date == parse_date(expected["due_date"])
    assert row.status == expected["status"]
    assert row.days_overdue == expected["days_overdue"]
    assert [visit.status for visit in row.return_visits] == expected["visit_statuses"]
    assert row.practitioner_id == practitioner.id
