"""The permanency dashboard computes its statuses and its order in SQL by comparing anchor dates
with dates computed once in Python (`permanency_report.Cutoffs`, `_month_day`). These
properties hold those comparisons to the pure R3 rules of `permanency.py`, month ends
included (31 August + 6 months = 28 or 29 February)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from fieldapp.services import permanency as rules
from fieldapp.services.permanency_report import (
    INTERVALS,
    Cutoffs,
    first_anchor_reaching,
)


@st.composite
def month_end_dates(draw):
    """Days 28 to 31 of a month, where month-end clamping happens."""
    year = draw(st.integers(2000, 2040))
    month = draw(st.integers(1, 12))
    last = calendar.monthrange(year, month)[1]
    return date(year, month, draw(st.integers(min(28, last), last)))


DATES = st.one_of(st.dates(date(2000, 1, 1), date(2040, 12, 31)), month_end_dates())
MONTHS = st.sampled_from([*INTERVALS, rules.TWO_YEAR_MONTHS])
GOALS = st.sampled_from(list(rules.REVIEW_INTERVAL_MONTHS))


@given(anchor=DATES, months=MONTHS, target=DATES)
@example(anchor=date(2025, 8, 31), months=6, target=date(2026, 2, 28))
@example(anchor=date(2025, 8, 27), months=6, target=date(2026, 2, 28))
@example(anchor=date(2026, 2, 28), months=1, target=date(2026, 3, 31))
@example(anchor=date(2026, 3, 1), months=1, target=date(2026, 3, 31))
@example(anchor=date(2024, 2, 29), months=24, target=date(2026, 2, 28))
@example(anchor=date(2024, 2, 28), months=24, target=date(2026, 3, 1))
def test_anchor_before_cutoff_is_due_date_before_target(anchor, months, target):
    cutoff = first_anchor_reaching(months, target)
    assert (rules.add_months(anchor, months) < target) == (anchor < cutoff)


@given(months=MONTHS, target=DATES)
def test_cutoff_is_the_earliest_anchor_reaching_the_target(months, target):
    cutoff = first_anchor_reaching(months, target)
    assert rules.add_months(cutoff, months) >= target
    assert rules.add_months(cutoff - timedelta(days=1), months) < target


@given(
    goal=GOALS,
    unlikely=st.booleans(),
    date_set=DATES,
    reviewed_after=st.one_of(st.none(), st.integers(0, 2000)),
    agency_kind=st.sampled_from(["ngo", "government"]),
    as_of_after=st.integers(0, 2500),
)
@example(
    goal="restoration",
    unlikely=False,
    date_set=date(2024, 2, 29),
    reviewed_after=184,  # 31 August 2024: due 28 February 2025
    agency_kind="ngo",
    as_of_after=365,  # 28 February 2025: due today, not overdue
)
def test_cutoff_statuses_equal_the_rules(
    goal, unlikely, date_set, reviewed_after, agency_kind, as_of_after
):
    """The SQL's comparisons (mirrored by `Cutoffs.review_status` / `two_year_status`) give
    `assess_goal`'s statuses. The last review the query reads lies between the set date and
    `as_of`."""
    as_of = date_set + timedelta(days=as_of_after)
    last_review = None
    if reviewed_after is not None and reviewed_after <= as_of_after:
        last_review = date_set + timedelta(days=reviewed_after)
    expected = rules.assess_goal(goal, date_set, unlikely, last_review, agency_kind, as_of)
    cutoffs = Cutoffs.on(as_of)
    months = rules.review_interval_months(goal, unlikely)
    anchor = last_review or date_set
    required = rules.reviews_required(agency_kind)
    assert cutoffs.review_status(months, anchor, required) == expected.review_status.value
    assert cutoffs.two_year_status(goal, date_set) == expected.two_year_status.value


@pytest.mark.parametrize(
    "as_of", [date(2026, 2, 28), date(2028, 2, 29), date(2026, 3, 31), date(2026, 12, 31)]
)
def test_every_anchor_near_month_ends(as_of):
    """Exhaustively, every anchor in the two and a half years before a month-end `as_of`."""
    cutoffs = Cutoffs.on(as_of)
    for goal, (usual, intensified) in rules.REVIEW_INTERVAL_MONTHS.items():
        for unlikely, months in ((False, usual), (True, intensified)):
            for back in range(0, 920):
                anchor = as_of - timedelta(days=back)
                expected = rules.assess_goal(goal, anchor, unlikely, None, "ngo", as_of)
                assert cutoffs.review_status(months, anchor, True) == expected.review_status
                assert cutoffs.two_year_status(goal, anchor) == expected.two_year_status


def _sql_key(anchor: date, months: int) -> tuple[int, int]:
    """`permanency_report._month_day`: (month number of anchor + months, day of anchor)."""
    return anchor.year * 12 + anchor.month + months, anchor.day


def _python_key(anchor: date, months: int) -> tuple[date, int]:
    """`permanency_report.urgency`: (due date, day of the anchor)."""
    return rules.add_months(anchor, months), anchor.day


@given(a=DATES, m=MONTHS, b=DATES, n=MONTHS)
@example(a=date(2025, 8, 31), m=6, b=date(2026, 1, 31), n=1)
@example(a=date(2025, 8, 29), m=6, b=date(2025, 8, 31), n=6)
def test_the_sql_sort_key_orders_as_urgency_does(a, m, b, n):
    def sign(x, y):
        return (x > y) - (x < y)

    assert sign(_sql_key(a, m), _sql_key(b, n)) == sign(_python_key(a, m), _python_key(b, n))
