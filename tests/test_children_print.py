"""The printed archive (一人一档): what it shows, ID masking by grant, reach, audit, glyphs, the
batch print in a real background thread, the command line and the url fetcher."""
from __future__ import annotations

import re
import time
import unicodedata
from datetime import date
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import event, select

from blueprints.children import printing, services
from blueprints.core.disclosure import POLICY, Disclosure, full_disclosure, mask_id_number
from blueprints.children.services import FamilyInput
from blueprints.core import pdf
from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from extensions import db
from tests.factories import create_child, create_school, create_user, create_village, valid_id_number

SECTIONS = ["基本信息", "健康与残疾", "家庭成员", "委托照护", "亲情联系", "救助保障", "变更记录"]
# Every label the archive prints, plus a less common name: each must come back out of the PDF.
CHINESE = SECTIONS + ["留守和困境儿童档案", "档案号", "打印人", "内部资料", "注意保密", "姓名", "性别", "出生日期",
                      "年龄", "民族", "身份证号", "居住村", "户籍村", "就读学校", "年级", "关注等级", "重点关注", "状态",
                      "在册", "兜底监护", "儿童类别", "留守儿童", "困境儿童（家庭贫困）", "健康状况", "关系", "电话",
                      "工作地点", "外出", "务工", "监护能力", "监护能力不足", "委托照护人", "父母确认日期", "联系人",
                      "视频", "基本生活保障", "县民政局", "龚鑫淼", "东洼村", "外祖母", "浙江省宁波市"]


def pdf_text(data: bytes) -> str:
    reader = PdfReader(BytesIO(data))
    return unicodedata.normalize("NFKC", "\n".join(page.extract_text() for page in reader.pages))


def pdf_pages(data: bytes) -> int:
    return len(PdfReader(BytesIO(data)).pages)


