"""A temporary password is changed before anything else (issue 13). A user signed in with a
password an admin set (`users.must_change_password`, services/user_admin.py) is sent from every
page to /account/password, and every API call but sign-in and sign-out is answered 403 with
`code: password_change_required`, until they choose their own password
(services/accounts.py `change_password` clears the flag)."""

from __future__ import annotations

from flask import Flask, flash, jsonify, redirect, request, url_for
from flask_login import current_user

MESSAGE = "Choose a new password before you go on: the one you signed in with was temporary."
# What needs no password change: the change itself, signing out or in again, and the files every
# page loads (no user data in any of them).
ALLOWED_ENDPOINTS = frozenset(
    {
        "auth.change_password",
        "auth.logout",
        "auth.login",
        "static",
        "web.service_worker",
        "web.manifest",
    }
)


def init_app(app: Flask) -> None:
    @app.before_request
    def _password_change_first():
        if request.endpoint in ALLOWED_ENDPOINTS or request.path.startswith("/api/auth/"):
            return None
        if not (current_user.is_authenticated and current_user.must_change_password):
            return None
        if request.path.startswith("/api/"):
            return jsonify(error=MESSAGE, code="password_change_required"), 403
        flash(MESSAGE)
        return redirect(url_for("auth.change_password"))
