"""Property test: the SQL report and trend agree with a slow day-by-day reference on random
histories, on SQLite and PostgreSQL. The reference never uses the production rule functions:
it walks the calendar one day at a time."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldapp.models import Contact
from fieldapp.services.compliance_report import compliance_rows, monthly_trend, team_overview

from ..factories import gen_child, gen_team, gen_user

AS_OF = date(2026, 6, 15)
EPOCH = date(2025, 1, 1)

contact_strategy = st.fixed_dictionaries(
    {
        "offset": st.integers(0, 560),
        "mode": st.sampled_from(["face_to_face", "face_to_face", "face_to_face", "phone", "video"]),
        "child_seen": st.booleans(),
        "status": st.sampled_from(["submitted", "submitted", "draft"]),
        "made_by": st.sampled_from(["practitioner", "practitioner", "third_party"]),
    }
)
child_strategy = st.fixed_dictionaries(
    {
        "start": st.integers(0, 500),
        "end_after": st.one_of(st.none(), st.integers(1, 300)),
        "contacts": st.lists(contact_strategy, max_size=12),
    }
)


def _qualifies(contact: dict) -> bool:
    return (
        contact["status"] == "submitted"
        and contact["mode"] == "face_to_face"
        and contact["child_seen"]
    )


def reference_day_by_day(start: date, end: date | None, contact_days: list[date], on: date):
    """(status, days_overdue, last) by walking every day from care start to `on`."""
    if not (start <= on and (end is None or end > on)):
        return None
    days_since, last, day = 0, None, start
    qualifying = set(contact_days)
    while day <= on:
        if day in qualifying:
            days_since, last = 0, day
        elif day != start:
            days_since += 1
        day += timedelta(days=1)
    remaining = 42 - days_since
    if remaining < 0:
        return "overdue", -remaining, last
    return ("due_soon" if remaining <= 7 else "on_track"), 0, last


def reference_gaps_in_month(
    start: date,
    end: date | None,
    contact_days: list[date],
    month_start: date,
    month_end: date,
    on: date,
) -> int:
    """Gaps (more than 42 days without a qualifying contact) overdue on some day of the month,
    or closed by a contact in the month, walking day by day."""
    qualifying = set(contact_days)
    last_day = min(on, end) if end else on
    count, days_since, counted, day = 0, 0, False, start
    while day <= last_day:
        if day in qualifying and day != start:
            # The stretch that this contact closes is days_since + 1 days long.
            if days_since + 1 > 42 and not counted and month_start <= day <= month_end:
                count += 1
            days_since, counted = 0, False
        elif day != start:
            days_since += 1
            if days_since > 42:
                if not counted and month_start <= day <= month_end:
                    count, counted = count + 1, True
        day += timedelta(days=1)
    return count


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(children=st.lists(child_strategy, min_size=1, max_size=5))
def test_report_and_trend_match_the_day_by_day_reference(db_session, children):
    try:
        team = gen_team(db_session)
        practitioner = gen_user(db_session, "practitioner", team)
        histories = []
        for spec in children:
            start = EPOCH + timedelta(days=spec["start"])
            end = start + timedelta(days=spec["end_after"]) if spec["end_after"] else None
            child = gen_child(
                db_session, team, practitioner, care_start_date=start, care_end_date=end
            )
            qualifying_days = []
            for contact in spec["contacts"]:
                day = start + timedelta(days=contact["offset"] % max(1, (AS_OF - start).days + 30))
                third_party = contact["made_by"] == "third_party"
                db_session.add(
                    Contact(
                        child=child,
                        author_id=practitioner.id,
                        contact_date=day,
                        status=contact["status"],
                        mode=contact["mode"],
                        child_seen=contact["child_seen"],
                        made_by=contact["made_by"],
                        third_party_name="Pat" if third_party else None,
                        third_party_role="Caseworker" if third_party else None,
                    )
                )
                if _qualifies(contact):
                    qualifying_days.append(day)
            histories.append((child, start, end, qualifying_days))
        db_session.flush()

        all_rows = compliance_rows(db_session, [team.id], AS_OF, 7)
        rows = {row.child_id: row for row in all_rows}
        # The dashboard's one-statement overview pages and counts the same rows.
        overview = team_overview(db_session, [team.id], AS_OF, 7, limit=2, offset=1)
        assert [r.child_id for r in overview.rows] == [r.child_id for r in all_rows[1:3]]
        assert overview.matching == len(all_rows)
        for status in ("overdue", "due_soon", "on_track"):
            assert sum(getattr(s, status) for s in overview.summaries) == sum(
                1 for r in all_rows if r.status == status
            )
        for child, start, end, days in histories:
            expected = reference_day_by_day(start, end, [d for d in days if d <= AS_OF], AS_OF)
            if expected is None:
                assert child.id not in rows
                continue
            status, days_overdue, last = expected
            row = rows[child.id]
            assert (row.status, row.days_overdue, row.last_contact_date) == (
                status,
                days_overdue,
                last,
            )

        for point in monthly_trend(db_session, [team.id], AS_OF):
            month_start = point.month_end.replace(day=1)
            in_care = [
                h
                for h in histories
                if reference_day_by_day(
                    h[1], h[2], [d for d in h[3] if d <= point.month_end], point.month_end
                )
                is not None
            ]
            not_overdue = sum(
                1
                for h in in_care
                if reference_day_by_day(
                    h[1], h[2], [d for d in h[3] if d <= point.month_end], point.month_end
                )[0]
                != "overdue"
            )
            assert point.children_in_care == len(in_care)
            assert point.not_overdue == not_overdue
            expected_gaps = sum(
                reference_gaps_in_month(
                    h[1], h[2], [d for d in h[3] if d <= AS_OF], month_start, point.month_end, AS_OF
                )
                for h in histories
            )
            assert point.gaps == expected_gaps, point.month_end
    finally:
        db_session.rollback()
