"""The pairing record (结对帮扶记录表): what it shows and what it never shows of the child, pages,
reach, audit; the batch for a programme and a year in the background; the command line."""
from __future__ import annotations

import re
import time
import unicodedata
import uuid
from datetime import date, timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import event, func, select

from blueprints.children.services import FamilyInput
from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from blueprints.core.jobs import Job
from blueprints.children.printing import Printer
from blueprints.core.disclosure import full_disclosure
from blueprints.volunteers import print_routes, printing, tasks
from blueprints.volunteers.models import Organisation, PairingActivity
from extensions import db
from tests.factories import (
    create_child,
    create_pairing,
    create_school,
    create_user,
    create_village,
    create_volunteer,
)

SIGNATURES = ["志愿者签字", "儿童监护人签字", "儿童主任签字"]


def pdf_text(data: bytes) -> str:
    reader = PdfReader(BytesIO(data))
    return unicodedata.normalize("NFKC", "\n".join(page.extract_text() for page in reader.pages))


def page_texts(data: bytes) -> list[str]:
    return [unicodedata.normalize("NFKC", page.extract_text()) for page in PdfReader(BytesIO(data)).pages]


def pdf_fonts(data: bytes) -> set[str]:
    fonts = set()
    for page in PdfReader(BytesIO(data)).pages:
        for font in page["/Resources"].get_object().get("/Font", {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return fonts


def log(pairing, on: date, minutes: int, kind: str, note: str) -> PairingActivity:
    activity = PairingActivity(client_uuid=str(uuid.uuid4()), pairing_id=pairing.id, child_id=pairing.child_id,
                               recorded_by_id=pairing.volunteer.user_id, done_on=on, minutes=minutes, kind=kind,
                               note=note, mood="开心", pass_on="奶奶腿脚不便")
    db.session.add(activity)
    db.session.commit()
    return activity


ACTIVITIES = [  # (date, minutes, kind, what was done)
    (date(2026, 1, 18), 60, "companionship", "一起读绘本《小熊的家》"),
    (date(2026, 2, 7), 90, "tutoring", "辅导数学两位数乘法"),
    (date(2026, 2, 21), 30, "phone", "电话聊寒假作业"),
    (date(2026, 3, 14), 45, "visit", "上门帮忙整理书桌"),
]


@pytest.fixture
def town(app):
    """东洼村's child 龚鑫淼 paired with 爱心妈妈 周桂兰 from January to April 2026 (four
    activities); one user of every role that matters."""
    east, west = create_village("东洼村"), create_village("西洼村")
    school = create_school("东洼小学", [east])
    child = create_child(
        "龚鑫淼", village=east, school=school, birth=date(2016, 5, 6), address="东洼村三组 18 号",
        family=[FamilyInput("父亲", "龚建国", "13912345678", None, "建筑工人", "浙江省宁波市", True, "limited", False),
                FamilyInput("外祖母", "赵桂兰", "13712345678", None, "务农", "本村", False, "full", True)],
    )
    site = Organisation(name="拳铺镇妇联爱心服务站", kind="service_site")
    db.session.add(site)
    volunteer_user = create_user("volunteer", username="aixinmama", volunteer_kind="caring_mother",
                                 display_name="周桂兰")
    volunteer = create_volunteer(volunteer_user, name="周桂兰", organisation=site, village=east)
    pairing = create_pairing(child, volunteer, programme="caring_mother", started_on=date(2026, 1, 5),
                             planned_end_on=date(2026, 12, 31), ended_on=date(2026, 4, 20), end_reason="goals_met",
                             goals="每周陪伴阅读，帮助孩子养成读书习惯", needs=("education", "psychological"),
                             director_remarks="孩子开朗了许多，愿意主动说话。")
    for on, minutes, kind, note in ACTIVITIES:
        log(pairing, on, minutes, kind, note)
    return {
        "east": east, "west": west, "school": school, "child": child, "volunteer": volunteer, "pairing": pairing,
        "civil": create_user("civil_affairs", username="minzheng", display_name="民政王"),
        "director": create_user("director", username="zhuren_east", villages=[east], display_name="张秀英"),
        "west_director": create_user("director", username="zhuren_west", villages=[west]),
        "school_user": create_user("school", username="xuexiao", school=school),
        "police": create_user("department", username="paichusuo", department_code="police"),
        "youth": create_user("department", username="tuanwei", department_code="youth"),
    }


def get_record(client, pairing) -> bytes:
    response = client.get(f"/pairings/{pairing.id}/record.pdf")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == f"inline; filename=pairing-{pairing.id}.pdf"
    assert response.headers["Cache-Control"] == "no-store"
    return response.data


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_record_shows_the_pairing_every_activity_the_months_and_signature_lines(app, town, client, auth):
    pairing, child = town["pairing"], town["child"]
    auth.login("minzheng")
    data = get_record(client, pairing)
    text = pdf_text(data)
    flat = squeeze(text)
    # The header: programme, child (name, age, village, school), volunteer and organisation, dates, goals, needs.
    for shown in ["结对帮扶记录表", "爱心妈妈结对", "龚鑫淼", f"{child.age_on(local_today())} 岁", "东洼村", "东洼小学",
                  "周桂兰(爱心妈妈)", "拳铺镇妇联爱心服务站", "2026-01-05", "2026-12-31", "2026-04-20(帮扶目标已实现)",
                  "每月 2 次", "每周陪伴阅读,帮助孩子养成读书习惯", "教育帮扶、心理疏导", "孩子开朗了许多"]:
        assert shown in text, shown
    # Every activity: date, minutes, kind, what was done.
    for on, minutes, kind, note in ACTIVITIES:
        assert re.search(rf"{on:%Y-%m-%d} {minutes} \S+ {re.escape(unicodedata.normalize('NFKC', note))}", flat), note
    assert "上门" in text and "电话" in text and "辅导" in text and "陪伴" in text
    assert "共 4 次,合计 3.8 小时" in text
    # The months: January and April not whole (not held against anyone), February kept, March not.
    assert "2026-01 1 1.0 — 不足整月,不计" in flat
    assert "2026-02 2 2.0 2 达到" in flat
    assert "2026-03 1 0.8 2 未达到(差 1 次)" in flat
    assert "2026-04 0 0.0 — 不足整月,不计" in flat
    assert "合计 4 3.8 4 达到 1 / 2 个月" in flat
    for line in SIGNATURES:
        assert line in text
    # Never anything else of the child: ID number, address, family, phone; nor the volunteer's notes on the child.
    for hidden in [child.id_number, "三组", "赵桂兰", "龚建国", "13712345678", "13912345678",
                   "奶奶腿脚不便", "2016-05-06"]:
        assert hidden not in text, hidden
    # The running header and footer of every page, as the archive's.
    pages = page_texts(data)
    for number, page in enumerate(pages, 1):
        assert f"结对编号 {pairing.id}" in page and app.config["ORG_NAME"] in page
        assert re.search(r"打印人 民政王 \d{4}-\d{2}-\d{2} \d{2}:\d{2}", page)
        assert f"第 {number} / {len(pages)} 页" in page
    assert all(re.search(r"\+Noto-(Sans|Serif)-CJK-SC", f) for f in pdf_fonts(data))
    assert "\ufffd" not in text

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pairing_record_printed"))
    assert (event.username, event.object_type, event.object_id) == ("minzheng", "pairings", str(pairing.id))
    assert "周桂兰" in event.detail and "龚鑫淼" in event.detail


def test_a_director_gets_the_age_but_not_the_birthday(town, client, auth):
    auth.login("zhuren_east")
    text = pdf_text(get_record(client, town["pairing"]))
    assert "龚鑫淼" in text and "打印人 张秀英" in text and "岁" in text
    assert town["child"].id_number not in text and "2016-05-06" not in text


def test_a_long_pairing_runs_over_pages_with_the_footer_on_each(app, town, client, auth):
    pairing = create_pairing(town["child"], town["volunteer"], programme="qianshou", started_on=date(2025, 1, 6))
    start = date(2025, 1, 6)
    notes = []
    for i in range(80):
        note = f"第{i + 1}次陪伴：读书、写作业，聊学校里的事情和最近的心情"
        notes.append(note)
        log(pairing, start + timedelta(days=4 * i), 40 + i % 5, "companionship", note)
    auth.login("minzheng")
    data = get_record(client, pairing)
    pages = page_texts(data)
    assert len(pages) > 1
    for number, page in enumerate(pages, 1):
        assert re.search(r"打印人 民政王 \d{4}-\d{2}-\d{2} \d{2}:\d{2}", page), number
        assert f"第 {number} / {len(pages)} 页" in page
        assert f"结对编号 {pairing.id}" in page
    text = squeeze(pdf_text(data))
    assert all(unicodedata.normalize("NFKC", note) in text for note in notes)
    assert "日期 时长(分钟) 方式 活动内容" in squeeze(pages[1])  # the table's head again on the next page
    assert text.count("合计 80 56.0") == 1  # the months' total once, at their end, not at every page's foot


def test_the_month_in_progress_is_not_yet_missed(town):
    pairing = town["pairing"]
    activities = printing.load_activities([pairing.id])[pairing.id]
    months = printing.monthly_totals(pairing, activities, today=date(2026, 3, 10))
    assert [(m["month"], m["count"], m["verdict"]) for m in months["rows"]] == [
        ("2026-01", 1, "不足整月，不计"), ("2026-02", 2, "达到"), ("2026-03", 1, "本月进行中（还差 1 次）")]
    assert months["kept"] == "达到 1 / 1 个月"  # the month in progress is not judged yet
    next_year = printing.monthly_totals(pairing, [], today=date(2027, 6, 1), year=printing.Year(2027))
    assert next_year["rows"] == [] and next_year["count"] == 0  # ended in 2026: nothing of 2027


def test_a_batch_loads_with_a_fixed_number_of_queries(town):
    more = [create_pairing(create_child(name, village=town["east"]), town["volunteer"]) for name in ("田甜", "欧阳晓")]
    log(more[0], date(2026, 2, 3), 40, "visit", "上门")
    statements = []

    def count(*args):
        statements.append(args[2])

    printer = Printer("民政王", full_disclosure())

    def contexts(ids):
        statements.clear()
        pairings = printing.load_pairings(ids)
        activities = printing.load_activities(ids, printing.Year(2026))
        texts = [printing.record_context(p, activities[p.id], printer, "拳铺镇", year=printing.Year(2026))
                 for p in pairings]
        return texts, len(statements)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        one, queries_one = contexts([town["pairing"].id])
        three, queries_three = contexts([more[1].id, town["pairing"].id, more[0].id])
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert queries_one == queries_three
    assert [t["child_name"] for t in three] == ["欧阳晓", "龚鑫淼", "田甜"]  # in the order asked for
    assert len(three[1]["activities"]) == 4 and len(three[2]["activities"]) == 1 and three[0]["activities"] == []


def test_who_may_print_a_record(town, client, auth):
    url = f"/pairings/{town['pairing'].id}/record.pdf"
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    for username in ("xuexiao", "aixinmama", "paichusuo"):  # school, the volunteer herself, police
        auth.login(username)
        assert client.get(url).status_code == 403, username
        assert client.get("/pairings/print").status_code == 403, username
        assert client.post("/pairings/print", data={"programme": "caring_mother", "year": "2026"}).status_code == 403
        auth.logout()
    auth.login("zhuren_west")  # a director of another village
    assert client.get(url).status_code == 404
    auth.logout()
    auth.login("tuanwei")  # 团委: pairings managed town-wide
    assert client.get(url).status_code == 200
    assert client.get("/pairings/999999/record.pdf").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "pairing_record_printed")) == 1


