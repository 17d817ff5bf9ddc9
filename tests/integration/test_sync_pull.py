"""Pull (SPEC §4): the first pull of a new tablet, changes since the cursor in change order, scope
that follows allocation (children arriving in full, children leaving as purge entries), a lost
pull answer, deletions as tombstones, and cursors the server must refuse."""

from __future__ import annotations

import uuid
from datetime import timedelta

from itsdangerous import URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fieldapp.models import Child, Contact, DeviceHolding, SyncState, SyncTombstone, User
from fieldapp.models.base import utcnow
from fieldapp.services import sync

from ..factories import gen_child, gen_contact, gen_return_visit
from .sync_helpers import (
    Tablet,
    count,
    ids_of,
    org_today,
    reallocate_child,
    statuses,
)

CHILD_KEYS = {
    "id",
    "external_id",
    "given_name",
    "family_name",
    "preferred_name",
    "date_of_birth",
    "aboriginal_status",
    "residence",
    "care_start_date",
    "care_end_date",
    "youth_justice_status",
    "team_id",
    "practitioner_id",
}
CONTACT_KEYS = {
    "child_id",
    "status",
    "contact_date",
    "start_time",
    "duration_minutes",
    "mode",
    "made_by",
    "third_party_name",
    "third_party_role",
    "child_seen",
    "seen_alone",
    "location",
    "location_detail",
    "child_views",
    "views_method",
    "views_not_recorded_reason",
    "language_used",
    "interpreter_used",
    "worries",
    "working_well",
    "needs_to_happen",
    "safety_scale",
    "participants",
    "actions",
    "notes",
}


def all_changes(pages: list[dict]) -> list[dict]:
    return [change for page in pages for change in page["changes"]]


def holdings(session, device_id) -> dict:
    return {
        row.child_id: row.removed_in
        for row in session.scalars(
            select(DeviceHolding).where(DeviceHolding.device_id == device_id)
        )
    }


def add_addendum(engine, contact_id, author_id) -> uuid.UUID:
    from fieldapp.models import Addendum

    with Session(engine) as session:
        addendum = Addendum(
            contact_id=contact_id,
            author_id=author_id,
            reason="Spelling",
            text="Her name is spelt Mia.",
        )
        session.add(addendum)
        session.commit()
        return addendum.id


def test_the_first_pull_brings_the_caseload_in_full_page_by_page(client, org, engine, db):
    with Session(engine, expire_on_commit=False) as session:
        child = session.get(Child, org.child.id)
        submitted_by_colleague = gen_contact(session, child, org.colleague)  # visible: submitted
        draft_by_colleague = gen_contact(session, child, org.colleague, status="draft")  # not
        session.commit()
    addendum_id = add_addendum(engine, org.contact.id, org.practitioner.id)

    tablet = Tablet.signed_in(client, "pat@example.org")
    pages = tablet.pull_all(limit=1)
    assert len(pages) >= 2
    assert [page["has_more"] for page in pages] == [True] * (len(pages) - 1) + [False]
    assert all(page["cursor"] and page["purge"] == [] for page in pages)
    changes = all_changes(pages)
    assert {c["op"] for c in changes} == {"upsert"}
    assert ids_of(changes, "child") == {str(org.child.id), str(org.interstate_child.id)}
    assert ids_of(changes, "contact") == {
        str(org.contact.id),
        str(org.draft.id),
        str(submitted_by_colleague.id),
    }  # + own draft
    assert str(draft_by_colleague.id) not in ids_of(changes)
    assert str(org.other_contact.id) not in ids_of(changes)
    assert ids_of(changes, "return_visit") == {str(org.visit.id)}
    assert ids_of(changes, "addendum") == {str(addendum_id)}

    by_id = {c["record_id"]: c for c in changes}
    mia = by_id[str(org.child.id)]["data"]
    assert CHILD_KEYS <= set(mia) and mia["given_name"] == "Mia"
    assert mia["practitioner_id"] == org.practitioner.id
    assert mia["last_qualifying_contact_date"] == org.contact.contact_date.isoformat()
    assert mia["due_date"] == (org.contact.contact_date + timedelta(days=42)).isoformat()
    draft = by_id[str(org.draft.id)]
    assert CONTACT_KEYS <= set(draft["data"]) and draft["data"]["status"] == "draft"
    assert draft["data"]["child_views"] == "Draft words" and draft["version"] == 1
    visit = by_id[str(org.visit.id)]["data"]
    assert visit["child_id"] == str(org.interstate_child.id)
    assert visit["arrival_date"] == org.visit.arrival_date.isoformat()
    addendum = by_id[str(addendum_id)]["data"]
    assert addendum["contact_id"] == str(org.contact.id)
    assert addendum["child_id"] == str(org.child.id)  # so the tablet files it with Mia

    # Nothing changed since: an empty page. The holdings are confirmed by that cursor. Each
    # page carries the server's date, for the tablet's wrong-clock warning.
    assert tablet.pull() == {
        "changes": [],
        "purge": [],
        "has_more": False,
        "cursor": tablet.cursor,
        "server_date": org_today().isoformat(),
    }
    assert set(holdings(db(), tablet.device_id)) == {org.child.id, org.interstate_child.id}


