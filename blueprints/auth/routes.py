from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from blueprints.auth.demo import DEMO_PASSWORD, DEMO_USERS
from blueprints.auth import bp
from blueprints.auth.forms import ChangePasswordForm, LoginForm
from blueprints.auth.services import attempt_login, change_password, end_session, load_user, start_session
from blueprints.core import audit
from blueprints.core.htmx import client_redirect, redirect_after_post
from extensions import db, login_manager

login_manager.user_loader(load_user)
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"
login_manager.login_message_category = "info"

# Requests that never touch the signed-in user: static files, the service worker, health checks.
_SESSIONLESS_ENDPOINTS = {"static", "pwa.service_worker", "pwa.manifest", "pwa.healthz", "pwa.offline"}
# What a signed-in user with a password set by someone else may still open.
_WHILE_TEMPORARY = {"auth.password", "auth.logout", "auth.login"}
IDLE_MESSAGE = "长时间未操作，已自动退出。请重新登录。"
DEMO_OFF_WARNING = "演示模式关闭：演示账号不能登录"


@bp.record
def warn_demo_accounts_off(state):
    """Say at start-up that demo accounts are refused (no query: the database may not be migrated)."""
    if not state.app.config["DEMO_MODE"]:
        state.app.logger.warning(DEMO_OFF_WARNING)


@login_manager.unauthorized_handler
def unauthorized():
    target = url_for("auth.login", next=request.full_path.rstrip("?"))
    if request.path.startswith("/api/"):
        return jsonify({"error": "login_required", "login_url": url_for("auth.login")}), 401
    if request.headers.get("HX-Request") == "true":
        return client_redirect(target)
    flash(IDLE_MESSAGE if g.get("session_idle") else login_manager.login_message, "info")
    return redirect(target)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never let a login link send the user elsewhere."""
    if not target:
        return url_for("dashboard.home")
    try:
        parts = urlsplit(target)
    except ValueError:  # "//[": not even a URL
        return url_for("dashboard.home")
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("dashboard.home")
    return target


@bp.before_app_request
def load_signed_in_user():
    """Look the session up first thing, before a route writes anything: the loader may commit
    (last_seen_at, an idle session ended). A session found idle signs out at once."""
    if request.endpoint in _SESSIONLESS_ENDPOINTS:
        return None
    if not current_user.is_authenticated and g.get("session_idle") and request.endpoint != "auth.login":
        return login_manager.unauthorized()
    if current_user.is_authenticated and current_user.password_is_temporary \
            and request.endpoint not in _WHILE_TEMPORARY:
        return _choose_own_password()
    return None


def _choose_own_password():
    """Someone else set her password: only the page that sets her own opens. A phone's API call gets
    401, which its outbox takes as "sign in again" (keeping what waits to be sent), never as a refusal."""
    target = url_for("auth.password")
    if request.path.startswith("/api/"):
        return jsonify({"error": "password_change_required", "login_url": target}), 401
    if request.headers.get("HX-Request") == "true":
        return client_redirect(target)
    return redirect(target)  # the page says why


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        outcome = attempt_login(form.username.data, form.password.data, address=request.remote_addr)
        if outcome.user is not None:
            start_session(outcome.user, ip=request.remote_addr, user_agent=request.user_agent.string)
        db.session.commit()  # failed attempts are counted even though no one signs in
        if outcome.user is not None:
            session.clear()  # a fresh session on sign-in: no fixation
            session.permanent = True
            login_user(outcome.user)
            return redirect_after_post(_safe_next(request.args.get("next")))
        error = outcome.error
    status = 200 if error is None and not form.errors else 422 if form.errors else 401
    demo = current_app.config["DEMO_MODE"]
    return render_template(
        "auth/login.html", form=form, error=error,
        demo_users=DEMO_USERS if demo else [], demo_password=DEMO_PASSWORD,
    ), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    end_session(current_user.current_session, "logout")
    audit.record("logout", current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash("您已退出。", "info")
    return redirect_after_post(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    form = ChangePasswordForm(current_user)
    if form.validate_on_submit():
        change_password(current_user, form.new_password.data, current=current_user.current_session)
        db.session.commit()
        flash("密码已修改。其他设备上的登录已失效。", "success")
        return redirect_after_post(url_for("dashboard.home"))
    return render_template("auth/password.html", form=form), 422 if form.errors else 200
