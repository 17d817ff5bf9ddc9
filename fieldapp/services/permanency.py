"""Permanency planning rules: goal reviews (R3), the two-year timeframe (R3), the permanent
placement principles (R4), the consultation gate (R11) and keeping case management (R10).

Pure functions of plain values: no database, no Flask. Sources:
- `002_5948617ce4de628e.txt` (Permanency Coordinator role scope) § Permanency Goal Reviews,
  § Permanency Consultations, § Upskilling caseworkers (two-year timeframe, extensions),
  § Legal, cultural or specialist consultations;
- `000_5fb06aeedc1c67a2.txt` (Permanency Case Management Policy) § Case planning (s10A);
- `003_ebb93d8aa6c9313d.txt` (Case management in operation) § OOHC.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date, timedelta

from ..models.child import FIRST_NATIONS_STATUSES, CasePlanGoal

DUE_SOON_DAYS = 14  # SPEC §6: a review is "due soon" within 14 days
TWO_YEAR_MONTHS = 24
APPROACHING_DAYS = 90  # the timeframe is "approaching" with 90 days or fewer left
CONSULTATION_WINDOW_DAYS = 90  # R11: an NGO's goal change needs a consultation this recent

# `002` § Permanency Goal Reviews: minimum review frequency in months, as (usual, where
# permanency is unlikely within two years or there are specific challenges).
REVIEW_INTERVAL_MONTHS: dict[str, tuple[int, int]] = {
    CasePlanGoal.family_preservation: (3, 1),
    CasePlanGoal.restoration: (6, 3),
    CasePlanGoal.guardianship: (6, 3),
    CasePlanGoal.adoption: (6, 3),
    CasePlanGoal.long_term_care: (12, 12),
}

# `000` § Case planning (s10A): the permanent placement principles in order of preference.
# Preservation and restoration are one step ("keep a child at home, or return them").
PREFERENCE_RANK: dict[str, int] = {
    CasePlanGoal.family_preservation: 0,
    CasePlanGoal.restoration: 0,
    CasePlanGoal.guardianship: 1,
    CasePlanGoal.adoption: 2,
    CasePlanGoal.long_term_care: 3,
}

GOAL_LABELS: dict[str, str] = {
    CasePlanGoal.family_preservation: "Family preservation",
    CasePlanGoal.restoration: "Restoration",
    CasePlanGoal.guardianship: "Guardianship",
    CasePlanGoal.adoption: "Open adoption",
    CasePlanGoal.long_term_care: "Long-term care",
}

# R12 (`004` § Child Protection and Youth Justice): said once for the pages and the tablet.
YOUTH_JUSTICE_STATUS_LABELS: dict[str, str] = {
    "none": "None",
    "at_risk": "At risk",
    "engaged": "Engaged with Youth Justice",
    "in_detention": "In detention",
}
YOUTH_JUSTICE_TEAM_LABELS: dict[str, str] = {
    "detention_operations": "Detention Operations",
    "community_support_programs": "Community Support Programs",
}

ADOPTION_CULTURAL_CONSULTATION_REASON = (
    "Adoption is the last preference for an Aboriginal or Torres Strait Islander child, when the "
    "other preferences are assessed as not practicable or in the child's best interests "
    "(Care Act s10A(3)(e)). Record a cultural consultation first: an Aboriginal consultant, an "
    "Aboriginal Advisory or Consultation Panel, or Group Supervision with an Aboriginal "
    "consultant. A permanency consultation does not replace an Aboriginal consultation."
)


class ReviewStatus(enum.StrEnum):
    overdue = "overdue"
    due_soon = "due_soon"
    on_track = "on_track"
    not_required = "not_required"


class TimeframeStatus(enum.StrEnum):
    within = "within"
    approaching = "approaching"
    exceeded = "exceeded"
    not_applicable = "not_applicable"


def add_months(start: date, months: int) -> date:
    """Calendar months later; a day past the target month's end clamps to its last day
    (31 August + 6 months = 28 or 29 February)."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def review_interval_months(goal: str, permanency_unlikely: bool) -> int:
    """R3 (`002` § Permanency Goal Reviews): 3 / 6 / 12 months; 1 / 3 where permanency is
    unlikely within two years (long-term care stays 12)."""
    usual, intensified = REVIEW_INTERVAL_MONTHS[goal]
    return intensified if permanency_unlikely else usual


def next_review_due(
    goal: str, goal_set_date: date, permanency_unlikely: bool, last_review_date: date | None
) -> date:
    """R3: the latest review of the current goal (on or after the date it was set), or the goal
    set date, plus the interval in calendar months."""
    anchor = goal_set_date
    if last_review_date is not None and last_review_date >= goal_set_date:
        anchor = last_review_date
    return add_months(anchor, review_interval_months(goal, permanency_unlikely))


def reviews_required(agency_kind: str) -> bool:
    """R3 (`002` § Permanency Goal Reviews): coordinators review every child whose primary case
    responsibility is with a non-government agency; for the government agency they are shown
    but not counted as overdue."""
    return agency_kind == "ngo"