def test_a_first_pull_fills_each_page_with_whole_children(client, org, engine):
    """Children entering the tablet arrive whole (a child's contacts never split across pages),
    several to a page while their records fit: a page takes children until it holds `limit`
    records, so only its last child may take it past the limit. Each record arrives once: the
    cursor moves on with every page, so nothing sent in full comes again as a change."""
    with Session(engine, expire_on_commit=False) as session:
        team = session.merge(org.practitioner).teams[0]
        for contacts in (0, 3, 0, 1, 0, 0, 5):
            child = gen_child(session, team, org.practitioner)
            for _ in range(contacts):
                gen_contact(session, child, org.practitioner)
        session.commit()

    tablet = Tablet.signed_in(client, "pat@example.org")
    pages = tablet.pull_all(limit=4)
    child_of = {}
    for page in pages:
        for change in page["changes"]:
            if change["record_type"] == "child":
                child_of[change["record_id"]] = change["record_id"]
            elif change["record_type"] in ("contact", "return_visit"):
                child_of[change["record_id"]] = change["data"]["child_id"]
    for page in pages:
        children = {c["record_id"] for c in page["changes"] if c["record_type"] == "child"}
        sizes = {child: 0 for child in children}
        for change in page["changes"]:
            if change["record_type"] != "addendum":
                owner = child_of[change["record_id"]]
                assert owner in children, "a child's records arrived on another page"
                sizes[owner] += 1
        if page["has_more"]:
            assert sum(sizes.values()) >= 4
            assert len(page["changes"]) - max(sizes.values()) < 4 or len(children) == 1
    assert any(sum(c["record_type"] == "child" for c in page["changes"]) > 1 for page in pages), (
        "children that fit share a page"
    )
    assert ids_of(all_changes(pages), "child") >= {str(org.child.id), str(org.interstate_child.id)}
    sent = [change["record_id"] for change in all_changes(pages)]
    assert len(sent) == len(set(sent)), "a record was sent twice"


