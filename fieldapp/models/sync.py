"""Sync bookkeeping (SPEC §4): the server change sequence, tombstones, processed mutations,
conflicts, the review queue and which children each device holds."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Sequence, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, new_uuid, utcnow
from .org import User


class SyncState(Base):
    """One row: the database epoch and, on SQLite, the last change number handed out.

    SQLite has one writer at a time, so numbers taken from this row are committed in order. On
    PostgreSQL numbers come from the `sync_change_numbers` sequence, which no writer waits on,
    and each change also records its transaction: a pull reads only changes of transactions
    below the oldest one still running (services/change_seq.py).
    """

    __tablename__ = "sync_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    epoch: Mapped[str] = mapped_column(String(32))
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


# PostgreSQL's change numbers (SQLite ignores sequences).
CHANGE_NUMBERS = Sequence("sync_change_numbers", metadata=Base.metadata)


class SyncCommit(Base):
    """A PostgreSQL transaction that changed synced records (one row each, written in it), so a
    pull can tell in one indexed read that none ended since its cursor: the horizon moves with
    every transaction of the server, most of which change nothing a tablet holds. Kept as long
    as tombstones. Unused on SQLite, whose counter moves only with synced changes."""

    __tablename__ = "sync_commits"

    xid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    committed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SyncTombstone(Base):
    """A deleted synced record, kept 180 days so devices learn of the deletion."""

    __tablename__ = "sync_tombstones"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    xid: Mapped[int | None] = mapped_column(BigInteger)  # the deleting transaction (see SyncState)
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID]
    child_id: Mapped[uuid.UUID] = mapped_column(index=True)
    author_id: Mapped[int | None]
    deleted_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class SyncMutation(Base):
    """A processed push mutation and its first outcome (exactly-once, SPEC §4)."""

    __tablename__ = "sync_mutations"
    # Not unique: a reused mutation_id with another payload is stored (rejected) under its own
    # seq, so the device's queue moves on; lookups take the earliest.
    __table_args__ = (Index("ix_sync_mutations_mutation_id", "mutation_id"),)

    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    mutation_id: Mapped[uuid.UUID]
    payload_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    result: Mapped[dict]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncConflict(Base):
    """Two texts for one field: the server kept its own, the device's is here. Never dropped."""

    __tablename__ = "sync_conflicts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID] = mapped_column(index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(index=True)
    field: Mapped[str] = mapped_column(String(60))
    base_value: Mapped[str | None] = mapped_column(Text)
    server_value: Mapped[str | None] = mapped_column(Text)
    device_value: Mapped[str | None] = mapped_column(Text)
    device_id: Mapped[uuid.UUID | None]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    mutation_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class SyncReviewItem(Base):
    """A record made offline for a child who has since left the practitioner's caseload, and who
    was not allocated to them on the contact date: held for the team leader (never dropped)."""

    __tablename__ = "sync_review_items"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    mutation_id: Mapped[uuid.UUID]
    device_id: Mapped[uuid.UUID]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    child_id: Mapped[uuid.UUID] = mapped_column(index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    record_type: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID]
    payload: Mapped[dict]
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class DeviceHolding(Base):
    """Which children's records a device holds. `added_in` / `removed_in` are the device's pull
    numbers: a pull is confirmed when the device presents its cursor, so a lost pull response is
    rolled back rather than believed (SPEC §4: scope follows allocation)."""

    __tablename__ = "device_holdings"
    __table_args__ = (Index("ix_device_holdings_child", "child_id"),)

    device_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), primary_key=True)
    added_in: Mapped[int]
    removed_in: Mapped[int | None]
