"""The child page's Permanency section and the forms that record goals, reviews,
consultations, cultural consultations, transfers, retention, extensions and the Youth Justice
collaboration."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("permanency_child", __name__)