def pdf_fonts(data: bytes) -> set[str]:
    fonts = set()
    for page in PdfReader(BytesIO(data)).pages:
        for font in page["/Resources"].get_object().get("/Font", {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return fonts


@pytest.fixture
def town(app):
    """Two villages; in 东洼村 a child with everything an archive shows; one user per kind of reach."""
    east, west = create_village("东洼村"), create_village("西洼村")
    school = create_school("东洼小学", [east])
    father_id = valid_id_number(date(1985, 5, 6), 7)
    child = create_child(
        "龚鑫淼", village=east, school=school, categories=["left_behind", "poverty"], attention="key",
        family=[FamilyInput("父亲", "龚建国", "13912345678", father_id, "建筑工人", "浙江省宁波市北仑区", True,
                            "limited", False),
                FamilyInput("外祖母", "赵桂兰", "13712345678", None, "务农", "本村", False, "full", True)],
        address="东洼村三组 18 号", grade="三年级", health="良好", caregiver_name="赵桂兰", caregiver_relation="外祖母",
        caregiver_phone="13712345678", caregiver_confirmed_on=date(2024, 9, 1),
    )
    old_id = child.id_number
    services.add_parent_contact(child, date(2025, 1, 3), "父亲龚建国", "video", "问学习", actor=None)
    services.add_parent_contact(child, date(2025, 2, 9), "父亲龚建国", "phone", "最新的一次", actor=None)
    services.add_benefit(child, "basic_living", date(2024, 1, 1), Decimal("1350"), "每月", source="县民政局", actor=None)
    # a region no factory child has: the serial cannot meet the factory's counter
    services.update_child(child, {"id_number": valid_id_number(date(2015, 3, 2), 77, region="371702")}, actor=None)
    db.session.commit()
    return {
        "east": east, "west": west, "child": child, "father_id": father_id, "old_id": old_id,
        "civil": create_user("civil_affairs", username="minzheng", display_name="民政王"),
        "school": create_user("school", username="xuexiao", school=school, display_name="学校李"),
        "west_director": create_user("director", username="zhuren_west", villages=[west]),
        "department": create_user("department", username="bumen"),
    }


def get_archive(client, child) -> bytes:
    response = client.get(f"/children/{child.id}/archive.pdf")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f"inline; filename=archive-{child.archive_no}.pdf"
    return response.data


def test_archive_shows_every_section_header_footer_and_full_ids_for_civil_affairs(app, town, client, auth):
    child = town["child"]
    auth.login("minzheng")
    data = get_archive(client, child)
    text = pdf_text(data)
    assert "龚鑫淼" in text
    for title in SECTIONS:
        assert title in text
    assert app.config["ORG_NAME"] in text and "留守和困境儿童档案" in text
    pages = pdf_pages(data)
    assert text.count(f"档案号 {child.archive_no}") == pages + 1  # every page's header, and under the name
    assert len(re.findall(r"打印人 民政王 \d{4}-\d{2}-\d{2} \d{2}:\d{2}", text)) == pages  # every footer
    assert "第 1 / " in text and f"第 {pages} / {pages} 页" in text
    assert child.id_number in text and town["father_id"] in text and town["old_id"] in text
    assert f"{child.age_on(local_today())} 岁" in text
    # Contacts newest first; labels from the models' dictionaries.
    assert text.index("最新的一次") < text.index("问学习")
    assert "留守儿童、困境儿童(家庭贫困)" in text and "监护能力不足" in text and "基本生活保障" in text


def test_school_user_gets_masked_id_numbers_everywhere(town, client, auth):
    child = town["child"]
    auth.login("xuexiao")
    text = pdf_text(get_archive(client, child))
    assert "龚鑫淼" in text and "打印人 学校李" in text
    for number in (child.id_number, town["father_id"], town["old_id"]):
        assert number not in text
        assert mask_id_number(number) in text  # the child's, the father's, and the history's old value
    assert "身份证号和残疾证号不显示号码" in text


def test_no_glyph_is_missing(town, client, auth):
    auth.login("minzheng")
    data = get_archive(client, town["child"])
    fonts = pdf_fonts(data)
    assert fonts and all(re.search(r"\+Noto-(Sans|Serif)-CJK-SC", f) for f in fonts), fonts
    text = pdf_text(data)
    assert "\ufffd" not in text and ".notdef" not in text
    missing = [word for word in CHINESE if unicodedata.normalize("NFKC", word) not in text]
    assert not missing


def test_empty_sections_say_none(town, client, auth):
    bare = create_child("田甜", village=town["east"], family=[])
    auth.login("minzheng")
    text = pdf_text(get_archive(client, bare))
    assert text.count("暂无") == 10  # health, family, caregiver, contacts, visits, pairings, benefits, screenings, guardianship assessments, care plan (history has 建档)
    assert "建档" in text


def test_exited_child_archive_shows_the_exit_note(town, client, auth):
    child = create_child("田甜", village=town["east"], family=[])
    services.exit_child(child, "moved_away", date(2026, 3, 2), "随父母迁往江苏苏州", actor=None)
    db.session.commit()
    auth.login("minzheng")
    text = unicodedata.normalize("NFKC", pdf_text(get_archive(client, child)))
    assert "退出说明" in text and "随父母迁往江苏苏州" in text and "2026-03-02" in text


def test_reach_of_the_archive(town, client, auth):
    url = f"/children/{town['child'].id}/archive.pdf"
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    auth.login("zhuren_west")
    assert client.get(url).status_code == 404
    auth.logout()
    auth.login("bumen")
    assert client.get(url).status_code == 403
    auth.logout()
    auth.login("minzheng")
    assert client.get("/children/999999/archive.pdf").status_code == 404


def test_printing_writes_an_audit_event(town, client, auth):
    child = town["child"]
    auth.login("xuexiao")
    get_archive(client, child)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "archive_printed")).all()
    assert len(events) == 1
    event_ = events[0]
    assert (event_.username, event_.object_type, event_.object_id) == ("xuexiao", "children", str(child.id))
    assert child.archive_no in event_.detail and "已遮挡" in event_.detail


