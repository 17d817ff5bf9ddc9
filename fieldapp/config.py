"""Configuration defaults. `create_app(config)` overrides any of these; the environment only
supplies secrets and the database address for a deployed instance."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

DEFAULT_TIMEZONE = "Australia/Darwin"  # SPEC §3: the organisation's timezone


class ConfigError(RuntimeError):
    """The app cannot start safely with this configuration."""


def default_config(
    instance_path: str,
    *,
    production: bool = False,
    secret_key: str | None = None,
    environ: Mapping[str, str] = os.environ,
) -> dict:
    """Defaults, with what a deployment sets in its environment. In production (wsgi.py, under
    gunicorn) every app server must share one FIELDAPP_SECRET_KEY, so the app refuses to start
    without it rather than make a key of its own that the other servers would not know. A key
    given by the caller (create_app's config) counts as set."""
    sqlite_path = Path(instance_path) / "fieldapp.sqlite3"
    secret_key = secret_key or environ.get("FIELDAPP_SECRET_KEY")
    if production and not secret_key:
        raise ConfigError(
            "FIELDAPP_SECRET_KEY is not set. In production every app server must share one "
            "secret key: generate one with "
            "`python -c 'import secrets; print(secrets.token_hex(32))'` and set it in each "
            "server's environment."
        )
    return {
        "FIELDAPP_PRODUCTION": production,
        "SECRET_KEY": secret_key or _instance_secret(instance_path),
        "DATABASE_URL": environ.get("DATABASE_URL") or f"sqlite:///{sqlite_path}",
        "FIELDAPP_TIMEZONE": environ.get("FIELDAPP_TIMEZONE", DEFAULT_TIMEZONE),
        "FIELDAPP_DUE_SOON_DAYS": int(environ.get("FIELDAPP_DUE_SOON_DAYS", "7")),
        # `002` § Approving changes to case plan goals: the pilot where coordinators decide.
        "FIELDAPP_COORDINATORS_DECIDE_GOALS": environ.get("FIELDAPP_COORDINATORS_DECIDE_GOALS")
        == "1",
        # docs/deployment.md: /sw.js serves a worker that removes itself and the tablets' caches.
        "FIELDAPP_SW_KILL_SWITCH": environ.get("FIELDAPP_SW_KILL_SWITCH") == "1",
        "LOGIN_MAX_FAILURES": 10,
        "LOGIN_LOCKOUT_MINUTES": 15,
        # SPEC §7 per-address throttling: refused sign-ins (form and API together) an address
        # may make before it is answered 429 (`limits` notation). Above the lockout, so a
        # person locking their own account meets the lockout; it stops guessing across accounts.
        "FIELDAPP_SIGN_IN_RATE_LIMIT": environ.get(
            "FIELDAPP_SIGN_IN_RATE_LIMIT", "20 per minute; 100 per hour"
        ),
        # Where the counts live: this process's memory (the demo, one app server), or e.g.
        # `redis://host:6379/0`, shared by every app server and worker.
        "FIELDAPP_RATELIMIT_STORAGE_URI": environ.get(
            "FIELDAPP_RATELIMIT_STORAGE_URI", "memory://"
        ),
        # Reverse proxies in front of the app that append the client to X-Forwarded-For. 0: the
        # connecting address is the client's (read no header a client could forge).
        "FIELDAPP_TRUSTED_PROXIES": int(environ.get("FIELDAPP_TRUSTED_PROXIES", "0")),
        # SPEC §7: a session ends after this long without a request, and this long after
        # sign-in whatever it does. The tablet's syncs keep it alive only while it is unlocked.
        "FIELDAPP_SESSION_IDLE_MINUTES": int(environ.get("FIELDAPP_SESSION_IDLE_MINUTES", "30")),
        "FIELDAPP_SESSION_LIFETIME_HOURS": int(
            environ.get("FIELDAPP_SESSION_LIFETIME_HOURS", "12")
        ),
        "SESSION_COOKIE_HTTPONLY": True,
        # `__Host-`: the browser takes it only over HTTPS, for this host and path `/`, so a
        # sibling subdomain cannot plant or overwrite it.
        "SESSION_COOKIE_NAME": "__Host-session" if production else "session",
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Over plain HTTP only for the demo; never in production.
        "SESSION_COOKIE_SECURE": production
        or (environ.get("FIELDAPP_INSECURE_COOKIES") != "1" and environ.get("FLASK_DEBUG") != "1"),
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
