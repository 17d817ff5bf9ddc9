"""App-wide pages and handlers: the service worker, the manifest, error pages, template helpers."""

from __future__ import annotations

import hashlib
import json
import uuid
from functools import lru_cache
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
    send_file,
)
from flask_wtf.csrf import CSRFError

from .services import record_fields

ROOT = Path(__file__).resolve().parent.parent
SERVICE_WORKER = ROOT / "service_worker" / "sw.js"
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
    response = Response(
        _service_worker_source(current_app.config["FIELDAPP_TIMEZONE"]), mimetype="text/javascript"
    )
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
    def _method(_exc):
        return _error(405, "That action is not allowed here.")

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        if _wants_json():
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

    @app.template_filter("dmy")
    def _dmy(value):
        return value.strftime("%d/%m/%Y") if value else "—"

    @app.template_filter("label")
    def _label(value):
        return (value or "").replace("_", " ").capitalize() if value else "—"
