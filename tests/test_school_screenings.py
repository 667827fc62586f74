"""Psychological screening (§2): the instruments' bands, a screening and its follow-up, the lists and
the home cards, the section of the record and the archive — and who never sees any of it: the
class teacher, the coordinator, the child director, a volunteer, a department (镇教办), the
administrator; the mental-health teacher of another school gets 404."""
from __future__ import annotations

import unicodedata
from datetime import timedelta
from io import BytesIO

import pytest
from flask_migrate import upgrade
from pypdf import PdfReader
from sqlalchemy import func, select

from blueprints.children.services import exit_child
from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from blueprints.schools.models import Screening, ScreeningBand, ScreeningInstrument
from blueprints.schools.screenings import ScreeningError, band_of, check_instrument, record_screening
from blueprints.schools.terms import term_bounds, term_of
from extensions import db
from tests.conftest import AuthActions, make_app
from tests.factories import (create_child, create_instrument, create_pairing, create_school, create_screening,
                             create_user, create_village, create_volunteer)

NOTE = "谈心记录甲乙丙"  # a follow-up note: it shows only where the psychological file does
SCORE = 37


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def sign_in(app, user):
    client = app.test_client()
    assert AuthActions(client).login(user.username).status_code in (302, 303)
    return client


def text(response) -> str:
    if response.mimetype == "application/pdf":
        pages = PdfReader(BytesIO(response.data)).pages
        return "".join(unicodedata.normalize("NFKC", "".join(p.extract_text() for p in pages)).split())
    return response.get_data(as_text=True)


def screened(child, instrument, days_ago: int, score: int = SCORE, band: str = "high", **values):
    day = local_today() - timedelta(days=days_ago)
    return create_screening(child, instrument, score=score, band=band, term=term_of(day), screened_on=day, **values)


@pytest.fixture
def town(app):
    village = create_village("前王庄村")
    school, other_school = create_school("中心小学", villages=[village]), create_school("二中", villages=[village])
    instrument = create_instrument("心理初筛甲")
    pupil = create_child("李小红", village=village, school=school, gender="female")
    elsewhere = create_child("赵小刚", village=village, school=other_school)
    volunteer = create_volunteer(village=village)
    create_pairing(pupil, volunteer)
    users = {
        "mental": create_user("school", username="xinli", school=school, school_duty="mental_health"),
        "mental_other": create_user("school", username="xinli2", school=other_school, school_duty="mental_health"),
        "coordinator": create_user("school", username="xuexiao", school=school, school_duty="coordinator"),
        "head_teacher": create_user("school", username="banzhuren", school=school, school_duty="head_teacher"),
        "director": create_user("director", username="zhuren", villages=[village]),
        "volunteer": volunteer.user,
        "education": create_user("department", username="jiaoban", department_code="education"),
        "admin": create_user("admin", username="guanli"),
        "civil_affairs": create_user("civil_affairs", username="minzheng"),
        "supervisor": create_user("supervisor", username="dudao"),
    }
    return dict(school=school, other_school=other_school, instrument=instrument, pupil=pupil, elsewhere=elsewhere,
                users=users)


# --- instruments: the bands cover the range ------------------------------------------------------

def bands(**pairs):
    return {code: pairs.get(code, (None, None)) for code in ("normal", "watch", "high")}


def instrument_values(**changes):
    base = {"name": "自编量表", "min_score": 0, "max_score": 40,
            "bands": bands(normal=(0, 14), watch=(15, 24), high=(25, 40))}
    return base | changes


@pytest.mark.parametrize("band_values, field, words", [
    (bands(normal=(0, 14), watch=(16, 24), high=(25, 40)), "watch_low", "应为 15（“正常”到 14 分为止，现在 15—15 分不属于任何一档）"),
    (bands(normal=(0, 14), watch=(10, 24), high=(25, 40)), "watch_low", "应为 15（与“正常”（0—14）重叠）"),
    (bands(normal=(2, 14), watch=(15, 24), high=(25, 40)), "normal_low", "应为量表的最低分 0（现在 0—1 分不属于任何一档）"),
    (bands(normal=(0, 14), watch=(15, 24), high=(25, 38)), "high_high", "应为量表的最高分 40（现在 39—40 分不属于任何一档）"),
    (bands(normal=(0, 14), watch=(15, 24), high=(25, 45)), "high_high", "不能高于量表的最高分"),
    (bands(normal=(0, 14), watch=(15, None), high=(25, 40)), "watch_high", "请填写（不用这一档就把两格都空着）"),
    (bands(normal=(0, 14), watch=(24, 15), high=(25, 40)), "watch_high", "不能小于它的最低分 24"),
    (bands(), "normal_low", "至少要填一档"),
])
def test_bands_must_cover_the_range_without_gaps_or_overlaps(app, band_values, field, words):
    errors = check_instrument(None, instrument_values(bands=band_values))
    assert words in errors[field], errors


