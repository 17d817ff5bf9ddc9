"""Sign-in: Flask-Login wired to server-side sessions."""
from __future__ import annotations

from flask import Flask

from ..extensions import db, login_manager
from ..services.accounts import load_session_user


def init_app(app: Flask) -> None:
    @login_manager.user_loader
    def _load_user(session_id: str):
        return load_session_user(db.session, session_id)
