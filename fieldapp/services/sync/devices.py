"""Tablets: registration, the device a sync call names, revocation (SPEC §4, §7)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import (
    Device,
    User,
)
from ...models.base import utcnow
from ..accounts import end_user_sessions
from ..audit import record_event
from ..errors import Forbidden
from .errors import DeviceOfAnotherUser, DeviceRevoked, UnknownDevice


def register_device(
    session: Session, user: User, device_id: uuid.UUID, name: str, user_agent: str | None = None
) -> tuple[Device, bool]:
    """The device and whether it is new; DeviceOfAnotherUser if another user registered it,
    DeviceRevoked if it was revoked. A registered device takes a new name (the practitioner
    renamed the tablet) or user agent (its browser was updated) when they change, and writes
    nothing when they do not."""
    name = name.strip()[:200] or "Tablet"
    user_agent = (user_agent or "").strip()[:400] or None
    device = session.get(Device, device_id)
    if device is not None:
        if device.user_id != user.id:
            raise DeviceOfAnotherUser()
        if device.revoked_at is not None:
            raise DeviceRevoked()
        if device.name != name:
            device.name = name
        if user_agent and device.user_agent != user_agent:
            device.user_agent = user_agent
        return device, False
    device = Device(id=device_id, user_id=user.id, name=name, user_agent=user_agent)
    session.add(device)
    session.flush()
    return device, True


# How exactly "last sync" is kept for the admin's Devices page.
DEVICE_TOUCH_INTERVAL = timedelta(minutes=1)


def device_for(session: Session, user: User, device_id: uuid.UUID) -> Device:
    """The device a push or pull names: UnknownDevice unless it is this user's, DeviceRevoked
    once it was revoked."""
    device = session.get(
        Device, device_id, with_for_update=session.bind.dialect.name == "postgresql"
    )
    if device is None or device.user_id != user.id:
        raise UnknownDevice()
    if device.revoked_at is not None:
        raise DeviceRevoked()
    touch(device)
    return device


def touch(device: Device) -> None:
    """Notes that the device synced, for the admin's Devices page: at most once a minute, so a
    tablet polling with nothing to do writes nothing (issue 14)."""
    now = utcnow()
    last = device.last_seen_at
    if last is None or now - (last if last.tzinfo else last.replace(tzinfo=now.tzinfo)) >= (
        DEVICE_TOUCH_INTERVAL
    ):
        device.last_seen_at = now


MAX_UNSENT = 1_000_000


def note_unsent(device: Device, unsent: int | None) -> None:
    """Keeps what the tablet says it holds unsent (for the Devices page and the deactivation
    warning); written only when it changed, so a tablet polling with nothing to do writes
    nothing."""
    if unsent is not None and device.unsent_changes != unsent:
        device.unsent_changes = unsent


def device_revoked(session: Session, device_id: uuid.UUID) -> bool:
    """Whether this device id was revoked. Asked for a request without a session: revoking a
    tablet ends its user's sessions, and the tablet must still learn that it is revoked to
    wipe itself. The id is a random UUID only the tablet knows."""
    return session.scalar(select(Device.revoked_at).where(Device.id == device_id)) is not None


def revoke_device(session: Session, admin: User, device_id: uuid.UUID) -> Device:
    """A lost or stolen tablet: its next sync is refused (DeviceRevoked) and it wipes itself.
    Every session of its user ends at once (SPEC §7): the cookie on the tablet opens nothing
    more, and whoever holds it may know the password too, so the user signs in again on their
    other devices."""
    if admin.role != "admin":
        raise Forbidden("Only admins revoke devices.")
    device = session.get(Device, device_id)
    if device is None:
        raise Forbidden("No such device.")
    if device.revoked_at is None:
        device.revoked_at = utcnow()
        end_user_sessions(session, device.user_id)
        record_event(
            session, user_id=admin.id, action="revoke", object_type="device", object_id=device.id
        )
    return device
