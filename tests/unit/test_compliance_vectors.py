"""The pure R1/R2 rules against the shared test vectors (the tablet runs the same file)."""

from __future__ import annotations

import pytest

from fieldapp.services.compliance import ContactFacts, assess_child

from ..vectors import VECTORS, case_ids, contacts_of, parse_date


@pytest.mark.parametrize("case", VECTORS, ids=case_ids())
def test_vector(case):
    child = case["child"]
    result = assess_child(
        parse_date(child["care_start_date"]),
        parse_date(child["care_end_date"]),
        [ContactFacts(**contact) for contact in contacts_of(case)],
        [
            (parse_date(v["arrival_date"]), parse_date(v["departure_date"]))
            for v in case["return_visits"]
        ],
        parse_date(case["as_of"]),
        case.get("due_soon_days", 7),
    )
    expected = case["expected"]
    assert result.in_care == expected["in_care"]
    if not expected["in_care"]:
        return
    assert result.last_contact_date == parse_date(expected["last_contact_date"])
    assert result.compliance.due_date == parse_date(expected["due_date"])
    assert result.compliance.status.value == expected["status"]
    assert result.compliance.days_overdue == expected["days_overdue"]
    assert [status.value for status in result.visit_statuses] == expected["visit_statuses"]


def test_vectors_cover_the_edges_the_policy_names():
    names = " ".join(case_ids())
    for edge in (
        "exactly 42 days",
        "care start date",
        "phone",
        "not seen",
        "third-party",
        "return visit with no contact",
        "care ended",
        "month end",
    ):
        assert edge in names, f"no vector for: {edge}"
