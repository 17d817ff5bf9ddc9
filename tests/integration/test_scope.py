"""Direct tests of `fieldapp/services/scope.py`, the one place that decides who may see what
(SPEC §2): `visible_children`, `can_read_case_notes`, `visible_contacts`, `find_child` and
`find_contact`. Every page, API answer and sync pull starts from these, so a wrong rule here shows
case content to the wrong people (or hides it from the right ones) everywhere at once, and the
route tests only sample it.

Per role, in the manner of redash's permission tests, each test states the exact set of records
one user of a small organisation sees, by name: a rule that shows too much, too little or nothing
at all fails. Each set is checked twice: as listed by `visible_children` / `visible_contacts`, and
record by record through `find_child` / `find_contact`.

The organisation built by `org`:

    agency North: team North 1 (pat, col: practitioners; lee: its team leader;
                  cora: coordinator; ada: admin), team North 2
    agency South: team South (sam: practitioner; cody: coordinator, in no team)
    lou leads two teams of two agencies: North 2 and South

    child  team     held by  primary case responsibility
    mia    North 1  pat      North
    leo    North 1  pat      South   (South's coordinator sees him through responsibility)
    kai    North 1  col      North
    noa    North 2  nobody   North
    zed    South    sam      South
    ivy    South    sam      North   (North's coordinator sees her through responsibility)

    contact           child  author  status
    mia_by_pat        mia    pat     submitted
    mia_draft_by_pat  mia    pat     draft
    mia_by_col        mia    col     submitted  (a colleague covered a visit)
    mia_draft_by_col  mia    col     draft      (a colleague's draft on pat's child)
    leo_by_pat        leo    pat     submitted
    kai_by_col        kai    col     submitted
    kai_draft_by_col  kai    col     draft
    noa_by_lou        noa    lou     submitted
    zed_by_sam        zed    sam     submitted
    zed_draft_by_sam  zed    sam     draft
    ivy_by_sam        ivy    sam     submitted

Plus users who must see nothing: a practitioner and a team leader in no team, a coordinator of no
agency.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from fieldapp.models import Child, Contact, User
from fieldapp.services.allocation import reallocate
from fieldapp.services.scope import (
    can_read_case_notes,
    find_child,
    find_contact,
    visible_children,
    visible_contacts,
)

from ..factories import gen_agency, gen_child, gen_contact, gen_team, gen_user, org_today


@dataclass
class Org:
    session: Session
    users: dict[str, User]
    children: dict[str, Child]
    contacts: dict[str, Contact]


@pytest.fixture
def org(db_session) -> Org:
    """The organisation of the module docstring, committed, built on a plain session (no app):
    it replaces, in this module, the app-based `org` of tests/integration/conftest.py. The only
    place that names the database session fixture: tests reach it as `org.session`."""
    session = db_session
    north = gen_agency(session, "North Agency")
    south = gen_agency(session, "South Agency")
    north_1 = gen_team(session, "North 1", north)
    north_2 = gen_team(session, "North 2", north)
    south_team = gen_team(session, "South", south)

    users = {
        "pat": gen_user(session, "practitioner", north_1),
        "col": gen_user(session, "practitioner", north_1),
        "lee": gen_user(session, "team_leader", north_1),
        "lou": gen_user(session, "team_leader", north_2),
        "sam": gen_user(session, "practitioner", south_team),
        "cora": gen_user(session, "coordinator", north_1),
        "cody": gen_user(session, "coordinator", agency=south),
        "ada": gen_user(session, "admin", north_1),
        "teamless_practitioner": gen_user(session, "practitioner"),
        "teamless_leader": gen_user(session, "team_leader"),
        "agencyless_coordinator": gen_user(session, "coordinator"),
    }
    users["lou"].teams.append(south_team)
    session.flush()
    assert users["cora"].agency_id == north.id and users["cody"].agency_id == south.id
    assert users["ada"].agency_id == north.id  # an admin with an agency and a team still sees none
    assert users["agencyless_coordinator"].agency_id is None

    pat, col, sam = users["pat"], users["col"], users["sam"]
    children = {
        "mia": gen_child(session, north_1, pat),
        "leo": gen_child(session, north_1, pat, primary_agency=south),
        "kai": gen_child(session, north_1, col),
        "noa": gen_child(session, north_2),
        "zed": gen_child(session, south_team, sam),
        "ivy": gen_child(session, south_team, sam, primary_agency=north),
    }
    mia, leo, kai = children["mia"], children["leo"], children["kai"]
    zed, ivy = children["zed"], children["ivy"]
    contacts = {
        "mia_by_pat": gen_contact(session, mia, pat),
        "mia_draft_by_pat": gen_contact(session, mia, pat, status="draft"),
        "mia_by_col": gen_contact(session, mia, col),
        "mia_draft_by_col": gen_contact(session, mia, col, status="draft"),
        "leo_by_pat": gen_contact(session, leo, pat),
        "kai_by_col": gen_contact(session, kai, col),
        "kai_draft_by_col": gen_contact(session, kai, col, status="draft"),
        "noa_by_lou": gen_contact(session, children["noa"], users["lou"]),
        "zed_by_sam": gen_contact(session, zed, sam),
        "zed_draft_by_sam": gen_contact(session, zed, sam, status="draft"),
        "ivy_by_sam": gen_contact(session, ivy, sam),
    }
    session.commit()
    return Org(session, users, children, contacts)


def assert_children_in_scope(org: Org, who: str, expected: set[str]) -> None:
    """`who` sees exactly `expected`: in `visible_children` (once each) and by `find_child`."""
    user = org.users[who]
    names = {child.id: name for name, child in org.children.items()}
    listed = [
        names.get(child.id, repr(child)) for child in org.session.scalars(visible_children(user))
    ]
    assert sorted(listed) == sorted(expected), f"visible_children({who})"
    for name, child in org.children.items():
        found = find_child(org.session, user, child.id)
        if name in expected:
            assert found is not None and found.id == child.id, f"find_child({who}, {name})"
        else:
            assert found is None, f"find_child({who}, {name}) should find nothing"


def assert_contacts_in_scope(org: Org, who: str, expected: set[str]) -> None:
    """`who` sees exactly `expected`: in `visible_contacts` (once each) and by `find_contact`."""
    user = org.users[who]
    names = {contact.id: name for name, contact in org.contacts.items()}
    listed = [
        names.get(contact.id, repr(contact))
        for contact in org.session.scalars(visible_contacts(user))
    ]
    assert sorted(listed) == sorted(expected), f"visible_contacts({who})"
    for name, contact in org.contacts.items():
        found = find_contact(org.session, user, contact.id)
        if name in expected:
            assert found is not None and found.id == contact.id, f"find_contact({who}, {name})"
        else:
            assert found is None, f"find_contact({who}, {name}) should find nothing"


# visible_children / find_child


def test_practitioner_sees_only_their_caseload(org):
    # Not their colleague's kai, though of the same team; leo although South holds responsibility.
    assert_children_in_scope(org, "pat", {"mia", "leo"})
    assert_children_in_scope(org, "col", {"kai"})
    # ivy's primary responsibility is with North: the caseload, not the agency, decides.
    assert_children_in_scope(org, "sam", {"zed", "ivy"})


def test_team_leader_sees_every_child_of_their_team_and_no_other(org):
    # Not noa of North 2, a team of the same agency.
    assert_children_in_scope(org, "lee", {"mia", "leo", "kai"})


def test_team_leader_of_two_teams_sees_the_children_of_both_including_unallocated(org):
    assert_children_in_scope(org, "lou", {"noa", "zed", "ivy"})


def test_coordinator_sees_children_of_all_their_agencys_teams_and_those_it_is_responsible_for(
    org,
):
    # cora is a member of North 1 only, yet sees noa of North 2 (agency-wide), ivy of South's team
    # (North holds primary responsibility), and leo (a North team, though South is responsible).
    assert_children_in_scope(org, "cora", {"mia", "leo", "kai", "noa", "ivy"})


def test_coordinator_sees_another_agencys_child_their_agency_is_responsible_for(org):
    # cody is in no team: the agency alone decides. leo is in a North team, South's responsibility.
    assert_children_in_scope(org, "cody", {"zed", "ivy", "leo"})


def test_admin_sees_no_children_despite_team_and_agency(org):
    assert_children_in_scope(org, "ada", set())


@pytest.mark.parametrize(
    "who", ["teamless_practitioner", "teamless_leader", "agencyless_coordinator"]
)
def test_user_without_team_or_agency_sees_nothing(org, who):
    assert_children_in_scope(org, who, set())
    assert_contacts_in_scope(org, who, set())


@pytest.mark.parametrize("who", ["pat", "lee", "cora"])
def test_find_child_finds_nothing_for_an_unknown_id(org, who):
    assert find_child(org.session, org.users[who], org.children["mia"].id) is not None
    assert find_child(org.session, org.users[who], uuid.uuid4()) is None


# can_read_case_notes


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("pat", True),
        ("lee", True),
        ("lou", True),
        ("cora", False),
        ("cody", False),
        ("ada", False),
    ],
)
def test_only_practitioners_and_team_leaders_may_read_case_notes(org, who, expected):
    assert can_read_case_notes(org.users[who]) is expected


# visible_contacts / find_contact


def test_practitioner_sees_submitted_contacts_of_their_caseload_and_their_own_drafts(org):
    # mia_by_col: a colleague's submitted contact is a record of pat's child.
    assert_contacts_in_scope(
        org, "pat", {"mia_by_pat", "mia_draft_by_pat", "mia_by_col", "leo_by_pat"}
    )
    assert_contacts_in_scope(org, "sam", {"zed_by_sam", "zed_draft_by_sam", "ivy_by_sam"})


def test_colleagues_draft_is_hidden_from_the_practitioner_but_seen_by_the_team_leader(org):
    draft = org.contacts["mia_draft_by_col"]
    assert find_child(org.session, org.users["pat"], draft.child_id) is not None
    assert find_contact(org.session, org.users["pat"], draft.id) is None
    assert find_contact(org.session, org.users["lee"], draft.id) is not None
    # col wrote it, but mia is not on col's caseload: the child's scope comes first.
    assert_contacts_in_scope(org, "col", {"kai_by_col", "kai_draft_by_col"})


def test_team_leader_sees_every_contact_of_their_team_including_drafts(org):
    assert_contacts_in_scope(
        org,
        "lee",
        {
            "mia_by_pat",
            "mia_draft_by_pat",
            "mia_by_col",
            "mia_draft_by_col",
            "leo_by_pat",
            "kai_by_col",
            "kai_draft_by_col",
        },
    )


def test_team_leader_of_two_teams_sees_the_contacts_of_both(org):
    assert_contacts_in_scope(
        org, "lou", {"noa_by_lou", "zed_by_sam", "zed_draft_by_sam", "ivy_by_sam"}
    )


@pytest.mark.parametrize("who", ["cora", "cody"])
def test_coordinator_sees_the_child_but_no_contact_narrative(org, who):
    coordinator = org.users[who]
    ivy = org.children["ivy"]  # in both coordinators' scope
    assert find_child(org.session, coordinator, ivy.id) is not None
    assert find_contact(org.session, coordinator, org.contacts["ivy_by_sam"].id) is None
    assert_contacts_in_scope(org, who, set())


def test_admin_sees_no_contacts(org):
    assert_contacts_in_scope(org, "ada", set())


# Reallocation


def test_child_reallocated_away_leaves_the_practitioners_scope(org):
    session, users, mia = org.session, org.users, org.children["mia"]
    assert find_child(session, users["pat"], mia.id) is not None

    reallocate(session, users["lee"], mia, users["col"].id, org_today(), "Caseload balancing")
    session.commit()

    assert_children_in_scope(org, "pat", {"leo"})
    assert_contacts_in_scope(org, "pat", {"leo_by_pat"})  # not even their own contact and draft
    assert_children_in_scope(org, "col", {"kai", "mia"})
    # col now sees mia's submitted contacts and their own draft on mia; not pat's draft.
    assert_contacts_in_scope(
        org,
        "col",
        {"kai_by_col", "kai_draft_by_col", "mia_by_pat", "mia_by_col", "mia_draft_by_col"},
    )
    # The team leader's scope does not depend on who holds the child.
    assert_children_in_scope(org, "lee", {"mia", "leo", "kai"})
