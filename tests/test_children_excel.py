"""The survey in Excel (plan §10): template, checking every row, all-or-nothing import (in the
request and as a background job), export within reach, and the command line."""
from __future__ import annotations

import shutil
import time
from datetime import date
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from blueprints.children.excel import (
    EXPORT_HEADERS,
    TEMPLATE_HEADERS,
    Reach,
    import_dir,
    read_survey,
)
from blueprints.core.disclosure import mask_id_number
from blueprints.children.models import Child, ChildCategory, ChildChange, FamilyMember, ImportBatch
from blueprints.children.services import FamilyInput
from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from blueprints.core.jobs import Job
from extensions import db
from tests.factories import create_child, create_school, create_user, create_village, valid_id_number

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


# --- helpers -------------------------------------------------------------------------------


def years_ago(years: int, month: int = 3, day: int = 2) -> date:
    return date(local_today().year - years, month, day)


def age(birth: date) -> int:
    today = local_today()
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def id_ending_in_x(birth: date, gender: str = "female") -> str:
    for serial in range(1, 200):
        number = valid_id_number(birth, serial, gender=gender)
        if number.endswith("X"):
            return number
    raise AssertionError("no serial gives X")


def workbook(rows: list[dict | None], headers: list[str] = TEMPLATE_HEADERS) -> bytes:
    """A survey workbook; a row is {header without *: value}, None is a blank row."""
    wb = Workbook()
    ws = wb.active
    ws.title = "儿童名单"
    ws.append(headers)
    for row in rows:
        row = row or {}
        ws.append([row.get(h.rstrip("*")) for h in headers])
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def upload(client, data: bytes, filename: str = "摸底排查.xlsx"):
    return client.post("/children/import", data={"file": (BytesIO(data), filename)},
                       content_type="multipart/form-data")


def count(model) -> int:
    db.session.rollback()  # a fresh snapshot: the request (or job) committed on its own connection
    return db.session.scalar(select(func.count()).select_from(model))


def latest_batch() -> ImportBatch:
    db.session.rollback()
    return db.session.scalar(select(ImportBatch).order_by(ImportBatch.id.desc()))


def download(client, url: str):
    with client.get(url) as response:
        return response.status_code, response.headers, response.get_data()


def sheet_rows(data: bytes, sheet: str | None = None) -> list[tuple]:
    wb = load_workbook(BytesIO(data), read_only=True)
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        return [tuple(row) for row in ws.iter_rows(values_only=True)]
    finally:
        wb.close()


@pytest.fixture
def uploads(app):
    """Where uploads wait for confirmation: the test app's own instance folder (see conftest),
    emptied first so that a test sees only its own files."""
    path = import_dir()
    shutil.rmtree(path, ignore_errors=True)
    return path


@pytest.fixture
def town(app, uploads):
    """Two villages and a school serving the first; signed-in staff are made per test."""
    east = create_village("前王庄村")
    west = create_village("后李楼村")
    school = create_school("拳铺镇中心小学", villages=[east])
    return east, west, school


def sign_in(auth, role: str, **reach):
    user = create_user(role, **reach)
    assert auth.login(user.username).status_code == 303
    return user


def good_row(number: str | None = None, **values) -> dict:
    row = {"姓名": "王小红", "身份证号": number, "居住村": "前王庄村", "儿童类别": "困境儿童（家庭贫困）"}
    row.update(values)
    return row


# --- checking a messy workbook -------------------------------------------------------------


