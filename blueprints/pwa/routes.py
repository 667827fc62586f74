"""The installable shell: manifest, service worker, offline page, and the health check."""
from __future__ import annotations

import hashlib

from flask import current_app, jsonify, make_response, render_template, url_for
from flask_login import login_required
from sqlalchemy import text

from blueprints.core.areas import house
from blueprints.pwa import bp
from extensions import assets, db

HTMX_FILE = "js/vendor/htmx-2.0.11.min.js"
ICON_SIZES = (192, 512)


def shell_urls() -> list[str]:
    """What the service worker precaches: the offline page and the static shell, never a child's data."""
    return [
        url_for("pwa.offline"),
        *assets["css_all"].urls(),
        *assets["js_all"].urls(),
        url_for("static", filename=HTMX_FILE),
        *(url_for("static", filename=f"icons/icon-{size}.png") for size in ICON_SIZES),
    ]


def offline_pages() -> list[str]:
    """Paths the service worker keeps (network-first) so the forms open without a network: the
    offline pages the areas declare (never a child's record, never any other page)."""
    return [url_for(endpoint) for endpoint in house.offline_pages]


@bp.route("/sw.js")
def service_worker():
    urls = shell_urls()
    pages = offline_pages()
    # The cache names change whenever a precached file does (bundle URLs carry content hashes)
    # or the list of offline pages does: cached pages name the bundles they were served with.
    version = hashlib.sha256("\n".join([*urls, "--", *pages]).encode()).hexdigest()[:12]
    body = render_template("pwa/sw.js", urls=urls, version=version, pages=pages)
    response = make_response(body)
    response.headers["Content-Type"] = "application/javascript; charset=utf-8"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.route("/manifest.webmanifest")
def manifest():
    org = current_app.config["ORG_NAME"]
    data = {
        "name": f"关爱通 · {org}",
        "short_name": "关爱通",
        "description": "留守儿童和困境儿童关爱服务",
        "lang": "zh-CN",
        "start_url": url_for("dashboard.home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#b4372f",
        "icons": [
            {"src": url_for("static", filename=f"icons/icon-{size}.png"), "sizes": f"{size}x{size}",
             "type": "image/png", "purpose": "any maskable"}
            for size in ICON_SIZES
        ],
    }
    response = jsonify(data)
    response.headers["Content-Type"] = "application/manifest+json"
    return response


@bp.route("/outbox")
@login_required
def outbox():
    """What is waiting on this phone, for every role with an offline form: drawn by
    static/js/outbox/bar.js from IndexedDB, so the page itself holds no record."""
    return render_template("pwa/outbox.html")


@bp.route("/offline")
def offline():
    return render_template("pwa/offline.html")


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database is "not healthy"
        db.session.rollback()
        current_app.logger.exception("health check: database unreachable")
        return jsonify({"status": "error", "db": "error"}), 503
    return jsonify({"status": "ok", "db": "ok"})
