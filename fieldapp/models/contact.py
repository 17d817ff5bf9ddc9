"""Contacts with a child, who took part, agreed actions, addenda and NT return visits
(R1, R2, R5–R8; `004` § Contact with child, § Participation in decision making,
§ Practice approach)."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, ClientRecordMixin, RecordSource, new_uuid
from .child import Child
from .org import User


class ContactStatus(enum.StrEnum):
    draft = "draft"
    submitted = "submitted"


class ContactMode(enum.StrEnum):
    face_to_face = "face_to_face"
    video = "video"
    phone = "phone"


class MadeBy(enum.StrEnum):
    practitioner = "practitioner"
    third_party = "third_party"


class Location(enum.StrEnum):
    placement = "placement"
    school = "school"
    office = "office"
    community = "community"
    interstate = "interstate"
    other = "other"


class ViewsMethod(enum.StrEnum):
    conversation = "conversation"
    play_or_drawing = "play_or_drawing"
    observation = "observation"
    advocate_or_interpreter = "advocate_or_interpreter"
    other = "other"


class ParticipantRole(enum.StrEnum):
    child = "child"
    parent = "parent"
    family_member = "family_member"
    carer = "carer"
    natural_support = "natural_support"
    significant_other = "significant_other"
    aboriginal_community_worker = "aboriginal_community_worker"
    aboriginal_practice_advisor = "aboriginal_practice_advisor"
    interpreter = "interpreter"
    youth_justice_officer = "youth_justice_officer"
    other_professional = "other_professional"


# Written the way each dialect renders `qualifying_contact_condition()`, so the planner can match
# it.
QUALIFYING_PREDICATE_PG = "status = 'submitted' AND mode = 'face_to_face' AND child_seen"
QUALIFYING_PREDICATE_SQLITE = "status = 'submitted' AND mode = 'face_to_face' AND child_seen = 1"


class Contact(ClientRecordMixin, Base):
    __tablename__ = "contacts"
    __table_args__ = (
        # Contacts of a child in a date range (the child page, R9's 90-day look-back).
        Index("ix_contacts_child_date", "child_id", "contact_date"),
        # R1 asks, per child, for the latest submitted face-to-face contact in which the child
        # was seen: a partial index makes that one backward index step per child, however long
        # the history (see services/compliance_report.py).
        Index(
            "ix_contacts_qualifying",
            "child_id",
            "contact_date",
            postgresql_where=text(QUALIFYING_PREDICATE_PG),
            sqlite_where=text(QUALIFYING_PREDICATE_SQLITE),
        ),
        CheckConstraint(
            "safety_scale IS NULL OR (safety_scale >= 0 AND safety_scale <= 10)",
            name="safety_scale_range",
        ),
        # R1: a submitted third-party contact names the third party and their role. Held by the
        # database, so the compliance queries can count every submitted face-to-face contact in
        # which the child was seen straight from the partial index.
        CheckConstraint(
            "status <> 'submitted' OR made_by = 'practitioner' "
            "OR (third_party_name IS NOT NULL AND third_party_role IS NOT NULL)",
            name="third_party_named",
        ),
    )

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=ContactStatus.draft.value)
    contact_date: Mapped[date | None]
    start_time: Mapped[str | None] = mapped_column(String(5))
    duration_minutes: Mapped[int | None]
    mode: Mapped[str] = mapped_column(String(20), default=ContactMode.face_to_face.value)
    made_by: Mapped[str] = mapped_column(String(20), default=MadeBy.practitioner.value)
    third_party_name: Mapped[str | None] = mapped_column(String(200))
    third_party_role: Mapped[str | None] = mapped_column(String(200))
    child_seen: Mapped[bool] = mapped_column(default=False)
    seen_alone: Mapped[bool] = mapped_column(default=False)
    location: Mapped[str | None] = mapped_column(String(20))
    location_detail: Mapped[str | None] = mapped_column(Text)
    child_views: Mapped[str | None] = mapped_column(Text)
    views_method: Mapped[str | None] = mapped_column(String(30))
    views_not_recorded_reason: Mapped[str | None] = mapped_column(Text)
    language_used: Mapped[str | None] = mapped_column(String(100))
    interpreter_used: Mapped[bool] = mapped_column(default=False)
    worries: Mapped[str | None] = mapped_column(Text)
    working_well: Mapped[str | None] = mapped_column(Text)
    needs_to_happen: Mapped[str | None] = mapped_column(Text)
    safety_scale: Mapped[int | None]
    notes: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None]
    # `import`: the last face-to-face contact brought by `import-children`, so R1 starts right
    # on day one; it has no notes to read and nothing for a team leader to acknowledge.
    source: Mapped[str] = mapped_column(String(10), default=RecordSource.app.value)

    child: Mapped[Child] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    participants: Mapped[list[ContactParticipant]] = relationship(
        back_populates="contact",
        order_by="ContactParticipant.position",
        cascade="all, delete-orphan",
    )
    actions: Mapped[list[ContactAction]] = relationship(
        back_populates="contact", order_by="ContactAction.position", cascade="all, delete-orphan"
    )
    addenda: Mapped[list[Addendum]] = relationship(
        back_populates="contact", order_by="Addendum.created_at"
    )

    @property
    def is_submitted(self) -> bool:
        return self.status == ContactStatus.submitted.value


class ContactParticipant(Base):
    """R5: who took part and what each said (`004` § Participation in decision making)."""

    __tablename__ = "contact_participants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    role: Mapped[str] = mapped_column(String(40))
    name: Mapped[str | None] = mapped_column(String(200))
    took_part_in_decisions: Mapped[bool] = mapped_column(default=False)
    views_and_wishes: Mapped[str | None] = mapped_column(Text)
    feedback: Mapped[str | None] = mapped_column(Text)
    concerns: Mapped[str | None] = mapped_column(Text)

    contact: Mapped[Contact] = relationship(back_populates="participants")


class ContactAction(Base):
    """R7: Signs of Safety actions, what, who, by when (`004` § Practice approach)."""

    __tablename__ = "contact_actions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    contact_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(Text)
    responsible: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[date | None]

    contact: Mapped[Contact] = relationship(back_populates="actions")


class Addendum(ClientRecordMixin, Base):
    """R8: a correction to a submitted contact. Never edited, never deleted."""

    __tablename__ = "addenda"

    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contacts.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)

    contact: Mapped[Contact] = relationship(back_populates="addenda")
    author: Mapped[User] = relationship()


class ReturnVisit(ClientRecordMixin, Base):
    """R2: a return visit to the NT by an interstate or boarding-school child
    (`004` § Contact with child)."""

    __tablename__ = "return_visits"
    __table_args__ = (CheckConstraint("departure_date >= arrival_date", name="visit_dates_order"),)

    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    arrival_date: Mapped[date]
    departure_date: Mapped[date]
    arrangement_note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    child: Mapped[Child] = relationship()
    created_by: Mapped[User] = relationship()
