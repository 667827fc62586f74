"""The volunteer roster in Excel: the template, every bad row named (row, column, fix) and nothing
imported while one is bad, duplicate login names, a formula-looking cell kept as text, and the
import itself as a background job whose volunteers can then sign in."""
from __future__ import annotations

import re
import shutil
import zipfile
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from blueprints.auth.models import User
from blueprints.core.audit import AuditEvent
from blueprints.core.jobs import Job
from blueprints.core.workbook import import_dir
from blueprints.volunteers.models import Organisation, Volunteer, VolunteerChange
from blueprints.volunteers import roster_tasks
from blueprints.volunteers.roster_excel import TEMPLATE_HEADERS, claimed_name, upload_name
from extensions import db
from tests.factories import create_user, create_village

HEADERS = [h.rstrip("*") for h in TEMPLATE_HEADERS]
FORMULA = "=cmd|' /C calc'!A0"


def workbook(rows: list[dict | None], headers: list[str] = TEMPLATE_HEADERS, as_text: set[str] = frozenset()) -> bytes:
    """A roster workbook; a row is {column: value}, None a blank row. Columns in `as_text` are
    written as strings even when they look like a formula (what a user typing '= gets)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "志愿者名单"
    ws.append(headers)
    for number, row in enumerate(rows, start=2):
        for col, header in enumerate(headers, start=1):
            value = (row or {}).get(header.rstrip("*"))
            cell = ws.cell(row=number, column=col, value=value)
            if header.rstrip("*") in as_text:
                cell.data_type = "s"
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def good_row(**values) -> dict:
    row = {"姓名": "王秋菊", "类别": "爱心妈妈", "所属组织": "拳铺镇青年志愿者协会", "所在村": "前王庄村",
           "电话": "13812345678", "特长": "阅读陪伴、心理陪伴", "可结对人数": 3, "登录名": "qiuju",
           "初始密码": "qiuju-reads-7"}
    row.update(values)
    return row


def upload(client, data: bytes, filename: str = "志愿者名单.xlsx"):
    return client.post("/volunteers/import", data={"file": (BytesIO(data), filename)},
                       content_type="multipart/form-data")


def confirm_form(page: str) -> dict:
    return {name: re.search(rf'name="{name}" value="([^"]*)"', page)[1] for name in ("token", "filename", "rows")}


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def report_rows(page: str) -> list[tuple[str, str, str]]:
    return re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td>([^<]+)</td></tr>", page)


@pytest.fixture
def place(app):
    shutil.rmtree(import_dir(), ignore_errors=True)
    village = create_village("前王庄村")
    db.session.add(Organisation(name="拳铺镇青年志愿者协会", kind="social_org"))
    db.session.commit()
    return village


def sign_in(auth, role: str = "civil_affairs", **reach):
    user = create_user(role, **reach)
    assert auth.login(user.username).status_code == 303
    return user


def test_the_template_has_the_columns_and_the_choices(client, auth, place):
    sign_in(auth)
    response = client.get("/volunteers/import/template.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    wb = load_workbook(BytesIO(response.get_data()))
    assert [c.value for c in wb["志愿者名单"][1]] == TEMPLATE_HEADERS
    choices = list(wb["可选值"].iter_rows(values_only=True))
    assert choices[0] == ("类别", "所属组织", "村", "特长")
    listed = {value for row in choices[1:] for value in row if value}
    assert {"爱心妈妈", "社会组织成员", "拳铺镇青年志愿者协会", "前王庄村", "医疗康复知识"} <= listed
    assert wb["志愿者名单"].data_validations.dataValidation  # dropdowns for kind, organisation, village


def test_a_good_file_is_checked_confirmed_imported_by_the_job_and_they_can_sign_in(client, auth, place):
    staff = sign_in(auth)
    data = workbook([good_row(), None, good_row(**{"姓名": "刘强", "类别": "青年志愿者", "所属组织": None, "所在村": None,
                                                   "电话": None, "特长": "课业辅导，文体活动", "可结对人数": None,
                                                   "登录名": "liuqiang", "初始密码": "Liu-Qiang-2026"})])
    response = upload(client, data)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "共 2 行：<strong>2</strong> 行可以导入" in page and "确认导入 2 名志愿者" in page
    assert count(Volunteer) == 0  # only checked so far
    assert len(list(import_dir().glob("volunteers-*.xlsx"))) == 1

    form = confirm_form(page)
    response = client.post("/volunteers/import/confirm", data=form)
    assert response.status_code == 303
    job_url = response.headers["Location"]
    job = db.session.scalar(select(Job))
    assert job.kind == "volunteers_import" and job.status == "done" and job.message == "已导入 2 名志愿者。"
    page = client.get(job_url).get_data(as_text=True)
    assert "已导入 2 名志愿者" in page

    volunteers = {v.name: v for v in db.session.scalars(select(Volunteer))}
    mother, young = volunteers["王秋菊"], volunteers["刘强"]
    assert (mother.kind, mother.capacity, mother.phone, sorted(mother.skills)) == (
        "caring_mother", 3, "13812345678", ["psychological", "reading"])
    assert mother.organisation.name == "拳铺镇青年志愿者协会" and mother.village_id == place.id
    assert (young.kind, young.capacity, young.organisation_id, sorted(young.skills)) == (
        "youth", 2, None, ["recreation", "tutoring"])
    assert (mother.user.username, mother.user.role, mother.user.volunteer_kind, mother.user.display_name) == (
        "qiuju", "volunteer", "caring_mother", "王秋菊")
    assert mother.created_by_id == staff.id
    assert db.session.scalar(select(func.count(VolunteerChange.id)).where(
        VolunteerChange.volunteer_id == mother.id, VolunteerChange.field == "登录名")) == 1
    assert db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "volunteers_imported")).all() == [
        "志愿者名单.xlsx：导入 2 名志愿者"]
    assert list(import_dir().iterdir()) == []  # the file with the passwords is gone

    # A second click finds the file claimed: nothing twice.
    again = client.post("/volunteers/import/confirm", data=form, follow_redirects=True)
    assert "已经导入或已处理过" in again.get_data(as_text=True)
    assert count(Volunteer) == 2

    auth.logout()
    assert auth.login("qiuju", "qiuju-reads-7").status_code == 303
    # the file's password is known to whoever keeps the roster: hers to choose before anything opens
    assert client.get("/my/pairings").headers["Location"] == "/account/password"
    assert client.get("/api/v1/my-pairings").status_code == 401
    auth.logout()
    assert auth.login("liuqiang", "Liu-Qiang-2026").status_code == 303


def test_every_bad_row_is_named_and_nothing_is_imported(client, auth, place):
    sign_in(auth)
    rows = [
        good_row(),  # row 2: good
        good_row(**{"姓名": None, "登录名": "a1"}),  # row 3: no name, login too short
        good_row(**{"类别": "志愿者", "登录名": "zhiyuan3"}),  # row 4
        good_row(**{"所属组织": "不存在的协会", "所在村": "后李楼村", "登录名": "zhiyuan4"}),  # row 5
        good_row(**{"电话": "12345", "特长": "阅读陪伴、飞行", "登录名": "zhiyuan5"}),  # row 6
        good_row(**{"可结对人数": 11, "登录名": "zhiyuan6"}),  # row 7
        good_row(**{"可结对人数": "两个", "登录名": "zhiyuan7"}),  # row 8
        good_row(**{"登录名": "张三", "初始密码": "1234567890"}),  # row 9
        good_row(**{"登录名": "zhiyuan9", "初始密码": "short"}),  # row 10
        good_row(**{"登录名": "zhiyuan10", "初始密码": None}),  # row 11
    ]
    response = upload(client, workbook(rows))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    found = report_rows(page)
    columns = {(int(row), column) for row, column, _ in found}
    assert columns == {
        (3, "姓名"), (3, "登录名"), (4, "类别"), (5, "所属组织"), (5, "所在村"), (6, "电话"), (6, "特长"),
        (7, "可结对人数"), (8, "可结对人数"), (9, "登录名"), (9, "初始密码"), (10, "初始密码"), (11, "初始密码"),
    }
    reasons = {(int(row), column): reason for row, column, reason in found}
    assert reasons[(3, "姓名")] == "请填写姓名"
    assert "“志愿者”不是可选的类别，请填写：青年志愿者、爱心妈妈" in reasons[(4, "类别")]
    assert "没有名为“不存在的协会”的组织或站点" in reasons[(5, "所属组织")]
    assert "没有名为“后李楼村”的村" in reasons[(5, "所在村")]
    assert "11 位" in reasons[(6, "电话")] and "不认识的特长“飞行”" in reasons[(6, "特长")]
    assert "应在 1 到 10 之间，现在是 11" in reasons[(7, "可结对人数")]
    assert "不是整数" in reasons[(8, "可结对人数")]
    assert "字母、数字" in reasons[(9, "登录名")] and "初始密码不能全是数字" in reasons[(9, "初始密码")]
    assert "初始密码至少 10 个字符" in reasons[(10, "初始密码")] and "请填写初始密码" in reasons[(11, "初始密码")]
    assert "1234567890" not in page and "short" not in page.replace("shortcut", "")  # never the passwords
    assert "共 10 行：<strong>1</strong> 行可以导入，<strong>9</strong> 行有问题" in page
    assert "没有导入任何志愿者" in page and 'name="token"' not in page
    assert count(Volunteer) == 0 and count(User) == 1
    assert list(import_dir().glob("*")) == []  # a refused file is not kept


def test_duplicate_login_names_in_the_file_or_already_registered_are_bad_rows(client, auth, place):
    create_user("director", username="ZhuRen1")
    sign_in(auth)
    rows = [good_row(**{"登录名": "same"}), good_row(**{"姓名": "刘强", "登录名": "SAME"}),
            good_row(**{"姓名": "赵兰", "登录名": "zhuren1"}), good_row(**{"姓名": "孙丽", "登录名": "sunli"})]
    response = upload(client, workbook(rows))
    assert response.status_code == 422
    found = report_rows(response.get_data(as_text=True))
    assert found == [
        ("2", "登录名", "与第3行的登录名重复，每人的登录名须不同"),
        ("3", "登录名", "与第2行的登录名重复，每人的登录名须不同"),
        ("4", "登录名", "这个登录名已被系统中的账号使用，请换一个"),
    ]
    assert count(Volunteer) == 0


def test_a_formula_looking_cell_is_kept_as_text(client, auth, place):
    sign_in(auth)
    response = upload(client, workbook([good_row(**{"姓名": FORMULA})], as_text={"姓名"}))
    assert response.status_code == 200, report_rows(response.get_data(as_text=True))
    client.post("/volunteers/import/confirm", data=confirm_form(response.get_data(as_text=True)))
    volunteer = db.session.scalar(select(Volunteer))
    assert volunteer.name == FORMULA and volunteer.user.display_name == FORMULA
    page = client.get(f"/volunteers/{volunteer.id}").get_data(as_text=True)
    assert "=cmd|&#39; /C calc&#39;!A0" in page  # shown as text, escaped


def test_a_live_formula_is_never_run_its_cell_reads_empty(client, auth, place):
    sign_in(auth)
    response = upload(client, workbook([good_row(**{"姓名": "=HYPERLINK(\"http://evil.example\",\"x\")"})]))
    assert response.status_code == 422
    assert ("2", "姓名", "请填写姓名") in report_rows(response.get_data(as_text=True))


@pytest.mark.parametrize("data, filename, message", [
    (b"name,kind\n", "名单.csv", "不是 Excel 工作簿"),
    (b"not a zip at all", "名单.xlsx", "文件不是 Excel 工作簿"),
    (None, "名单.xlsx", "缺少必填的列：类别、登录名、初始密码"),
    (b"", "", "请选择要上传的 Excel 文件"),
])
def test_files_that_cannot_be_used_are_refused_whole(client, auth, place, data, filename, message):
    sign_in(auth)
    if data is None:
        data = workbook([{"姓名": "王秋菊"}], headers=["姓名", "电话"])
    response = upload(client, data, filename)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(Volunteer) == 0 and list(import_dir().glob("*")) == []


def test_too_big_an_upload_is_refused(app, client, auth, place):
    sign_in(auth)
    app.config["IMPORT_MAX_UPLOAD_BYTES"] = 1000
    try:
        response = upload(client, workbook([good_row()]))
    finally:
        app.config["IMPORT_MAX_UPLOAD_BYTES"] = 20 * 1024 * 1024
    assert response.status_code == 413 and "文件太大" in response.get_data(as_text=True)


def far_down(data: bytes) -> bytes:
    """The workbook with one more cell 300 rows down: its sheet declares 300 rows."""
    wb = load_workbook(BytesIO(data))
    wb["志愿者名单"].cell(row=300, column=1, value="王秋菊")
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def with_big_picture(data: bytes) -> bytes:
    """The workbook with a 2 MB picture of zeros (a few KB packed)."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        with zipfile.ZipFile(BytesIO(data)) as roster:
            for member in roster.infolist():
                package.writestr(member, roster.read(member))
        package.writestr("xl/media/image1.png", b"\0" * (2 * 1024 * 1024))
    return buffer.getvalue()