def test_two_bands_may_cover_the_range_and_the_name_is_unique(app):
    assert check_instrument(None, instrument_values(bands=bands(normal=(0, 29), high=(30, 40)))) == {}
    create_instrument("自编量表")
    assert "已有名为「自编量表」的量表" in check_instrument(None, instrument_values())["name"]
    assert "应大于最低分 40" in check_instrument(None, instrument_values(min_score=40, max_score=40))["max_score"]


def test_the_administrator_adds_and_edits_an_instrument(app, town):
    admin = sign_in(app, town["users"]["admin"])
    form = {"name": "新量表", "min_score": "0", "max_score": "20", "normal_low": "0", "normal_high": "9",
            "watch_low": "11", "watch_high": "15", "high_low": "16", "high_high": "20", "active": "y"}
    refused = admin.post("/schools/instruments/new", data=form)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "“关注”的最低分：应为 10" in page and 'value="11"' in page and 'value="新量表"' in page  # kept as typed
    assert count(ScreeningInstrument, ScreeningInstrument.name == "新量表") == 0

    saved = admin.post("/schools/instruments/new", data=form | {"watch_low": "10"})
    assert saved.status_code == 303 and saved.location.endswith("/schools/instruments")
    instrument = db.session.scalar(select(ScreeningInstrument).where(ScreeningInstrument.name == "新量表"))
    assert [(b.band, b.low, b.high) for b in instrument.bands] == [("normal", 0, 9), ("watch", 10, 15), ("high", 16, 20)]

    # the 关注 band dropped, 高风险 widened: changed in place, the screenings keep their band
    create_screening(town["pupil"], instrument, score=12, band="watch")
    edited = admin.post(f"/schools/instruments/{instrument.id}", data=form | {
        "watch_low": "", "watch_high": "", "high_low": "10", "name": "新量表（修订）"})
    assert edited.status_code == 303
    db.session.expire_all()
    assert [(b.band, b.low, b.high) for b in db.session.get(ScreeningInstrument, instrument.id).bands] == \
        [("normal", 0, 9), ("high", 10, 20)]
    assert count(ScreeningBand, ScreeningBand.instrument_id == instrument.id) == 2
    assert db.session.scalar(select(Screening.band).where(Screening.instrument_id == instrument.id)) == "watch"
    listing = admin.get("/schools/instruments").get_data(as_text=True)
    assert "新量表（修订）" in listing and "正常 0—9，高风险 10—20" in listing and "已用于 1 次筛查" in listing
    assert count(AuditEvent, AuditEvent.action == "instrument_saved") == 2


def test_only_the_administrator_edits_instruments(app, town):
    for role in ("mental", "civil_affairs", "supervisor", "coordinator"):
        client = sign_in(app, town["users"][role])
        assert client.get("/schools/instruments").status_code == 403
        assert client.post("/schools/instruments/new", data={"name": "x"}).status_code == 403
        assert client.get(f"/schools/instruments/{town['instrument'].id}").status_code == 403


# --- a screening ----------------------------------------------------------------------------------

def screening_form(**changes):
    today = local_today()
    return {"term": term_of(today), "instrument_id": "", "screened_on": today.isoformat(), "score": "30"} | changes


def test_the_mental_health_teacher_records_a_screening_and_the_band_follows_the_score(app, town):
    client = sign_in(app, town["users"]["mental"])
    pupil, instrument = town["pupil"], town["instrument"]
    url = f"/schools/screenings/new?child_id={pupil.id}"
    page = client.get(url).get_data(as_text=True)
    assert "心理初筛甲" in page and "正常 0—14，关注 15—24，高风险 25—40" in page

    refused = client.post(url, data=screening_form(instrument_id=str(instrument.id), score="41"))
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "得分：「心理初筛甲」的得分在 0—40 之间，41 不在其中，请核对" in body and 'value="41"' in body
    assert count(Screening) == 0

    saved = client.post(url, data=screening_form(instrument_id=str(instrument.id), score="30"))
    screening = db.session.scalars(select(Screening)).one()
    assert saved.status_code == 303 and saved.location.endswith(f"/schools/screenings/{screening.id}/followup")
    assert (screening.band, screening.score, screening.school_id, screening.recorded_by_id) == \
        ("high", 30, town["school"].id, town["users"]["mental"].id)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "screening_recorded")).one()
    assert "李小红" in event.detail and "30" not in event.detail and "高风险" not in event.detail

    again = client.post(url, data=screening_form(instrument_id=str(instrument.id), score="3"))
    assert again.status_code == 422
    assert "同一学期同一量表只录入一次" in again.get_data(as_text=True)
    assert count(Screening) == 1

    # another instrument the same term is a screening of its own; a score of 0 is a score
    other = create_instrument("心理初筛乙")
    assert client.post(url, data=screening_form(instrument_id=str(other.id), score="0")).status_code == 303
    assert db.session.scalar(select(Screening.band).where(Screening.instrument_id == other.id)) == "normal"


