"""Children in care, who holds them (allocation history) and who is responsible for their case
(R10, `000` § Case planning; `003` § OOHC)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, ClientRecordMixin, new_uuid, utcnow
from .org import Agency, Team, User


class AboriginalStatus(enum.StrEnum):
    aboriginal = "aboriginal"
    torres_strait_islander = "torres_strait_islander"
    both = "both"
    neither = "neither"
    unknown = "unknown"


class Residence(enum.StrEnum):
    nt = "nt"
    interstate = "interstate"
    boarding_interstate = "boarding_interstate"


class YouthJusticeStatus(enum.StrEnum):
    none = "none"
    at_risk = "at_risk"
    engaged = "engaged"
    in_detention = "in_detention"


class CasePlanGoal(enum.StrEnum):
    """In the order of preference of the permanent placement principles (R4, `000` § Case
    planning)."""

    family_preservation = "family_preservation"
    restoration = "restoration"
    guardianship = "guardianship"
    adoption = "adoption"
    long_term_care = "long_term_care"


INTERSTATE_RESIDENCES = (Residence.interstate.value, Residence.boarding_interstate.value)
FIRST_NATIONS_STATUSES = (
    AboriginalStatus.aboriginal.value,
    AboriginalStatus.torres_strait_islander.value,
    AboriginalStatus.both.value,
)


class Child(ClientRecordMixin, Base):
    __tablename__ = "children"
    __table_args__ = (
        Index("ix_children_team_in_care", "team_id", "care_end_date"),
        CheckConstraint(
            "care_end_date IS NULL OR care_end_date >= care_start_date", name="care_dates_order"
        ),
    )

    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    preferred_name: Mapped[str | None] = mapped_column(String(100))
    date_of_birth: Mapped[date]
    aboriginal_status: Mapped[str] = mapped_column(String(30), default="unknown")
    residence: Mapped[str] = mapped_column(String(30), default="nt")
    care_start_date: Mapped[date]
    care_end_date: Mapped[date | None]
    youth_justice_status: Mapped[str] = mapped_column(String(20), default="none")
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    practitioner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    primary_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    case_plan_goal: Mapped[str | None] = mapped_column(String(30))
    goal_set_date: Mapped[date | None]
    permanency_unlikely: Mapped[bool] = mapped_column(default=False)
    # With the three columns above, a mirror of the goal in force today (R3) and the date of its
    # latest review on or after the date it was set (NULL if none), so that the permanency
    # dashboard "as at" today and the tablet's pull read them from the child instead of looking
    # them up in the history. Written only by `permanency_records.refresh_permanency_mirror`.
    # No foreign key: case_plan_goals refers to children, and a second path between the two
    # tables would make `CasePlanGoalRecord.child` ambiguous and the tables a cycle (SQLite
    # rebuilds, tests emptying tables in order). The one writer keeps it a goal of the child's.
    current_goal_id: Mapped[uuid.UUID | None]
    last_review_date: Mapped[date | None]

    team: Mapped[Team] = relationship()
    practitioner: Mapped[User | None] = relationship()
    primary_agency: Mapped[Agency] = relationship()
    allocations: Mapped[list[Allocation]] = relationship(
        back_populates="child", order_by="Allocation.start_date.desc(), Allocation.id.desc()"
    )
    transfers: Mapped[list[CaseResponsibilityTransfer]] = relationship(
        back_populates="child", order_by="CaseResponsibilityTransfer.transfer_date"
    )

    @property
    def display_name(self) -> str:
        given = self.preferred_name or self.given_name
        return f"{given} {self.family_name}"

    @property
    def in_care(self) -> bool:
        return self.care_end_date is None

    @property
    def is_interstate(self) -> bool:
        return self.residence in INTERSTATE_RESIDENCES

    @property
    def is_first_nations(self) -> bool:
        return self.aboriginal_status in FIRST_NATIONS_STATUSES


class Allocation(Base):
    """Who held a child from when to when. The open row (end_date NULL) is the current holder;
    sync scope and the offline-contact rule (SPEC §4) read this history."""

    __tablename__ = "allocations"
    __table_args__ = (
        Index("ix_allocations_practitioner_child", "practitioner_id", "child_id"),
        # "Who held this child on day D": one step down this index per child.
        Index("ix_allocations_child_start", "child_id", "start_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"))
    practitioner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    allocated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    child: Mapped[Child] = relationship(back_populates="allocations")
    practitioner: Mapped[User] = relationship(foreign_keys=[practitioner_id])


class CaseResponsibilityTransfer(Base):
    """R10: transfers of primary case responsibility are logged and never edited
    (`000` § Case planning; `003` § OOHC)."""

    __tablename__ = "case_responsibility_transfers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    from_agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    to_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    transfer_date: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    # R10 (`003` § OOHC): why case management moves to a non-government agency (TransferBasis);
    # NULL for a transfer back to the government agency and for history imported without one.
    basis: Mapped[str | None] = mapped_column(String(40))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(10), default="app")

    child: Mapped[Child] = relationship(back_populates="transfers")
    from_agency: Mapped[Agency | None] = relationship(foreign_keys=[from_agency_id])
    to_agency: Mapped[Agency] = relationship(foreign_keys=[to_agency_id])
