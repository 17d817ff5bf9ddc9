"""The audit log viewer (issue 13): filters by user, child (by name or external id), action,
outcome and the organisation's calendar dates; names in place of ids; times in the
organisation's timezone; pages beyond the newest; a CSV export that is itself audited. A failed
sign-in names the account tried, as typed, and never what may be a password."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from fieldapp.models import AuditEvent, Device
from fieldapp.models.base import utcnow
from fieldapp.services.audit_log import PAGE_SIZE, AuditFilters, audit_page
from fieldapp.services.errors import ValidationError

from ..conftest import AuthActions
from ..factories import TIMEZONE, gen_child

CHROME_ON_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
# 14:45 UTC is a quarter past midnight the next day in Darwin (UTC+9:30).
LATE_EVENING_UTC = datetime(2026, 1, 1, 14, 45, tzinfo=UTC)


def _event(session, action: str, *, user=None, at=None, object_type=None, object_id=None,
           outcome: str = "ok", detail=None, ip=None) -> AuditEvent:  # fmt: skip
    event = AuditEvent(
        action=action,
        user_id=user.id if user else None,
        at=at or utcnow(),
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        outcome=outcome,
        detail=detail,
        ip=ip,
    )
    session.add(event)
    session.flush()
    return event


def _actions(page) -> list[tuple[str, str]]:
    return [(row.event.action, row.record) for row in page.rows]


@pytest.fixture
def admin(client, org) -> AuthActions:
    auth = AuthActions(client)
    assert auth.login(org.admin.email).status_code == 302
    return auth


@pytest.fixture
def trail(org, db_session):
    """Events by, about and near Pat Practitioner and Mia Anderson (C-1), before any sign-in."""
    s = db_session
    pat, col = org.practitioner, org.colleague
    events = {
        "pat views mia": _event(s, "view", user=pat, object_type="child", object_id=org.child.id),
        "pat views contact": _event(
            s, "view", user=pat, object_type="contact", object_id=org.contact.id
        ),
        "goal review for mia": _event(
            s,
            "create",
            user=org.leader,
            object_type="goal_review",
            object_id=uuid.uuid4(),
            detail={"child_id": str(org.child.id)},
        ),  # fmt: skip
        "visit of kai": _event(
            s,
            "create",
            user=pat,
            object_type="return_visit",
            object_id=org.visit.id,
            detail={"child_id": str(org.interstate_child.id)},
        ),  # fmt: skip
        "admin changes pat": _event(
            s,
            "update",
            user=org.admin,
            object_type="user",
            object_id=pat.id,
            detail={"changes": {"role": ["practitioner", "team_leader"]}},
        ),  # fmt: skip
        "pat mistyped": _event(
            s, "login", object_type="user", outcome="failed", detail={"email": "pat@example.org"}
        ),
        "pat locked": _event(
            s, "lockout", object_type="user", object_id=pat.id, detail={"failures": 10}
        ),
        "colleague views zed": _event(
            s,
            "access",
            user=col,
            object_type="child",
            object_id=org.other_child.id,
            outcome="denied",
            detail={"path": f"/children/{org.other_child.id}"},
        ),  # fmt: skip
        "colleague mistyped": _event(
            s, "login", object_type="user", outcome="failed", detail={"email": "col@example.org"}
        ),
        "a password in the email box": _event(
            s,
            "login",
            object_type="user",
            outcome="failed",
            detail={"email_hmac_sha256": "ab" * 32},
        ),  # fmt: skip
    }
    s.commit()
    return events


def _page(db, **filters):
    return audit_page(db(), AuditFilters(**filters), TIMEZONE)


# ---------------------------------------------------------------- filters


def test_the_user_filter_finds_what_they_did_what_was_done_to_them_and_sign_ins_as_them(
    org, trail, db
):
    page = _page(db, user_id=org.practitioner.id)
    assert {row.event.id for row in page.rows} == {
        trail[name].id
        for name in (
            "pat views mia",
            "pat views contact",
            "visit of kai",
            "admin changes pat",
            "pat mistyped",
            "pat locked",
        )
    }
    assert [row.event.id for row in page.rows] == sorted(
        (row.event.id for row in page.rows), reverse=True
    )


@pytest.mark.parametrize("typed", ["mia", "ANDERSON Mia", "c-1", " C-1 "])
def test_the_child_filter_takes_a_name_or_an_external_id(org, trail, db, typed):
    page = _page(db, child=typed)
    assert [child.external_id for child in page.children] == ["C-1"]
    assert {row.event.id for row in page.rows} == {
        trail["pat views mia"].id,
        trail["pat views contact"].id,
        trail["goal review for mia"].id,
    }


def test_the_child_filter_finds_a_childs_return_visits_and_says_when_it_cannot_help(
    org, trail, db, db_session
):
    assert [row.event.id for row in _page(db, child="Kai").rows] == [trail["visit of kai"].id]
    with pytest.raises(ValidationError) as none:
        _page(db, child="Nobody")
    assert none.value.errors == {"child": ["No child's name or external id matches 'Nobody'."]}
    for number in range(21):
        gen_child(db_session, org.child.team, given_name="Sam", external_id=f"S-{number}")
    db_session.commit()
    with pytest.raises(ValidationError) as many:
        _page(db, child="sam")
    assert "More than 20 children match 'sam'" in many.value.errors["child"][0]
    # An external id picks one child even when the name would match many.
    assert [child.external_id for child in _page(db, child="S-7").children] == ["S-7"]


def test_action_and_outcome_filters(org, trail, db):
    failed = _page(db, action="login", outcome="failed")
    assert {row.event.id for row in failed.rows} == {
        trail[name].id
        for name in ("pat mistyped", "colleague mistyped", "a password in the email box")
    }
    denied = _page(db, outcome="denied")
    assert [row.event.id for row in denied.rows] == [trail["colleague views zed"].id]


def test_dates_are_the_organisations_calendar_days(org, db, db_session):
    event = _event(db_session, "export", user=org.leader, at=LATE_EVENING_UTC)
    db_session.commit()
    on = date(2026, 1, 2)  # Darwin's date of the event
    assert [r.event.id for r in _page(db, date_from=on, date_to=on).rows] == [event.id]
    assert _page(db, date_to=date(2026, 1, 1)).rows == []
    assert [r.event.id for r in _page(db, date_from=date(2026, 1, 2)).rows] == [event.id]
    assert _page(db, date_from=date(2026, 1, 3)).rows == []
    with pytest.raises(ValidationError) as backwards:
        _page(db, date_from=on, date_to=on - timedelta(days=1))
    assert backwards.value.errors == {"date_to": ["The end date is before the start date."]}


# ---------------------------------------------------------------- paging


def test_pages_go_beyond_the_newest_and_back(org, db, db_session):
    events = [_event(db_session, "view", user=org.leader) for _ in range(2 * PAGE_SIZE + 50)]
    db_session.commit()
    newest_first = [event.id for event in reversed(events)]
    first = _page(db)
    assert [row.event.id for row in first.rows] == newest_first[:PAGE_SIZE]
    assert first.newer_than is None and first.older_than == newest_first[PAGE_SIZE - 1]
    second = audit_page(db(), AuditFilters(), TIMEZONE, older_than=first.older_than)
    assert [row.event.id for row in second.rows] == newest_first[PAGE_SIZE : 2 * PAGE_SIZE]
    third = audit_page(db(), AuditFilters(), TIMEZONE, older_than=second.older_than)
    assert [row.event.id for row in third.rows] == newest_first[2 * PAGE_SIZE :]
    assert third.older_than is None and third.newer_than == newest_first[2 * PAGE_SIZE]
    back = audit_page(db(), AuditFilters(), TIMEZONE, newer_than=third.newer_than)
    assert [row.event.id for row in back.rows] == [row.event.id for row in second.rows]
    # Paging keeps the filters.
    leader_only = _page(db, user_id=org.leader.id, action="view")
    assert len(leader_only.rows) == PAGE_SIZE and leader_only.older_than is not None


def test_the_page_links_to_older_events_with_the_same_filters(client, admin, org, db_session):
    for _ in range(PAGE_SIZE + 5):
        _event(db_session, "view", user=org.leader, object_type="compliance")
    db_session.commit()
    page = client.get(f"/admin/audit?action=view&user={org.leader.id}")
    assert page.status_code == 200
    assert page.text.count('data-label="When"') == PAGE_SIZE
    older = re.search(r'href="(/admin/audit\?[^"]*older_than=\d+[^"]*)">Older events', page.text)
    assert older, "no link to older events"
    link = older.group(1).replace("&amp;", "&")
    assert "action=view" in link and f"user={org.leader.id}" in link
    second = client.get(link)
    assert second.text.count('data-label="When"') == 5
    assert "Older events" not in second.text and "Newer events" in second.text


# ---------------------------------------------------------------- what the page shows


def test_names_in_place_of_ids_and_times_in_the_organisations_timezone(
    client, admin, org, trail, db_session
):
    device = Device(id=uuid.uuid4(), user_id=org.practitioner.id, name=CHROME_ON_ANDROID)
    db_session.add(device)
    db_session.flush()
    _event(db_session, "register", user=org.practitioner, object_type="device", object_id=device.id)
    pulled = {"children_added": 1, "children_removed": 0, "changes": 7}
    _event(db_session, "sync_pull", user=org.practitioner, object_type="device",
           object_id=device.id, detail=pulled)  # fmt: skip
    _event(db_session, "reallocate", user=org.leader, object_type="child",
           object_id=org.child.id, detail={"to_practitioner_id": org.colleague.id})  # fmt: skip
    _event(db_session, "export", user=org.leader, object_type="compliance", at=LATE_EVENING_UTC,
           detail={"as_of": "2026-01-31"})  # fmt: skip
    _event(db_session, "lockout", object_type="user", object_id=org.colleague.id,
           detail={"failures": 10, "until": "2026-01-01T14:45:00+00:00"})  # fmt: skip
    # Recorded before failed sign-ins kept only email addresses: what was typed, maybe a password.
    _event(db_session, "login", object_type="user", outcome="failed",
           detail={"email": "hunter2 is my password"})  # fmt: skip
    db_session.commit()

    page = client.get("/admin/audit").text
    assert "Tablet: Chrome 131 on Android 14 (Pat Practitioner)" in page
    assert "Mia Anderson (C-1)" in page
    assert "Contact with Mia Anderson (C-1)" in page
    assert "Goal review for Mia Anderson (C-1)" in page
    assert "Return visit of Kai Baker (C-2)" in page
    assert "To " + org.colleague.name in page
    assert "Role: Practitioner → Team leader" in page
    assert "Account tried: pat@example.org" in page
    assert page.count("Account tried: not an email address") == 2
    assert "hunter2" not in page
    assert "02/01/2026 00:15" in page  # Darwin time, dd/mm/yyyy HH:MM
    assert "As of: 31/01/2026" in page
    assert "Children added: 1; children removed: 0; changes: 7" in page
    assert "Failures: 10; until: 02/01/2026 00:15" in page
    assert "+00:00" not in page
    assert "UTC" not in page
    for raw_id in (str(org.child.id), str(device.id), str(org.contact.id)):
        assert raw_id not in page
    assert CHROME_ON_ANDROID not in page


def test_a_bad_filter_is_named_on_the_page(client, admin, org):
    response = client.get("/admin/audit?date_from=2026-02-30")
    assert response.status_code == 400
    assert "From: Not a valid date value." in response.text
    response = client.get("/admin/audit?child=Nobody")
    assert response.status_code == 400
    assert "No child&#39;s name or external id matches &#39;Nobody&#39;." in response.text
    response = client.get("/admin/audit?user=nobody")
    assert response.status_code == 400


# ---------------------------------------------------------------- the CSV


def test_the_csv_holds_the_filtered_events_and_its_export_is_audited(
    client, admin, org, trail, db, db_session
):
    _event(db_session, "login", object_type="user", outcome="failed", at=LATE_EVENING_UTC,
           detail={"email": "old@example.org"})  # fmt: skip
    db_session.commit()
    response = client.get("/admin/audit.csv?action=login&outcome=failed")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert (
        lines[0] == '"at","user","user_email","action","outcome","record","detail","ip","event_id"'
    )
    assert len(lines) == 1 + 4  # the three failed sign-ins of the trail, and the old one
    assert any('"Account tried: pat@example.org"' in line for line in lines)
    [old] = [line for line in lines if "old@example.org" in line]
    assert old.startswith('"2026-01-02T00:15:00+09:30","","","Sign-in","Failed"')
    [export] = db().scalars(select(AuditEvent).where(AuditEvent.action == "export"))
    assert (export.user_id, export.object_type) == (org.admin.id, "audit_log")
    assert export.detail == {"action": "login", "outcome": "failed", "rows": 4}


def test_an_admin_sees_no_case_content_in_the_trail(client, admin, org, db_session):
    """SPEC §2: admins see the audit log, not case content. Events that carry a goal, a Youth
    Justice status or a consultation's trigger show none of it, on the page or in the CSV."""
    goal = {"child_id": str(org.child.id), "goal": "adoption"}
    _event(db_session, "record", user=org.leader, object_type="case_plan_goal",
           object_id=uuid.uuid4(), detail=goal)  # fmt: skip
    _event(db_session, "record", user=org.leader, object_type="youth_justice",
           object_id=uuid.uuid4(),
           detail={"child_id": str(org.child.id), "status": "in_detention",
                   "trigger": "placement_breakdown", "decision": "approved"})  # fmt: skip
    _event(db_session, "export", user=org.leader, object_type="compliance",
           detail={"as_of": "2026-11-30", "rows": 12})  # fmt: skip
    db_session.commit()
    for text in (client.get("/admin/audit").text, client.get("/admin/audit.csv").text):
        for content in ("adoption", "in_detention", "placement_breakdown", "approved"):
            assert content not in text
        assert "12" in text  # an export's size is not case content
