"""Why sync refuses a request, said as what happened (SPEC §4). Nothing here knows HTTP: the API
says once which status answers each refusal (api/errors.py), so the wire's codes are kept in one
table and a refusal means the same to every caller: the API, the CLI, a test."""

from __future__ import annotations

from typing import Any


class SyncRefusal(Exception):
    """Sync refused the request as a whole: the caller keeps nothing of it (the API rolls the
    request back). `message` is shown to the user or, for a refusal the tablet acts on by itself,
    is the code it acts on; `extra` names what was refused (`field="device_id"`) and is sent
    along with the message."""

    def __init__(self, message: str, **extra: Any):
        super().__init__(message)
        self.message = message
        self.extra = extra


class UnknownDevice(SyncRefusal):
    """The device id is not one of this user's devices: the tablet registers it first. A device
    of another user is unknown here too, since a user pushes and pulls only through their own."""

    def __init__(self) -> None:
        super().__init__("Unknown device: register it first.", field="device_id")


class DeviceOfAnotherUser(SyncRefusal):
    """Registering a device id another user registered (SPEC §4): a device is one user's, its
    pushes numbered and its holdings kept for that user alone, so its id is never taken over."""

    def __init__(self) -> None:
        super().__init__("This device is registered to another user.")


class DeviceRevoked(SyncRefusal):
    """An admin revoked the device, lost or stolen: told so on every sync call, the tablet wipes
    its local data (SPEC §4)."""

    def __init__(self) -> None:
        super().__init__("This device has been revoked. Its local data must be wiped.")


class ResetRequired(SyncRefusal):
    """The cursor cannot be continued: another database epoch, older than tombstone retention,
    ahead of this database (restored from a backup) or not one this server can read. The tablet
    fetches everything again, keeping its unsent changes (SPEC §4); the message is the code it
    acts on, and nothing is sent with it."""

    def __init__(self) -> None:
        super().__init__("reset_required")