def test_an_instrument_taken_out_of_use_is_not_offered(app, town):
    retired = create_instrument("旧量表")
    retired.active = False
    db.session.commit()
    client = sign_in(app, town["users"]["mental"])
    url = f"/schools/screenings/new?child_id={town['pupil'].id}"
    assert "旧量表" not in client.get(url).get_data(as_text=True)
    refused = client.post(url, data=screening_form(instrument_id=str(retired.id)))
    assert refused.status_code == 422 and count(Screening) == 0
    assert 'id="instrument_id-error"' in refused.get_data(as_text=True)


def test_a_screening_day_falls_within_its_term(app, town):
    pupil, instrument, actor = town["pupil"], town["instrument"], town["users"]["mental"]
    today = local_today()
    start, _ = term_bounds(term_of(today))
    with pytest.raises(ScreeningError) as refused:
        record_screening(pupil, {"term": term_of(today), "instrument": instrument, "screened_on": start - timedelta(days=1),
                                 "score": 10}, actor=actor)
    assert refused.value.errors["screened_on"].startswith("筛查日期：应在")
    with pytest.raises(ScreeningError) as refused:
        record_screening(pupil, {"term": term_of(today), "instrument": instrument, "screened_on": today + timedelta(days=1),
                                 "score": 10}, actor=actor)
    assert refused.value.errors["screened_on"] == "筛查日期：不能晚于今天"


def test_no_screening_for_a_pupil_who_left_the_roll(app, town):
    exit_child(town["pupil"], "moved_away", local_today(), None, actor=None)
    db.session.commit()
    client = sign_in(app, town["users"]["mental"])
    assert client.get(f"/schools/screenings/new?child_id={town['pupil'].id}").status_code == 409


def test_who_may_record_a_screening(app, town):
    pupil = town["pupil"]
    data = screening_form(instrument_id=str(town["instrument"].id))
    assert sign_in(app, town["users"]["mental_other"]).post(
        f"/schools/screenings/new?child_id={pupil.id}", data=data).status_code == 404
    for role in ("coordinator", "head_teacher", "director", "volunteer", "education", "admin", "civil_affairs",
                 "supervisor"):
        client = sign_in(app, town["users"][role])
        assert client.get(f"/schools/screenings/new?child_id={pupil.id}").status_code == 403, role
        assert client.post(f"/schools/screenings/new?child_id={pupil.id}", data=data).status_code == 403, role
    assert count(Screening) == 0


def test_the_teacher_finds_her_pupils_to_screen(app, town):
    client = sign_in(app, town["users"]["mental"])
    page = client.get("/schools/screenings/new?q=小").get_data(as_text=True)
    assert "李小红" in page and "赵小刚" not in page  # a pupil of another school


# --- the follow-up ---------------------------------------------------------------------------------

def test_the_follow_up_is_recorded_with_its_date_and_note(app, town):
    screening = screened(town["pupil"], town["instrument"], days_ago=3)
    client = sign_in(app, town["users"]["mental"])
    url = f"/schools/screenings/{screening.id}/followup"
    page = client.get(url).get_data(as_text=True)
    assert f"{SCORE} 分" in page and "高风险" in page and "还没有跟进" in page and 'id="followup-form"' in page

    early = (screening.screened_on - timedelta(days=1)).isoformat()
    refused = client.post(url, data={"followup": "talk", "followup_on": early, "followup_note": NOTE})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert f"跟进日期：不能早于筛查日期 {screening.screened_on:%Y-%m-%d}" in body and NOTE in body
    assert client.post(url, data={"followup_on": local_today().isoformat()}).status_code == 422  # no kind

    done = client.post(url, data={"followup": "referral", "followup_on": local_today().isoformat(), "followup_note": NOTE})
    assert done.status_code == 303
    db.session.expire_all()
    row = db.session.get(Screening, screening.id)
    assert (row.followup, row.followup_on, row.followup_note) == ("referral", local_today(), NOTE)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "screening_followed_up")).one()
    assert "李小红" in event.detail and "转介" not in event.detail and NOTE not in event.detail


