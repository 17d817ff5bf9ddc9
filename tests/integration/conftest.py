from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from fieldapp.models import Child, Contact, ReturnVisit, User

from ..factories import (
    gen_agency,
    gen_child,
    gen_contact,
    gen_return_visit,
    gen_team,
    gen_user,
    org_today,
)


@dataclass
class Org:
    practitioner: User  # team A, holds `child` and `interstate_child`
    colleague: User  # team A, another practitioner
    leader: User  # leads team A
    outsider: User  # practitioner of team B
    outsider_leader: User  # leads team B
    coordinator: User  # agency of team A
    admin: User
    child: Child
    interstate_child: Child
    other_child: Child  # team B, held by the outsider
    contact: Contact  # submitted contact for `child`
    draft: Contact  # the practitioner's draft for `child`
    visit: ReturnVisit
    other_contact: Contact


@pytest.fixture
def db(app, engine):
    """`db()` is a session whose reads see everything committed so far: each call ends the
    previous read transaction (SQLite WAL readers otherwise keep their snapshot) and expires
    what was loaded."""
    session = Session(engine)

    def fresh() -> Session:
        session.rollback()
        return session

    yield fresh
    session.close()


@pytest.fixture
def org(app, engine) -> Org:
    with Session(engine, expire_on_commit=False) as session:
        agency = gen_agency(session, "Territory Families")
        team_a = gen_team(session, "Team A", agency)
        team_b = gen_team(session, "Team B", gen_agency(session, "Other Agency"))
        practitioner = gen_user(
            session, "practitioner", team_a, email="pat@example.org", name="Pat Practitioner"
        )
        colleague = gen_user(session, "practitioner", team_a, email="col@example.org")
        leader = gen_user(session, "team_leader", team_a, email="lee@example.org")
        outsider = gen_user(session, "practitioner", team_b, email="out@example.org")
        outsider_leader = gen_user(session, "team_leader", team_b, email="outlead@example.org")
        coordinator = gen_user(session, "coordinator", team_a, email="coord@example.org")
        admin = gen_user(session, "admin", email="admin@example.org", agency=agency)
        start = org_today() - timedelta(days=400)
        child = gen_child(
            session,
            team_a,
            practitioner,
            care_start_date=start,
            given_name="Mia",
            family_name="Anderson",
            external_id="C-1",
        )
        interstate = gen_child(
            session,
            team_a,
            practitioner,
            care_start_date=start,
            given_name="Kai",
            family_name="Baker",
            residence="interstate",
            external_id="C-2",
        )
        other_child = gen_child(
            session,
            team_b,
            outsider,
            care_start_date=start,
            given_name="Zed",
            family_name="Other",
            external_id="C-3",
        )
        contact = gen_contact(session, child, practitioner)
        draft = gen_contact(session, child, practitioner, status="draft", child_views="Draft words")
        visit = gen_return_visit(session, interstate, practitioner)
        other_contact = gen_contact(session, other_child, outsider)
        session.commit()
        return Org(
            practitioner,
            colleague,
            leader,
            outsider,
            outsider_leader,
            coordinator,
            admin,
            child,
            interstate,
            other_child,
            contact,
            draft,
            visit,
            other_contact,
        )
