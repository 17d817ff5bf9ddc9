"""The sync engine (SPEC §4): device registration, exactly-once push, gap-free pull, and what
sync could not settle on its own.

Plain functions over a session; the API blueprint owns the transaction and commits once per
request, answering only after the commit. The package is split along its seams: `devices`,
`pushing` (envelope, sequencing, the batch), `handlers` (one per record type and operation),
`pulling` (changes, purges, entering children), `issues` (conflicts and review items) and
`errors` (what the API answers with a status of its own, mapped in api/errors.py). The synced
record types themselves are listed once, in services/synced_types.py.
"""

from .devices import (
    DEVICE_TOUCH_INTERVAL,
    MAX_UNSENT,
    device_for,
    device_revoked,
    note_unsent,
    register_device,
)
from .errors import DeviceOfAnotherUser, DeviceRevoked, ResetRequired, SyncRefusal, UnknownDevice
from .handlers import OPS, RECORD_TYPES, MutationResult
from .issues import (
    CHOICE_TEXT,
    Resolution,
    conflicts_for,
    resolve_conflict,
    resolved_conflicts_for,
    review_items_for,
)
from .pulling import (
    DEFAULT_PULL_LIMIT,
    MAX_PULL_LIMIT,
    TOMBSTONE_RETENTION,
    Cursor,
    check_cursor,
    pull,
    purge_expired_tombstones,
)
from .pushing import (
    MAX_BATCH,
    MAX_SEQ,
    MUTATION_FIELDS,
    answer_resent,
    check_envelope,
    payload_hash,
    push,
)

__all__ = [
    "CHOICE_TEXT",
    "DEFAULT_PULL_LIMIT",
    "DEVICE_TOUCH_INTERVAL",
    "MAX_BATCH",
    "MAX_PULL_LIMIT",
    "MAX_SEQ",
    "MAX_UNSENT",
    "MUTATION_FIELDS",
    "OPS",
    "RECORD_TYPES",
    "TOMBSTONE_RETENTION",
    "Cursor",
    "DeviceOfAnotherUser",
    "DeviceRevoked",
    "MutationResult",
    "ResetRequired",
    "Resolution",
    "SyncRefusal",
    "UnknownDevice",
    "answer_resent",
    "check_cursor",
    "check_envelope",
    "conflicts_for",
    "device_for",
    "device_revoked",
    "note_unsent",
    "payload_hash",
    "pull",
    "purge_expired_tombstones",
    "push",
    "register_device",
    "resolve_conflict",
    "resolved_conflicts_for",
    "review_items_for",
]
