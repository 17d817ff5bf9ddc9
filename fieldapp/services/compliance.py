"""Contact compliance: the six-weekly rule (R1).

Source: `../shared/policy/004_dcb78a5a5aa9b296.txt` § Contact with child — "a Practitioner must
have meaningful face-to-face contact with each child they case manage once every six weeks, or
arrange for an appropriate third party to have face-to-face contact."
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

CONTACT_INTERVAL_DAYS = 42
DEFAULT_DUE_SOON_DAYS = 7


class ComplianceStatus(str, enum.Enum):
    overdue = "overdue"
    due_soon = "due_soon"
    on_track = "on_track"


@dataclass(frozen=True)
class ContactFacts:
    """The parts of a contact that decide whether it counts for R1."""

    status: str
    mode: str
    child_seen: bool
    made_by: str
    contact_date: date | None
    third_party_name: str | None = None
    third_party_role: str | None = None


def is_qualifying_contact(contact: ContactFacts) -> bool:
    """R1 (`004` § Contact with child): a submitted, face-to-face contact in which the child was
    seen, made by a staff member or by an appropriate third party (named, with a role)."""
    if contact.status != "submitted" or contact.contact_date is None:
        return False
    if contact.mode != "face_to_face" or not contact.child_seen:
        return False
    if contact.made_by == "practitioner":
        return True
    return (
        contact.made_by == "third_party"
        and bool((contact.third_party_name or "").strip())
        and bool((contact.third_party_role or "").strip())
    )


def due_date(last_qualifying_contact: date | None, care_start_date: date) -> date:
    """R1 (`004` § Contact with child): the next face-to-face contact is due 42 days (six weeks)
    after the latest qualifying contact, or after the care start date if there has been none."""
    anchor = last_qualifying_contact or care_start_date
    return anchor + timedelta(days=CONTACT_INTERVAL_DAYS)


@dataclass(frozen=True)
class Compliance:
    due_date: date
    status: ComplianceStatus
    days_overdue: int


def compliance_on(
    due: date, on: date, due_soon_days: int = DEFAULT_DUE_SOON_DAYS
) -> Compliance:
    """R1 status on day `on` (`004` § Contact with child): overdue once the due date has passed,
    due soon within `due_soon_days` of it, otherwise on track."""
    if on > due:
        return Compliance(due, ComplianceStatus.overdue, (on - due).days)
    if (due - on).days <= due_soon_days:
        return Compliance(due, ComplianceStatus.due_soon, 0)
    return Compliance(due, ComplianceStatus.on_track, 0)


def child_compliance(
    last_qualifying_contact: date | None,
    care_start_date: date,
    on: date,
    due_soon_days: int = DEFAULT_DUE_SOON_DAYS,
) -> Compliance:
    return compliance_on(due_date(last_qualifying_contact, care_start_date), on, due_soon_days)
