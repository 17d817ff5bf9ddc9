"""The tablet's R1/R2 rules (static/js/tablet/compliance.js) in real headless Chromium against
the shared vectors (tests/vectors/compliance.json) and against the Python rules
(fieldapp/services/compliance.py), under browser timezones far east and west of UTC and across
DST changes, so that no day can shift on a device."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from fieldapp.services.compliance import ContactFacts, assess_child

from ..vectors import CONTACT_DEFAULTS, VECTORS, parse_date
from .conftest import TABLET, TIMEZONE, ConsoleLog

pytestmark = pytest.mark.browser

MODULE = "/static/js/tablet/compliance.js"
# The app's own zone, UTC+14, UTC-11, and a zone with DST (changes 2026-03-08 and 2026-11-01).
TIMEZONES = [TIMEZONE, "Pacific/Kiritimati", "Pacific/Pago_Pago", "America/Los_Angeles"]

# Runs every input through assessChild; due_soon_days is left out (not null) when a case has
# none, so the JS default of 7 is exercised too.
ASSESS_ALL = """async ({module, cases}) => {
    const { assessChild } = await import(module);
    return cases.map((c) => {
        try {
            const args = [c.child, c.contacts, c.return_visits, c.as_of];
            if (c.due_soon_days !== undefined) args.push(c.due_soon_days);
            return assessChild(...args);
        } catch (error) {
            return { error: String(error) };
        }
    });
}"""


@pytest.fixture(params=TIMEZONES)
def zoned_page(request, browser, live_server):
    """A page of the running app (the sign-in page: same origin, so the CSP allows the import)
    in a browser context whose clock runs in a far timezone."""
    context = browser.new_context(
        base_url=live_server, viewport=TABLET, locale="en-AU", timezone_id=request.param
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.console_log = ConsoleLog(page)
    page.goto("/login")
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == request.param
    yield page
    assert page.console_log.errors == []
    assert page.console_log.csp_violations() == []
    context.close()


def js_input(case: dict) -> dict:
    """A vector as the tablet holds it: ISO date strings, SPEC §4 field names, and the same
    contact defaults the Python tests apply."""
    given = {
        "as_of": case["as_of"],
        "child": {key: case["child"][key] for key in ("care_start_date", "care_end_date")},
        "contacts": [CONTACT_DEFAULTS | contact for contact in case["contacts"]],
        "return_visits": case["return_visits"],
    }
    if "due_soon_days" in case:
        given["due_soon_days"] = case["due_soon_days"]
    return given


def js_outcome(result: dict) -> dict:
    if "error" in result:
        return result
    return {
        "in_care": result["inCare"],
        "last_contact_date": result["lastContactDate"],
        "due_date": result["dueDate"],
        "status": result["status"],
        "days_overdue": result["daysOverdue"],
        "visit_statuses": result["visitStatuses"],
    }


def python_outcome(case: dict) -> dict:
    """Python's assess_child on the same input, in the same shape (None where not in care)."""
    child = case["child"]
    result = assess_child(
        parse_date(child["care_start_date"]),
        parse_date(child["care_end_date"]),
        [
            ContactFacts(**(contact | {"contact_date": parse_date(contact["contact_date"])}))
            for contact in case["contacts"]
        ],
        [
            (parse_date(v["arrival_date"]), parse_date(v["departure_date"]))
            for v in case["return_visits"]
        ],
        parse_date(case["as_of"]),
        case.get("due_soon_days", 7),
    )
    compliance = result.compliance
    return {
        "in_care": result.in_care,
        "last_contact_date": result.last_contact_date and result.last_contact_date.isoformat(),
        "due_date": compliance and compliance.due_date.isoformat(),
        "status": compliance and compliance.status.value,
        "days_overdue": compliance and compliance.days_overdue,
        "visit_statuses": [status.value for status in result.visit_statuses],
    }


def run_js(page, inputs: list[dict]) -> list[dict]:
    return [
        js_outcome(result)
        for result in page.evaluate(ASSESS_ALL, {"module": MODULE, "cases": inputs})
    ]


def test_every_vector_gives_the_expected_result(zoned_page):
    results = run_js(zoned_page, [js_input(case) for case in VECTORS])
    assert len(results) == len(VECTORS)
    mismatches = []
    for case, got in zip(VECTORS, results, strict=True):
        expected = case["expected"]
        fields = expected.keys() if expected["in_care"] else ["in_care"]
        for field in fields:
            if got.get(field) != expected[field]:
                mismatches.append(
                    f"{case['name']!r}: {field} expected {expected[field]!r}, "
                    f"got {got.get(field, got)!r}"
                )
        if not expected["in_care"] and got.get("in_care") is False:
            rest = {k: v for k, v in got.items() if k != "in_care"}
            if rest != {
                "last_contact_date": None,
                "due_date": None,
                "status": None,
                "days_overdue": None,
                "visit_statuses": [],
            }:
                mismatches.append(
                    f"{case['name']!r}: a child not in care should carry no figures, got {rest!r}"
                )
    assert mismatches == [], "\n".join(mismatches)


# Names and roles that are blank or not to Python's str.strip(), where JS's trim() differs
# (\x1c and \x85 are whitespace to Python only; \ufeff to JS only; \u200b to neither).
THIRD_PARTY_TEXT = [
    "Pat Daly",
    "  Sam  ",
    "",
    " ",
    "\t\n",
    "\x1c",
    "\x85",
    "\u3000",
    "\ufeff",
    "\u200b",
    None,
]


