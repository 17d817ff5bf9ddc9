"""Sign-in: Flask-Login wired to server-side sessions."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, flash, g, jsonify, redirect, request, url_for

from ..extensions import db, login_manager
from ..services.accounts import SessionPolicy, load_session_user


def session_policy() -> SessionPolicy:
    return SessionPolicy(
        idle=timedelta(minutes=current_app.config["FIELDAPP_SESSION_IDLE_MINUTES"]),
        lifetime=timedelta(hours=current_app.config["FIELDAPP_SESSION_LIFETIME_HOURS"]),
    )


def init_app(app: Flask) -> None:
    @login_manager.unauthorized_handler
    def _unauthorized():
        # JSON clients get a status they can act on; browsers go to the sign-in page.
        if request.path.startswith("/api/"):
            return jsonify(error="Sign in first."), 401
        if g.get("session_expired"):
            flash("Your session ended. Sign in again to continue.")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))

    @login_manager.user_loader
    def _load_user(session_id: str):
        check = load_session_user(db.session, session_id, session_policy())
        if check.wrote:
            # Its own short transaction: the touch or the expiry holds even if the request
            # writes nothing else (and, on SQLite, the write lock is not kept meanwhile).
            db.session.commit()
        if check.user is None:
            g.session_expired = True
        return check.user