@pytest.fixture
def programmes(town):
    """Beside the fixture's pairing (爱心妈妈结对, January to April 2026): another of the same
    programme running since 2025 (an activity each year), one that ended in 2025, one of another
    programme, and one of a child of 西洼村."""
    east, west, volunteer = town["east"], town["west"], town["volunteer"]
    volunteer.capacity = 10
    db.session.commit()
    since_2025 = create_pairing(create_child("田甜", village=east), volunteer, started_on=date(2025, 6, 1))
    log(since_2025, date(2025, 7, 3), 50, "companionship", "去年的陪伴记录")
    log(since_2025, date(2026, 5, 9), 55, "tutoring", "今年的辅导记录")
    ended_2025 = create_pairing(create_child("欧阳晓", village=east), volunteer, started_on=date(2025, 1, 6),
                                ended_on=date(2025, 12, 31), end_reason="goals_met")
    other = create_pairing(create_child("牵手娃", village=east), volunteer, programme="qianshou",
                           started_on=date(2026, 2, 1))
    west_child = create_pairing(create_child("西村娃", village=west), volunteer, started_on=date(2026, 3, 1))
    return {"since_2025": since_2025, "ended_2025": ended_2025, "other": other, "west": west_child}


def wait_for_job(client, job_id: int) -> str:
    """Poll the progress fragment (as htmx does) until the job is finished; bounded."""
    for _ in range(240):
        body = client.get(f"/pairings/print/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
        assert "<html" not in body
        if "下载 PDF" in body or "任务出错" in body:
            return body
        assert 'hx-trigger="every 1s"' in body and "<progress" in body
        time.sleep(0.25)
    raise AssertionError("the print job did not finish in 60 s")


def start_batch(client, programme: str = "caring_mother", year: int = 2026) -> int:
    response = client.post("/pairings/print", data={"programme": programme, "year": str(year)})
    assert response.status_code == 303, response.get_data(as_text=True)
    return int(re.fullmatch(r"/pairings/print/(\d+)", response.headers["Location"]).group(1))


def download(client, job_id: int) -> bytes:
    with client.get(f"/pairings/print/{job_id}/download") as response:
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert response.headers["Cache-Control"] == "no-store"
        return response.data


def test_batch_prints_the_programme_s_pairings_of_the_year_in_the_background(app, town, programmes, client, auth):
    auth.login("minzheng")
    page = client.get("/pairings/print?programme=caring_mother&year=2026")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "爱心妈妈结对 · 2026 年" in body and "共 <strong>3</strong> 个" in body and "开始打印 3 份" in body

    job_id = start_batch(client)
    full_page = client.get(f"/pairings/print/{job_id}").get_data(as_text=True)
    assert full_page.lstrip().startswith("<!doctype html>") and 'id="print-job"' in full_page
    body = wait_for_job(client, job_id)
    assert "下载 PDF" in body and "hx-trigger" not in body and "3 / 3" in body
    data = download(client, job_id)
    text = pdf_text(data)
    for name in ("龚鑫淼", "田甜", "西村娃"):
        assert name in text
    for name in ("欧阳晓", "牵手娃"):  # ended in 2025; another programme
        assert name not in text
    assert text.count("第 1 /") == 3  # each record numbers its own pages
    assert text.count("统计年度 2026 年") == 3
    assert "今年的辅导记录" in text and "去年的陪伴记录" not in text  # that year's activities only
    assert "一起读绘本" in text
    assert "2025-" not in squeeze(text).replace("2025-06-01", "")  # no month of 2025 but 田甜's start date

    batch = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "pairing_record_printed")).all()
    assert len(batch) == 1 and "批量打印 3 份" in batch[0].detail and "爱心妈妈结对 2026 年" in batch[0].detail
    assert batch[0].username == "minzheng"

    # Another year: the pairing that ended in 2025 and the 2025 activity, not this year's ones.
    job_2025 = start_batch(client, year=2025)
    wait_for_job(client, job_2025)
    text = pdf_text(download(client, job_2025))
    assert "欧阳晓" in text and "田甜" in text and "去年的陪伴记录" in text
    assert "龚鑫淼" not in text and "今年的辅导记录" not in text

    # Someone else's job looks like none.
    create_user("civil_affairs", username="minzheng2")
    auth.logout()
    auth.login("minzheng2")
    assert client.get(f"/pairings/print/{job_id}").status_code == 404
    with client.get(f"/pairings/print/{job_id}/download") as other:
        assert other.status_code == 404


