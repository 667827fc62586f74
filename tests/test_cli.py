from sqlalchemy import func, select

from blueprints.auth.demo import DEMO_PASSWORD
from blueprints.places.models import Department, School, Village
from blueprints.auth.models import User
from blueprints.children.idnumber import parse_id_number
from blueprints.children.models import Child, ChildChange, FamilyMember, ParentContact
from blueprints.core.audit import AuditEvent
from blueprints.visits.models import Visit, VisitNeed
from extensions import db
from tests.factories import create_user


def snapshot():
    """Every row of every table seeding touches, as plain values."""
    rows = {}
    for model in (Village, School, Department, User, AuditEvent, Child, FamilyMember, ParentContact, ChildChange,
                  Visit, VisitNeed):
        rows[model.__tablename__] = [
            tuple(getattr(obj, c.key) for c in model.__table__.columns)
            for obj in db.session.scalars(select(model).order_by(model.id))
        ]
    return rows


def test_seed_demo_creates_one_user_per_role_and_twice_changes_nothing(app, runner):
    app.config["DEMO_MODE"] = True
    result = runner.invoke(args=["seed-demo", "--children", "25"])
    assert result.exit_code == 0, result.output
    assert "已生成演示数据" in result.output and "儿童 25" in result.output and "zhuren1" in result.output
    users = {u.username: u for u in db.session.scalars(select(User))}
    assert set(users) == {"admin", "minzheng", "dudao", "zhuren1", "zhuren2", "xuexiao1", "banzhuren1", "xinli1", "jiaoban", "paichusuo", "sifasuo", "weijian", "canlian", "renshe",
                          "tuanwei", "fulian", "zhiyuan1", "aixinmama1",
                          # the volunteers area's own (blueprints/volunteers/demo.py)
                          "aixinmama2", "jiaoshi1", "shegong1", "zhiyuan2"}
    assert {u.role for u in users.values()} == {"admin", "civil_affairs", "supervisor", "director", "school",
                                                "department", "volunteer"}
    assert all(u.check_password(DEMO_PASSWORD) for u in users.values())
    assert [v.name for v in users["zhuren1"].villages] != [v.name for v in users["zhuren2"].villages]
    assert users["paichusuo"].department.name == "镇派出所"
    assert (users["tuanwei"].department.code, users["fulian"].department.code) == ("youth", "women")
    assert users["aixinmama1"].volunteer_kind == "caring_mother"
    assert users["xuexiao1"].school is not None
    assert db.session.scalar(select(func.count()).select_from(Department)) == 13
    assert all(v.is_demo for v in db.session.scalars(select(Village)))

    before = snapshot()
    db.session.expire_all()
    result = runner.invoke(args=["seed-demo", "--children", "25"])
    assert result.exit_code == 0
    assert "演示数据已存在，未做改动" in result.output
    db.session.expire_all()
    assert snapshot() == before


def test_seed_demo_refuses_outside_demo_mode(app, runner):
    app.config["DEMO_MODE"] = False
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "GUANAI_DEMO=1" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_create_admin(app, runner, client, auth):
    result = runner.invoke(args=["create-admin", "--username", "chief", "--password", "strong-pass-1"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "chief"))
    assert user.role == "admin" and user.check_password("strong-pass-1")
    assert db.session.scalar(select(func.count()).select_from(Department)) == 13
    assert auth.login("chief", "strong-pass-1").status_code == 303


def test_create_admin_refuses_weak_passwords_and_duplicates(app, runner):
    result = runner.invoke(args=["create-admin", "--username", "chief", "--password", "1234"])
    assert result.exit_code == 1 and "至少 10 个字符" in result.output
    create_user("admin", username="chief")
    result = runner.invoke(args=["create-admin", "--username", "chief", "--password", "strong-pass-1"])
    assert result.exit_code == 1 and "已存在" in result.output


def test_create_admin_prompts_for_the_password(app, runner):
    result = runner.invoke(args=["create-admin", "--username", "chief"], input="strong-pass-1\nstrong-pass-1\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.username == "chief")).check_password("strong-pass-1")


def test_demo_children_are_plausible(app, runner):
    """Valid ID numbers that agree with birth date and gender, in the demo villages, with families."""
    app.config["DEMO_MODE"] = True
    assert runner.invoke(args=["seed-demo", "--children", "60"]).exit_code == 0
    children = list(db.session.scalars(select(Child)))
    assert len(children) == 60
    for child in children:
        parsed = parse_id_number(child.id_number)
        assert (parsed.birth_date, parsed.gender) == (child.birth_date, child.gender)
        assert child.residence_village.is_demo
        assert child.categories and child.family
        for member in child.family:
            if member.id_number:
                parse_id_number(member.id_number)
    codes = {c for child in children for c in child.category_codes}
    assert {"left_behind", "poverty"} <= codes and len(codes) >= 4
    assert db.session.scalar(select(func.count()).select_from(ParentContact)) > 0
    villages = {child.residence_village_id for child in children}
    assert len(villages) == 8
