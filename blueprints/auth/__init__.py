"""Accounts: signing in and out, passwords, sessions, the demo town's accounts."""
from flask import Blueprint

from blueprints.core.areas import Area

bp = Blueprint("auth", __name__)

area = Area(
    name="auth",
    blueprint=bp,
    route_modules=("routes", "housekeeping"),
    model_modules=("models",),
    audit_labels={
        "login": "登录",
        "login_failed": "登录失败",
        "login_locked": "账号锁定",  # earlier versions' lockout, still in old logs
        "login_throttled": "登录暂停",
        "login_unlocked": "解除登录限制",
        "logout": "退出",
        "password_changed": "修改密码",
        "demo_seeded": "生成演示数据",
    },
    demo_seeder="demo:seed",  # the demo town: places, departments, one account per role
    seed_order=10,
)
