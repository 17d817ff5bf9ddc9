"""JSON endpoints for the tablet (SPEC §4). The sync endpoints arrive with the sync engine."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.before_request
def _json_only():
    if not current_user.is_authenticated:
        return jsonify(error="Sign in first."), 401
    if request.method == "POST" and not request.is_json:
        return jsonify(error="Send JSON (Content-Type: application/json)."), 415
    return None


@bp.get("/me")
def me():
    return jsonify(user={"id": current_user.id, "name": current_user.name, "role": current_user.role})