def test_civil_affairs_reads_a_screening_and_does_not_write_it(app, town):
    screening = screened(town["pupil"], town["instrument"], days_ago=9)
    for role in ("civil_affairs", "supervisor"):
        client = sign_in(app, town["users"][role])
        page = client.get(f"/schools/screenings/{screening.id}/followup")
        assert page.status_code == 200
        assert "高风险" in page.get_data(as_text=True) and 'id="followup-form"' not in page.get_data(as_text=True)
        assert client.post(f"/schools/screenings/{screening.id}/followup",
                           data={"followup": "talk", "followup_on": local_today().isoformat()}).status_code == 403
    assert sign_in(app, town["users"]["mental_other"]).get(f"/schools/screenings/{screening.id}/followup").status_code == 404
    assert db.session.get(Screening, screening.id).followup is None


# --- the lists and the home cards -------------------------------------------------------------------

def test_the_teacher_sees_every_high_risk_without_follow_up_overdue_first(app, town):
    school, instrument = town["school"], town["instrument"]
    fresh = create_child("钱一", school=school)
    week = create_child("钱二", school=school)
    late = create_child("钱三", school=school)
    done = create_child("钱四", school=school)
    watched = create_child("钱五", school=school)
    screened(fresh, instrument, 2)
    screened(week, instrument, 7)  # the seventh day is still in time
    screened(late, instrument, 8)
    screened(done, instrument, 20, followup="talk", followup_on=local_today())
    screened(watched, instrument, 20, score=16, band="watch")
    screened(town["elsewhere"], instrument, 20)  # another school's

    page = sign_in(app, town["users"]["mental"]).get("/").get_data(as_text=True)
    card = page.split('id="home-screenings-waiting"', 1)[1].split("</section>", 1)[0]
    assert "（3）" in card and "其中 1 名已超过 7 天未跟进" in card
    assert card.index("钱三") < card.index("钱二") < card.index("钱一")
    assert card.split("钱三", 1)[1].split("</li>", 1)[0].count("逾期") == 1
    assert "逾期" not in card.split("钱二", 1)[1].split("</li>", 1)[0]
    assert "钱四" not in card and "钱五" not in card and "赵小刚" not in card
    assert 'id="home-screenings-overdue"' not in page
    assert count(AuditEvent, AuditEvent.action == "screenings_viewed") == 1

    for role in ("civil_affairs", "supervisor"):
        page = sign_in(app, town["users"][role]).get("/").get_data(as_text=True)
        card = page.split('id="home-screenings-overdue"', 1)[1].split("</section>", 1)[0]
        assert "钱三" in card and "中心小学" in card and "赵小刚" in card and "二中" in card
        assert "钱一" not in card and "钱二" not in card and "钱四" not in card and "钱五" not in card
        assert 'id="home-screenings-waiting"' not in page

    for role in ("coordinator", "head_teacher", "director", "education", "admin"):
        page = sign_in(app, town["users"][role]).get("/").get_data(as_text=True)
        assert "home-screenings" not in page and "高风险" not in page, role