def test_a_director_s_batch_holds_her_village_s_pairings_only(town, programmes, client, auth):
    auth.login("zhuren_east")
    text = pdf_text(download(client, job_id := start_batch(client)))
    assert "龚鑫淼" in text and "田甜" in text and "西村娃" not in text
    assert db.session.get(Job, job_id).status == "done"


def test_batch_form_names_the_field_that_is_wrong(town, client, auth):
    auth.login("minzheng")
    page = client.get("/pairings/print")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "牵手关爱行动" in body and f"{local_today().year} 年" in body
    assert "开始打印" not in body  # nothing chosen yet

    response = client.post("/pairings/print", data={"programme": "caring_mother", "year": "1999"})
    assert response.status_code == 422
    assert "年度：请填写 2000 到" in response.get_data(as_text=True)
    response = client.post("/pairings/print", data={"programme": "nonsense", "year": "2026"})
    assert response.status_code == 422 and "结对项目：请从列表中选择" in response.get_data(as_text=True)
    response = client.post("/pairings/print", data={"programme": "hope_room", "year": "2026"}, follow_redirects=True)
    assert "希望小屋在 2026 年没有我可打印的结对，未开始打印。" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_a_user_with_the_most_jobs_waiting_is_refused_a_new_batch(app, town, client, auth):
    for status in ("queued", "running"):
        db.session.add(Job(kind=print_routes.JOB_KIND, title="打印结对帮扶记录表", user_id=town["civil"].id,
                           task=tasks.PRINT_TASK, status=status, arguments="{}"))
    db.session.commit()
    auth.login("minzheng")
    response = client.post("/pairings/print", data={"programme": "caring_mother", "year": "2026"})
    assert response.status_code == 409
    assert "每人同时最多 2 个" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Job)) == 2


