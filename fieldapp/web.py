"""App-wide pages and handlers: the service worker, the manifest, error pages, template helpers."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, jsonify, render_template, request, send_file
from flask_wtf.csrf import CSRFError

SERVICE_WORKER = Path(__file__).resolve().parent.parent / "service_worker" / "sw.js"

bp = Blueprint("web", __name__)


@bp.get("/sw.js")
def service_worker():
    response = send_file(SERVICE_WORKER, mimetype="text/javascript", max_age=0)
    # The browser must revalidate the worker on every load so updates reach tablets.
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
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
        return _error(400, f"The form expired or was not sent from this app ({exc.description}). "
                           "Go back, reload the page and try again; your typing may need re-entering.")

    @app.errorhandler(413)
    def _too_large(_exc):
        return _error(413, "The upload is too large.")

    @app.template_filter("dmy")
    def _dmy(value):
        return value.strftime("%d/%m/%Y") if value else "—"

    @app.template_filter("label")
    def _label(value):
        return (value or "").replace("_", " ").capitalize() if value else "—"
