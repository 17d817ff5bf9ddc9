"""What "today" means: a calendar date in the organisation's timezone (SPEC §3)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def today_in(tz_name: str, now: datetime | None = None) -> date:
    now = now or datetime.now(UTC)
    return now.astimezone(ZoneInfo(tz_name)).date()


def local_time(moment: datetime, tz_name: str) -> datetime:
    """A stored moment (UTC; SQLite hands it back naive) in the organisation's timezone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(tz_name))