@pytest.mark.parametrize("build, message", [
    (lambda: workbook([good_row(), good_row(**{"登录名": "zhiyuan2"}), good_row(**{"登录名": "zhiyuan3"})]),
     "一个文件最多 2 名志愿者，请把名单分成几个文件上传。"),
    (lambda: far_down(workbook([good_row()])),
     "工作表有 300 行以上（含空行），超过上限：一个文件最多 2 名志愿者。请删去表格下方多余的空行，或把名单分成几个文件上传。"),
    (lambda: with_big_picture(workbook([good_row()])),
     "文件解压后超过 1MB，不像是一份志愿者名单。请删去多余的工作表、图片和空行，或把名单分成几个文件上传。"),
])
def test_a_file_over_the_limits_is_refused_in_the_rosters_words(client, auth, place, monkeypatch, build, message):
    """The limits the survey import has, told of volunteers and their roster, never of children."""
    monkeypatch.setitem(client.application.config, "IMPORT_MAX_ROWS", 2)
    monkeypatch.setitem(client.application.config, "IMPORT_MAX_UNCOMPRESSED", 1024 * 1024)
    sign_in(auth)
    response = upload(client, build())
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "名儿童" not in page and "摸底排查表" not in page
    assert count(Volunteer) == 0 and list(import_dir().glob("*")) == []


