"""Configuration defaults. `create_app(config)` overrides any of these; the environment only
supplies secrets and the database address for a deployed instance."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULT_TIMEZONE = "Australia/Darwin"  # SPEC §3: the organisation's timezone


def default_config(instance_path: str) -> dict:
    sqlite_path = Path(instance_path) / "fieldapp.sqlite3"
    return {
        "SECRET_KEY": os.environ.get("FIELDAPP_SECRET_KEY") or _instance_secret(instance_path),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{sqlite_path}",
        "FIELDAPP_TIMEZONE": os.environ.get("FIELDAPP_TIMEZONE", DEFAULT_TIMEZONE),
        "FIELDAPP_DUE_SOON_DAYS": int(os.environ.get("FIELDAPP_DUE_SOON_DAYS", "7")),
        "LOGIN_MAX_FAILURES": 10,
        "LOGIN_LOCKOUT_MINUTES": 15,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": os.environ.get("FIELDAPP_INSECURE_COOKIES") != "1"
        and os.environ.get("FLASK_DEBUG") != "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 5 * 1024 * 1024,
    }


def _instance_secret(instance_path: str) -> str:
    """A per-instance secret kept in instance/, so a demo install needs no set-up and
    restarts keep sessions; production sets FIELDAPP_SECRET_KEY."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
