"""Shared test vectors: see compliance.json."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

VECTORS = json.loads((Path(__file__).parent / "compliance.json").read_text())["cases"]

CONTACT_DEFAULTS = {
    "status": "submitted",
    "mode": "face_to_face",
    "child_seen": True,
    "made_by": "practitioner",
    "third_party_name": None,
    "third_party_role": None,
}


def parse_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def contacts_of(case: dict) -> list[dict]:
    return [
        CONTACT_DEFAULTS | contact | {"contact_date": parse_date(contact["contact_date"])}
        for contact in case["contacts"]
    ]


def case_ids() -> list[str]:
    return [case["name"] for case in VECTORS]


PERMANENCY = json.loads((Path(__file__).parent / "permanency.json").read_text())


CONTACT_VALIDATION = json.loads((Path(__file__).parent / "contact_validation.json").read_text())


def contact_validation_record(case: dict) -> dict:
    """A contact_validation case's contact as the tablet holds it and push sends it (SPEC §4)."""
    return CONTACT_VALIDATION["base"] | case["changes"]