def test_the_list_puts_those_waiting_first_and_keeps_to_the_reach(app, town):
    school, instrument = town["school"], town["instrument"]
    normal, followed, waiting = (create_child(n, school=school) for n in ("孙正常", "孙跟进", "孙待跟进"))
    screened(normal, instrument, 1, score=3, band="normal")
    screened(followed, instrument, 2, followup="talk", followup_on=local_today())
    screened(waiting, instrument, 3, score=20, band="watch")
    last = screened(town["elsewhere"], instrument, 10)
    teacher = sign_in(app, town["users"]["mental"])
    page = teacher.get("/schools/screenings?term=").get_data(as_text=True)
    assert page.index("孙待跟进") < page.index("孙正常") < page.index("孙跟进")
    assert "赵小刚" not in page and "共 <strong>3</strong> 次筛查" in page
    fragment = teacher.get("/schools/screenings?term=&band=watch", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and "孙待跟进" in fragment.get_data(as_text=True)
    assert "孙正常" not in fragment.get_data(as_text=True)

    town_page = sign_in(app, town["users"]["civil_affairs"]).get(
        f"/schools/screenings?term=&followup=overdue&school={town['other_school'].id}").get_data(as_text=True)
    assert "赵小刚" in town_page and "二中" in town_page and "孙" not in town_page.split('id="screening-rows"')[1]
    assert sign_in(app, town["users"]["mental_other"]).get(
        f"/schools/screenings/{last.id}/followup").status_code == 200  # her own pupil
    assert count(AuditEvent, AuditEvent.action == "screenings_viewed") >= 3


# --- the record page and the archive ---------------------------------------------------------------

def test_the_record_and_the_archive_show_the_screenings_to_those_who_may(app, town):
    pupil = town["pupil"]
    screened(pupil, town["instrument"], 10, followup="talk", followup_on=local_today(), followup_note=NOTE)
    for role in ("mental", "civil_affairs", "supervisor"):
        client = sign_in(app, town["users"][role])
        record = client.get(f"/children/{pupil.id}").get_data(as_text=True)
        section = record.split('id="screenings"', 1)[1].split("</details>", 1)[0]
        assert f"{SCORE} 分" in section and "高风险" in section and "谈心" in section
        assert ("录入筛查" in section) == (role == "mental")
        pdf = text(client.get(f"/children/{pupil.id}/archive.pdf"))
        assert "心理筛查" in pdf and "心理初筛甲" in pdf and "高风险" in pdf and NOTE in pdf, role
    assert count(AuditEvent, AuditEvent.action == "screenings_viewed") == 3


# --- never seen by anyone else ----------------------------------------------------------------------

MARKERS = ("高风险", f"{SCORE} 分", f"{SCORE}分", NOTE, "心理初筛甲", "心理筛查（")
# The mental-health teacher of another school has her own card and list: nothing of this pupil there.
OWN_SCREENINGS_MARKERS = ("李小红", f"{SCORE} 分", f"{SCORE}分", NOTE, "心理筛查（")


def test_no_other_role_sees_a_score_or_band_anywhere(app, town):
    pupil = town["pupil"]
    screening = screened(pupil, town["instrument"], 10, followup="talk", followup_on=local_today(), followup_note=NOTE)
    pages = ["/", "/schools/screenings", "/schools/screenings?term=&band=high", "/schools/screenings?q=小红",
             "/schools/screenings/new?q=小红", f"/schools/screenings/new?child_id={pupil.id}",
             f"/schools/screenings/{screening.id}/followup", f"/children/{pupil.id}", f"/children/{pupil.id}/archive.pdf"]
    for role in ("coordinator", "head_teacher", "director", "volunteer", "education", "admin", "mental_other"):
        client = sign_in(app, town["users"][role])
        markers = OWN_SCREENINGS_MARKERS if role == "mental_other" else MARKERS
        for url in pages:
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(url, headers=headers)
                body = text(response)
                assert not [m for m in markers if m in body], (role, url, response.status_code)
                if url.startswith("/schools/"):
                    pupil_page = str(pupil.id) in url or str(screening.id) in url
                    expected = (404 if pupil_page else 200) if role == "mental_other" else 403
                    assert response.status_code == expected, (role, url, response.status_code)
        if role == "mental_other":
            assert client.get(f"/children/{pupil.id}").status_code == 404
        # the pupil's record page and archive: within reach of her school's staff and the director
        if role in ("coordinator", "head_teacher", "director"):
            record = client.get(f"/children/{pupil.id}")
            assert record.status_code == 200 and 'id="screenings"' not in record.get_data(as_text=True)
            assert client.get(f"/children/{pupil.id}/archive.pdf").status_code == 200
    assert count(AuditEvent, AuditEvent.action == "screenings_viewed") == 0


def test_the_default_instrument_of_the_migration_covers_its_range(tmp_path):
    """Migration 0010_schools writes the default instrument: its bands pass the editor's own check."""
    fresh = make_app(f"sqlite:///{tmp_path / 'fresh.db'}", tmp_path)
    with fresh.app_context():
        try:
            upgrade()
            instrument = db.session.scalars(select(ScreeningInstrument)).one()
            values = {"name": instrument.name, "min_score": instrument.min_score, "max_score": instrument.max_score,
                      "bands": bands(**{b.band: (b.low, b.high) for b in instrument.bands})}
            assert check_instrument(instrument, values) == {}
            assert [band_of(instrument, s) for s in (0, 14, 15, 24, 25, 40)] == \
                ["normal", "normal", "watch", "watch", "high", "high"]
        finally:
            db.session.remove()
            db.engine.dispose()