def test_archive_loads_with_a_fixed_number_of_queries(town):
    statements = []

    def count(*args):
        statements.append(args[2])

    small = create_child("田甜", village=town["west"], family=[])
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        printing.load_children([small.id])
        one = len(statements)
        statements.clear()
        children = printing.load_children([town["child"].id, small.id])
        for c in children:
            printing.archive_context(c, printing.Printer("甲", Disclosure(POLICY["school"])), "拳铺镇")
        two = len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert one == two
    assert [c.name for c in children] == ["龚鑫淼", "田甜"]  # in the order asked for


def wait_for_job(client, job_id: int) -> str:
    """Poll the progress fragment (as htmx does) until the job is finished; bounded."""
    for _ in range(240):
        body = client.get(f"/children/print/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "<html" not in body
        if "下载 PDF" in body or "任务出错" in body:
            return body
        assert 'hx-trigger="every 1s"' in body and "<progress" in body
        time.sleep(0.25)
    raise AssertionError("the print job did not finish in 60 s")


@pytest.fixture
def job_files(app):
    """Job results go to the test app's own instance folder (see conftest)."""
    return Path(app.instance_path) / "jobs"


def test_batch_print_of_a_village_in_the_background(app, town, client, auth, job_files):
    names = ["龚鑫淼", "田甜", "欧阳晓"]
    for name in names[1:]:
        create_child(name, village=town["east"])
    create_child("西村娃", village=town["west"])
    create_user("civil_affairs", username="minzheng2")
    auth.login("minzheng")

    page = client.get("/children/print")
    assert page.status_code == 200 and "东洼村" in page.get_data(as_text=True)
    response = client.post("/children/print", data={"village": town["east"].id, "status": "current"})
    assert response.status_code == 303
    job_id = int(re.fullmatch(r"/children/print/(\d+)", response.headers["Location"]).group(1))
    full_page = client.get(f"/children/print/{job_id}").get_data(as_text=True)
    assert full_page.lstrip().startswith("<!doctype html>") and 'id="print-job"' in full_page

    body = wait_for_job(client, job_id)
    assert "下载 PDF" in body and "hx-trigger" not in body and "3 / 3" in body
    assert (job_files / f"job-{job_id}.pdf").is_file()
    with client.get(f"/children/print/{job_id}/download") as download:
        assert download.status_code == 200 and download.mimetype == "application/pdf"
        data = download.data
    text = pdf_text(data)
    assert pdf_pages(data) >= 3
    for name in names:
        assert name in text
    assert "西村娃" not in text
    assert text.count("第 1 /") == 3  # each archive numbers its own pages
    assert town["child"].id_number in text  # civil affairs may see ID numbers

    batch = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "archive_printed")).all()
    assert len(batch) == 1 and "批量打印 3 份" in batch[0].detail and batch[0].username == "minzheng"

    auth.logout()
    auth.login("minzheng2")
    assert client.get(f"/children/print/{job_id}").status_code == 404
    with client.get(f"/children/print/{job_id}/download") as other:
        assert other.status_code == 404


def test_batch_print_is_limited_to_reach_and_grant(town, client, auth, job_files):
    auth.login("xuexiao")  # reaches the children of its school only
    create_child("外校娃", village=town["east"])
    response = client.post("/children/print", data={"village": town["east"].id})
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    wait_for_job(client, job_id)
    with client.get(f"/children/print/{job_id}/download") as download:
        text = pdf_text(download.data)
    assert "龚鑫淼" in text and "外校娃" not in text
    assert town["child"].id_number not in text and mask_id_number(town["child"].id_number) in text

    response = client.post("/children/print", data={"village": town["west"].id}, follow_redirects=True)
    assert "没有符合条件的儿童" in response.get_data(as_text=True)
    auth.logout()
    auth.login("bumen")
    assert client.post("/children/print", data={"village": town["east"].id}).status_code == 403
    assert client.get("/children/print").status_code == 403