def test_messy_workbook_reports_every_bad_row_exactly_and_writes_nothing(client, auth, town):
    sign_in(auth, "civil_affairs")
    registered = create_child("李已登", village=town[0], birth=years_ago(9))
    birth = years_ago(10, 5, 9)
    with_x = id_ending_in_x(birth)
    shown = with_x[:6] + " " + with_x[6:-1].translate(FULL_WIDTH) + "x"  # full width, a space, lower x
    twin = valid_id_number(birth, 71, gender="female")
    wrong_check = valid_id_number(birth, 72)
    wrong_check = wrong_check[:-1] + ("0" if wrong_check[-1] != "0" else "1")
    other_birth = valid_id_number(years_ago(11, 7, 1), 73)
    old = years_ago(17, 1, 1)
    rows = [
        good_row(shown, 姓名="王小红  ", 居住村="前王庄村 ", 儿童类别="留守儿童、困境·贫困", 性别="女",
                 监护人姓名="王奶奶", 监护人关系="祖母", 监护人电话="138 0000 1111",
                 父亲姓名="王大", 父亲外出务工="是", 母亲姓名="刘二", 母亲外出务工="是"),  # row 2: good
        None,  # row 3: blank
        good_row(twin, 姓名="张甲"),  # row 4: same ID as row 6
        good_row(registered.id_number, 姓名="李已登"),  # row 5: already registered
        good_row(twin, 姓名="张乙"),  # row 6
        good_row(wrong_check, 姓名="赵丙"),  # row 7: wrong check digit
        good_row(valid_id_number(birth, 74), 姓名="钱丁", 居住村="不存在村"),  # row 8: unknown village
        good_row(other_birth, 姓名="孙戊", 出生日期="2015-01-01"),  # row 9: birth date disagrees
        {"姓名": "   ", "住址": "  "},  # row 10: only spaces: blank
        good_row(None, 姓名="周己", 性别="男", 出生日期=old.strftime("%Y.%m.%d"), 儿童类别="留守儿童",
                 监护人姓名="周爷爷", 监护人关系="祖父", 监护人电话="12345"),  # row 11: 16+ left-behind, phone
        good_row(None, 姓名="吴庚", 儿童类别="留守", 学校="不存在小学"),  # row 12: no ID, no birth/gender
    ]
    response = upload(client, workbook(rows))
    body = response.get_data(as_text=True)
    assert response.status_code == 422

    batch = latest_batch()
    assert batch.status == "rejected" and batch.total_rows == 9 and batch.bad_rows == 8
    from blueprints.children.excel import batch_report

    assert batch_report(batch).errors == [
        (4, "身份证号", "与第6行的身份证号重复，同一名儿童只填一行"),
        (5, "身份证号", f"已登记（档案号 {registered.archive_no}），不要重复导入；如需修改请打开该儿童档案"),
        (6, "身份证号", "与第4行的身份证号重复，同一名儿童只填一行"),
        (7, "身份证号", "身份证号校验位不对，请逐位核对（常见原因：抄错一位或把 X 写成其他字符）"),
        (8, "居住村", "没有名为“不存在村”的村，或不在您的工作范围内；请按“可选值”表中的名称填写"),
        (9, "出生日期", f"出生日期与身份证号不一致：身份证号中的出生日期是 {years_ago(11, 7, 1):%Y-%m-%d}，请核对"),
        (11, "儿童类别", f"已满16周岁（{age(old)}岁），不能登记为留守儿童；请核对出生日期或改填其他类别"),
        (11, "监护人电话", "电话“12345”格式不对：手机号是 11 位数字，座机要带区号（如 0530-1234567）"),
        (12, "性别", "没有身份证号时请选择性别"),
        (12, "出生日期", "没有身份证号时请填写出生日期"),
        (12, "学校", "没有名为“不存在小学”的学校，或不在您的工作范围内；请按“可选值”表中的名称填写"),
    ]
    assert "共 9 行：<strong>1</strong> 行可以导入，<strong>8</strong> 行有问题" in body
    assert "<td>7</td><td>身份证号</td><td>身份证号校验位不对" in body
    assert "/confirm" not in body
    assert count(Child) == 1 and count(FamilyMember) == 0  # only the child registered before
    assert count(ChildCategory) == 1
    assert not list(import_dir().iterdir())  # a file that cannot be confirmed is not kept


def test_the_good_row_of_a_messy_file_is_read_as_meant(app, town):
    birth = years_ago(10, 5, 9)
    with_x = id_ending_in_x(birth)
    shown = " " + with_x[:-1].translate(FULL_WIDTH) + "x "
    data = workbook([good_row(shown, 姓名=" 王小红\u3000", 儿童类别="留守儿童、困境·贫困", 关注等级="重点关注",
                              监护人姓名="王奶奶", 监护人关系="祖母", 监护人电话="138 0000 1111",
                              父亲姓名="王大", 父亲电话="0530-1234567", 父亲外出务工="是",
                              母亲姓名="刘二", 母亲外出务工="否", 委托照护人="王奶奶", 照护人关系="祖母",
                              父母确认委托日期="2024/9/1")])
    result = read_survey(BytesIO(data), Reach.town())
    assert result.report.ok, result.report.errors
    row = result.rows[0]
    assert row.values["name"] == "王小红"
    assert row.values["id_number"] == with_x
    assert row.values["birth_date"] == birth and row.values["gender"] == "female"  # from the ID
    assert row.values["residence_village_id"] == town[0].id
    assert row.values["attention_level"] == "key"
    assert row.values["caregiver_confirmed_on"] == date(2024, 9, 1)
    assert row.categories == ["left_behind", "poverty"]
    assert [(m.relation, m.name, m.phone, m.works_away, m.is_guardian) for m in row.family] == [
        ("祖母", "王奶奶", "13800001111", False, True),
        ("父亲", "王大", "0530-1234567", True, False),
        ("母亲", "刘二", None, False, False),
    ]


