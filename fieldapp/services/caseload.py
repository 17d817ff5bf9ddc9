"""Caseload rows: each child with their last face-to-face contact and R1 status
(`004` § Contact with child), computed in SQL per child, not by loading contacts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, func, literal_column, select
from sqlalchemy.orm import Session

from ..models import Child, Contact
from .compliance import Compliance, child_compliance


def qualifying_contact_condition():
    """SQL form of `compliance.is_qualifying_contact` (R1, `004` § Contact with child).

    The third-party part of the rule (named, with a role) is a CHECK constraint on submitted
    contacts (`ck_contacts_third_party_named`), so what remains is exactly the predicate of the
    partial index `ix_contacts_qualifying`. The terms are literals, as the index states them:
    neither SQLite nor PostgreSQL can match a partial index against bound parameters.
    """
    return and_(
        Contact.status == literal_column("'submitted'"),
        Contact.mode == literal_column("'face_to_face'"),
        Contact.child_seen,
    )


def last_qualifying_contact_dates(
    session: Session, child_ids: list[uuid.UUID], on: date | None = None
) -> dict[uuid.UUID, date]:
    if not child_ids:
        return {}
    query = (
        select(Contact.child_id, func.max(Contact.contact_date))
        .where(Contact.child_id.in_(child_ids), qualifying_contact_condition())
        .group_by(Contact.child_id)
    )
    if on is not None:
        query = query.where(Contact.contact_date <= on)
    return dict(session.execute(query).all())


@dataclass(frozen=True)
class CaseloadRow:
    child: Child
    last_contact_date: date | None
    compliance: Compliance | None  # None when the child's care has ended


def caseload(
    session: Session, children: Select[tuple[Child]], today: date, due_soon_days: int
) -> list[CaseloadRow]:
    """Children in care first, most urgent first (earliest due date), then those whose care
    ended."""
    rows = list(session.scalars(children))
    last = last_qualifying_contact_dates(session, [child.id for child in rows])
    result = []
    for child in rows:
        last_date = last.get(child.id)
        status = (
            child_compliance(last_date, child.care_start_date, today, due_soon_days)
            if child.care_end_date is None or child.care_end_date > today
            else None
        )
        result.append(CaseloadRow(child, last_date, status))
    result.sort(
        key=lambda row: (
            row.compliance is None,
            row.compliance.due_date if row.compliance else date.max,
            row.child.family_name,
            row.child.given_name,
        )
    )
    return result