def test_many_archives_in_worker_processes_keep_their_own_page_numbers(town):
    """The path a big batch takes: parts laid out in spawned worker processes, joined with pypdf."""
    names = ["龚鑫淼", "田甜", "欧阳晓"]
    ids = [town["child"].id] + [create_child(name, village=town["east"]).id for name in names[1:]]
    reported = []
    printer = printing.Printer("民政王", full_disclosure())
    contexts = printing.with_sections([printing.archive_context(c, printer, "拳铺镇")
                                       for c in printing.load_children(ids)], ids, printer)
    data = pdf.render_pdf_many(printing.TEMPLATE, contexts, reported.append, processes=2, part_size=2)
    text = pdf_text(data)
    assert reported == [1, 2, 3]
    assert [text.index(name) for name in names] == sorted(text.index(name) for name in names)  # in order
    assert text.count("第 1 /") == 3 and pdf_pages(data) >= 3
    assert all(re.search(r"\+Noto-(Sans|Serif)-CJK-SC", f) for f in pdf_fonts(data))


@pytest.fixture
def print_cli(app):
    assert "print-archives" in app.cli.commands  # registered by create_app


def test_cli_prints_a_village(town, runner, print_cli, tmp_path):
    create_child("田甜", village=town["east"])
    out = tmp_path / "东洼村.pdf"
    result = runner.invoke(args=["print-archives", "--village", "东洼村", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "已打印 东洼村 2 份" in result.output
    text = pdf_text(out.read_bytes())
    assert "龚鑫淼" in text and "田甜" in text and "打印人 命令行" in text
    assert town["child"].id_number in text  # an operator on the server: unmasked
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "archive_printed")).user_id is None


def test_cli_fails_for_an_unknown_village(app, runner, print_cli, tmp_path):
    result = runner.invoke(args=["print-archives", "--village", "没有这个村", "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1
    assert "没有名为“没有这个村”的村" in result.output
    assert not (tmp_path / "x.pdf").exists()


def test_url_fetcher_reads_static_files_and_print_css_only(app):
    fetcher = pdf.url_fetcher()
    static = Path(app.static_folder)
    icon = fetcher.fetch((static / "icons" / "icon-192.png").as_uri())
    assert icon.content_type == "image/png" and icon.read()[:4] == b"\x89PNG"
    icon.close()
    css = fetcher.fetch((Path(app.root_path) / "templates" / "print" / "print.css").as_uri())
    assert css.content_type == "text/css"
    css.close()
    for url in ["http://127.0.0.1:9/x.png", "https://example.com/x.css", "file:///etc/passwd",
                (static / ".." / "config.py").as_uri(), (Path(app.root_path) / "templates" / "base.html").as_uri(),
                "data:text/css,body{}"]:
        with pytest.raises(pdf.RefusedResource):
            fetcher.fetch(url)


def test_a_document_asking_for_an_outside_resource_is_refused(app):
    with pytest.raises(pdf.RefusedResource):
        pdf.layout_html('<p>x</p><img src="http://127.0.0.1:9/tracker.png">')
    with pytest.raises(ValueError):
        pdf.render_pdf("base.html")  # only templates/print/* are printed


def test_archive_includes_visits_for_those_who_may_read_them(app, town, client, auth):
    """Issue 4: the archive includes the visits; a school, which may not read visit records, gets
    the archive without them."""
    import uuid as uuid_module

    child = create_child("田野", village=town["east"], school=town["school"].school)
    director = create_user("director", username="zhuren_print", villages=[town["east"]], display_name="走访人甲")
    auth.login(director.username)
    response = client.post("/api/v1/visits", json={
        "client_uuid": str(uuid_module.uuid4()), "child_id": child.id, "visited_on": local_today().isoformat(),
        "kind": "home", "hazard_waters": True, "needs": ["psychological"], "follow_up_needed": True,
        "follow_up_note": "联系学校心理老师"})
    assert response.status_code == 201
    with client.get(f"/children/{child.id}/archive.pdf") as r:
        text = pdf_text(r.data)
    assert "走访记录" in text and "走访人甲" in text and "附近有危险水域" in text and "联系学校心理" in text
    auth.logout()
    auth.login(town["school"].username)
    with client.get(f"/children/{child.id}/archive.pdf") as r:
        text = pdf_text(r.data)
    assert "走访记录" not in text and "联系学校心理" not in text
