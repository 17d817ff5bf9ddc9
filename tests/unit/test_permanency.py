"""The permanency rules (R3, R4, R10, R11) against the shared vectors and their edges."""

from __future__ import annotations

from datetime import date

import pytest

from fieldapp.models.child import CasePlanGoal
from fieldapp.services import permanency as rules

from ..vectors import PERMANENCY, parse_date

SCHEDULE = PERMANENCY["schedule"]
GOAL_CHANGE = PERMANENCY["goal_change"]


@pytest.mark.parametrize("case", SCHEDULE, ids=[case["name"] for case in SCHEDULE])
def test_schedule_vector(case):
    position = rules.assess_goal(
        case["goal"],
        parse_date(case["goal_set_date"]),
        case["permanency_unlikely"],
        parse_date(case["last_review_date"]),
        case["agency_kind"],
        parse_date(case["as_of"]),
    )
    expected = case["expected"]
    assert position.next_review_due == parse_date(expected["next_review_due"])
    assert position.review_status == expected["review_status"]
    assert position.two_year_deadline == parse_date(expected["two_year_deadline"])
    assert position.two_year_status == expected["two_year_status"]
    assert position.days_to_deadline == expected["days_to_deadline"]


@pytest.mark.parametrize("case", GOAL_CHANGE, ids=[case["name"] for case in GOAL_CHANGE])
def test_goal_change_vector(case):
    problems = rules.goal_change_problems(
        goal=case["goal"],
        date_set=parse_date(case["date_set"]),
        reason=case["reason"],
        aboriginal_status=case["aboriginal_status"],
        cultural_consultation_dates=[parse_date(d) for d in case["cultural_consultation_dates"]],
        agency_kind=case["agency_kind"],
        permanency_consultation_dates=[
            parse_date(d) for d in case["permanency_consultation_dates"]
        ],
    )
    assert sorted(problems) == case["expected_fields"]
    assert all(messages for messages in problems.values())


@pytest.mark.parametrize(
    ("goal", "usual", "unlikely"),
    [
        ("family_preservation", 3, 1),
        ("restoration", 6, 3),
        ("guardianship", 6, 3),
        ("adoption", 6, 3),
        ("long_term_care", 12, 12),
    ],
)
def test_every_goal_has_the_policy_interval(goal, usual, unlikely):
    assert rules.review_interval_months(goal, False) == usual
    assert rules.review_interval_months(goal, True) == unlikely


def test_every_goal_has_an_interval_a_rank_and_a_label():
    for goal in CasePlanGoal:
        assert goal in rules.REVIEW_INTERVAL_MONTHS
        assert goal in rules.PREFERENCE_RANK
        assert goal in rules.GOAL_LABELS


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2025-08-31", 6, "2026-02-28"),
        ("2027-08-31", 6, "2028-02-29"),
        ("2026-01-31", 1, "2026-02-28"),
        ("2026-03-31", 1, "2026-04-30"),
        ("2026-11-15", 3, "2027-02-15"),
        ("2026-12-31", 12, "2027-12-31"),
        ("2024-02-29", 24, "2026-02-28"),
    ],
)
def test_add_months_clamps_to_the_end_of_the_target_month(start, months, expected):
    assert rules.add_months(date.fromisoformat(start), months) == date.fromisoformat(expected)


def test_the_vectors_cover_the_edges_the_issue_names():
    names = " ".join(case["name"] for case in SCHEDULE + GOAL_CHANGE)
    for edge in (
        "31 August",
        "90 days left is approaching",
        "91 days left is within",
        "exceeded",
        "no two-year timeframe",
        "not required",
        "Aboriginal child",
        "Torres Strait Islander",
        "both",
        "NGO goal change",
        "permanency consultation is not a cultural consultation",
    ):
        assert edge in names, edge


def test_a_new_goal_starts_a_new_timeframe():
    old = rules.two_year_deadline("guardianship", date(2023, 6, 15))
    new = rules.two_year_deadline("adoption", date(2026, 11, 1))
    assert old == date(2025, 6, 15)
    assert new == date(2028, 11, 1)
    assert rules.two_year_status(new, date(2026, 12, 1)) == "within"


def test_retention_needs_all_three_criteria():
    everything = {"complex_needs": True, "high_risk": True, "collaboration": True}
    assert rules.retention_problems(everything) == {}
    for missing in everything:
        problems = rules.retention_problems(everything | {missing: False})
        assert list(problems) == [missing]
