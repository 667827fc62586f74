"""Chinese error pages; an htmx fragment request gets a short message, sent to the message region.
Every refusal (403) is kept in the audit trail; the 500 page rolls back first, so that it still
renders after a failed database statement."""
from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import InternalServerError

from blueprints.core import audit
from blueprints.core.htmx import wants_fragment
from blueprints.core.text import clean_text
from extensions import db

MESSAGE_REGION = "#messages"  # in templates/base.html

MESSAGES = {
    400: ("请求有误", "提交的内容无法处理，请返回后重试。"),
    403: ("没有权限", "您的账号无权访问此页面或执行此操作。如确有需要，请联系镇民政组或系统管理员。"),
    404: ("找不到页面", "您要找的内容不存在，或不在您的工作范围内。"),
    405: ("请求方式不对", "此页面不接受这种请求方式。"),
    409: ("无法办理", "这项操作与当前情况不符（可能已经办理过）。请刷新页面查看最新情况。"),
    410: ("文件已删除", "这份文件已超过保存期限，按规定已删除。请重新生成。"),
    413: ("提交的内容太大", "提交的内容超过了系统允许的大小，没有保存。请减少填写的内容（或把文件分成几个）后重试。"),
    500: ("系统出错", "系统暂时出错，您刚才的操作没有保存。请稍后再试；如果一直出错，请联系系统管理员。"),
}


def render_error(code: int, title: str | None = None, message: str | None = None):
    default_title, default_message = MESSAGES.get(code, MESSAGES[500])
    if request.path.startswith("/api/"):  # the outbox reads JSON, never an HTML page
        return jsonify({"error": title or default_title, "message": message or default_message}), code
    context = dict(code=code, title=title or default_title, message=message or default_message)
    if not wants_fragment():
        return render_template("errors/error.html", **context), code
    # A fragment request that failed must not replace what it targeted (an inline check would
    # delete its own field): the message goes to the page's one message region instead.
    return render_template("errors/_message.html", **context), code, {
        "HX-Retarget": MESSAGE_REGION,
        "HX-Reswap": "innerHTML",
        "HX-Reselect": ".notice",  # overrides the requesting element's hx-select
    }


def server_error(error: InternalServerError):
    """The 500 page (Flask sends every unhandled exception here). The page asks the database for the
    user and the menu: after a failed statement the session must be rolled back first."""
    try:
        db.session.rollback()
        return render_error(500)
    except Exception:  # the database itself is out of reach: a page without the user and the menu
        current_app.logger.exception("the error page could not be rendered")
        title, message = MESSAGES[500]
        return f"<!doctype html><meta charset=utf-8><title>{title}</title><h1>{title}</h1><p>{message}</p>", 500


def audit_denied(response: Response) -> Response:
    """Every 403, from whatever view or check, as a "denied" event with the path. The request's own
    work is rolled back (it was refused); the event is committed on its own, and a failure to write
    it never changes the answer."""
    if response.status_code != 403:
        return response
    try:
        db.session.rollback()
        audit.record("denied", detail=clean_text(f"{request.method} {request.path}")[:500])
        db.session.commit()
    except Exception:
        db.session.rollback()
        current_app.logger.exception("a denied request could not be audited")
    return response


def register_error_handlers(app: Flask) -> None:
    for code in MESSAGES:
        if code != 500:
            app.register_error_handler(code, lambda error, code=code: render_error(code))
    app.register_error_handler(InternalServerError, server_error)
    app.after_request(audit_denied)
    app.register_error_handler(
        CSRFError,
        lambda error: render_error(400, "页面已过期", "页面停留太久，安全校验已失效。请刷新页面后重新提交。"),
    )
