"""Command-line tasks: `flask --app app create-admin`, `seed-demo`, `unlock-user NAME`."""
from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from sqlalchemy import select

from blueprints.auth.demo import DEMO_PASSWORD, DEMO_USERS, ensure_departments
from blueprints.auth.forms import check_password_strength
from blueprints.auth.models import User
from blueprints.auth.services import unlock_user
from blueprints.core import audit
from blueprints.core.access import access_matrix
from blueprints.core.areas import house
from blueprints.core.disclosure import disclosure_table
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

    @app.cli.command("unlock-user")
    @click.argument("username")
    def unlock_user_command(username: str) -> None:
        """Lift the login throttle on an account: its failed sign-ins from every address, and the
        address-wide pauses where it has been lately (auth.services.unlock_user)."""
        user = db.session.scalar(select(User).where(User.username == username.strip()))
        if user is None:
            click.echo(f"没有用户名为 {username} 的账号，未做改动。请核对用户名。", err=True)
            sys.exit(1)
        cleared = unlock_user(user, actor=None)
        db.session.commit()
        click.echo(f"已解除 {user.username} 的登录限制，清除了 {cleared} 条登录失败记录。")

    @app.cli.command("access-matrix")
    def access_matrix_command() -> None:
        """Print the role × resource × action table (docs/access-matrix.md holds a copy)."""
        click.echo(access_matrix() + disclosure_table(), nl=False)

    @app.cli.command("seed-demo")
    @click.option("--children", "children", default=300, show_default=True, type=click.IntRange(min=0),
                  help="演示儿童人数")
    def seed_demo_command(children: int) -> None:
        """Add synthetic demo villages, schools, departments, one account per role and demo children
        (demo mode only)."""
        if not current_app.config["DEMO_MODE"]:
            click.echo("演示数据只能在演示模式下生成：请设置 GUANAI_DEMO=1。生产库中不应有演示账号。", err=True)
            sys.exit(1)
        created: dict[str, int] = {}
        options = {"org_name": current_app.config["ORG_NAME"], "children": children}
        for _area, seeder in house.seeders:  # each area seeds its own, in the manifests' order
            created.update(seeder(options))
        db.session.commit()
        if any(created.values()):
            click.echo("已生成演示数据：" + "，".join(f"{k} {v}" for k, v in created.items()))
        else:
            click.echo("演示数据已存在，未做改动。")
        click.echo(f"演示账号（密码均为 {DEMO_PASSWORD}）：" + " ".join(u.username for u in DEMO_USERS))
