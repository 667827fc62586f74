"""Signing in and out, passwords, sessions."""
from flask import Blueprint

from blueprints.core.areas import Area

bp = Blueprint("auth", __name__)

area = Area(
    name="auth",
    blueprint=bp,
    route_modules=("routes",),
    model_modules=("models",),
    audit_labels={
        "login": "登录",
        "login_failed": "登录失败",
        "login_locked": "账号锁定",
        "logout": "退出",
        "password_changed": "修改密码",
    },
)