def test_a_village_outside_reach_reads_as_unknown(app, town):
    east, west, _ = town
    director = create_user("director", villages=[east])
    data = workbook([good_row(valid_id_number(years_ago(8), 5), 居住村="后李楼村")])
    assert read_survey(BytesIO(data), Reach.of(director)).report.errors == [
        (2, "居住村", "没有名为“后李楼村”的村，或不在您的工作范围内；请按“可选值”表中的名称填写"),
    ]
    assert read_survey(BytesIO(data), Reach.town()).report.ok


def test_wrong_file_type_unreadable_file_and_missing_columns(client, auth, town):
    sign_in(auth, "civil_affairs")
    response = upload(client, b"a,b\n1,2\n", "名单.csv")
    assert response.status_code == 422
    assert "“名单.csv”不是 Excel 工作簿（.xlsx）" in response.get_data(as_text=True)

    response = upload(client, b"PK\x03\x04 not really a zip", "名单.xlsx")
    assert response.status_code == 422
    assert "文件不是 Excel 工作簿（.xlsx）。请在 Excel / WPS 中打开，“另存为”.xlsx 格式后再上传" in response.get_data(as_text=True)

    headers = [h for h in TEMPLATE_HEADERS if h not in ("居住村*", "儿童类别*")]
    response = upload(client, workbook([good_row("x")], headers=headers))
    assert response.status_code == 422
    assert "缺少必填的列：居住村、儿童类别。请用系统提供的模板填写" in response.get_data(as_text=True)

    response = upload(client, workbook([None, None]))
    assert "第 1 行列名以下没有填写任何儿童。" in response.get_data(as_text=True)

    response = client.post("/children/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "请选择要上传的 Excel 文件" in response.get_data(as_text=True)
    assert count(Child) == 0 and count(FamilyMember) == 0
    db.session.rollback()
    assert {b.status for b in db.session.scalars(select(ImportBatch))} == {"rejected"}


# --- a clean import, in the request ------------------------------------------------------


def test_clean_workbook_previews_then_imports_on_confirmation(client, auth, town, uploads):
    user = sign_in(auth, "civil_affairs")
    first = valid_id_number(years_ago(10), 11, gender="female")
    second_birth = years_ago(6, 8, 8)
    rows = [
        good_row(first, 姓名="王小红", 儿童类别="留守儿童、困境儿童（家庭贫困）", 学校="拳铺镇中心小学", 年级="四年级",
                 监护人姓名="王奶奶", 监护人关系="祖母", 监护人电话="13800001111",
                 父亲姓名="王大", 父亲电话="13900002222", 父亲外出务工="是",
                 母亲姓名="刘二", 母亲外出务工="是", 委托照护人="王奶奶", 照护人关系="祖母",
                 照护人电话="13800001111", 父母确认委托日期="2024-09-01"),
        good_row(None, 姓名="李小刚", 性别="男", 出生日期=second_birth.strftime("%Y%m%d"), 居住村="后李楼村",
                 儿童类别="困境·残疾", 残疾类别="肢体", 残疾等级="二级", 关注等级="重点关注",
                 监护人姓名="张母", 监护人关系="母亲", 监护人电话="0530-7654321", 母亲姓名="张母"),
    ]
    response = upload(client, workbook(rows))
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert "共 2 行：<strong>2</strong> 行可以导入" in body and "确认导入 2 名儿童" in body
    batch = latest_batch()
    assert batch.status == "previewed" and batch.user_id == user.id
    assert len(list(uploads.iterdir())) == 1  # kept between preview and confirmation
    assert count(Child) == 0

    response = client.post(f"/children/import/{batch.id}/confirm")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/children/import/{batch.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已导入 2 名儿童" in page

    db.session.rollback()
    batch = db.session.get(ImportBatch, batch.id)
    assert (batch.status, batch.total_rows, batch.bad_rows, batch.imported) == ("imported", 2, 0, 2)
    children = {c.name: c for c in db.session.scalars(select(Child))}
    red, gang = children["王小红"], children["李小刚"]
    assert red.id_number == first and red.gender == "female" and red.school.name == "拳铺镇中心小学"
    assert red.caregiver_name == "王奶奶" and red.caregiver_confirmed_on == date(2024, 9, 1)
    assert red.category_codes == ["left_behind", "poverty"]
    assert [(m.relation, m.is_guardian, m.works_away) for m in red.family] == [
        ("祖母", True, False), ("父亲", False, True), ("母亲", False, True)]
    assert gang.id_number is None and gang.birth_date == second_birth and gang.gender == "male"
    assert gang.attention_level == "key" and gang.disability_grade == "二级"
    assert [(m.relation, m.name, m.phone, m.is_guardian) for m in gang.family] == [
        ("母亲", "张母", "0530-7654321", True)]  # the guardian is the mother: one member
    assert all(c.import_batch_id == batch.id and c.created_by_id == user.id for c in children.values())
    assert count(FamilyMember) == 4 and count(ChildCategory) == 3
    history = db.session.scalars(select(ChildChange).where(ChildChange.field == "建档")).all()
    assert len(history) == 2 and all(h.new_value.startswith("导入：") and h.user_id == user.id for h in history)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "children_imported")).all()
    assert len(events) == 1 and events[0].user_id == user.id and "导入 2 名儿童" in events[0].detail
    assert not list(uploads.iterdir())

    response = client.post(f"/children/import/{batch.id}/confirm")  # a second click imports nothing
    assert response.status_code == 303 and count(Child) == 2


