"""All models, imported here so `Base.metadata` is complete for Alembic and tests."""

from .audit import AuditEvent, Device
from .base import Base
from .child import (
    AboriginalStatus,
    Allocation,
    CasePlanGoal,
    CaseResponsibilityTransfer,
    Child,
    Residence,
    YouthJusticeStatus,
)
from .contact import (
    Addendum,
    Contact,
    ContactAction,
    ContactMode,
    ContactParticipant,
    ContactStatus,
    Location,
    MadeBy,
    ParticipantRole,
    ReturnVisit,
    ViewsMethod,
)
from .org import Agency, AgencyKind, Role, Team, User, UserSession, team_memberships
from .sync import (
    DeviceHolding,
    SyncConflict,
    SyncMutation,
    SyncReviewItem,
    SyncState,
    SyncTombstone,
)

__all__ = [
    "AboriginalStatus",
    "Addendum",
    "Agency",
    "AgencyKind",
    "Allocation",
    "AuditEvent",
    "Base",
    "CasePlanGoal",
    "CaseResponsibilityTransfer",
    "Child",
    "Contact",
    "ContactAction",
    "ContactMode",
    "ContactParticipant",
    "ContactStatus",
    "Device",
    "DeviceHolding",
    "Location",
    "MadeBy",
    "ParticipantRole",
    "Residence",
    "ReturnVisit",
    "Role",
    "SyncConflict",
    "SyncMutation",
    "SyncReviewItem",
    "SyncState",
    "SyncTombstone",
    "Team",
    "User",
    "UserSession",
    "ViewsMethod",
    "YouthJusticeStatus",
    "team_memberships",
]
