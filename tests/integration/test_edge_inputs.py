"""Odd input gets a clear, field-named answer, never a 500, and nothing saved is lost."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapp.models import Child, Contact, Team, User

from ..factories import org_today
from .sync_helpers import Tablet


def _new_contact(tablet, child_id, **data):
    values = {
        "child_id": str(child_id),
        "status": "draft",
        "contact_date": org_today().isoformat(),
        "mode": "face_to_face",
        "made_by": "practitioner",
        **data,
    }
    return tablet.mutation("create", "contact", uuid.uuid4(), values)


def test_a_blank_contact_type_is_a_field_error_not_a_crash(client, org, db_session):
    tablet = Tablet.signed_in(client, org.practitioner.email)
    before = db_session.scalar(select(func.count()).select_from(Contact))
    sent = _new_contact(tablet, org.child.id, mode="", child_views="Keep these words.")
    (result,) = tablet.push([sent]).get_json()["results"]
    assert result["status"] == "rejected"
    assert list(result["errors"]) == ["mode"]
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Contact)) == before


def test_a_thirty_first_participant_is_refused_politely(client, org, db_session):
    tablet = Tablet.signed_in(client, org.practitioner.email)
    people = [{"role": "carer", "name": f"Person {index}"} for index in range(31)]
    (result,) = tablet.push([_new_contact(tablet, org.child.id, participants=people)]).get_json()[
        "results"
    ]
    assert result["status"] == "rejected"
    assert result["errors"] == {"participants": ["At most 30 participants."]}
    (accepted,) = tablet.push(
        [_new_contact(tablet, org.child.id, participants=people[:30])]
    ).get_json()["results"]
    assert accepted["status"] == "applied"


def test_a_child_whose_care_ends_next_month_is_still_in_care(client, auth, org, engine):
    with Session(engine) as session:
        session.get(Child, org.child.id).care_end_date = org_today() + timedelta(days=30)
        session.commit()
    auth.login(org.leader.email)
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
