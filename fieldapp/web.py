"""App-wide pages and handlers: the service worker, the manifest, error pages, template helpers."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date
from functools import lru_cache
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
    send_file,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from .api.views import not_signed_in
from .extensions import retry_after_seconds
from .services import record_fields
from .services.clock import local_time

ROOT = Path(__file__).resolve().parent.parent
SERVICE_WORKER = ROOT / "service_worker" / "sw.js"
KILL_SWITCH = ROOT / "service_worker" / "kill_switch.js"
# The app shell: everything the tablet needs to start with no network. No case data.
SHELL_FILES = [
    "static/css/app.css",
    "static/manifest.webmanifest",
    "static/icons/icon.svg",
    "static/icons/icon-192.png",
    "static/icons/icon-512.png",
    *sorted(f"static/js/tablet/{p.name}" for p in (ROOT / "static/js/tablet").glob("*.js")),
]
# The tablet's record fields, built by the server from services/record_fields.py.
FIELDS_MODULE = "/tablet/fields.js"
SHELL_URLS = [
    "/tablet",
    "/manifest.webmanifest",
    FIELDS_MODULE,
    *[f"/{name}" for name in SHELL_FILES if not name.endswith("webmanifest")],
]

bp = Blueprint("web", __name__)


@lru_cache(maxsize=4)
def _service_worker_source(timezone: str) -> str:
    """The worker with the shell's version (a hash of the shell files, the shell page and the
    organisation's timezone the page carries), so any change to the shell installs a new
    worker and a new cache."""
    digest = hashlib.sha256(timezone.encode())
    for name in [*SHELL_FILES, "templates/tablet.html", "service_worker/sw.js"]:
        digest.update((ROOT / name).read_bytes())
    digest.update(record_fields.tablet_module().encode())
    return (
        SERVICE_WORKER.read_text()
        .replace("__SHELL_VERSION__", digest.hexdigest()[:16])
        .replace("__SHELL_URLS__", json.dumps(SHELL_URLS))
    )


@bp.get("/sw.js")
def service_worker():
    # FIELDAPP_SW_KILL_SWITCH: a worker that deletes every cache and unregisters itself, for a
    # shell that broke on the tablets (docs/deployment.md).
    source = (
        KILL_SWITCH.read_text()
        if current_app.config.get("FIELDAPP_SW_KILL_SWITCH")
        else _service_worker_source(current_app.config["FIELDAPP_TIMEZONE"])
    )
    response = Response(source, mimetype="text/javascript")
    # The browser must revalidate the worker on every load so updates reach tablets.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get(FIELDS_MODULE)
def tablet_fields():
    """The record fields for the tablet as an ES module (static/js/tablet/choices.js re-exports
    it): the server's own definition, never a copy. Part of the shell (no case data), so its
    change changes the shell's version."""
    response = Response(record_fields.tablet_module(), mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/tablet")
@bp.get("/tablet/<path:_client_route>")
def tablet_shell(_client_route: str | None = None):
    return app_shell()


def app_shell() -> Response:
    """The offline app's shell, which routes on the client from the address. It holds no case
    data (that lives encrypted in IndexedDB), so the service worker may cache it. It answers
    `/tablet/...` for everyone, and a practitioner's own addresses (`/`, `/children/<id>`,
    `/contacts/<id>`, the new-record forms): practitioners have one app, online or offline."""
    response = Response(render_template("tablet.html"))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    response = send_file(
        ROOT / "static" / "manifest.webmanifest", mimetype="application/manifest+json", max_age=0
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _error(status: int, message: str):
    if _wants_json():
        return jsonify(error=message), status
    return render_template("error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.errorhandler(404)
    def _not_found(_exc):
        return _error(404, "Not found.")

    @app.errorhandler(405)
    def _method(exc):
        # RFC 9110: a 405 lists the methods the address takes.
        response = make_response(_error(405, "That action is not allowed here."))
        if getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        if _wants_json():
            if not current_user.is_authenticated:
                # Without a session the check guards nothing: the request is answered as any
                # API request without one (401 "Sign in first.", or 410 for a revoked tablet).
                return not_signed_in()
            # A code the tablet acts on: it asks to sign in again and keeps the work.
            return jsonify(error=f"CSRF check failed ({exc.description}).", code="csrf_failed"), 400
        return _error(
            400,
            f"The form expired or was not sent from this app ({exc.description}). "
            "Go back, reload the page and try again; your typing may need re-entering.",
        )

    @app.errorhandler(500)
    def _server_error(exc):
        # A reference the user can quote and the log line carries, so a report finds its cause.
        reference = uuid.uuid4().hex[:12]
        app.logger.error(
            "request %s: %s %s failed",
            reference,
            request.method,
            request.path,
            exc_info=getattr(exc, "original_exception", None) or exc,
        )
        message = (
            f"Something went wrong on the server (reference {reference}), and what was being "
            "saved was not saved. Go back and try again; if it happens again, tell your "
            "administrator the reference."
        )
        if _wants_json():
            return jsonify(error=message, request_id=reference), 500
        return render_template("error.html", status=500, message=message), 500

    @app.errorhandler(413)
    def _too_large(_exc):
        return _error(413, "The upload is too large.")

    @app.errorhandler(429)
    def _too_many_requests(exc):
        # A limit (extensions.limiter) refused the request: say when to try again, in words and
        # in Retry-After, for people and for the tablet alike.
        wait = retry_after_seconds()
        minutes = -(-wait // 60)
        when = "a minute" if minutes == 1 else f"{minutes} minutes"
        response = make_response(_error(429, f"{exc.description} Try again in {when}."))
        response.headers["Retry-After"] = str(wait)
        return response

    @app.template_filter("dmy")
    def _dmy(value):
        if isinstance(value, str):  # an ISO date kept as text (a record held for review)
            try:
                value = date.fromisoformat(value)
            except ValueError:
                return value
        return value.strftime("%d/%m/%Y") if value else "—"

    @app.template_filter("dmy_hm")
    def _dmy_hm(value):
        """A moment as people here read it: dd/mm/yyyy HH:MM in the organisation's timezone
        (SPEC §3), never UTC."""
        if not value:
            return "—"
        return local_time(value, app.config["FIELDAPP_TIMEZONE"]).strftime("%d/%m/%Y %H:%M")

    @app.template_filter("label")
    def _label(value):
        return (value or "").replace("_", " ").capitalize() if value else "—"
