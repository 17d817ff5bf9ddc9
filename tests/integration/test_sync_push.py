"""Push (SPEC §4): what a tablet meets in the field. A batch whose answer was lost and is sent
again, a seq gap, a reused mutation_id, one bad mutation among good ones, a child who left the
caseload, two tablets of one practitioner editing the same draft, and device clocks that are
wrong. Each test drives the JSON API as the tablet does and reads back what was stored."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapp.models import (
    Addendum,
    AuditEvent,
    Contact,
    Device,
    ReturnVisit,
    SyncConflict,
    SyncMutation,
    SyncReviewItem,
    SyncState,
    SyncTombstone,
)

from .sync_helpers import (
    Tablet,
    contact_fields,
    count,
    org_today,
    reallocate_child,
    statuses,
)


def stored_state(session, device_id) -> dict:
    """Everything a replayed batch could change."""
    return {
        "contacts": sorted(
            (str(c.id), c.version, c.status, c.child_views)
            for c in session.scalars(select(Contact))
        ),
        "addenda": count(session, Addendum),
        "return_visits": count(session, ReturnVisit),
        "audit": count(session, AuditEvent),
        "mutations": count(session, SyncMutation, SyncMutation.device_id == device_id),
        "tombstones": count(session, SyncTombstone),
        "change_seq": session.scalar(select(SyncState.last_seq)),
    }


def test_a_lost_answer_then_the_whole_batch_again_changes_nothing(client, org, db):
    tablet = Tablet.signed_in(client, "pat@example.org")
    contact_id, draft_id, addendum_id, visit_id = (uuid.uuid4() for _ in range(4))
    arrival = org_today() - timedelta(days=6)
    batch = [
        tablet.create_contact(org.child.id, contact_id),
        tablet.create_contact(org.child.id, draft_id, status="draft", child_views="First words"),
        tablet.update_contact(
            draft_id, child_views=("First words", "Second words"), worries=(None, "Sleeps badly")
        ),
        tablet.mutation("submit", "contact", draft_id),
        tablet.mutation(
            "create",
            "addendum",
            addendum_id,
            {"contact_id": str(contact_id), "reason": "Wrong day", "text": "It was Tuesday."},
        ),
        tablet.mutation(
            "create",
            "return_visit",
            visit_id,
            {
                "child_id": str(org.interstate_child.id),
                "arrival_date": arrival.isoformat(),
                "departure_date": (arrival + timedelta(days=4)).isoformat(),
                "arrangement_note": "My Care Plan, section 4",
            },
        ),
        tablet.mutation("delete", "contact", org.draft.id),
    ]
    first = tablet.push(batch).get_json()
    assert statuses_of(first) == ["applied"] * 7
    assert first["last_seq"] == 7
    before = stored_state(db(), tablet.device_id)

    # The answer never reached the tablet: it sends the same batch again.
    again = tablet.push(batch).get_json()
    assert statuses_of(again) == ["duplicate"] * 7
    assert again["last_seq"] == 7
    for original, repeat in zip(first["results"], again["results"], strict=True):
        assert repeat["mutation_id"] == original["mutation_id"]
        assert repeat["seq"] == original["seq"]
        assert repeat.get("version") == original.get("version")  # the first outcome
    assert stored_state(db(), tablet.device_id) == before  # not even a change number taken

    session = db()
    assert count(session, Contact, Contact.id.in_([contact_id, draft_id])) == 2
    assert session.get(Contact, draft_id).status == "submitted"
    assert session.get(Contact, draft_id).child_views == "Second words"
    assert count(session, Addendum, Addendum.id == addendum_id) == 1
    assert count(session, ReturnVisit, ReturnVisit.id == visit_id) == 1
    assert session.get(Contact, org.draft.id) is None
    assert count(session, SyncTombstone, SyncTombstone.record_id == org.draft.id) == 1
    assert (
        count(
            session, AuditEvent, AuditEvent.action == "create", AuditEvent.object_type == "contact"
        )
        == 2
    )

    # Lost again, and meanwhile the outbox grew: the old part is duplicate, the new part applies.
    more = [tablet.create_contact(org.child.id), tablet.create_contact(org.interstate_child.id)]
    third = tablet.push(batch + more).get_json()
    assert statuses_of(third) == ["duplicate"] * 7 + ["applied"] * 2
    assert third["last_seq"] == 9


def statuses_of(body: dict) -> list[str]:
    return [result["status"] for result in body["results"]]


def test_the_same_mutation_id_with_another_payload_is_rejected_and_processed(client, org, db):
    tablet = Tablet.signed_in(client, "pat@example.org")
    original = tablet.create_contact(org.child.id)
    assert statuses(tablet.push([original])) == ["applied"]

    impostor_id = uuid.uuid4()
    reused = tablet.mutation(
        "create",
        "contact",
        impostor_id,
        contact_fields(org.child.id, child_views="Something else"),
        mutation_id=uuid.UUID(original["mutation_id"]),
    )
    body = tablet.push([reused]).get_json()
    assert [r["status"] for r in body["results"]] == ["rejected"]
    assert "mutation_id" in body["results"][0]["errors"]
    assert body["last_seq"] == 2  # processed: the queue moves on

    session = db()
    assert session.get(Contact, impostor_id) is None
    kept = session.get(Contact, uuid.UUID(original["record_id"]))
    assert kept.child_views == "I like my new school."
    assert session.get(SyncMutation, (tablet.device_id, 2)).status == "rejected"
    assert statuses(tablet.push([tablet.create_contact(org.child.id)])) == ["applied"]


def test_a_seq_already_used_by_another_mutation_id_is_rejected_even_with_the_same_content(
    client, org, db
):
    """Two changes the tablet numbered alike: the second is refused (never taken for the first
    sent again, which would drop it quietly), whether its content is the same or not, in a
    later request or in the same batch."""
    tablet = Tablet.signed_in(client, "pat@example.org")
    original = tablet.create_contact(org.child.id)
    assert statuses(tablet.push([original])) == ["applied"]

    twin = dict(original, mutation_id=str(uuid.uuid4()))  # same seq, same content
    other = tablet.mutation(  # same seq, new content
        "create",
        "contact",
        uuid.uuid4(),
        contact_fields(org.child.id, child_views="Another visit"),
        seq=original["seq"],
    )
    body = tablet.push([twin, other]).get_json()
    assert [r["status"] for r in body["results"]] == ["rejected", "rejected"]
    assert all("seq" in r["errors"] for r in body["results"])
    assert body["last_seq"] == original["seq"]

    in_one_batch = [tablet.create_contact(org.child.id)]
    in_one_batch.append(dict(in_one_batch[0], mutation_id=str(uuid.uuid4())))
    assert statuses(tablet.push(in_one_batch)) == ["applied", "rejected"]
    session = db()
    assert session.get(Contact, uuid.UUID(other["record_id"])) is None
    assert (
        session.scalar(
            select(func.count())
            .select_from(SyncMutation)
            .where(SyncMutation.device_id == tablet.device_id)
        )
        == 2
    )


def test_a_seq_gap_stops_the_batch_and_last_seq_says_where_to_resume(client, org, db):
    tablet = Tablet.signed_in(client, "pat@example.org")
    outbox = [tablet.create_contact(org.child.id) for _ in range(5)]
    sent = [outbox[0], outbox[1], outbox[3], outbox[4]]  # seq 3 went missing on the tablet
    body = tablet.push(sent).get_json()
    assert [r["seq"] for r in body["results"]] == [1, 2]
    assert statuses_of(body) == ["applied", "applied"]
    assert body["last_seq"] == 2
    ids = [uuid.UUID(m["record_id"]) for m in outbox]
    assert count(db(), Contact, Contact.id.in_(ids)) == 2

    only_ahead = tablet.push([outbox[4]]).get_json()
    assert only_ahead == {"results": [], "last_seq": 2}

    resumed = tablet.push(outbox[body["last_seq"] :]).get_json()
    assert statuses_of(resumed) == ["applied"] * 3
    assert resumed["last_seq"] == 5
    assert count(db(), Contact, Contact.id.in_(ids)) == 5


INVALID = {
    "future contact date": (
        lambda: {"contact_date": (org_today() + timedelta(days=1)).isoformat()},
        "contact_date",
    ),
    "safety scale 11": (lambda: {"safety_scale": 11}, "safety_scale"),
    "seen alone but not seen": (
        lambda: {"child_seen": False, "seen_alone": True, "mode": "phone"},
        "seen_alone",
    ),
    # Would not fit the column: PostgreSQL would fail the insert on every retry.
    "third party name too long": (
        lambda: {
            "made_by": "third_party",
            "third_party_role": "Aunt",
            "third_party_name": "N" * 201,
        },
        "third_party_name",
    ),
    # PostgreSQL text cannot hold NUL: the same.
    "NUL in the child's views": (lambda: {"child_views": "I am\x00fine"}, "child_views"),
    # Half an emoji (a tablet cutting text by UTF-16 length): no driver can encode it.
    "half an emoji in a participant's words": (
        lambda: {
            "participants": [{"role": "carer", "name": "Sam", "views_and_wishes": "Happy \ud83d"}]
        },
        "participants-0-views_and_wishes",
    ),
}


def test_one_invalid_mutation_among_ten_is_rejected_alone(client, org, db):
    tablet = Tablet.signed_in(client, "pat@example.org")
    other = tablet.another()
    for position, (kind, (invalid_fields, field)) in enumerate(INVALID.items()):
        batch = [
            tablet.create_contact(org.child.id, **(invalid_fields() if index == position else {}))
            for index in range(10)
        ]
        body = tablet.push(batch).get_json()
        expected = ["applied"] * 10
        expected[position] = "rejected"
        assert statuses_of(body) == expected, kind
        assert field in body["results"][position]["errors"], kind
        assert body["last_seq"] == batch[-1]["seq"]

        session = db()
        ids = [uuid.UUID(m["record_id"]) for m in batch]
        applied = ids[:position] + ids[position + 1 :]
        assert set(session.scalars(select(Contact.id).where(Contact.id.in_(ids)))) == set(applied)
        processed = session.execute(
            select(SyncMutation.seq, SyncMutation.status)
            .where(
                SyncMutation.device_id == tablet.device_id,
                SyncMutation.seq.in_([m["seq"] for m in batch]),
            )
            .order_by(SyncMutation.seq)
        ).all()
        assert [status for _seq, status in processed] == expected  # all ten marked processed
        # The nine applied ones reach the practitioner's other tablet.
        pulled = {c["record_id"] for page in other.pull_all() for c in page["changes"]}
        assert {str(i) for i in applied} <= pulled
    # The rejected ones do not wedge the queue: the next push continues at the next seq.
    assert statuses(tablet.push([tablet.create_contact(org.child.id)])) == ["applied"]


def test_half_an_emoji_sent_as_raw_bytes_is_refused_by_name_and_the_rest_applies(client, org):
    """A tablet's JSON carries non-ASCII text as UTF-8, not as escapes, and Python's decoder lets
    the bytes of half a surrogate pair through: that text is found and refused too."""
    tablet = Tablet.signed_in(client, "pat@example.org")
    batch = [
        tablet.create_contact(org.child.id, child_views="Kai: «ngayu» 😀"),
        tablet.create_contact(org.child.id, child_views="Happy \ud83d"),
    ]
    raw = json.dumps(
        {"device_id": str(tablet.device_id), "mutations": batch}, ensure_ascii=False
    ).encode("utf-8", "surrogatepass")
    body = tablet.post("/api/sync/push", data=raw, content_type="application/json").get_json()
    assert statuses_of(body) == ["applied", "rejected"]
    assert "child_views" in body["results"][1]["errors"]


def test_a_rejected_edit_in_a_batch_does_not_hide_the_rest_from_other_tablets(client, org, db):
    """A batch that creates a draft and then sends an edit the server refuses: the draft is
    applied and must still get a change number, or no other tablet would ever pull it."""
    tablet = Tablet.signed_in(client, "pat@example.org")
    other = tablet.another()
    other.pull_all()
    created = tablet.create_contact(org.child.id, status="draft")
    batch = [created, tablet.update_contact(created["record_id"], safety_scale=(7, 11))]
    assert statuses(tablet.push(batch)) == ["applied", "rejected"]
    assert db().get(Contact, uuid.UUID(created["record_id"])).change_seq is not None
    changes = [c for page in other.pull_all() for c in page["changes"]]
    contacts = [c for c in changes if c["record_type"] == "contact"]
    assert [(c["record_id"], c["data"]["safety_scale"]) for c in contacts] == [
        (created["record_id"], 7)
    ]
    # The child comes again too: its last contact and due date may have changed.
    assert [c["record_id"] for c in changes if c["record_type"] == "child"] == [str(org.child.id)]


def test_a_record_for_a_child_who_left_the_caseload_and_was_not_held_then_goes_to_review(
    client, org, engine, db
):
    """Pat held Kai only from ten days ago; Kai has now moved to a colleague. A contact dated
    before Pat held him (recorded offline, say, from notes) is neither applied nor dropped."""
    from fieldapp.models import Allocation

    tablet = Tablet.signed_in(client, "pat@example.org")
    kai = org.interstate_child
    with Session(engine) as session:
        allocation = session.scalar(select(Allocation).where(Allocation.child_id == kai.id))
        allocation.start_date = org_today() - timedelta(days=10)
        session.commit()
    reallocate_child(engine, org.leader.id, kai.id, org.colleague.id, org_today())
    contact = tablet.create_contact(
        kai.id, contact_date=(org_today() - timedelta(days=30)).isoformat()
    )
    arrival = org_today() - timedelta(days=40)
    visit = tablet.mutation(
        "create",
        "return_visit",
        uuid.uuid4(),
        {
            "child_id": str(kai.id),
            "arrival_date": arrival.isoformat(),
            "departure_date": (arrival + timedelta(days=2)).isoformat(),
        },
    )
    body = tablet.push([contact, visit]).get_json()
    assert statuses_of(body) == ["conflict", "conflict"]
    assert "child_id" in body["results"][0]["errors"]
    assert body["last_seq"] == 2  # processed, so the queue moves on

    session = db()
    assert session.get(Contact, uuid.UUID(contact["record_id"])) is None  # not on the child...
    items = session.scalars(select(SyncReviewItem).order_by(SyncReviewItem.created_at)).all()
    assert [(str(i.record_id), i.record_type) for i in items] == [
        (contact["record_id"], "contact"),
        (visit["record_id"], "return_visit"),
    ]
    kept = items[0]  # ...but never dropped: the whole mutation is kept for the team leader
    assert kept.payload == contact
    assert kept.user_id == org.practitioner.id and kept.child_id == kai.id
    assert kept.team_id == kai.team_id and kept.resolved_at is None

    listed = client.get("/api/sync/conflicts").get_json()
    assert {r["record_id"] for r in listed["review"]} == {contact["record_id"], visit["record_id"]}
    # Sent again after a lost answer: still one review item each.
    assert statuses(tablet.push([contact, visit])) == ["duplicate", "duplicate"]
    assert count(db(), SyncReviewItem) == 2


def test_a_record_for_a_child_never_on_the_caseload_is_refused_and_audited(client, org, db):
    """Another team's child: refused like a child that does not exist (SPEC §2), recorded as
    denied, and nothing lands in that team's review queue."""
    from fieldapp.models import AuditEvent

    tablet = Tablet.signed_in(client, "pat@example.org")
    body = tablet.push([tablet.create_contact(org.other_child.id)]).get_json()
    assert statuses_of(body) == ["rejected"]
    assert body["last_seq"] == 1
    session = db()
    assert count(session, SyncReviewItem) == 0
    denied = session.scalars(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
    assert [(e.action, e.object_id) for e in denied] == [("sync_push", str(org.other_child.id))]


def test_a_contact_for_a_child_reallocated_away_but_held_on_that_date_is_accepted(
    client, org, engine, db
):
    tablet = Tablet.signed_in(client, "pat@example.org")
    reallocate_child(
        engine, org.leader.id, org.child.id, org.colleague.id, org_today() - timedelta(days=10)
    )
    held_then = tablet.create_contact(
        org.child.id, contact_date=(org_today() - timedelta(days=20)).isoformat()
    )
    after_leaving = tablet.create_contact(
        org.child.id, contact_date=(org_today() - timedelta(days=3)).isoformat()
    )
    assert statuses(tablet.push([held_then, after_leaving])) == ["applied", "conflict"]

    session = db()
    accepted = session.get(Contact, uuid.UUID(held_then["record_id"]))
    assert accepted.child_id == org.child.id and accepted.author_id == org.practitioner.id
    assert accepted.status == "submitted"
    assert session.get(Contact, uuid.UUID(after_leaving["record_id"])) is None
    assert [str(i.record_id) for i in session.scalars(select(SyncReviewItem))] == [
        after_leaving["record_id"]
    ]


def test_two_tablets_editing_different_fields_of_one_draft_both_keep(client, org, db):
    first = Tablet.signed_in(client, "pat@example.org")
    second = first.another()
    one = first.push(
        [
            first.update_contact(
                org.draft.id, child_views=("Draft words", "Mia says she is happy at school.")
            )
        ]
    ).get_json()
    two = second.push(
        [
            second.update_contact(
                org.draft.id, worries=(None, "Bedtime is hard"), safety_scale=(None, 6)
            )
        ]
    ).get_json()
    assert [r["status"] for r in one["results"] + two["results"]] == ["applied", "applied"]
    assert (one["results"][0]["version"], two["results"][0]["version"]) == (2, 3)

    session = db()
    draft = session.get(Contact, org.draft.id)
    assert draft.child_views == "Mia says she is happy at school."
    assert draft.worries == "Bedtime is hard" and draft.safety_scale == 6
    assert count(session, SyncConflict) == 0


def test_two_tablets_editing_the_same_narrative_keep_both_texts(app, client, org, db):
    first = Tablet.signed_in(client, "pat@example.org")
    second = first.another()
    one = first.push(
        [
            first.update_contact(
                org.draft.id,
                child_views=("Draft words", "Alpha: Mia wants to see her nan."),
                safety_scale=(None, 5),
            )
        ]
    )
    second_edit = second.update_contact(
        org.draft.id,
        child_views=("Draft words", "Bravo: Mia wants more time with Nan."),
        safety_scale=(None, 8),
        worries=(None, "Missing Nan"),
    )
    two = second.push([second_edit]).get_json()
    assert statuses(one) == ["applied"]
    result = two["results"][0]
    assert result["status"] == "conflict"
    assert set(result["errors"]) == {"child_views", "safety_scale"}

    session = db()
    draft = session.get(Contact, org.draft.id)
    assert draft.child_views == "Alpha: Mia wants to see her nan."  # the first text is kept
    assert draft.safety_scale == 5
    assert draft.worries == "Missing Nan"  # the field nobody else touched is merged
    conflicts = {c.field: c for c in session.scalars(select(SyncConflict))}
    assert set(conflicts) == {"child_views", "safety_scale"}
    narrative = conflicts["child_views"]
    assert (narrative.base_value, narrative.server_value, narrative.device_value) == (
        "Draft words",
        "Alpha: Mia wants to see her nan.",
        "Bravo: Mia wants more time with Nan.",
    )
    assert narrative.user_id == org.practitioner.id and narrative.device_id == second.device_id
    assert narrative.child_id == org.child.id and narrative.record_id == org.draft.id

    def shown(response) -> dict:
        return {
            c["field"]: (c["server_value"], c["device_value"])
            for c in response.get_json()["conflicts"]
            if c["record_id"] == str(org.draft.id)
        }

    both_texts = ("Alpha: Mia wants to see her nan.", "Bravo: Mia wants more time with Nan.")
    assert shown(client.get("/api/sync/conflicts"))["child_views"] == both_texts
    leader = app.test_client()
    Tablet.signed_in(leader, "lee@example.org")
    assert shown(leader.get("/api/sync/conflicts"))["child_views"] == both_texts
    stranger = app.test_client()
    Tablet.signed_in(stranger, "outlead@example.org")
    assert shown(stranger.get("/api/sync/conflicts")) == {}

    # The conflicting answer was lost: sent again it is a duplicate, and no second conflict row.
    assert statuses(second.push([second_edit])) == ["duplicate"]
    assert count(db(), SyncConflict) == 2


def test_no_conflict_when_the_server_already_has_the_tablets_text(client, org, db):
    """The server trims text and stores "" as null; a tablet that typed a trailing space, or
    made the same edit as its sibling, must not be told someone else changed the field."""
    first = Tablet.signed_in(client, "pat@example.org")
    second = first.another()
    assert (
        statuses(
            first.push(
                [
                    first.update_contact(org.draft.id, worries=(None, "Sleeps badly ")),
                    first.update_contact(
                        org.draft.id,
                        worries=("Sleeps badly ", "Sleeps badly at times"),
                        notes=(None, ""),
                    ),
                    first.update_contact(org.draft.id, notes=("", "Call the school")),
                ]
            )
        )
        == ["applied"] * 3
    )
    # The second tablet made the very same edit offline: nothing to do, nothing to conflict.
    assert (
        statuses(
            second.push(
                [
                    second.update_contact(org.draft.id, worries=(None, "Sleeps badly at times")),
                    second.update_contact(
                        org.draft.id, participants=([], [{"role": "carer", "name": "Sam"}])
                    ),
                    second.update_contact(
                        org.draft.id,
                        participants=(
                            [{"role": "carer", "name": "Sam "}],
                            [{"role": "carer", "name": "Sam", "took_part_in_decisions": True}],
                        ),
                    ),
                ]
            )
        )
        == ["applied"] * 3
    )
    session = db()
    draft = session.get(Contact, org.draft.id)
    assert draft.worries == "Sleeps badly at times" and draft.notes == "Call the school"
    assert [(p.name, p.took_part_in_decisions) for p in draft.participants] == [("Sam", True)]
    assert count(session, SyncConflict) == 0


def test_device_clocks_a_day_ahead_or_behind_change_nothing(client, org, db):
    """The server orders and merges by arrival, never by a device's clock (SPEC §3)."""
    first = Tablet.signed_in(client, "pat@example.org")
    second = first.another()
    reader = first.another("Reader")
    reader.pull_all()
    now = datetime.now(UTC)
    ahead, behind = now + timedelta(days=1), now - timedelta(days=1)

    def stamped(mutation: dict, clock: datetime) -> dict:
        # A tablet's own idea of the time has no place on the wire: a mutation or data carrying
        # one is refused, naming the field (test_api_strict.py). What is left of a wrong clock
        # is when each tablet sends, which is all the server goes by.
        return mutation

    outcomes = []
    for first_clock, second_clock in ((ahead, behind), (behind, ahead)):
        draft = stamped(
            first.create_contact(org.child.id, status="draft", child_views="Start"), first_clock
        )
        assert statuses(first.push([draft])) == ["applied"]
        early = first.push(
            [
                stamped(
                    first.update_contact(
                        draft["record_id"], child_views=("Start", "Arrived first")
                    ),
                    first_clock,
                )
            ]
        )
        late = second.push(
            [
                stamped(
                    second.update_contact(
                        draft["record_id"], child_views=("Start", "Arrived second")
                    ),
                    second_clock,
                )
            ]
        )
        session = db()
        stored = session.get(Contact, uuid.UUID(draft["record_id"]))
        conflict = session.scalar(select(SyncConflict).where(SyncConflict.record_id == stored.id))
        created = stored.created_at.replace(tzinfo=stored.created_at.tzinfo or UTC)
        assert abs(created - now) < timedelta(minutes=5)  # the server's clock, not the tablet's
        outcomes.append(
            (
                statuses(early),
                statuses(late),
                stored.child_views,
                conflict.server_value,
                conflict.device_value,
            )
        )
        # The other tablet pulls in arrival order, whatever the clocks said.
        newer = second.create_contact(org.interstate_child.id)
        assert statuses(
            second.push([stamped(newer, behind if first_clock is ahead else ahead)])
        ) == ["applied"]
        changes = [
            c
            for page in reader.pull_all()
            for c in page["changes"]
            if c["record_type"] == "contact"
        ]
        assert [c["record_id"] for c in changes] == [draft["record_id"], newer["record_id"]]

    assert (
        outcomes[0]
        == outcomes[1]
        == (["applied"], ["conflict"], "Arrived first", "Arrived first", "Arrived second")
    )


def test_an_outbox_copied_to_another_tablet_does_not_wedge_it(client, org, db):
    """A mutation first seen from one tablet, sent again by another of the same user's tablets:
    a duplicate, and the second tablet's queue still moves on."""
    first = Tablet.signed_in(client, "pat@example.org")
    second = first.another()
    contact = first.create_contact(org.child.id)
    assert statuses(first.push([contact])) == ["applied"]
    second.seq += 1
    copied = dict(contact, seq=second.seq)
    body = second.push([copied]).get_json()
    assert statuses_of(body) == ["duplicate"] and body["last_seq"] == 1
    following = second.create_contact(org.child.id)
    assert statuses(second.push([following])) == ["applied"]
    assert count(db(), Contact) == 5  # the org's three, plus one from each tablet: nothing twice


def test_an_offline_edit_after_the_child_left_and_was_not_held_then_goes_to_review(
    client, org, engine, db
):
    """Pat's draft is dated before Pat held the child; the child has since moved on. Pat's
    later edit of it is neither applied nor lost: it waits for the team leader."""
    from fieldapp.models import Allocation

    tablet = Tablet.signed_in(client, "pat@example.org")
    with Session(engine) as session:
        session.get(Contact, org.draft.id).contact_date = org_today() - timedelta(days=60)
        allocation = session.scalar(select(Allocation).where(Allocation.child_id == org.child.id))
        allocation.start_date = org_today() - timedelta(days=30)
        session.commit()
    reallocate_child(engine, org.leader.id, org.child.id, org.colleague.id, org_today())
    body = tablet.push(
        [tablet.update_contact(org.draft.id, worries=(None, "Late words"))]
    ).get_json()
    assert statuses_of(body) == ["conflict"]
    items = db().scalars(select(SyncReviewItem)).all()
    assert [(i.record_id, i.payload["data"]["worries"]["new"]) for i in items] == [
        (org.draft.id, "Late words")
    ]


def test_a_submit_after_an_unapplied_change_keeps_the_draft_a_draft(client, org, db):
    """The tablet queues "update, then submit". If the update conflicts or is refused, the submit
    must not make the server's older text final (a submitted contact never changes again)."""
    first = Tablet.signed_in(client, "pat@example.org")
    second = first.another()
    assert statuses(
        first.push(
            [
                first.update_contact(
                    org.draft.id, child_views=("Draft words", "Alpha: Mia wants to see her nan.")
                )
            ]
        )
    ) == ["applied"]
    answer = second.push(
        [
            second.update_contact(
                org.draft.id, child_views=("Draft words", "Bravo: Mia wants more time with Nan.")
            ),
            second.mutation("submit", "contact", org.draft.id, {}),
        ]
    ).get_json()
    assert [r["status"] for r in answer["results"]] == ["conflict", "rejected"]
    assert (
        "change made just before to this draft was not applied"
        in answer["results"][1]["errors"]["record_id"][0]
    )
    assert db().get(Contact, org.draft.id).status == "draft"

    # The same, when the batch was split between the update and the submit.
    edit = second.update_contact(org.draft.id, worries=(None, "Charlie: nights are hard."))
    first_edit = first.update_contact(org.draft.id, worries=(None, "Delta: school is hard."))
    assert statuses(first.push([first_edit])) == ["applied"]
    assert statuses(second.push([edit])) == ["conflict"]
    assert statuses(second.push([second.mutation("submit", "contact", org.draft.id, {})])) == [
        "rejected"
    ]
    assert db().get(Contact, org.draft.id).status == "draft"

    # A later submit, once the tablet has shown both texts, goes through as the server holds it.
    assert statuses(second.push([second.mutation("submit", "contact", org.draft.id, {})])) == [
        "applied"
    ]
    submitted = db().get(Contact, org.draft.id)
    assert submitted.status == "submitted" and submitted.worries == "Delta: school is hard."


def test_a_submit_after_a_refused_change_is_refused_in_the_same_batch_or_the_next(client, org, db):
    tablet = Tablet.signed_in(client, "pat@example.org")
    answer = tablet.push(
        [
            tablet.update_contact(org.draft.id, safety_scale=(None, 11)),  # out of range: refused
            tablet.mutation("submit", "contact", org.draft.id, {}),
        ]
    ).get_json()
    assert [r["status"] for r in answer["results"]] == ["rejected", "rejected"]
    assert statuses(
        tablet.push([tablet.update_contact(org.draft.id, safety_scale=(None, 12))])
    ) == ["rejected"]
    assert statuses(tablet.push([tablet.mutation("submit", "contact", org.draft.id, {})])) == [
        "rejected"
    ]
    assert db().get(Contact, org.draft.id).status == "draft"
    # A refusal of a change to another record does not hold this one back.
    assert statuses(tablet.push([tablet.update_contact(org.contact.id, worries=(None, "x"))])) == [
        "rejected"
    ]
    assert statuses(tablet.push([tablet.mutation("submit", "contact", org.draft.id, {})])) == [
        "applied"
    ]


def test_the_authors_later_choice_resolves_their_conflict(client, org, db):
    """After a conflict the tablet offers "Use my words" (an update from the server's text to
    the tablet's) or "Keep the server's text" (an update to the value the server has). Either
    settles that conflict; a field nobody chose stays open."""
    first = Tablet.signed_in(client, "pat@example.org")
    second = first.another()
    assert statuses(
        first.push(
            [
                first.update_contact(
                    org.draft.id,
                    child_views=("Draft words", "Alpha."),
                    worries=(None, "Alpha worry."),
                )
            ]
        )
    ) == ["applied"]
    assert statuses(
        second.push(
            [
                second.update_contact(
                    org.draft.id,
                    child_views=("Draft words", "Bravo."),
                    worries=(None, "Bravo worry."),
                )
            ]
        )
    ) == ["conflict"]

    def open_fields() -> set[str]:
        return {
            c.field
            for c in db().scalars(select(SyncConflict).where(SyncConflict.resolved_at.is_(None)))
        }

    assert open_fields() == {"child_views", "worries"}
    # Use my words, for the child's views: from the server's text to the tablet's.
    assert statuses(
        second.push([second.update_contact(org.draft.id, child_views=("Alpha.", "Bravo."))])
    ) == ["applied"]
    assert open_fields() == {"worries"}
    # Keep the server's text, for the worries: an update to the value the server already has.
    assert statuses(
        second.push([second.update_contact(org.draft.id, worries=("Bravo worry.", "Alpha worry."))])
    ) == ["applied"]
    assert open_fields() == set()
    draft = db().get(Contact, org.draft.id)
    assert (draft.child_views, draft.worries) == ("Bravo.", "Alpha worry.")
    resolved = db().scalars(select(SyncConflict)).all()
    assert {c.resolved_by_id for c in resolved} == {org.practitioner.id}


# ---------------------------------------------------------------- a batch sent again


def _raw_push(tablet: Tablet, body: dict, *, separators=(",", ":")):
    """The push body as bytes of our choosing: the same mutations may be sent in other bytes."""
    return tablet.post(
        "/api/sync/push",
        data=json.dumps(body, separators=separators),
        content_type="application/json",
    )


def test_a_batch_sent_again_is_answered_as_when_read_in_full(client, org, db):
    """The same bytes again (the answer was lost) are answered from the row kept for them; the
    same mutations in other bytes are read in full. Both answers are the same, and neither
    writes anything."""
    tablet = Tablet.signed_in(client, "pat@example.org")
    batch = [tablet.create_contact(org.child.id), tablet.create_contact(org.interstate_child.id)]
    body = {"device_id": str(tablet.device_id), "mutations": batch}
    first = _raw_push(tablet, body)
    assert statuses_of(first.get_json()) == ["applied", "applied"]
    before = stored_state(db(), tablet.device_id)
    kept = db().get(Device, tablet.device_id)
    assert kept.last_batch_digest is not None

    kept_answer = _raw_push(tablet, body)
    full_answer = _raw_push(tablet, body, separators=(", ", ": "))
    assert kept_answer.data == full_answer.data  # to the byte
    assert kept_answer.headers["Cache-Control"] == full_answer.headers["Cache-Control"]
    same_bytes = kept_answer.get_json()
    assert statuses_of(same_bytes) == ["duplicate", "duplicate"]
    assert [r["first_status"] for r in same_bytes["results"]] == ["applied", "applied"]
    assert stored_state(db(), tablet.device_id) == before

    # Later batches do not change the answer to this one, except the last seq it reports.
    tablet.push([tablet.create_contact(org.child.id)])
    later = _raw_push(tablet, body).get_json()
    assert later["results"] == same_bytes["results"] and later["last_seq"] == 3
    assert _raw_push(tablet, body, separators=(", ", ": ")).get_json() == later


def test_a_batch_not_processed_in_full_is_read_in_full_each_time(client, org, db):
    """A batch with a mutation that was not processed (its seq was used by another mutation)
    is never answered from a kept row: sent again, that mutation is refused again, not called
    a duplicate."""
    tablet = Tablet.signed_in(client, "pat@example.org")
    tablet.push([tablet.create_contact(org.child.id)])
    reused = tablet.create_contact(org.child.id) | {"seq": 1}
    body = {"device_id": str(tablet.device_id), "mutations": [reused]}
    assert statuses_of(_raw_push(tablet, body).get_json()) == ["rejected"]
    assert statuses_of(_raw_push(tablet, body).get_json()) == ["rejected"]

    fresh = tablet.create_contact(org.child.id) | {"seq": 2}
    body = {"device_id": str(tablet.device_id), "mutations": [fresh, reused]}
    assert statuses_of(_raw_push(tablet, body).get_json()) == ["applied", "rejected"]
    assert statuses_of(_raw_push(tablet, body).get_json()) == ["duplicate", "rejected"]


def test_a_batch_sent_again_by_a_revoked_tablet_or_another_user_is_refused(
    app, client, org, engine, db
):
    tablet = Tablet.signed_in(client, "pat@example.org")
    body = {"device_id": str(tablet.device_id), "mutations": [tablet.create_contact(org.child.id)]}
    assert statuses_of(_raw_push(tablet, body).get_json()) == ["applied"]

    # Another user sending those very bytes is told the tablet is not theirs.
    colleague = Tablet.signed_in(app.test_client(), "col@example.org")
    assert _raw_push(colleague, body).status_code == 404

    with Session(engine) as session:  # revoked, its user's session kept for the test
        session.get(Device, tablet.device_id).revoked_at = datetime.now(UTC)
        session.commit()
    refused = _raw_push(tablet, body)
    assert refused.status_code == 410