@pytest.fixture
def print_cli(app):
    assert "print-pairings" in app.cli.commands  # registered by create_app through the manifest


def test_cli_prints_a_programme_s_year(town, programmes, runner, print_cli, tmp_path):
    out = tmp_path / "爱心妈妈.pdf"
    result = runner.invoke(args=["print-pairings", "--programme", "爱心妈妈结对", "--year", "2026", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "已打印 爱心妈妈结对 2026 年 3 份结对帮扶记录表" in result.output
    text = pdf_text(out.read_bytes())
    assert "龚鑫淼" in text and "田甜" in text and "西村娃" in text and "牵手娃" not in text
    assert "打印人 命令行" in text and "今年的辅导记录" in text
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "pairing_record_printed"))
    assert event.user_id is None and "命令行" in event.detail

    by_code = tmp_path / "qianshou.pdf"
    result = runner.invoke(args=["print-pairings", "--programme", "qianshou", "--year", "2026", "-o", str(by_code)])
    assert result.exit_code == 0 and "1 份" in result.output
    assert "牵手娃" in pdf_text(by_code.read_bytes())


def test_cli_refuses_an_unknown_programme_or_an_empty_year(town, runner, print_cli, tmp_path):
    out = tmp_path / "x.pdf"
    result = runner.invoke(args=["print-pairings", "--programme", "没有这个项目", "--year", "2026", "-o", str(out)])
    assert result.exit_code == 1 and "没有名为“没有这个项目”的结对项目" in result.output and "爱心妈妈结对" in result.output
    result = runner.invoke(args=["print-pairings", "--programme", "hope_room", "--year", "2026", "-o", str(out)])
    assert result.exit_code == 1 and "希望小屋在 2026 年没有结对" in result.output
    assert not out.exists()