def test_changes_after_the_cursor_arrive_in_the_order_they_were_made(client, org, engine):
    writer = Tablet.signed_in(client, "pat@example.org")
    reader = writer.another()
    reader.pull_all()

    draft = writer.create_contact(org.child.id, status="draft", child_views="Draft")
    submitted = writer.create_contact(org.interstate_child.id)
    arrival = org_today() - timedelta(days=5)
    visit = writer.mutation(
        "create",
        "return_visit",
        uuid.uuid4(),
        {
            "child_id": str(org.interstate_child.id),
            "arrival_date": arrival.isoformat(),
            "departure_date": (arrival + timedelta(days=3)).isoformat(),
        },
    )
    addendum = writer.mutation(
        "create",
        "addendum",
        uuid.uuid4(),
        {"contact_id": str(org.contact.id), "reason": "Date", "text": "It was the Monday."},
    )
    edit = writer.update_contact(draft["record_id"], child_views=("Draft", "Final words"))
    for mutation in (draft, submitted, visit, addendum, edit):  # one request each
        assert statuses(writer.push([mutation])) == ["applied"]
    with Session(engine) as session:  # an office edit, not through sync (no explicit flush)
        session.get(Child, org.child.id).preferred_name = "Mimi"
        session.commit()

    pages = reader.pull_all(limit=2)
    assert [len(page["changes"]) for page in pages][:-1] == [2] * (len(pages) - 1)
    assert [page["has_more"] for page in pages] == [True] * (len(pages) - 1) + [False]
    # (Adding the addendum may re-send its contact as well, unchanged: harmless, left out here.)
    # A contact's change re-sends its child too (its last contact and due date may move).
    changes = [c for c in all_changes(pages) if c["record_id"] != str(org.contact.id)]
    assert [(c["record_type"], c["record_id"]) for c in changes] == [
        ("contact", submitted["record_id"]),
        ("child", str(org.interstate_child.id)),
        ("return_visit", visit["record_id"]),
        ("addendum", addendum["record_id"]),
        ("contact", draft["record_id"]),
        ("child", str(org.child.id)),
    ]
    assert changes[4]["version"] == 2 and changes[4]["data"]["child_views"] == "Final words"
    assert changes[5]["data"]["preferred_name"] == "Mimi"
    assert reader.pull()["changes"] == []


def test_a_deleted_draft_reaches_other_tablets_as_a_delete(client, org, db):
    writer = Tablet.signed_in(client, "pat@example.org")
    reader = writer.another()
    assert str(org.draft.id) in ids_of(all_changes(reader.pull_all()), "contact")

    delete = writer.mutation("delete", "contact", org.draft.id)
    assert statuses(writer.push([delete])) == ["applied"]
    refused = writer.push([writer.mutation("delete", "contact", org.contact.id)]).get_json()
    assert refused["results"][0]["status"] == "rejected"  # R8: a submitted contact stays
    session = db()
    assert session.get(Contact, org.draft.id) is None
    assert session.get(Contact, org.contact.id) is not None
    tombstone = session.scalar(select(SyncTombstone).where(SyncTombstone.record_id == org.draft.id))
    assert (tombstone.record_type, tombstone.child_id) == ("contact", org.child.id)

    changes = all_changes(reader.pull_all())
    assert [(c["op"], c["record_type"], c["record_id"]) for c in changes] == [
        ("delete", "contact", str(org.draft.id))
    ]
    assert changes[0]["data"] is None
    assert reader.pull()["changes"] == []


def test_the_deletion_of_a_draft_reaches_only_who_could_see_the_draft(app, client, org, engine, db):
    """A colleague's draft for Pat's child was never on Pat's tablet: its deletion is not sent
    there either (not even its id), while the team leader, who saw it, hears of it."""
    from fieldapp.services.contacts import delete_draft

    with Session(engine, expire_on_commit=False) as session:
        child = session.get(Child, org.child.id)
        colleagues_draft = gen_contact(session, child, org.colleague, status="draft")
        session.commit()
    pat = Tablet.signed_in(client, "pat@example.org")
    pat.pull_all()
    leader = Tablet.signed_in(app.test_client(), "lee@example.org")
    assert str(colleagues_draft.id) in ids_of(all_changes(leader.pull_all()), "contact")

    with Session(engine) as session:
        delete_draft(
            session, session.get(User, org.colleague.id), session.get(Contact, colleagues_draft.id)
        )
        session.commit()
    assert [c["record_id"] for c in all_changes(pat.pull_all())] == []
    deleted = [(c["op"], c["record_id"]) for c in all_changes(leader.pull_all())]
    assert deleted == [("delete", str(colleagues_draft.id))]


