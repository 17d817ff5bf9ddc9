"""`/permanency`: every child of the coordinator's agency (a team leader's teams, a
practitioner's caseload) with goal, reviews and the two-year timeframe; its CSV and JSON."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("permanency_dashboard", __name__)
