"""Contact compliance: the six-weekly rule (R1).

Source: `../shared/policy/004_dcb78a5a5aa9b296.txt` § Contact with child — "a Practitioner must
have meaningful face-to-face contact with each child they case manage once every six weeks, or
arrange for an appropriate third party to have face-to-face contact."
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass
from datetime import date, timedelta

CONTACT_INTERVAL_DAYS = 42
DEFAULT_DUE_SOON_DAYS = 7


class ComplianceStatus(enum.StrEnum):
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


def compliance_on(due: date, on: date, due_soon_days: int = DEFAULT_DUE_SOON_DAYS) -> Compliance:
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


def in_care_on(care_start_date: date, care_end_date: date | None, on: date) -> bool:
    """R1: children whose care ended are not counted. Care that ends on a day is over that day."""
    return care_start_date <= on and (care_end_date is None or care_end_date > on)


class VisitStatus(enum.StrEnum):
    met = "met"
    pending = "pending"
    missed = "missed"


def return_visit_status(
    arrival: date, departure: date, staff_contact_dates: list[date], on: date
) -> VisitStatus:
    """R2 (`004` § Contact with child): "the child's Practitioner must have meaningful
    face-to-face contact with the child on every occasion they return to the NT for visits".

    `staff_contact_dates` are the dates of qualifying contacts made by a staff member
    (`made_by = practitioner`); a third party's contact interstate satisfies R1 but not R2.
    Met if one falls within arrival..departure (and by `on`); pending while `on` ≤ departure;
    otherwise missed.
    """
    if any(arrival <= day <= departure and day <= on for day in staff_contact_dates):
        return VisitStatus.met
    if on <= departure:
        return VisitStatus.pending
    return VisitStatus.missed


CULTURAL_SUPPORT_ROLES = ("aboriginal_community_worker", "aboriginal_practice_advisor")


def month_ends(on: date, count: int = 12) -> list[date]:
    """The last `count` month ends up to `on`, oldest first; the current month is represented
    by `on` itself when `on` is not a month end (its figures are "so far")."""
    ends: list[date] = []
    cursor = on
    while len(ends) < count:
        ends.append(cursor)
        cursor = cursor.replace(day=1) - timedelta(days=1)
    return list(reversed(ends))


@dataclass(frozen=True)
class Gap:
    """A stretch longer than 42 days between consecutive qualifying contacts (or from care start
    to the first one), R1 period measure. `end` is None while the gap is still open."""

    start: date
    end: date | None

    def overdue_from(self) -> date:
        return self.start + timedelta(days=CONTACT_INTERVAL_DAYS + 1)

    def touches(self, month_start: date, month_end: date) -> bool:
        """Counted in a month when it ended in it or was open (overdue) at any time in it."""
        return self.overdue_from() <= month_end and (self.end is None or self.end >= month_start)


def gaps(care_start_date: date, contact_dates: list[date], until: date) -> list[Gap]:
    """R1 period measure (`004` § Contact with child): gaps longer than six weeks, from care start
    through each qualifying contact to `until`."""
    anchors = [care_start_date] + sorted(
        d for d in set(contact_dates) if care_start_date <= d <= until
    )
    found = []
    for previous, following in itertools.pairwise(anchors):
        if (following - previous).days > CONTACT_INTERVAL_DAYS:
            found.append(Gap(previous, following))
    if (until - anchors[-1]).days > CONTACT_INTERVAL_DAYS:
        found.append(Gap(anchors[-1], None))
    return found


@dataclass(frozen=True)
class ChildAssessment:
    in_care: bool
    last_contact_date: date | None = None
    compliance: Compliance | None = None
    visit_statuses: tuple[VisitStatus, ...] = ()


def assess_child(
    care_start_date: date,
    care_end_date: date | None,
    contacts: list[ContactFacts],
    return_visits: list[tuple[date, date]],
    on: date,
    due_soon_days: int = DEFAULT_DUE_SOON_DAYS,
) -> ChildAssessment:
    """R1 and R2 for one child from its plain history, as the tablet computes them offline
    (`004` § Contact with child). The server's SQL report must agree with this on every test
    vector (tests/vectors/compliance.json)."""
    if not in_care_on(care_start_date, care_end_date, on):
        return ChildAssessment(in_care=False)
    qualifying = [c for c in contacts if is_qualifying_contact(c) and c.contact_date <= on]
    last = max((c.contact_date for c in qualifying), default=None)
    staff_dates = [c.contact_date for c in qualifying if c.made_by == "practitioner"]
    return ChildAssessment(
        in_care=True,
        last_contact_date=last,
        compliance=child_compliance(last, care_start_date, on, due_soon_days),
        visit_statuses=tuple(
            return_visit_status(arrival, departure, staff_dates, on)
            for arrival, departure in sorted(return_visits)
        ),
    )