def test_confirmation_checks_again(client, auth, town):
    """A child registered between preview and confirmation: nothing is imported."""
    sign_in(auth, "civil_affairs")
    number = valid_id_number(years_ago(9), 21)
    upload(client, workbook([good_row(number), good_row(valid_id_number(years_ago(9), 22), 姓名="第二个")]))
    batch = latest_batch()
    assert batch.status == "previewed"
    create_child("王小红", village=town[0], birth=years_ago(9), id_number=number)

    response = client.post(f"/children/import/{batch.id}/confirm")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已登记（档案号" in page and "没有导入任何儿童" in page
    assert count(Child) == 1 and latest_batch().status == "rejected"


def test_another_users_batch_is_not_found(client, auth, town):
    sign_in(auth, "civil_affairs")
    upload(client, workbook([good_row(valid_id_number(years_ago(9), 23))]))
    batch = latest_batch()
    auth.logout()
    sign_in(auth, "admin")
    assert client.get(f"/children/import/{batch.id}").status_code == 404
    assert client.post(f"/children/import/{batch.id}/confirm").status_code == 404
    assert count(Child) == 0


# --- the template --------------------------------------------------------------------------


def test_template_downloads_and_reimports_once_filled(client, auth, town):
    sign_in(auth, "admin")
    status, headers, data = download(client, "/children/import/template.xlsx")
    assert status == 200
    assert headers["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert "attachment" in headers["Content-Disposition"]

    wb = load_workbook(BytesIO(data))
    ws = wb["儿童名单"]
    assert wb.sheetnames[:2] == ["儿童名单", "可选值"]
    assert [c.value for c in ws[1]] == TEMPLATE_HEADERS
    choices = {col[0].value: [c.value for c in col[1:] if c.value] for col in wb["可选值"].iter_cols()}
    assert choices["村"] == ["前王庄村", "后李楼村"]
    assert choices["学校"] == ["拳铺镇中心小学"]
    assert "困境儿童（家庭贫困）" in choices["儿童类别"] and "困境·贫困" in choices["儿童类别（简称，也可用）"]
    assert choices["关注等级"] == ["重点关注", "一般"] and choices["性别"] == ["男", "女"]
    assert "祖母" in choices["关系"] and "肢体" in choices["残疾类别"] and "二级" in choices["残疾等级"]
    validated = {str(dv.sqref).split(":")[0] for dv in ws.data_validations.dataValidation}
    assert {"C2", "F2", "G2", "I2", "L2", "M2", "S2", "W2"} <= validated  # 性别 村 学校 类别 等级 关系 外出

    values = {"姓名*": "模板娃", "身份证号": valid_id_number(years_ago(7), 31), "居住村*": "后李楼村",
              "儿童类别*": "孤儿", "学校": "拳铺镇中心小学", "监护人姓名": "模板爷爷", "监护人关系": "祖父"}
    for i, header in enumerate(TEMPLATE_HEADERS, start=1):
        if header in values:
            ws.cell(row=2, column=i, value=values[header])
    filled = BytesIO()
    wb.save(filled)

    response = upload(client, filled.getvalue(), "模板.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "确认导入 1 名儿童" in response.get_data(as_text=True)
    client.post(f"/children/import/{latest_batch().id}/confirm")
    child = db.session.scalar(select(Child))
    assert child.name == "模板娃" and child.guardian.name == "模板爷爷"


# --- export --------------------------------------------------------------------------------


def test_export_columns_masking_and_reach(client, auth, town):
    east, west, school = town
    guardian_id = valid_id_number(date(1960, 1, 1), 41)
    pupil = create_child("王小红", village=east, school=school, birth=years_ago(10), categories=["left_behind", "poverty"],
                         family=[FamilyInput(relation="祖母", name="王奶奶", id_number=guardian_id, phone="13800001111",
                                             is_guardian=True),
                                 FamilyInput(relation="父亲", name="王大", works_away=True)])
    home = create_child("张小东", village=east, birth=years_ago(8))
    create_child("李小西", village=west, birth=years_ago(12), categories=["orphan"])

    sign_in(auth, "civil_affairs")
    status, headers, data = download(client, "/children/export.xlsx")
    assert status == 200 and "attachment" in headers["Content-Disposition"]
    rows = sheet_rows(data)
    assert list(rows[0]) == EXPORT_HEADERS
    by_name = {row[1]: dict(zip(EXPORT_HEADERS, row)) for row in rows[1:]}
    assert set(by_name) == {"王小红", "张小东", "李小西"}
    red = by_name["王小红"]
    assert red["档案号"] == pupil.archive_no and red["身份证号"] == pupil.id_number
    assert red["监护人身份证号"] == guardian_id and red["监护人姓名"] == "王奶奶" and red["监护人关系"] == "祖母"
    assert red["儿童类别"] == "留守儿童、困境儿童（家庭贫困）" and red["居住村"] == "前王庄村"
    assert red["学校"] == "拳铺镇中心小学" and red["父亲外出务工"] == "是" and red["母亲姓名"] is None
    assert red["出生日期"].date() == years_ago(10) and red["状态"] == "在册"

    status, _, data = download(client, f"/children/export.xlsx?village={west.id}")
    assert [row[1] for row in sheet_rows(data)[1:]] == ["李小西"]
    auth.logout()

    sign_in(auth, "school", school=school)  # no children:read_ids: masked, only the school's pupils
    rows = sheet_rows(download(client, "/children/export.xlsx")[2])
    assert [(row[1], row[2], row[EXPORT_HEADERS.index("监护人身份证号")]) for row in rows[1:]] == [
        ("王小红", mask_id_number(pupil.id_number), mask_id_number(guardian_id))]
    auth.logout()

    sign_in(auth, "director", villages=[east])  # only the director's village
    rows = sheet_rows(download(client, "/children/export.xlsx")[2])
    assert {row[1] for row in rows[1:]} == {"王小红", "张小东"}
    assert {row[2] for row in rows[1:]} == {pupil.id_number, home.id_number}
    auth.logout()

    db.session.rollback()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "children_exported")
                                .order_by(AuditEvent.id)).all()
    assert [e.detail for e in events] == [
        "导出 3 名儿童（状态：在册和已登记）",
        "导出 1 名儿童（村：后李楼村，状态：在册和已登记）",
        "导出 1 名儿童（状态：在册和已登记）",
        "导出 2 名儿童（状态：在册和已登记）",
    ]


