"""fieldapp: an offline-capable field tool for child-protection practitioners."""

from __future__ import annotations

import gc
from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Application factory. `config` overrides the defaults (tests pass their database here)."""
    app = Flask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=True,
    )
    from .config import default_config

    given = config or {}
    app.config.from_mapping(
        default_config(
            app.instance_path,
            production=bool(given.get("FIELDAPP_PRODUCTION")),
            secret_key=given.get("SECRET_KEY"),
        )
    )
    if config:
        app.config.from_mapping(config)

    from . import extensions

    extensions.init_app(app)

    from . import auth, security, web
    from .auth import password_required

    security.init_app(app)
    auth.init_app(app)
    password_required.init_app(app)
    web.init_app(app)

    from .admin.views import bp as admin_bp
    from .api.views import bp as api_bp
    from .auth.views import bp as auth_bp
    from .caseload.views import bp as caseload_bp
    from .contacts.views import bp as contacts_bp
    from .permanency.child import bp as permanency_child_bp
    from .permanency.dashboard import bp as permanency_dashboard_bp
    from .permanency.report import bp as permanency_report_bp
    from .team.acknowledgements import bp as acknowledgements_bp
    from .team.compliance import bp as compliance_bp
    from .team.sync_issues import bp as sync_issues_bp
    from .team.views import bp as team_bp

    for blueprint in (
        auth_bp,
        api_bp,
        caseload_bp,
        contacts_bp,
        team_bp,
        compliance_bp,
        acknowledgements_bp,
        sync_issues_bp,
        permanency_dashboard_bp,
        permanency_child_bp,
        permanency_report_bp,
        admin_bp,
    ):
        app.register_blueprint(blueprint)

    from . import cli

    cli.init_app(app)
    if not app.testing:
        # Everything made so far (modules, the app, SQLAlchemy's mappers) lives as long as the
        # process: keep the garbage collector's full passes from walking it again and again
        # while requests run (docs/performance.md). Tests build many apps and skip this.
        gc.freeze()
    return app
