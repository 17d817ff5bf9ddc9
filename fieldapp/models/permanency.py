"""Permanency planning records (R3, R4, R10, R11, R12). Every table here is append-only for the
application (R8): a goal is superseded by a newer goal, never edited; a correction is a new
record. Sources: `000` § Case planning; `002` § Permanency Goal Reviews, § Permanency
Consultations, § Cohort reviews, § Record keeping; `003` § OOHC; `004` § Child Protection and
Youth Justice."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, RecordSource, new_uuid, utcnow
from .child import Child
from .org import Agency, User


class ReviewProgress(enum.StrEnum):
    on_track = "on_track"
    progress_concerns = "progress_concerns"
    goal_change_recommended = "goal_change_recommended"


class ConsultationKind(enum.StrEnum):
    formal = "formal"
    informal = "informal"


class ConsultationTrigger(enum.StrEnum):
    """`002` § Permanency Consultations: when a consultation occurs."""

    goal_change_considered = "goal_change_considered"
    legal_action_or_short_term_orders = "legal_action_or_short_term_orders"
    significant_change = "significant_change"
    requested = "requested"
    rosh_report_in_care = "rosh_report_in_care"
    cohort_review = "cohort_review"
    preservation_support = "preservation_support"


class CulturalConsultant(enum.StrEnum):
    """R4 (`002` § Legal, cultural or specialist consultations): who gives cultural advice."""

    aboriginal_consultant = "aboriginal_consultant"
    consultation_panel = "consultation_panel"
    group_supervision = "group_supervision"


class TransferBasis(enum.StrEnum):
    """R10 (`003` § OOHC): when case management transfers to a non-government agency."""

    protection_action_complete = "protection_action_complete"
    final_orders_minister = "final_orders_minister"
    final_restoration_orders = "final_restoration_orders"
    other_long_term_orders = "other_long_term_orders"


def _in(column: str, values: type[enum.Enum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class _Recorded:
    """Who wrote the record into fieldapp, and when (not who made the decision)."""

    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(10), default=RecordSource.app.value)


class CasePlanGoalRecord(_Recorded, Base):
    """A case plan goal with the date it was set (R3). The goal in force on day D is the latest
    set on or before D; `children.case_plan_goal` mirrors the current one for quick reads."""

    __tablename__ = "case_plan_goals"
    __table_args__ = (
        Index("ix_case_plan_goals_child_set", "child_id", "date_set"),
        CheckConstraint(
            "goal IN ('family_preservation', 'restoration', 'guardianship', 'adoption', "
            "'long_term_care')",
            name="goal_known",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"))
    goal: Mapped[str] = mapped_column(String(30))
    date_set: Mapped[date]
    permanency_unlikely: Mapped[bool] = mapped_column(default=False)
    # R4: why the earlier goals are not practicable or not in the child's best interests.
    reason: Mapped[str | None] = mapped_column(Text)
    coordinator_recommendation: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by_name: Mapped[str | None] = mapped_column(String(200))

    child: Mapped[Child] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class GoalReview(_Recorded, Base):
    """A permanency goal review (R3, `002` § Permanency Goal Reviews)."""

    __tablename__ = "goal_reviews"
    __table_args__ = (
        Index("ix_goal_reviews_child_date", "child_id", "review_date"),
        # The latest review of a goal up to a date: one backward step, index-only (the
        # permanency dashboard, `services/permanency_report.py`).
        Index("ix_goal_reviews_goal_date", "goal_id", "review_date"),
        CheckConstraint(_in("progress", ReviewProgress), name="progress_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"))
    goal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_plan_goals.id"))
    review_date: Mapped[date]
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_by_name: Mapped[str | None] = mapped_column(String(200))
    participants: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[str] = mapped_column(String(30))
    psp_package_reviewed: Mapped[bool] = mapped_column(default=False)
    recommendation: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)

    goal: Mapped[CasePlanGoalRecord] = relationship()
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])


class GoalExtension(_Recorded, Base):
    """An application to extend a goal past two years (`002` § Upskilling: exceptional
    circumstances). The decision is a later, separate record of the same application."""

    __tablename__ = "goal_extensions"
    __table_args__ = (
        CheckConstraint(
            "decision IS NULL OR decision IN ('approved', 'declined')", name="decision"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    goal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case_plan_goals.id"), index=True)
    applied_date: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    # Set once, when the decision is recorded; never changed afterwards.
    decision: Mapped[str | None] = mapped_column(String(10))
    decision_date: Mapped[date | None]


class ConsultationRequest(Base):
    """A practitioner's or team leader's request for a permanency consultation (R11). It is
    open until a consultation names it."""

    __tablename__ = "consultation_requests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text)

    child: Mapped[Child] = relationship()
    requested_by: Mapped[User] = relationship()


class PermanencyConsultation(_Recorded, Base):
    """R11 (`002` § Permanency Consultations; § Record keeping)."""

    __tablename__ = "permanency_consultations"
    __table_args__ = (
        Index("ix_permanency_consultations_child_date", "child_id", "consultation_date"),
        CheckConstraint(_in("kind", ConsultationKind), name="kind_known"),
        CheckConstraint(_in("trigger", ConsultationTrigger), name="trigger_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"))
    consultation_date: Mapped[date]
    kind: Mapped[str] = mapped_column(String(10))
    trigger: Mapped[str] = mapped_column(String(40))
    participants: Mapped[str | None] = mapped_column(Text)
    discussion: Mapped[str | None] = mapped_column(Text)
    recommendations: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("consultation_requests.id"), unique=True
    )
    cohort_review_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("cohort_reviews.id"))

    actions: Mapped[list[ConsultationAction]] = relationship(
        back_populates="consultation", order_by="ConsultationAction.position"
    )


class ConsultationAction(Base):
    """A follow-up action of a consultation: what, who, by when."""

    __tablename__ = "consultation_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("permanency_consultations.id"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(Text)
    responsible: Mapped[str | None] = mapped_column(String(200))
    due_date: Mapped[date | None]

    consultation: Mapped[PermanencyConsultation] = relationship(back_populates="actions")


class CulturalConsultation(_Recorded, Base):
    """R4: the cultural consultation adoption for an Aboriginal or Torres Strait Islander child
    needs (`000` § Case planning, s10A(3)(e)); never a permanency consultation (`002`)."""

    __tablename__ = "cultural_consultations"
    __table_args__ = (
        Index("ix_cultural_consultations_child_date", "child_id", "consultation_date"),
        CheckConstraint(_in("consultant_kind", CulturalConsultant), name="consultant_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"))
    consultation_date: Mapped[date]
    consultant_kind: Mapped[str] = mapped_column(String(30))
    consultant_name: Mapped[str | None] = mapped_column(String(200))
    advice: Mapped[str] = mapped_column(Text)


class CohortReview(_Recorded, Base):
    """`002` § Cohort reviews: a coordinator reviews an agency's children in long-term care and
    flags those needing a formal consultation."""

    __tablename__ = "cohort_reviews"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    review_date: Mapped[date]
    notes: Mapped[str | None] = mapped_column(Text)

    agency: Mapped[Agency] = relationship()
    children: Mapped[list[CohortReviewChild]] = relationship(back_populates="cohort_review")


class CohortReviewChild(Base):
    __tablename__ = "cohort_review_children"

    cohort_review_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cohort_reviews.id"), primary_key=True
    )
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), primary_key=True)
    needs_formal_consultation: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(Text)

    cohort_review: Mapped[CohortReview] = relationship(back_populates="children")
    child: Mapped[Child] = relationship()


class CaseManagementRetention(_Recorded, Base):
    """R10 (`003` § OOHC): a decision to keep case management with the government agency,
    which holds only when all three criteria do (the CHECK makes it so)."""

    __tablename__ = "case_management_retentions"
    __table_args__ = (
        CheckConstraint("complex_needs AND high_risk AND collaboration", name="all_criteria"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"), index=True)
    decision_date: Mapped[date]
    complex_needs: Mapped[bool]
    high_risk: Mapped[bool]
    collaboration: Mapped[bool]
    reason: Mapped[str] = mapped_column(Text)


class YouthJusticeRecord(_Recorded, Base):
    """R12 (`004` § Child Protection and Youth Justice): the collaboration as recorded; the
    latest row is the current one, earlier rows are its history."""

    __tablename__ = "youth_justice_records"
    __table_args__ = (Index("ix_youth_justice_records_child_at", "child_id", "recorded_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_uuid)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("children.id"))
    status: Mapped[str] = mapped_column(String(20))
    lead_practitioner: Mapped[str | None] = mapped_column(String(200))
    # [{name, team: detention_operations | community_support_programs, contact}]
    officers: Mapped[list] = mapped_column(default=list)
    court_order_conditions: Mapped[str | None] = mapped_column(Text)
    # [{description, due_date}]: the release and reintegration plan
    plan_actions: Mapped[list] = mapped_column(default=list)
