"""Registered tablets as an admin sees them (issue 13): what each is called, which browser and
system it runs, when it last synced, how many children's records it holds, and whether it may
hold work not yet sent. The one place that says when a tablet has been out of touch too long.

A tablet registers with a name (SPEC §4, `POST /api/sync/devices`): the one the practitioner
gave it on the caseload screen ("Tablet name"), or until then its browser's user agent string.
A given name is shown as it is. The browser and system come from the User-Agent header the
tablet syncs with (`devices.user_agent`; for tablets registered before it was kept, from a name
that is a user agent), shown as "Chrome 131 on Android 14", read by `ua-parser` (the uap-core
rules, shipped with the package: no network call).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload
from ua_parser import parse

from ..models import Device, DeviceHolding, User
from ..models.base import utcnow

# A tablet that has not synced for longer than this may hold work not yet sent.
OUT_OF_TOUCH_AFTER = timedelta(days=1)

# A user agent string starts with a product token such as `Mozilla/5.0`; a name a person types
# does not.
_USER_AGENT_START = re.compile(r"^[A-Za-z][\w.-]*/\d")
# Complete when it ends with a whole `product/version` token: the tablet cuts the string at 80
# characters, which usually falls before the browser's own token, and what is left then reads
# as another browser (the Android system browser, Apple Mail) that is not there.
_ENDS_WITH_PRODUCT = re.compile(r"[A-Za-z][\w.-]*/[\w.]*\d$")

_BROWSER_NAMES = {
    "Chrome Mobile": "Chrome",
    "Chrome Mobile WebView": "Android WebView",
    "Chrome Mobile iOS": "Chrome",
    "Mobile Safari": "Safari",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "HeadlessChrome": "Headless Chrome",
    "Edge Mobile": "Edge",
}
# Systems whose version in the user agent is frozen or is not the one people know, so it would
# mislead.
_UNVERSIONED_SYSTEMS = {
    "Mac OS X": "macOS",
    "Linux": "Linux",
    "Windows": "Windows",
    "Chrome OS": "ChromeOS",
}
# Chrome's reduced user agent on Android says "Android 10; K" whatever the version and model.
_REDUCED_ANDROID_MODEL = "K"


def is_user_agent(name: str) -> bool:
    return bool(_USER_AGENT_START.match(name.strip()))


@lru_cache(maxsize=1024)
def describe_user_agent(user_agent: str) -> str | None:
    """A user agent string in words, such as "Chrome 131 on Android 14"; "Unknown browser on
    Android 14" when the browser's part was cut off; None when it is not a user agent string."""
    text = user_agent.strip()
    if not is_user_agent(text):
        return None
    result = parse(text)
    system = _system(result)
    browser = None
    complete = text.count("(") == text.count(")") and _ENDS_WITH_PRODUCT.search(text)
    agent = result.user_agent
    if complete and agent and agent.major and (not result.os or agent.family != result.os.family):
        browser = f"{_BROWSER_NAMES.get(agent.family, agent.family)} {agent.major}"
    if browser and system:
        return f"{browser} on {system}"
    if system:
        return f"Unknown browser on {system}"
    return browser or "Unknown browser and system"


def _system(result) -> str | None:
    os = result.os
    if os is None or os.family == "Other":
        return None
    if os.family in _UNVERSIONED_SYSTEMS:
        return _UNVERSIONED_SYSTEMS[os.family]
    model = result.device.family if result.device else None
    if os.family == "Android" and model == _REDUCED_ANDROID_MODEL:
        return "Android"
    family = "iPadOS" if os.family == "iOS" and model == "iPad" else os.family
    return f"{family} {os.major}" if os.major else family


def given_name(device: Device) -> str | None:
    """The name a person gave the tablet, or None when it registered with its user agent."""
    return None if is_user_agent(device.name) else device.name


def out_of_touch(device: Device, now: datetime) -> bool:
    """Not revoked, and not synced for over a day (or never): it may hold work not yet sent."""
    if device.revoked_at is not None:
        return False
    if device.last_seen_at is None:
        return True
    last = device.last_seen_at
    last = last if last.tzinfo else last.replace(tzinfo=UTC)
    return now - last > OUT_OF_TOUCH_AFTER


@dataclass(frozen=True)
class DeviceRow:
    device: Device
    name: str | None  # given by a person; None when the tablet sent its user agent
    system: str | None  # "Chrome 131 on Android 14"; None when the name is not a user agent
    children_held: int
    out_of_touch: bool

    @property
    def unsent_at_risk(self) -> int:
        """The changes the tablet said at its last sync that it held unsent, while it may still
        send them (not revoked): what deactivating its user would strand."""
        return 0 if self.device.revoked_at is not None else self.device.unsent_changes or 0

    @property
    def may_hold_unsent_work(self) -> bool:
        """Out of touch, or it said at its last sync that it held changes not yet sent."""
        return self.out_of_touch or self.unsent_at_risk > 0

    @property
    def label(self) -> str:
        """What to call the tablet in a sentence or a button."""
        return self.name or self.system or "Tablet"


def device_rows(
    session: Session, *, user_id: int | None = None, now: datetime | None = None
) -> list[DeviceRow]:
    """Every registered tablet (or one user's), by user name then newest first."""
    now = now or utcnow()
    query = (
        select(Device)
        .join(User, Device.user_id == User.id)
        .options(joinedload(Device.user))
        .order_by(User.name, Device.registered_at.desc())
    )
    holdings = (
        select(DeviceHolding.device_id, func.count())
        .where(DeviceHolding.removed_in.is_(None))
        .group_by(DeviceHolding.device_id)
    )
    if user_id is not None:
        query = query.where(Device.user_id == user_id)
        holdings = holdings.join(Device, Device.id == DeviceHolding.device_id).where(
            Device.user_id == user_id
        )
    held = dict(session.execute(holdings).all())
    return [
        DeviceRow(
            device=device,
            name=given_name(device),
            system=describe_user_agent(device.user_agent or device.name),
            children_held=held.get(device.id, 0),
            out_of_touch=out_of_touch(device, now),
        )
        for device in session.scalars(query)
    ]
