"""Classes (session 7): a pupil's class (children.class_name) through the form, the import, the
export, the record and the archive; a class teacher's class set on /schools/staff (and cleared with
her duty or her school); what it changes for her: her home's cards list her class, the phone's picker
lists it first, the full lists open on 本班 with 全校 a tap away. Her reach is the school's still."""
from __future__ import annotations

import json
import re
import shutil
from datetime import date, timedelta
from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from blueprints.auth.models import User
from blueprints.children.excel import EXPORT_HEADERS, TEMPLATE_HEADERS, batch_report, import_dir
from blueprints.children.models import Child, ImportBatch
from blueprints.children.printing import Printer, archive_context
from blueprints.children.services import update_child
from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from blueprints.schools.dropouts import report_dropout
from blueprints.schools.models import DropoutCase
from extensions import db
from tests.factories import create_child, create_school, create_user, create_village, valid_id_number

PAIR = json.dumps(["三年级", "2班"], ensure_ascii=False)


def words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def fresh(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


@pytest.fixture
def scene(app):
    jia = create_village("甲村")
    school = create_school("中心小学", villages=[jia])
    other = create_school("二中", villages=[jia])
    users = {
        "coordinator": create_user("school", username="xuexiao_a", school=school),
        "teacher": create_user("school", username="banzhuren_a", school=school, school_duty="head_teacher",
                               display_name="黄老师"),
        "counsellor": create_user("school", username="xinli_a", school=school, school_duty="mental_health"),
        "theirs": create_user("school", username="banzhuren_x", school=other, school_duty="head_teacher"),
        "their_coordinator": create_user("school", username="xuexiao_x", school=other),
        "director": create_user("director", username="zhuren_a", villages=[jia]),
        "civil": create_user("civil_affairs", username="minzheng"),
    }

    def pupil(name, grade, class_name, school_=school, categories=("left_behind",)):
        return create_child(name, village=jia, school=school_, birth=date(2016, 3, 1), categories=list(categories),
                            grade=grade, class_name=class_name)

    pupils = {
        "wang": pupil("王一", "三年级", "2班"),
        "li": pupil("李二", "三年级", "2班"),
        "zhao": pupil("赵三", "三年级", "1班"),
        "qian": pupil("钱四", "四年级", "2班"),
        "sun": pupil("孙五", "五年级", "3班", school_=other),
    }
    return {"school": school, "other": other, **users, **pupils}


def with_class(teacher, grade="三年级", name="2班"):
    teacher.class_grade, teacher.class_name = grade, name
    db.session.commit()


# --- the pupil's class -------------------------------------------------------------------------------

def registration(village, school, **overrides):
    data = {"name": "张三", "id_number": valid_id_number(date(2016, 5, 1), 7), "gender": "", "ethnicity": "汉族",
            "residence_village_id": village.id, "hukou_village_id": 0, "school_id": school.id, "grade": "三年级",
            "class_name": "  2班 ", "categories": ["poverty"], "attention_level": "general",
            "state_guardianship": "none", "disability_kind": "", "disability_grade": "", "caregiver_relation": "",
            "guardian_name": "张大", "guardian_relation": "父亲", "guardian_phone": "13812345678"}
    return data | overrides


def test_the_class_through_the_form_the_record_and_the_archive(client, auth, scene):
    auth.login("minzheng")
    village = scene["wang"].residence_village
    too_long = "二" * 21
    response = client.post("/children/new", data=registration(village, scene["school"], class_name=too_long))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "班级" in page and "20" in page and too_long in page  # as typed
    assert db.session.scalar(select(Child).where(Child.name == "张三")) is None

    response = client.post("/children/new", data=registration(village, scene["school"]))
    assert response.status_code == 303, response.get_data(as_text=True)
    child = db.session.scalar(select(Child).where(Child.name == "张三"))
    assert (child.grade, child.class_name) == ("三年级", "2班")  # stripped
    assert "中心小学 三年级 2班" in words(client.get(f"/children/{child.id}").get_data(as_text=True))
    edit = client.get(f"/children/{child.id}/edit").get_data(as_text=True)
    assert re.search(r'name="class_name"[^>]*value="2班"', edit)
    # the archive's basic section: the grade with the class
    printer = Printer.for_user(db.session.scalar(select(User).where(User.username == "minzheng")))
    assert ("年级班级", "三年级 2班") in archive_context(child, printer, "拳铺镇")["basic"]
    pages = PdfReader(BytesIO(client.get(f"/children/{child.id}/archive.pdf").data)).pages
    assert "年级班级三年级2班" in "".join("".join(page.extract_text() for page in pages).split())


def test_the_import_reads_the_class_and_names_a_bad_one_with_its_row(client, auth, scene):
    shutil.rmtree(import_dir(), ignore_errors=True)
    auth.login("minzheng")

    def upload(rows):
        wb = Workbook()
        ws = wb.active
        ws.title = "儿童名单"
        ws.append(TEMPLATE_HEADERS)
        for row in rows:
            ws.append([row.get(h.rstrip("*")) for h in TEMPLATE_HEADERS])
        buffer = BytesIO()
        wb.save(buffer)
        return client.post("/children/import", data={"file": (BytesIO(buffer.getvalue()), "名单.xlsx")},
                           content_type="multipart/form-data")

    def row(name, serial, class_name):
        return {"姓名": name, "身份证号": valid_id_number(date(2016, 4, 1), serial), "居住村": "甲村",
                "学校": "中心小学", "年级": "二年级", "班级": class_name, "儿童类别": "留守儿童"}

    response = upload([row("周六", 31, "（1）班"), row("吴七", 32, "一" * 21)])
    assert response.status_code == 422
    db.session.rollback()
    batch = db.session.scalar(select(ImportBatch).order_by(ImportBatch.id.desc()))
    assert batch_report(batch).errors == [(3, "班级", "不能超过 20 个字，现在是 21 个")]

    response = upload([row("周六", 31, " （1）班 "), row("吴七", 32, None)])
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.rollback()
    batch = db.session.scalar(select(ImportBatch).order_by(ImportBatch.id.desc()))
    assert client.post(f"/children/import/{batch.id}/confirm").status_code == 303
    db.session.rollback()
    found = dict(db.session.execute(select(Child.name, Child.class_name).where(Child.name.in_(["周六", "吴七"]))).all())
    assert found == {"周六": "(1)班", "吴七": None}  # one spelling: children/validation.py class_text


def test_the_export_has_the_class_beside_the_grade(client, auth, scene):
    auth.login("minzheng")
    with client.get("/children/export.xlsx") as response:
        data = response.get_data()
    assert EXPORT_HEADERS[EXPORT_HEADERS.index("年级") + 1] == "班级"
    ws = load_workbook(BytesIO(data), read_only=True).worksheets[0]
    rows = [dict(zip(EXPORT_HEADERS, r)) for r in list(ws.iter_rows(values_only=True))[1:]]
    assert {(r["姓名"], r["年级"], r["班级"]) for r in rows} >= {("王一", "三年级", "2班"), ("赵三", "三年级", "1班")}


# --- the teacher's class on the staff page ------------------------------------------------------------

def test_the_coordinator_sets_and_clears_a_teachers_class(client, auth, scene):
    teacher = scene["teacher"]
    for name, class_name in (("郑八", "10班"), ("冯九", "２班")):  # listed as a school counts them
        create_child(name, village=scene["wang"].residence_village, school=scene["school"], categories=["poverty"],
                     grade="一年级", class_name=class_name)
    auth.login("xuexiao_a")
    page = client.get("/schools/staff").get_data(as_text=True)
    options = re.findall(r"<option value=\"[^\"]*\"[^>]*>([^<]+)</option>", page.split(f'id="class-{teacher.id}"')[1]
                         .split("</select>")[0])
    assert options == ["不带班", "一年级 2班", "一年级 10班", "三年级 1班", "三年级 2班", "四年级 2班"]  # her school's only
    assert f'id="class-{scene["counsellor"].id}"' not in page  # only a 班主任 holds a class

    response = client.post(f"/schools/staff/{teacher.id}/class", data={"class_pair": PAIR})
    assert response.status_code == 303
    assert (fresh(User, teacher.id).class_grade, fresh(User, teacher.id).class_name) == ("三年级", "2班")
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "teacher_class_set")).all()
    assert event.user_id == scene["coordinator"].id and "未设置 → 三年级 2班" in event.detail
    assert 'selected>三年级 2班' in client.get("/schools/staff").get_data(as_text=True)

    # another school's class, or one typed: refused, named, nothing changed
    for bad in (json.dumps(["五年级", "3班"], ensure_ascii=False), "三年级 2班", '["三年级"]'):
        response = client.post(f"/schools/staff/{teacher.id}/class", data={"class_pair": bad})
        assert response.status_code == 422 and "班级：请从列表中选择本校学生所在的班级" in response.get_data(as_text=True)
    assert fresh(User, teacher.id).class_name == "2班"

    response = client.post(f"/schools/staff/{teacher.id}/class", data={"class_pair": ""})
    assert response.status_code == 303 and fresh(User, teacher.id).class_name is None
    assert fresh(User, teacher.id).class_grade is None

    # the counsellor holds no class
    response = client.post(f"/schools/staff/{scene['counsellor'].id}/class", data={"class_pair": PAIR})
    assert response.status_code == 422 and "只有班主任带班" in response.get_data(as_text=True)

    # civil affairs sets it too
    auth.logout()
    auth.login("minzheng")
    assert client.post(f"/schools/staff/{teacher.id}/class", data={"class_pair": PAIR}).status_code == 303
    assert fresh(User, teacher.id).class_name == "2班"


