"""Declarative base shared by every model. No Flask here: services and unit tests use plain
SQLAlchemy sessions."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import JSON, BigInteger, Date, DateTime, MetaData, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        uuid.UUID: Uuid(),
        datetime: DateTime(timezone=True),
        date: Date(),
        dict: JSON(),
        list: JSON(),
        str: String(),
    }


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_uuid() -> uuid.UUID:
    return uuid.uuid4()


class SyncedMixin:
    """Records that travel to tablets: `change_seq` is the server change number of their last
    change and `change_xid` the transaction that made it (assigned by services/change_seq.py);
    pulls read changes in (change_xid, change_seq) order, only those of transactions that have
    ended."""

    change_seq: Mapped[int | None] = mapped_column(BigInteger, index=True)
    change_xid: Mapped[int | None] = mapped_column(BigInteger)


class ClientRecordMixin(SyncedMixin):
    """Records a tablet can create offline: the client makes the UUID key, and every change
    bumps `version` so concurrent edits can be detected (SPEC §4)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class RecordSource(enum.StrEnum):
    """Where a record came from: made in fieldapp, or brought from the previous system by
    `import-permanency` or `import-children`."""

    app = "app"
    imported = "import"