def test_a_row_that_became_bad_after_the_check_stops_the_job(client, auth, place):
    """A login taken between the check and the confirmation: the job checks again and imports nothing."""
    sign_in(auth)
    response = upload(client, workbook([good_row(), good_row(**{"姓名": "刘强", "登录名": "liuqiang"})]))
    form = confirm_form(response.get_data(as_text=True))
    create_user("director", username="liuqiang")
    job_url = client.post("/volunteers/import/confirm", data=form).headers["Location"]
    page = client.get(job_url).get_data(as_text=True)
    assert "没有导入：1 行有问题" in page
    assert ("3", "登录名", "这个登录名已被系统中的账号使用，请换一个") in report_rows(page)
    assert count(Volunteer) == 0


def test_only_the_last_checked_file_waits(client, auth, place):
    """An earlier preview's file (it holds passwords) goes when the user uploads again."""
    staff = sign_in(auth)
    first = confirm_form(upload(client, workbook([good_row()])).get_data(as_text=True))
    second = confirm_form(upload(client, workbook([good_row(**{"登录名": "qiuju2"})])).get_data(as_text=True))
    assert [p.name for p in import_dir().iterdir()] == [f"volunteers-{staff.id}-{second['token']}.xlsx"]
    again = client.post("/volunteers/import/confirm", data=first, follow_redirects=True)
    assert "已经导入或已处理过" in again.get_data(as_text=True) and count(Volunteer) == 0
    client.post("/volunteers/import/confirm", data=second)
    assert db.session.scalars(select(User.username).where(User.role == "volunteer")).all() == ["qiuju2"]