def test_a_child_reallocated_away_is_purged_and_the_holding_released(client, org, engine, db):
    tablet = Tablet.signed_in(client, "pat@example.org")
    tablet.pull_all()
    addendum_id = add_addendum(engine, org.contact.id, org.practitioner.id)
    reallocate_child(engine, org.leader.id, org.child.id, org.colleague.id, org_today())
    confirmed = tablet.cursor

    page = tablet.pull()
    mia_records = {
        ("child", str(org.child.id)),
        ("contact", str(org.contact.id)),
        ("contact", str(org.draft.id)),
        ("addendum", str(addendum_id)),
    }
    assert {(p["record_type"], p["record_id"]) for p in page["purge"]} == mia_records
    assert page["changes"] == []  # nothing of Mia's (not even the addendum made meanwhile)
    # Promised, not yet confirmed: the tablet may not have applied the page.
    assert holdings(db(), tablet.device_id)[org.child.id] is not None

    # That answer was lost: the tablet asks again with the cursor it had. Purged again.
    again = tablet.pull_once(confirmed).get_json()
    assert {(p["record_type"], p["record_id"]) for p in again["purge"]} == mia_records
    tablet.cursor = again["cursor"]
    assert org.child.id in holdings(db(), tablet.device_id)

    following = tablet.pull()  # presents the purge page's cursor: the purge is confirmed
    assert following["purge"] == [] and following["changes"] == []
    assert holdings(db(), tablet.device_id) == {org.interstate_child.id: None}

    # An offline edit to the draft arriving later is accepted: Pat held the child on the
    # draft's contact date (SPEC §4), so the text is not lost.
    late = tablet.push([tablet.update_contact(org.draft.id, worries=(None, "Late note"))])
    assert late.get_json()["results"][0]["status"] == "applied"
    assert db().get(Contact, org.draft.id).worries == "Late note"


def make_old_child(engine, org):
    """A child of the team held by the colleague, with history from long before any cursor."""
    with Session(engine, expire_on_commit=False) as session:
        team = session.get(Child, org.child.id).team
        colleague = session.get(type(org.colleague), org.colleague.id)
        noa = gen_child(
            session,
            team,
            colleague,
            given_name="Noa",
            family_name="Clarke",
            residence="boarding_interstate",
            external_id="C-9",
        )
        old_contact = gen_contact(
            session, noa, colleague, contact_date=org_today() - timedelta(days=60)
        )
        colleague_draft = gen_contact(session, noa, colleague, status="draft")
        visit = gen_return_visit(session, noa, colleague)
        session.commit()
    addendum_id = add_addendum(engine, old_contact.id, org.colleague.id)
    return noa, old_contact, colleague_draft, visit, addendum_id


def test_a_child_reallocated_to_the_user_arrives_in_full_with_older_records(
    client, org, engine, db
):
    noa, old_contact, colleague_draft, visit, addendum_id = make_old_child(engine, org)
    tablet = Tablet.signed_in(client, "pat@example.org")
    tablet.pull_all()
    assert statuses(tablet.push([tablet.create_contact(org.child.id)])) == ["applied"]
    tablet.pull_all()  # the cursor is now well past Noa's records

    reallocate_child(engine, org.leader.id, noa.id, org.practitioner.id, org_today())
    changes = all_changes(tablet.pull_all())
    assert ids_of(changes, "child") == {str(noa.id)}
    assert ids_of(changes, "contact") == {str(old_contact.id)}  # not the colleague's draft
    assert ids_of(changes, "return_visit") == {str(visit.id)}
    assert ids_of(changes, "addendum") == {str(addendum_id)}
    assert str(colleague_draft.id) not in ids_of(changes)
    assert all_changes(tablet.pull_all()) == []
    assert holdings(db(), tablet.device_id)[noa.id] is None


