"""Command-line tasks: `flask --app app create-admin`, `flask --app app seed-demo`."""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from sqlalchemy import select

from blueprints.admin.demo import DEMO_PASSWORD, DEMO_USERS, ensure_departments, seed_demo
from blueprints.auth.forms import check_password_strength
from blueprints.children.demo import seed_demo_children
from blueprints.visits.demo import seed_demo_visits
from blueprints.auth.models import User
from blueprints.core import audit
from extensions import db


def register_cli(app: Flask) -> None:
    @app.cli.command("create-admin")
    @click.option("--username", default="admin", show_default=True, help="用户名")
    @click.option("--name", "display_name", default="系统管理员", show_default=True, help="姓名")
    @click.option("--password", prompt="密码", hide_input=True, confirmation_prompt="再次输入密码",
                  help="不给出时交互输入")
    def create_admin(username: str, display_name: str, password: str) -> None:
        """Create a system administrator (also makes sure the plan's departments exist)."""
        problem = check_password_strength(password, username)
        if problem:
            click.echo(problem.replace("新密码", "密码"), err=True)
            sys.exit(1)
        if db.session.scalar(select(User).where(User.username == username)):
            click.echo(f"用户名 {username} 已存在，未做改动。", err=True)
            sys.exit(1)
        ensure_departments()
        user = User(username=username, display_name=display_name, role="admin")
        user.set_password(password)
        db.session.add(user)
        audit.record("user_created", user, detail=f"{username}（命令行创建的系统管理员）", user=None)
        db.session.commit()
        click.echo(f"已创建系统管理员 {username}。")

    @app.cli.command("seed-demo")
    @click.option("--children", "children", default=300, show_default=True, type=click.IntRange(min=0),
                  help="演示儿童人数")
    def seed_demo_command(children: int) -> None:
        """Add synthetic demo villages, schools, departments, one account per role and demo children
        (demo mode only)."""
        if not current_app.config["DEMO_MODE"]:
            click.echo("演示数据只能在演示模式下生成：请设置 GUANAI_DEMO=1。生产库中不应有演示账号。", err=True)
            sys.exit(1)
        created = seed_demo(current_app.config["ORG_NAME"])
        created["儿童"] = seed_demo_children(children)
        created["走访和亲情联系"] = seed_demo_visits()
        db.session.commit()
        if any(created.values()):
            click.echo("已生成演示数据：" + "，".join(f"{k} {v}" for k, v in created.items()))
        else:
            click.echo("演示数据已存在，未做改动。")
        click.echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：" + " ".join(u.username for u in DEMO_USERS))
