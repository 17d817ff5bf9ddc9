"""Agencies, teams, users and their sign-in sessions (SPEC §2)."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class AgencyKind(enum.StrEnum):
    government = "government"
    ngo = "ngo"


class Role(enum.StrEnum):
    practitioner = "practitioner"
    team_leader = "team_leader"
    coordinator = "coordinator"
    admin = "admin"


class Agency(Base):
    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default=AgencyKind.government.value)

    teams: Mapped[list[Team]] = relationship(back_populates="agency")


team_memberships = Table(
    "team_memberships",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
)


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("agency_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)

    agency: Mapped[Agency] = relationship(back_populates="teams")
    members: Mapped[list[User]] = relationship(secondary=team_memberships, back_populates="teams")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # Set with a temporary password from an admin: every page leads to the password change until
    # the user makes one (auth/password_required.py; migration 0009).
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency | None] = relationship()
    teams: Mapped[list[Team]] = relationship(
        secondary=team_memberships, back_populates="members", order_by="Team.name"
    )

    # Flask-Login protocol. The id stored in the cookie is the server-side session's id, so
    # signing out (or a password change) invalidates it on the server, not only in the browser.
    current_session_id = None  # set per request by the user loader; not a column
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str | None:
        return self.current_session_id

    @property
    def team_ids(self) -> list[int]:
        return [team.id for team in self.teams]


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


class UserSession(Base):
    """A signed-in browser or tablet. Revoked on sign-out, password change and device
    revocation; it also ends by itself after an idle spell or at the end of its lifetime
    (services/accounts.py `SessionPolicy`)."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True, default=new_session_id)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last request, written at most once a minute (accounts.SESSION_TOUCH_INTERVAL).
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