@pytest.mark.parametrize("username, status", [("banzhuren_a", 403), ("zhuren_a", 403), ("xuexiao_x", 404)])
def test_who_may_not_set_her_class(client, auth, scene, username, status):
    auth.login(username)
    response = client.post(f"/schools/staff/{scene['teacher'].id}/class", data={"class_pair": PAIR})
    assert response.status_code == status
    assert fresh(User, scene["teacher"].id).class_name is None


def test_her_class_goes_with_her_duty_or_her_school(client, auth, scene):
    teacher = scene["teacher"]
    with_class(teacher)
    auth.login("xuexiao_a")
    assert client.post(f"/schools/staff/{teacher.id}", data={"duty": "head_teacher"}).status_code == 303
    assert fresh(User, teacher.id).class_name == "2班"  # unchanged duty: she keeps it
    assert client.post(f"/schools/staff/{teacher.id}", data={"duty": "mental_health"}).status_code == 303
    assert (fresh(User, teacher.id).class_grade, fresh(User, teacher.id).class_name) == (None, None)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "school_duty_set")
                               .order_by(AuditEvent.id.desc())).first()
    assert "不再带 三年级 2班" in event.detail

    # the administrator moves her to another school: the class was that school's
    create_user("admin", username="boss")
    teacher = fresh(User, teacher.id)
    teacher.school_duty = "head_teacher"
    with_class(teacher)
    auth.logout()
    auth.login("boss")
    form = {"username": teacher.username, "display_name": "黄老师", "phone": "", "role": "school",
            "volunteer_kind": "", "department_id": 0, "active": "y", "password": "", "school_duty": "head_teacher"}
    assert client.post(f"/admin/users/{teacher.id}/edit", data=form | {"school_id": scene["school"].id}).status_code == 303
    assert fresh(User, teacher.id).class_name == "2班"  # same school and duty: kept
    assert client.post(f"/admin/users/{teacher.id}/edit", data=form | {"school_id": scene["other"].id}).status_code == 303
    assert (fresh(User, teacher.id).school_id, fresh(User, teacher.id).class_name) == (scene["other"].id, None)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user_updated")
                               .order_by(AuditEvent.id.desc())).first()  # the newest: PostgreSQL keeps no order unasked
    assert "带班：三年级 2班 → 无" in event.detail