def random_case(rng: random.Random) -> dict:
    """A child history around the edges the rules care about: leap day 2024, 2028, DST changes,
    care start and end, contacts after `as_of`, return-visit bounds."""

    def iso(day: date) -> str:
        return day.isoformat()

    start = date(2023, 12, 1) + timedelta(days=rng.randint(0, 1700))
    end = None if rng.random() < 0.6 else start + timedelta(days=rng.randint(0, 300))
    on = start + timedelta(days=rng.randint(-10, 400))
    contacts = []
    for _ in range(rng.randint(0, 5)):
        contacts.append(
            CONTACT_DEFAULTS
            | {
                "contact_date": None
                if rng.random() < 0.05
                else iso(start + timedelta(days=rng.randint(-5, 400))),
                "status": rng.choice(["submitted"] * 4 + ["draft"]),
                "mode": rng.choice(["face_to_face"] * 4 + ["video", "phone"]),
                "child_seen": rng.random() < 0.85,
                "made_by": rng.choice(["practitioner", "practitioner", "third_party"]),
                "third_party_name": rng.choice(THIRD_PARTY_TEXT),
                "third_party_role": rng.choice(THIRD_PARTY_TEXT),
            }
        )
    visits = []
    for _ in range(rng.randint(0, 3)):
        arrival = start + timedelta(days=rng.randint(0, 400))
        visits.append(
            {
                "arrival_date": iso(arrival),
                "departure_date": iso(arrival + timedelta(days=rng.randint(0, 14))),
            }
        )
    case = {
        "as_of": iso(on),
        "child": {"care_start_date": iso(start), "care_end_date": end and iso(end)},
        "contacts": contacts,
        "return_visits": visits,
    }
    if rng.random() < 0.5:
        case["due_soon_days"] = rng.choice([0, 1, 7, 14, 30])
    return case


def test_the_javascript_agrees_with_the_python_rules(zoned_page):
    """Beyond the hand-worked vectors: 500 seeded random histories, JS against Python."""
    rng = random.Random(20260221)
    cases = [random_case(rng) for _ in range(500)] + [js_input(case) for case in VECTORS]
    results = run_js(zoned_page, cases)
    mismatches = [
        f"case {index}: python {python_outcome(case)!r}, javascript {got!r}\n  input {case!r}"
        for index, (case, got) in enumerate(zip(cases, results, strict=True))
        if got != python_outcome(case)
    ]
    assert len(results) == len(cases)
    assert mismatches == [], f"{len(mismatches)} of {len(cases)} differ:\n" + "\n".join(
        mismatches[:20]
    )
    assert sum(python_outcome(case)["in_care"] for case in cases) > 200  # the sample exercises R1


def test_the_building_blocks(zoned_page):
    """The smaller exports, at month, year and leap-day boundaries and across DST."""
    got = zoned_page.evaluate(
        """async (module) => {
        const m = await import(module);
        return {
            due: [m.dueDate(null, "2024-01-18"), m.dueDate("2026-02-20", "2025-01-01"),
                  m.dueDate("2026-10-25", "2026-01-01"), m.dueDate("2027-12-31", "2027-01-01")],
            compliance: [m.complianceOn("2026-03-10", "2026-03-03"),
                         m.complianceOn("2026-03-10", "2026-03-02"),
                         m.complianceOn("2026-03-10", "2026-11-02"),
                         m.complianceOn("2026-03-10", "2026-03-09", 0)],
            inCare: [m.inCareOn("2026-03-08", null, "2026-03-08"),
                     m.inCareOn("2026-03-08", "2026-03-09", "2026-03-08"),
                     m.inCareOn("2026-03-08", "2026-03-08", "2026-03-08"),
                     m.inCareOn("2026-03-09", undefined, "2026-03-08")],
            visits: [
                m.returnVisitStatus("2026-03-07", "2026-03-09", ["2026-03-09"], "2026-03-09"),
                m.returnVisitStatus("2026-03-07", "2026-03-09", ["2026-03-09"], "2026-03-08"),
                m.returnVisitStatus("2026-03-07", "2026-03-09", ["2026-03-10"], "2026-03-10"),
            ],
            qualifying: [
                m.isQualifyingContact({status: "submitted", mode: "face_to_face",
                                       child_seen: true, made_by: "practitioner",
                                       contact_date: "2026-03-08"}),
                m.isQualifyingContact({status: "submitted", mode: "face_to_face",
                                       child_seen: true, made_by: "third_party",
                                       third_party_name: "Pat", third_party_role: " ",
                                       contact_date: "2026-03-08"}),
            ],
            badDate: (() => { try { m.dueDate("2026-02-30", "2026-01-01"); return "accepted"; }
                              catch (error) { return error.name; } })(),
        };
    }""",
        MODULE,
    )
    assert got == {
        "due": ["2024-02-29", "2026-04-03", "2026-12-06", "2028-02-11"],
        "compliance": [
            {"dueDate": "2026-03-10", "status": "due_soon", "daysOverdue": 0},
            {"dueDate": "2026-03-10", "status": "on_track", "daysOverdue": 0},
            {"dueDate": "2026-03-10", "status": "overdue", "daysOverdue": 237},
            {"dueDate": "2026-03-10", "status": "on_track", "daysOverdue": 0},
        ],
        "inCare": [True, True, False, False],
        "visits": ["met", "pending", "missed"],
        "qualifying": [True, False],
        "badDate": "RangeError",  # as Python's date.fromisoformat refuses it
    }
