"""Imports that cannot take the server down (issue 8, item 8): a workbook with a million blank
rows, a zip bomb, a file that is no workbook, too many children — each refused quickly, in Chinese,
with nothing left in the upload folder; the check holds no write lock; uploads are kept 0600."""
from __future__ import annotations

import io
import stat
import time
import zipfile
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from blueprints.children import excel_routes
from blueprints.children.excel import read_survey as real_read_survey
from blueprints.children.models import Child, ImportBatch
from blueprints.places.models import Village
from extensions import db
from tests.factories import valid_id_number
from tests.test_children_excel import good_row, latest_batch, sign_in, town, upload, uploads, workbook  # noqa: F401

LIMIT_MESSAGE = "一个文件最多 5000 名儿童。请删去表格下方多余的空行，或把名单分成几个文件上传。"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="儿童名单" sheetId="1" r:id="rId1"/></sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="worksheets/sheet1.xml" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/></Relationships>')


def handmade_xlsx(*, dimension: str | None, blank_rows: int = 0, last_row: int | None = None) -> bytes:
    """A workbook written by hand: the header row, then `blank_rows` empty <row> elements, then
    (with `last_row`) one filled row that far down, the sheet declaring `dimension`."""
    header = "".join(f'<c r="{col}1" t="inlineStr"><is><t>{name}</t></is></c>'
                     for col, name in zip("ABC", ("姓名*", "居住村*", "儿童类别*")))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _RELS)
        package.writestr("xl/workbook.xml", _WORKBOOK)
        package.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with package.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8"?>'
                        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(f'<sheetData><row r="1">{header}</row>'.encode())
            for start in range(2, blank_rows + 2, 100_000):
                sheet.write("".join(f'<row r="{n}"/>' for n in range(start, min(start + 100_000, blank_rows + 2))).encode())
            if last_row:
                sheet.write(f'<row r="{last_row}"><c r="A{last_row}" t="inlineStr"><is><t>王小红</t></is></c></row>'.encode())
            sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def files_in(folder) -> list[str]:
    """Every file, partly written ".….partial" ones too (the fixture removed the folder itself)."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def refused(client, data: bytes, filename: str = "摸底排查.xlsx") -> tuple[str, float]:
    # The body encoded in memory: the test client would leave a big one in an unclosed temporary file.
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(data), filename)})
    started = time.monotonic()
    response = client.post("/children/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    elapsed = time.monotonic() - started
    assert response.status_code == 422
    return response.get_data(as_text=True), elapsed


@pytest.mark.parametrize("shape", [
    dict(dimension="A1:AC1048576"),  # declared: stopped before a row is read
    dict(dimension=None, blank_rows=1_000_000),  # a million empty <row> elements, no size declared
    dict(dimension="A1:C1", blank_rows=1_000_000),  # the same under a wrong, small declared size
    dict(dimension="A1:C1", last_row=1_048_576),  # one cell far down: the reader pads the gap
])
def test_a_million_blank_rows_are_refused_quickly_and_leave_no_file(client, auth, town, uploads, shape):
    data = handmade_xlsx(**shape)
    assert len(data) < 3_000_000  # small on the wire; the damage was in the unpacking
    sign_in(auth, "civil_affairs")
    page, elapsed = refused(client, data)
    assert LIMIT_MESSAGE in page
    assert elapsed < 5  # the worker used to be killed at 30 s
    assert files_in(uploads) == []
    assert latest_batch().status == "rejected" and db.session.scalar(select(func.count(Child.id))) == 0


def test_a_zip_bomb_is_refused_before_it_is_unpacked(client, auth, town, uploads):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        with zipfile.ZipFile(io.BytesIO(workbook([good_row(valid_id_number(date(2015, 3, 2), 3))]))) as survey:
            for member in survey.infolist():
                package.writestr(member, survey.read(member))
        package.writestr("xl/media/image1.png", b"\0" * (60 * 1024 * 1024))  # 60 MB unpacked, ~60 KB packed
    assert len(buffer.getvalue()) < 200_000
    sign_in(auth, "civil_affairs")
    page, elapsed = refused(client, buffer.getvalue())
    assert "文件解压后超过 50MB，不像是一份摸底排查表。请删去多余的工作表、图片和空行，或把名单分成几个文件上传。" in page
    assert elapsed < 5 and files_in(uploads) == []


@pytest.mark.parametrize("data", [
    b"just some text, not a workbook",
    b"PK\x03\x04 a broken zip",
    b"",
    None,  # a zip, but a Word document renamed
])
def test_a_file_that_is_no_xlsx_is_refused_with_a_clear_message(client, auth, town, uploads, data):
    if data is None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as package:
            package.writestr("word/document.xml", "<w:document/>")
        data = buffer.getvalue()
    sign_in(auth, "civil_affairs")
    page, _ = refused(client, data, "名单.xlsx")
    assert "文件不是 Excel 工作簿（.xlsx）。请在 Excel / WPS 中打开，“另存为”.xlsx 格式后再上传" in page
    assert files_in(uploads) == []


def test_a_workbook_over_the_row_limit_is_refused_naming_the_limit(client, auth, town, uploads, monkeypatch):
    monkeypatch.setitem(client.application.config, "IMPORT_MAX_ROWS", 3)
    sign_in(auth, "civil_affairs")
    assert "一个文件最多 3 名儿童；名单更长时请分成几个文件上传。" in client.get("/children/import").get_data(as_text=True)
    with client.get("/children/import/template.xlsx") as response:
        notes = load_workbook(io.BytesIO(response.get_data()), read_only=True)["填写说明"]
        assert ("10. 一个文件最多 3 名儿童；名单更长时请分成几个文件上传。",) in list(notes.iter_rows(values_only=True))
    rows = [good_row(valid_id_number(date(2015, 3, 2), serial)) for serial in range(10, 14)]
    page, _ = refused(client, workbook(rows))
    assert "一个文件最多 3 名儿童，请把名单分成几个文件上传。" in page
    assert files_in(uploads) == []
    assert upload(client, workbook(rows[:3])).status_code == 200  # at the limit: accepted


def test_the_check_holds_no_write_lock_and_writes_no_file(client, auth, town, uploads, monkeypatch):
    """While a file is checked (upload and confirmation), another connection can write at once, and
    the file is not on disk yet. On SQLite a write transaction open during the check would make
    that write wait and fail with `database is locked`."""
    seen = []

    def checking(source, reach, **kwargs):
        result = real_read_survey(source, reach, **kwargs)
        with db.engine.connect() as other:
            if db.engine.dialect.name == "sqlite":
                other.exec_driver_sql("PRAGMA busy_timeout=200")  # fail fast rather than after 5 s
            other.execute(insert(Village).values(name=f"并发写入{len(seen)}村", active=True))
            other.commit()
        seen.append(files_in(uploads))
        return result

    monkeypatch.setattr(excel_routes, "read_survey", checking)
    sign_in(auth, "civil_affairs")
    assert upload(client, workbook([good_row(valid_id_number(date(2015, 3, 2), 21))])).status_code == 200
    batch = latest_batch()
    assert batch.status == "previewed"
    assert client.post(f"/children/import/{batch.id}/confirm").status_code == 303
    assert latest_batch().status == "imported"
    assert seen[0] == []  # the upload was checked before it was saved
    assert len(seen) == 2 and db.session.scalar(select(func.count(Village.id)).where(Village.name.like("并发写入%"))) == 2


def test_a_kept_upload_is_private_and_a_failed_save_leaves_nothing(client, auth, town, uploads, monkeypatch):
    sign_in(auth, "civil_affairs")
    assert upload(client, workbook([good_row(valid_id_number(date(2015, 3, 2), 31))])).status_code == 200
    [name] = files_in(uploads)
    assert stat.S_IMODE((uploads / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(uploads.stat().st_mode) == 0o700
    (uploads / name).unlink()

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(excel_routes, "record_report", broken)  # fails after the file was written
    with pytest.raises(RuntimeError):
        upload(client, workbook([good_row(valid_id_number(date(2015, 3, 2), 32))]))
    assert files_in(uploads) == []
    db.session.rollback()
    assert db.session.scalar(select(func.count(ImportBatch.id))) == 1  # only the first upload's batch