# --- what changes for her --------------------------------------------------------------------------------

def card(client, anchor: str) -> str:
    page = client.get("/").get_data(as_text=True)
    return words(page.split(f'id="{anchor}"')[1].split("</section>")[0])


def test_her_home_shows_her_class_and_links_to_the_school(client, auth, scene):
    with_class(scene["teacher"])
    auth.login("banzhuren_a")
    due = card(client, "home-contacts-due")
    assert "本班（三年级 2班）本月待联系的留守学生（2 名）" in due
    assert "王一" in due and "李二" in due and "赵三" not in due and "钱四" not in due
    assert "/schools/contacts/due?scope=school" in client.get("/").get_data(as_text=True)

    # the full list: 本班 by default, 全校 a tap away; the school's pupils only, whatever is asked
    page = words(client.get("/schools/contacts/due").get_data(as_text=True))
    assert "三年级 2班还没有学校联系记录的留守学生：共 2 名" in page and "赵三" not in page
    page = words(client.get("/schools/contacts/due?scope=school").get_data(as_text=True))
    assert "共 4 名" in page and all(name in page for name in ("王一", "李二", "赵三", "钱四"))
    assert "孙五" not in page


def test_without_a_class_she_and_the_coordinator_see_the_school(client, auth, scene):
    for username in ("banzhuren_a", "xuexiao_a"):
        auth.login(username)
        due = card(client, "home-contacts-due")
        assert "本月待联系的留守学生（4 名）" in due and "本班" not in due
        page = client.get("/schools/contacts/due?scope=class").get_data(as_text=True)
        assert "共 <strong>4</strong> 名" in page and "scope-tabs" not in page
        auth.logout()