def test_a_lost_pull_answer_still_delivers_the_children_entering_scope(client, org, engine, db):
    noa, old_contact, _draft, visit, addendum_id = make_old_child(engine, org)
    tablet = Tablet.signed_in(client, "pat@example.org")
    tablet.pull_all()
    old_cursor = tablet.cursor
    reallocate_child(engine, org.leader.id, noa.id, org.practitioner.id, org_today())
    expected = {str(noa.id), str(old_contact.id), str(visit.id), str(addendum_id)}

    lost = tablet.pull_once(old_cursor).get_json()  # the answer never reaches the tablet
    assert ids_of(lost["changes"]) == expected
    retried = tablet.pull_once(old_cursor).get_json()  # so it asks again with the old cursor
    assert ids_of(retried["changes"]) == expected  # and still gets Noa in full
    lost_again = tablet.pull_once(old_cursor).get_json()
    assert ids_of(lost_again["changes"]) == expected

    tablet.cursor = lost_again["cursor"]
    assert tablet.pull()["changes"] == []  # applied and confirmed: not sent a fourth time
    assert holdings(db(), tablet.device_id)[noa.id] is None


def test_cursors_the_server_must_refuse(app, client, org, engine, db, monkeypatch):
    tablet = Tablet.signed_in(client, "pat@example.org")
    tablet.pull_all()
    cursor = tablet.cursor
    epoch = db().scalar(select(SyncState.epoch))

    # One the server cannot read (cut short, forged, or signed with a key since changed): the
    # tablet refetches everything, as after a restored backup, instead of being stuck.
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    for bad in (tampered, "garbage", cursor + "x", " "):
        assert tablet.pull_once(bad, expect=409).get_json() == {"error": "reset_required"}
    empty = client.get("/api/sync/pull", query_string={"cursor": ""})
    assert empty.status_code == 409 and empty.get_json() == {"error": "reset_required"}
    # A page is asked for by its cursor or, the first time, by the device: exactly one.
    both = tablet.pull_once(cursor, device_id=str(tablet.device_id), expect=400).get_json()
    assert both["field"] == "cursor"
    neither = client.get("/api/sync/pull", query_string={"limit": 5})
    assert neither.status_code == 400 and neither.get_json()["field"] == "cursor"

    # Older than tombstone retention (180 days): the tablet must refetch everything.
    later = utcnow() + sync.TOMBSTONE_RETENTION + timedelta(days=1)
    monkeypatch.setattr(sync.pulling, "utcnow", lambda: later)
    assert tablet.pull_once(cursor, expect=409).get_json() == {"error": "reset_required"}
    monkeypatch.undo()
    assert tablet.pull_once(cursor).status_code == 200

    # Another database epoch (restored from a backup).
    with engine.begin() as conn:
        conn.execute(update(SyncState).values(epoch="restored-from-backup"))
    assert tablet.pull_once(cursor, expect=409).get_json() == {"error": "reset_required"}
    # A backup older than the cursor: the database has not reached that position in its
    # change order (here a transaction it has not yet had).
    with engine.begin() as conn:
        conn.execute(update(SyncState).values(epoch=epoch))
    signer = URLSafeSerializer(app.config["SECRET_KEY"], salt="fieldapp-sync-cursor")
    position = signer.loads(cursor)
    ahead = signer.dumps(position | {"x": position["x"] + 1_000_000})
    assert tablet.pull_once(ahead, expect=409).get_json() == {"error": "reset_required"}
    assert tablet.pull_once(cursor).status_code == 200

    # The reset: a pull without a cursor brings everything again.
    tablet.cursor = None
    assert ids_of(all_changes(tablet.pull_all()), "child") == {
        str(org.child.id),
        str(org.interstate_child.id),
    }
    assert count(db(), DeviceHolding) == 2