def review_status(next_due: date, today: date, required: bool) -> ReviewStatus:
    if not required:
        return ReviewStatus.not_required
    if today > next_due:
        return ReviewStatus.overdue
    if (next_due - today).days <= DUE_SOON_DAYS:
        return ReviewStatus.due_soon
    return ReviewStatus.on_track


def two_year_deadline(goal: str, goal_set_date: date) -> date | None:
    """R3 (`002` § Permanency Goal Reviews: "achieving permanency … within two years of setting
    their case plan goal"): every goal but long-term care. A new goal starts a new timeframe."""
    if goal == CasePlanGoal.long_term_care:
        return None
    return add_months(goal_set_date, TWO_YEAR_MONTHS)


def two_year_status(deadline: date | None, today: date) -> TimeframeStatus:
    if deadline is None:
        return TimeframeStatus.not_applicable
    if today > deadline:
        return TimeframeStatus.exceeded
    if (deadline - today).days <= APPROACHING_DAYS:
        return TimeframeStatus.approaching
    return TimeframeStatus.within


@dataclass(frozen=True)
class PermanencyPosition:
    """Where a child stands on day `as_of` for their goal in force."""

    next_review_due: date
    review_status: ReviewStatus
    two_year_deadline: date | None
    two_year_status: TimeframeStatus
    days_to_deadline: int | None


def assess_goal(
    goal: str,
    goal_set_date: date,
    permanency_unlikely: bool,
    last_review_date: date | None,
    agency_kind: str,
    as_of: date,
) -> PermanencyPosition:
    due = next_review_due(goal, goal_set_date, permanency_unlikely, last_review_date)
    deadline = two_year_deadline(goal, goal_set_date)
    return PermanencyPosition(
        next_review_due=due,
        review_status=review_status(due, as_of, reviews_required(agency_kind)),
        two_year_deadline=deadline,
        two_year_status=two_year_status(deadline, as_of),
        days_to_deadline=(deadline - as_of).days if deadline else None,
    )


def earlier_goals(goal: str) -> list[str]:
    """The goals the placement principles prefer to `goal`."""
    rank = PREFERENCE_RANK[goal]
    return [g for g, r in PREFERENCE_RANK.items() if r < rank]


def goal_change_problems(
    *,
    goal: str,
    date_set: date,
    reason: str,
    aboriginal_status: str,
    cultural_consultation_dates: list[date],
    agency_kind: str,
    permanency_consultation_dates: list[date],
) -> dict[str, list[str]]:
    """Why a new case plan goal cannot be saved yet, by form field (empty when it can).

    - R4 (`000` § Case planning, s10A): a goal later in the order of preference says why the
      earlier ones are not practicable or not in the child's best interests.
    - R4 (`000` § Case planning, s10A(3)(e); `002` § Legal, cultural or specialist
      consultations): adoption for an Aboriginal or Torres Strait Islander child needs a
      recorded cultural consultation on or before the decision; a permanency consultation does
      not count.
    - R11 (`002` § Permanency Consultations): where an NGO holds primary case responsibility, a
      goal change needs a permanency consultation in the 90 days before it.
    """
    problems: dict[str, list[str]] = {}
    earlier = earlier_goals(goal)
    if earlier and not reason.strip():
        names = ", ".join(GOAL_LABELS[g].lower() for g in earlier)
        problems.setdefault("reason", []).append(
            f"Say why {names} {'is' if len(earlier) == 1 else 'are'} not practicable or not in "
            "the child's best interests (permanent placement principles, s10A)."
        )
    if (
        goal == CasePlanGoal.adoption
        and aboriginal_status in FIRST_NATIONS_STATUSES
        and not any(d <= date_set for d in cultural_consultation_dates)
    ):
        problems.setdefault("case_plan_goal", []).append(ADOPTION_CULTURAL_CONSULTATION_REASON)
    if agency_kind == "ngo" and not any(
        date_set - timedelta(days=CONSULTATION_WINDOW_DAYS) <= d <= date_set
        for d in permanency_consultation_dates
    ):
        problems.setdefault("case_plan_goal", []).append(
            "A non-government agency holds primary case responsibility: a goal change needs a "
            f"permanency consultation in the {CONSULTATION_WINDOW_DAYS} days before it. Record "
            "the consultation first (or request one from the permanency coordinator)."
        )
    return problems


RETENTION_CRITERIA = {
    "complex_needs": "has significantly complex needs",
    "high_risk": "is assessed as at high risk of immediate or serious harm",
    "collaboration": "case management requires high level collaboration from other government "
    "agencies that is unable to be achieved by non-government organisations",
}

TRANSFER_BASES = {
    "protection_action_complete": "Child protection action is complete and there is no court "
    "action",
    "final_orders_minister": "Final Children's Court orders allocating parental responsibility "
    "to the Minister",
    "final_restoration_orders": "Final Children's Court orders for restoration",
    "other_long_term_orders": "Other long-term orders, such as a supervision order",
}


def retention_problems(criteria: dict[str, bool]) -> dict[str, list[str]]:
    """R10 (`003` § OOHC): case management stays with the government agency only where the
    child satisfies all three criteria."""
    return {
        name: [f"Case management stays only if the child {text}."]
        for name, text in RETENTION_CRITERIA.items()
        if not criteria.get(name)
    }
