"""Odd input gets a clear, field-named answer, never a 500, and nothing saved is lost."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapp.models import Child, Contact, Team, User

from ..factories import org_today


def test_a_blank_contact_type_is_a_field_error_not_a_crash(client, auth, org, db_session):
    auth.login(org.practitioner.email)
    before = db_session.scalar(select(func.count()).select_from(Contact))
    response = auth.post(
        f"/children/{org.child.id}/contacts/new",
        {
            "contact_date": org_today().isoformat(),
            "mode": "",
            "made_by": "practitioner",
            "child_views": "Keep these words.",
            "save_draft": "Save draft",
        },
    )
    assert response.status_code == 422
    assert "Contact type" in response.text and "Keep these words." in response.text
    assert db_session.scalar(select(func.count()).select_from(Contact)) == before


def test_adding_a_thirty_first_participant_is_refused_politely(client, auth, org):
    auth.login(org.practitioner.email)
    data = {
        "contact_date": org_today().isoformat(),
        "mode": "face_to_face",
        "made_by": "practitioner",
        "add_participant": "Add participant",
    }
    for index in range(30):
        data[f"participants-{index}-role"] = "carer"
        data[f"participants-{index}-name"] = f"Person {index}"
    response = auth.post(f"/children/{org.child.id}/contacts/new", data)
    assert response.status_code == 422
    assert "At most 30 participants" in response.text
    assert "Person 29" in response.text


def test_a_child_whose_care_ends_next_month_is_still_in_care(client, auth, org, engine):
    with Session(engine) as session:
        session.get(Child, org.child.id).care_end_date = org_today() + timedelta(days=30)
        session.commit()
    auth.login(org.practitioner.email)
    page = client.get(f"/children/{org.child.id}").text
    assert "Record contact" in page and "Six-weekly contact" in page


def test_overlong_names_in_admin_forms_are_field_errors(client, auth, org, db_session):
    auth.login(org.admin.email)
    long_name = "x" * 300
    team = auth.post(
        "/admin/teams",
        {"name": long_name, "agency": "Territory Families", "agency_kind": "government"},
    )
    user = auth.post(
        "/admin/users",
        {
            "email": "new@example.org",
            "name": long_name,
            "role": "admin",
            "password": "long enough password",
        },
    )
    assert team.status_code == 422 and "at most 200 characters" in team.text
    assert user.status_code == 422 and "at most 200 characters" in user.text
    assert (
        db_session.scalar(select(func.count()).select_from(Team).where(Team.name == long_name)) == 0
    )
    assert (
        db_session.scalar(select(func.count()).select_from(User).where(User.name == long_name)) == 0
    )
