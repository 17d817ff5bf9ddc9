"""How a conflict was closed is kept (SPEC §4: no text is ever dropped): the author's later
update settles it as "mine", "server" or "merged"; the choice, who and when are recorded (an
audit event with text lengths only), and the sync issues page shows resolved conflicts with
both texts, for the author and their team leader."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.models import AuditEvent, Child, Contact, SyncConflict, User
from fieldapp.services.allocation import reallocate

from ..factories import org_today
from .sync_helpers import Tablet, statuses


def test_each_way_of_closing_a_conflict_is_recorded_and_shown(client, auth, org, db, engine):
    first = Tablet.signed_in(client, "pat@example.org")
    second = first.another()
    fields = {"child_views": "views", "worries": "worry", "notes": "note"}
    first_edit = {
        name: (None if name != "child_views" else "Draft words", f"Alpha {word}.")
        for name, word in fields.items()
    }
    second_edit = {name: (first_edit[name][0], f"Bravo {word}.") for name, word in fields.items()}
    assert statuses(first.push([first.update_contact(org.draft.id, **first_edit)])) == ["applied"]
    assert statuses(second.push([second.update_contact(org.draft.id, **second_edit)])) == [
        "conflict"
    ]
    # Use my words; keep the server's text; merge the two (the server's text as `old`).
    assert statuses(
        second.push(
            [
                second.update_contact(
                    org.draft.id,
                    child_views=("Alpha views.", "Bravo views."),
                    worries=("Bravo worry.", "Alpha worry."),
                    notes=("Alpha note.", "Alpha note. Bravo note."),
                )
            ]
        )
    ) == ["applied"]

    session = db()
    conflicts = {c.field: c for c in session.scalars(select(SyncConflict))}
    assert all(
        c.resolved_at and c.resolved_by_id == org.practitioner.id for c in conflicts.values()
    )
    events = {
        e.object_id: e.detail
        for e in session.scalars(select(AuditEvent).where(AuditEvent.action == "resolve_conflict"))
    }
    choices = {conflicts[name].field: events[str(conflicts[name].id)]["choice"] for name in fields}
    assert choices == {"child_views": "mine", "worries": "server", "notes": "merged"}
    merged = events[str(conflicts["notes"].id)]
    assert merged["by"] == org.practitioner.id
    assert (merged["device_length"], merged["server_length"], merged["result_length"]) == (
        len("Bravo note."),
        len("Alpha note."),
        len("Alpha note. Bravo note."),
    )
    assert not any("Bravo" in str(detail) for detail in events.values())  # no case text
    # Both texts stay on the conflict; the merged one is the contact's.
    assert (conflicts["notes"].server_value, conflicts["notes"].device_value) == (
        "Alpha note.",
        "Bravo note.",
    )
    assert session.get(Contact, org.draft.id).notes == "Alpha note. Bravo note."

    assert first.post("/api/auth/logout").status_code == 204  # the tablets signed in by the API
    for email in (org.practitioner.email, org.leader.email):
        auth.login(email)
        html = client.get("/team/sync-issues").text
        resolved = html[html.index("Resolved conflicts") :]
        assert "Conflicts (0)" in html
        for text in ("Bravo views.", "Alpha views.", "Bravo worry.", "Alpha worry.", "Bravo note."):
            assert text in resolved
        assert "Alpha note. Bravo note." in resolved  # the merged text, in the contact now
        for said in (
            "kept the words from the tablet",
            "kept the server&#39;s text",
            "merged the two texts",
        ):
            assert f"Pat Practitioner {said} on" in resolved
        auth.logout()
    auth.login(org.outsider_leader.email)
    assert "Bravo" not in client.get("/team/sync-issues").text

    # The child is reallocated: its resolved conflicts leave the practitioner's page with it.
    with Session(engine) as reallocating:
        reallocate(
            reallocating,
            reallocating.get(User, org.leader.id),
            reallocating.get(Child, org.child.id),
            org.colleague.id,
            org_today(),
            "Caseload balancing",
        )
        reallocating.commit()
    auth.logout()
    auth.login(org.practitioner.email)
    assert "Bravo" not in client.get("/team/sync-issues").text
