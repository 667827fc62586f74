"""What every response says to the browser about itself, how big a request may be, and the proxy
in front of the app.

- Headers: a Content-Security-Policy without inline script or style (templates carry none: the
  htmx indicator styles are in app.css, see base.html's htmx-config), no framing, no sniffing, no
  referrer to other sites, HSTS over HTTPS, and `Cache-Control: no-store` on everything but the
  static shell, so a page or file with a child's data never stays in a browser's or a proxy's
  HTTP cache (the service worker keeps its few offline pages in Cache Storage itself).
- Sizes: MAX_CONTENT_LENGTH (the upload limit) for the few views marked `@accepts_upload`,
  MAX_BODY_BYTES for every other request: forms and the outbox's JSON are a few KB.
- Proxy: with TRUSTED_PROXIES=n, werkzeug's ProxyFix believes the last n hops of X-Forwarded-For,
  -Proto and -Host, so the audit records the client's address and HTTPS is recognised.
"""
from __future__ import annotations

from flask import Flask, Response, abort, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "manifest-src 'self'",
    "worker-src 'self'",
])

HEADERS = {
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",  # the app uses none of them
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000"

# Responses the browser may keep: the static shell, which holds nothing about anyone.
CACHEABLE_ENDPOINTS = {"static", "pwa.service_worker", "pwa.manifest", "pwa.healthz"}


def accepts_upload(view):
    """Mark a view that takes a file: its requests may be as big as MAX_CONTENT_LENGTH."""
    view.accepts_upload = True
    return view


def limit_body() -> None:
    """Hold every request but an upload to MAX_BODY_BYTES. Runs before the CSRF check reads the form."""
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "accepts_upload", False):
        return
    limit = current_app.config["MAX_BODY_BYTES"]
    request.max_content_length = limit  # a body without Content-Length stops being read here
    if request.content_length is not None and request.content_length > limit:
        abort(413)


def add_security_headers(response: Response) -> Response:
    # Chrome's PDF viewer draws a PDF inside a page of its own, which a CSP sent with the PDF
    # breaks; a PDF of ours runs no script, so it goes without.
    if response.mimetype != "application/pdf":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint not in CACHEABLE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Before the CSRF protection is installed: the size check must come before the form is read."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.before_request(limit_body)
    app.after_request(add_security_headers)