def test_export_needs_the_grant(client, auth, town):
    sign_in(auth, "department")
    assert client.get("/children/export.xlsx").status_code == 403


# --- who may import ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["director", "school", "supervisor", "department"])
def test_only_import_roles_may_import(client, auth, town, role):
    east, _, school = town
    sign_in(auth, role, **({"villages": [east]} if role == "director" else {"school": school} if role == "school" else {}))
    assert client.get("/children/import").status_code == 403
    assert upload(client, workbook([good_row(valid_id_number(years_ago(9), 51))])).status_code == 403
    assert client.get("/children/import/template.xlsx").status_code == 403
    assert count(ImportBatch) == 0 and count(Child) == 0


def test_import_page_for_civil_affairs(client, auth, town):
    sign_in(auth, "civil_affairs")
    body = client.get("/children/import").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in body and 'name="csrf_token"' in body
    assert "/children/import/template.xlsx" in body


# --- command line --------------------------------------------------------------------------


@pytest.fixture
def cli(app, runner):
    assert "import-children" in app.cli.commands  # registered by create_app
    return runner


def test_cli_reports_bad_rows_and_writes_nothing(cli, town, tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(workbook([good_row(valid_id_number(years_ago(9), 61)),
                               good_row(None, 姓名="无号"), good_row("123", 居住村="外镇村")]))
    result = cli.invoke(args=["import-children", str(path), "--commit"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "第3行 性别: 没有身份证号时请选择性别",
        "第3行 出生日期: 没有身份证号时请填写出生日期",
        "第4行 身份证号: 身份证号应为 18 位，现在是 3 位",
        "第4行 居住村: 没有名为“外镇村”的村，或不在您的工作范围内；请按“可选值”表中的名称填写",
    ]
    assert count(Child) == 0 and count(FamilyMember) == 0
    assert latest_batch().status == "rejected"


def test_cli_checks_then_imports_with_commit(cli, town, tmp_path):
    path = tmp_path / "good.xlsx"
    path.write_bytes(workbook([good_row(valid_id_number(years_ago(9), 62), 监护人姓名="王奶奶", 监护人关系="祖母"),
                               good_row(valid_id_number(years_ago(9), 63), 姓名="第二个")]))
    result = cli.invoke(args=["import-children", str(path)])
    assert result.exit_code == 0 and "共 2 行，全部通过检查" in result.output
    assert count(Child) == 0

    result = cli.invoke(args=["import-children", str(path), "--commit"])
    assert result.exit_code == 0, result.output
    assert "已导入 2 名儿童" in result.output
    assert count(Child) == 2 and count(FamilyMember) == 1
    assert latest_batch().status == "imported"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "children_imported")) == 1

    result = cli.invoke(args=["import-children", str(path), "--commit"])  # the same file again
    assert result.exit_code == 1 and "已登记（档案号" in result.output and count(Child) == 2


