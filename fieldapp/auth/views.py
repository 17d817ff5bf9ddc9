"""Sign-in pages and the JSON sign-in endpoints of SPEC §4."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as flask_session
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from ..access import audit, client_ip, session, signed_in_user
from ..api import bodies
from ..extensions import csrf, limiter
from ..services import accounts, passwords
from ..services.errors import ValidationError
from ..services.text import storable
from .forms import LoginForm, PasswordChangeForm

bp = Blueprint("auth", __name__)

GENERIC_LOGIN_ERROR = "Email or password is incorrect, or the account is locked. Try again later."


def _policy() -> accounts.LockoutPolicy:
    return accounts.LockoutPolicy(
        max_failures=current_app.config["LOGIN_MAX_FAILURES"],
        lockout=timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]),
    )


def _sign_in(email: str, password: str):
    """Authenticates and starts a server-side session; commits either way so failed attempts
    count towards the lockout."""
    db_session = session()
    if (
        not (storable(email) and storable(password))
        or len(email) > 254
        or len(password) > 4 * passwords.MAX_LENGTH
    ):
        # No account can have such an email or password; answer like any wrong credentials,
        # without hashing megabytes first.
        audit("login", "user", None, outcome="failed", detail={"email": "(unreadable)"})
        db_session.commit()
        return None
    check = accounts.check_sign_in(db_session, email, password, _policy(), ip=client_ip())
    user = check.user
    if user is None:
        # What was typed is kept only if it is an email address: it may be a password.
        detail = accounts.sign_in_name_for_audit(email, current_app.config["SECRET_KEY"])
        if check.account_locked:
            detail["account_locked"] = True
        audit("login", "user", None, outcome="failed", detail=detail)
        db_session.commit()
        return None
    if current_user.is_authenticated:
        # A sign-in over a live session (another tab, another user) ends that session first.
        accounts.end_session(db_session, current_user.current_session_id)
    user_session = accounts.start_session(db_session, user)
    user.current_session_id = user_session.id
    # A new CSRF secret for the signed-in session: a token read before sign-in (by a page an
    # attacker prepared, or on a shared tablet) must not work after it (ASVS 3.2.1).
    flask_session.pop("csrf_token", None)
    g.pop("csrf_token", None)
    login_user(user)
    audit("login", "user", user.id)
    db_session.commit()
    return user


def _safe_next(target: str | None) -> str:
    """Only a path on this site. Browsers read a backslash as a slash (`/\\evil.example` is
    another host) and drop control characters, so neither may appear; nor may dot segments,
    which a browser resolves (`/.//evil.example` becomes `//evil.example`)."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ord(character) < 32 or ord(character) == 127 for character in target)
        and not any(segment in (".", "..") for segment in target.split("?")[0].split("/"))
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("caseload.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("caseload.index"))
    form = LoginForm()
    error = None
    next_page = _safe_next(request.args.get("next"))
    if form.validate_on_submit():
        if _sign_in(form.email.data, form.password.data):
            return redirect(next_page)
        error = GENERIC_LOGIN_ERROR
    status = 401 if error else 200
    return render_template("auth/login.html", form=form, error=error, next=next_page), status


@bp.post("/logout")
@login_required
def logout():
    accounts.end_session(session(), current_user.current_session_id)
    audit("logout", "user", current_user.id)
    session().commit()
    logout_user()
    flash("You have signed out.")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    errors: dict[str, list[str]] = {}
    if form.validate_on_submit():
        db_session = session()
        if (
            accounts.authenticate(
                db_session, current_user.email, form.current_password.data, _policy()
            )
            is None
        ):
            db_session.commit()
            errors["current_password"] = ["The current password is incorrect."]
        else:
            try:
                accounts.change_password(db_session, current_user, form.new_password.data)
            except ValidationError as exc:
                errors = {"new_password": exc.errors["password"]}
            else:
                audit("password_change", "user", current_user.id)
                db_session.commit()
                logout_user()
                flash("Password changed. Sign in with your new password.")
                return redirect(url_for("auth.login"))
    return render_template("auth/password.html", form=form, errors=errors), (400 if errors else 200)


# JSON endpoints (SPEC §4). Login needs no CSRF token but accepts only application/json, which a
# cross-site form cannot send.
@bp.post("/api/auth/login")
@csrf.exempt
def api_login():
    if not request.is_json:
        return jsonify(error="Send JSON (Content-Type: application/json)."), 415
    body = bodies.read(bodies.LOGIN)  # 400 if not an object, 422 naming an unknown field
    email, password = body.get("email"), body.get("password")
    missing = [
        name
        for name, value in (("email", email), ("password", password))
        if not isinstance(value, str) or not value
    ]
    if missing:
        return jsonify(error=f"Missing or empty field: {', '.join(missing)}.", fields=missing), 400
    user = _sign_in(email, password)
    if user is None:
        return jsonify(error="Invalid credentials."), 401
    return jsonify(user=signed_in_user(user), csrf_token=generate_csrf())


# SPEC §7 per-address throttling of the two sign-ins above (after them: it wraps their views).
SIGN_IN_ENDPOINTS = ("auth.login", "auth.api_login")


@bp.record_once
def _throttle_sign_in(state) -> None:
    """Refused sign-ins (401), by the page and the API together, count against the client's
    address; past FIELDAPP_SIGN_IN_RATE_LIMIT it is answered 429 with Retry-After (web.py)
    whatever it sends, the right password too. Successful sign-ins do not count, so an office
    whose tablets all sign in through one address is not held up by its own work. Set on each
    app's own limiter (extensions.py)."""
    throttle = limiter(state.app).shared_limit(
        lambda: current_app.config["FIELDAPP_SIGN_IN_RATE_LIMIT"],
        scope="sign-in",
        methods=["POST"],
        deduct_when=lambda response: response.status_code == 401,
        error_message="Too many failed sign-ins from this address.",
    )
    for endpoint in SIGN_IN_ENDPOINTS:
        state.app.view_functions[endpoint] = throttle(state.app.view_functions[endpoint])


@bp.post("/api/auth/logout")
def api_logout():
    if current_user.is_authenticated:
        accounts.end_session(session(), current_user.current_session_id)
        audit("logout", "user", current_user.id)
        session().commit()
        logout_user()
    return "", 204
