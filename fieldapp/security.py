"""Response headers every answer carries (SPEC §7 Security)."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

# The offline app's shell: no case data, so the service worker may cache it.
SHELL_ENDPOINTS = (
    "static", "web.service_worker", "web.tablet_shell", "web.tablet_fields", "web.manifest",
)  # fmt: skip


# What a browser forgets at sign-out: the cookies and its HTTP cache. Not "storage": that
# would delete every user's encrypted copy on the device, with work not yet synced.
CLEAR_AT_SIGN_OUT = '"cache", "cookies"'
SIGN_OUT_ENDPOINTS = ("auth.logout", "auth.api_logout")
HSTS = "max-age=31536000; includeSubDomains"


def _set_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("FIELDAPP_PRODUCTION"):
        # Also set it at the TLS proxy; here it covers a proxy that forgets.
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint in SIGN_OUT_ENDPOINTS and response.status_code < 400:
        # Only a sign-out that happened: a refused one (a stale token from an old tab) must not
        # clear the cookie of the session signed in since.
        response.headers["Clear-Site-Data"] = CLEAR_AT_SIGN_OUT
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.endpoint not in SHELL_ENDPOINTS:
        # Pages and API answers may carry case data: never store them in any cache.
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.after_request(_set_headers)