def test_cli_writes_the_template(cli, town, tmp_path):
    path = tmp_path / "模板.xlsx"
    result = cli.invoke(args=["import-template", "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert list(sheet_rows(path.read_bytes())[0]) == TEMPLATE_HEADERS
    assert ("前王庄村",) in [row[:1] for row in sheet_rows(path.read_bytes(), "可选值")]


# --- a big file: a background job -----------------------------------------------------------


def test_big_file_imports_in_the_background_with_progress(client, auth, town, uploads):
    user = sign_in(auth, "civil_affairs")
    rows = [good_row(valid_id_number(years_ago(5 + i % 10, 1 + i % 12, 1 + i % 28), i), 姓名=f"孩子{i}",
                     监护人姓名="外婆", 监护人关系="外祖母")
            for i in range(1, 521)]
    response = upload(client, workbook(rows))
    assert response.status_code == 200 and "确认导入 520 名儿童" in response.get_data(as_text=True)
    batch = latest_batch()

    response = client.post(f"/children/import/{batch.id}/confirm")
    assert response.status_code == 303
    job_url = response.headers["Location"]
    assert f"/children/import/{batch.id}/job/" in job_url
    page = client.get(job_url).get_data(as_text=True)
    assert page.lstrip().startswith("<!doctype html>") and 'id="import-job"' in page

    fragment = ""
    for _ in range(600):  # at most a minute
        fragment = client.get(job_url, headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "<html" not in fragment
        if 'hx-trigger="every 1s"' not in fragment:
            break
        assert "<progress" in fragment
        time.sleep(0.1)
    assert "已导入 520 名儿童" in fragment, fragment

    db.session.rollback()
    job = db.session.scalar(select(Job))
    assert job.status == "done" and job.user_id == user.id
    assert count(Child) == 520 and count(FamilyMember) == 520
    batch = db.session.get(ImportBatch, batch.id)
    assert batch.status == "imported" and batch.imported == 520
    assert db.session.scalar(select(func.count()).select_from(Child).where(Child.created_by_id == user.id)) == 520
    assert db.session.scalar(select(func.count()).select_from(ChildChange)
                             .where(ChildChange.user_id == user.id)) == 520
    assert not list(uploads.iterdir())