def test_the_dropout_card_and_list_follow_her_class(client, auth, scene):
    report_dropout(scene["zhao"], {"dropped_on": local_today() - timedelta(days=5), "reason": "work"},
                   actor=scene["coordinator"])
    report_dropout(scene["wang"], {"dropped_on": local_today() - timedelta(days=3), "reason": "work"},
                   actor=scene["coordinator"])
    db.session.commit()
    with_class(scene["teacher"])
    auth.login("banzhuren_a")
    dropouts = card(client, "home-school-dropouts")
    assert "本班（三年级 2班）辍学劝返" in dropouts and "未返校 1 人" in dropouts
    assert "王一" in dropouts and "赵三" not in dropouts
    page = words(client.get("/schools/dropouts").get_data(as_text=True))
    assert "王一" in page and "赵三" not in page
    page = words(client.get("/schools/dropouts?scope=school").get_data(as_text=True))
    assert "王一" in page and "赵三" in page
    # her reach is the school's still: she opens the other class's case
    case_id = db.session.scalar(select(DropoutCase.id).join(Child, Child.id == DropoutCase.child_id)
                                .where(Child.name == "赵三"))
    assert client.get(f"/schools/dropouts/{case_id}").status_code == 200


def test_the_picker_lists_her_class_first_and_every_pupil_of_the_school(client, auth, scene):
    auth.login("banzhuren_a")
    names = [row["name"] for row in client.get("/api/v1/school-pupils").get_json()["children"]]
    assert names == ["李二", "钱四", "王一", "赵三"]  # by pinyin, without a class
    with_class(scene["teacher"])
    rows = client.get("/api/v1/school-pupils").get_json()["children"]
    assert [row["name"] for row in rows] == ["李二", "王一", "钱四", "赵三"]  # her class first, then the rest
    assert rows[0]["grade"] == "三年级 2班" and rows[0]["detail"].startswith("三年级 2班")
    # the form without script lists them in the same order, and she may log a contact with any
    form = client.get("/schools/contacts/log").get_data(as_text=True)
    assert [n for n in re.findall(r"(李二|王一|钱四|赵三)", form.split('name="child_id"')[1])][:4] == \
        ["李二", "王一", "钱四", "赵三"]


def test_a_pupil_moved_to_another_class_leaves_her_card(client, auth, scene):
    with_class(scene["teacher"])
    auth.login("banzhuren_a")
    assert "李二" in card(client, "home-contacts-due")
    update_child(scene["li"], {"class_name": "1班"}, actor=scene["coordinator"])
    db.session.commit()
    due = card(client, "home-contacts-due")
    assert "李二" not in due and "（1 名）" in due
    rows = client.get("/api/v1/school-pupils").get_json()["children"]
    assert [row["name"] for row in rows][0] == "王一" and "李二" in [row["name"] for row in rows]


