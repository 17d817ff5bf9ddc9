"""The quarterly minimum data set (`002` § Record keeping) and cohort reviews."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("permanency_report", __name__)
