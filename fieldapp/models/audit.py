"""Audit trail (R8) and registered tablets."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .org import User


class AuditEvent(Base):
    """One entry of the audit trail: added, never changed or deleted (services/audit.py)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(20), default="ok")
    ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict | None]

    user: Mapped[User | None] = relationship()


class Device(Base):
    """A tablet registered to one user (SPEC §4). The id is made on the tablet."""

    __tablename__ = "devices"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))  # what the practitioner calls it
    user_agent: Mapped[str | None] = mapped_column(String(400))  # its browser, as it says
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # The device's pull counter: holdings added or removed in pull N are confirmed when the
    # device next presents the cursor of pull N.
    pull_number: Mapped[int] = mapped_column(default=0)
    # Changes the tablet held and had not sent (queued, or being typed) when it last pulled, as
    # it reported them; None until it first does. The server cannot see what it was not sent.
    unsent_changes: Mapped[int | None]
    # The last batch of mutations answered in full, by the SHA-256 of its body, with its answer
    # if sent again (every result `duplicate`): a tablet resending after a dropped response is
    # answered without reading the batch again (services/sync/pushing.py).
    last_batch_digest: Mapped[str | None] = mapped_column(String(64))
    last_batch_results: Mapped[str | None] = mapped_column(Text, deferred=True)

    user: Mapped[User] = relationship()