def test_a_class_no_pupil_is_in_any_more_stays_shown_and_kept(client, auth, scene):
    """A new school year moves the pupils on (三年级 2班 → 四年级 2班): her class, still set, is the
    one her select shows (not “不带班”, which she does not have), and saving it unchanged is no error."""
    teacher = scene["teacher"]
    with_class(teacher)
    for pupil in ("wang", "li"):
        update_child(scene[pupil], {"grade": "四年级"}, actor=scene["coordinator"])
    db.session.commit()
    auth.login("xuexiao_a")
    page = client.get("/schools/staff").get_data(as_text=True)
    select_ = page.split(f'id="class-{teacher.id}"')[1].split("</select>")[0]
    assert re.search(r'<option value="[^"]*" selected>三年级 2班（已没有学生在这个班）</option>', select_), select_
    assert '<option value="" selected>' not in select_
    response = client.post(f"/schools/staff/{teacher.id}/class", data={"class_pair": PAIR})
    assert response.status_code == 303
    assert (fresh(User, teacher.id).class_grade, fresh(User, teacher.id).class_name) == ("三年级", "2班")
    # another class no pupil is in is still refused
    response = client.post(f"/schools/staff/{teacher.id}/class",
                           data={"class_pair": json.dumps(["六年级", "9班"], ensure_ascii=False)})
    assert response.status_code == 422 and "班级：请从列表中选择本校学生所在的班级" in response.get_data(as_text=True)


def test_the_staff_page_costs_the_same_queries_for_two_schools_or_six(client, auth, scene):
    """Civil affairs sees every school's staff: the classes of their selects are one query, not one a school."""
    from sqlalchemy import event

    auth.login("minzheng")
    client.get("/schools/staff")  # warm: the session's user, templates

    def statements() -> int:
        seen = []

        def count_one(*args):
            seen.append(args[2])

        event.listen(db.engine, "before_cursor_execute", count_one)
        try:
            assert client.get("/schools/staff").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count_one)
        return len(seen)

    few = statements()
    village = scene["wang"].residence_village
    for n in range(4):
        school = create_school(f"第{n}小学", villages=[village])
        create_user("school", username=f"banzhuren_{n}", school=school, school_duty="head_teacher")
        create_child(f"学生{n}", village=village, school=school, grade="一年级", class_name="1班")
    assert statements() == few


def test_a_class_typed_in_full_width_or_with_a_space_is_the_same_class(client, auth, scene):
    """A phone's input method in full-width mode types ２班, a hand adds a space (2 班): the same class
    as 2班, not a second one beside it in her select that her card and lists miss."""
    auth.login("minzheng")
    village = scene["wang"].residence_village
    for n, typed in enumerate(("２班", "2 班", "2\u3000班")):
        data = registration(village, scene["school"], name=f"张{'一二三'[n]}",
                            id_number=valid_id_number(date(2016, 5, 1), 40 + n), class_name=typed,
                            guardian_name=f"张{'甲乙丙'[n]}", guardian_phone=f"1381234567{n}")
        response = client.post("/children/new", data=data)
        assert response.status_code == 303, response.get_data(as_text=True)
    stored = set(db.session.scalars(select(Child.class_name).where(Child.name.in_(["张一", "张二", "张三"]))))
    assert stored == {"2班"}
    update_child(scene["zhao"], {"class_name": "１班"}, actor=scene["coordinator"])  # a service's caller too
    db.session.commit()
    assert fresh(Child, scene["zhao"].id).class_name == "1班"
    page = client.get("/schools/staff").get_data(as_text=True)
    options = re.findall(r"<option value=\"[^\"]*\"[^>]*>([^<]+)</option>",
                         page.split(f'id="class-{scene["teacher"].id}"')[1].split("</select>")[0])
    assert options == ["不带班", "三年级 1班", "三年级 2班", "四年级 2班"]


def test_the_screening_list_names_the_pupils_class(client, auth, scene):
    """As the pupil lines elsewhere do: the counsellor's list shows the class beside the grade."""
    from tests.factories import create_screening

    create_screening(scene["wang"])
    db.session.commit()
    auth.login("xinli_a")
    page = words(client.get("/schools/screenings?term=").get_data(as_text=True))
    assert "中心小学 三年级 2班" in page, page