def test_a_failed_job_leaves_the_file_to_be_confirmed_again(client, auth, place):
    """What the runner calls when the job fails for good (core/jobs.py on_failure): the claimed file
    goes back under its waiting name, and the same confirmation works."""
    staff = sign_in(auth)
    form = confirm_form(upload(client, workbook([good_row()])).get_data(as_text=True))
    name = upload_name(staff.id, form["token"])
    (import_dir() / name).rename(import_dir() / claimed_name(name))  # as the confirmation claims it
    roster_tasks._import_failed(upload=name, filename=form["filename"], user_id=staff.id, rows=1)
    assert [p.name for p in import_dir().iterdir()] == [name]
    client.post("/volunteers/import/confirm", data=form)
    assert count(Volunteer) == 1


def test_another_users_token_or_job_is_not_found(client, auth, place):
    sign_in(auth)
    response = upload(client, workbook([good_row()]))
    form = confirm_form(response.get_data(as_text=True))
    auth.logout()
    sign_in(auth, "supervisor")
    again = client.post("/volunteers/import/confirm", data=form, follow_redirects=True)
    assert "已经导入或已处理过" in again.get_data(as_text=True)  # her token names another user's file
    assert client.post("/volunteers/import/confirm", data={"token": "../../etc"}).status_code == 404
    assert count(Volunteer) == 0


def test_the_youth_league_may_import_and_wrong_roles_may_not(client, auth, place):
    sign_in(auth, "department", department_code="youth")
    response = upload(client, workbook([good_row()]))
    assert response.status_code == 200
    client.post("/volunteers/import/confirm", data=confirm_form(response.get_data(as_text=True)))
    assert count(Volunteer) == 1
    auth.logout()
    sign_in(auth, "department", department_code="police")
    assert upload(client, workbook([good_row(**{"登录名": "other1"})])).status_code == 403
    assert client.post("/volunteers/import/confirm", data={"token": "0" * 16}).status_code == 403
