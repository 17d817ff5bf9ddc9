"""Sign-in: Flask-Login wired to server-side sessions."""

from __future__ import annotations

from flask import Flask, jsonify, redirect, request, url_for

from ..extensions import db, login_manager
from ..services.accounts import load_session_user


def init_app(app: Flask) -> None:
    @login_manager.unauthorized_handler
    def _unauthorized():
        # JSON clients get a status they can act on; browsers go to the sign-in page.
        if request.path.startswith("/api/"):
            return jsonify(error="Sign in first."), 401
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @login_manager.user_loader
    def _load_user(session_id: str):
        return load_session_user(db.session, session_id)
