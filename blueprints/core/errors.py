"""Chinese error pages; an htmx fragment request gets a short message, sent to the message region."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError

from blueprints.core.htmx import wants_fragment

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


def register_error_handlers(app: Flask) -> None:
    for code in MESSAGES:
        app.register_error_handler(code, lambda error, code=code: render_error(code))
    app.register_error_handler(
        CSRFError,
        lambda error: render_error(400, "页面已过期", "页面停留太久，安全校验已失效。请刷新页面后重新提交。"),
    )
