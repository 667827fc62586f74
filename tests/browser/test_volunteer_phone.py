"""The volunteer's phone at 360×740: her paired children and the activity form work offline (the
outbox in static/js/outbox/, the service worker's offline pages); a photo is shrunk on the phone
before it is queued and sent after its activity; she reaches nothing of a child beyond her pairing.
"""
from __future__ import annotations

import os
import re
from datetime import date, timedelta

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select

from blueprints.core.clock import local_today
from blueprints.places.models import Village
from blueprints.volunteers.models import ActivityPhoto, PairingActivity
from blueprints.volunteers.photos import photo_path
from extensions import db
from tests.browser.conftest import PAGES_STORED, wait_until
from tests.factories import PASSWORD, create_child, create_pairing, create_user, create_volunteer

pytestmark = pytest.mark.browser

OFFLINE_PAGES = ["/my/pairings", "/my/log", "/outbox"]
LIST_STORED = """() => new Promise((ok) => {
  const open = indexedDB.open("guanai");
  open.onsuccess = () => {
    const all = open.result.transaction("children").objectStore("children").getAll();
    all.onsuccess = () => ok(all.result.filter((row) => row.source === "/api/v1/my-pairings").length);
  };
})"""
POST_AS_HER = """async ({url, body}) => {
  const token = (await (await fetch("/api/v1/csrf")).json()).token;
  const r = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "X-CSRFToken": token},
                              body: JSON.stringify(body)});
  return r.status;
}"""


@pytest.fixture(scope="module")
def pairings(live_app):
    """A volunteer (aixin_phone) paired with 林小溪; another volunteer's pairing with 何小山."""
    with live_app.app_context():
        village = db.session.scalar(select(Village).order_by(Village.id))
        her = create_volunteer(create_user("volunteer", username="aixin_phone", volunteer_kind="caring_mother",
                                           display_name="周桂兰"), name="周桂兰")
        other = create_volunteer(create_user("volunteer", username="zhiyuan_phone", display_name="李明"),
                                 name="李明", kind="youth")
        child = create_child("林小溪", village=village, birth=date(2016, 5, 6), gender="female")
        stranger = create_child("何小山", village=village, birth=date(2014, 8, 9))
        mine = create_pairing(child, her, started_on=local_today() - timedelta(days=90), goals="每周陪伴阅读，培养阅读习惯",
                              needs=("education", "psychological"))
        theirs = create_pairing(stranger, other, started_on=local_today() - timedelta(days=90))
        ids = dict(pairing=mine.id, child=child.id, theirs=theirs.id, stranger=stranger.id)
        db.session.remove()
    return ids


def noise_photo(path, size=(2400, 1800)):
    """A photo a JPEG cannot squeeze (random pixels): the phone must shrink it hard to fit 300 KB."""
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path, "PNG")
    return path


def open_form(page, path):
    page.goto(path)
    expect(page.locator("form[data-offline-form][data-outbox-ready]")).to_have_count(1)


def save(page):
    page.get_by_role("button", name="保存活动").click()
    notice = page.locator("[data-outbox-notice]")
    expect(notice).to_contain_text(re.compile("已保存在手机上|已上传"))
    return notice


def test_offline_two_activities_and_a_photo_arrive_once_back_online(phone, phone_context, login, pairings, live_app,
                                                                     tmp_path, screenshot):
    login(phone, "aixin_phone", PASSWORD)
    phone.goto("/my/pairings")
    card = phone.locator(f'[data-pairing-id="{pairings["pairing"]}"]')
    expect(card).to_contain_text("林小溪")
    expect(card).to_contain_text("每周陪伴阅读")
    expect(card).to_contain_text("本月 0/2 次")
    expect(phone.locator("main")).not_to_contain_text("何小山")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    wait_until(phone, PAGES_STORED, OFFLINE_PAGES, timeout=15_000)
    wait_until(phone, f"async () => (await ({LIST_STORED})()) === 1")  # the picker's list, for offline use
    screenshot(phone, "my-pairings")

    posts = []
    phone.on("request", lambda r: posts.append(r.url.rsplit("/", 1)[-1]) if r.method == "POST" and "/api/v1/" in r.url else None)
    phone_context.set_offline(True)
    try:
        # 1. From her pairings page's link (?pairing=), on the stored form.
        card = phone.locator(f'[data-pairing-id="{pairings["pairing"]}"]')
        card.get_by_role("link", name="记录活动").click()
        expect(phone.locator("form[data-offline-form][data-outbox-ready]")).to_have_count(1)
        picker = phone.locator("select[data-child-picker]")
        expect(picker).to_have_value(str(pairings["pairing"]))
        expect(picker.locator("option[data-from-list]")).to_have_count(1)  # from IndexedDB, offline
        phone.get_by_label("活动时长（分钟）").fill("45")
        phone.get_by_label("辅导").check()
        phone.get_by_label("活动内容").fill("检查数学作业，讲了分数")
        phone.get_by_label("孩子的状态").fill("开心，主动提问")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
        screenshot(phone, "log-form")
        expect(save(phone)).to_contain_text("已保存在手机上，待上传：活动 林小溪")
        expect(picker).to_have_value("")

        # 2. The form checks on the phone what it can: nothing is queued without what was done.
        picker.select_option(str(pairings["pairing"]))
        phone.get_by_role("button", name="保存活动").click()
        expect(phone.locator('[data-error-for="note"]')).to_have_text("活动内容：请写明这次和孩子一起做了什么")
        phone.get_by_label("活动内容").fill("一起读《小王子》，画了插图")
        phone.get_by_label("需转告儿童主任的事").fill("孩子说奶奶最近腿疼")
        phone.get_by_label("照片（选填）").set_input_files(str(noise_photo(tmp_path / "photo.png")))
        phone.get_by_role("button", name="保存活动").click()
        # random pixels, the worst case: several encodings before it fits
        expect(phone.locator("[data-outbox-notice]")).to_contain_text("（含照片）", timeout=20_000)
        expect(phone.locator("[data-outbox-bar]")).to_contain_text("待上传 3 条")

        items = phone.evaluate("window.guanaiOutbox.all()")
        photo_item = next(i for i in items if i["kind"] == "photo")
        activity_uuids = {i["uuid"] for i in items if i["kind"] == "activity"}
        assert len(activity_uuids) == 2 and photo_item["after"] in activity_uuids
        shrunk = phone.evaluate("""async (uuid) => {
          const item = await window.guanaiOutbox.get(uuid);
          const bitmap = await createImageBitmap(item.file);
          return {size: item.file.size, type: item.file.type, width: bitmap.width, height: bitmap.height};
        }""", photo_item["uuid"])
        assert shrunk["type"] == "image/jpeg" and shrunk["size"] <= 300 * 1024
        assert max(shrunk["width"], shrunk["height"]) <= 1280

        # Reloading without a network: the form and the three items are still there.
        phone.reload()
        expect(phone.get_by_role("heading", name="记录活动")).to_be_visible()
        expect(phone.locator("[data-outbox-bar]")).to_contain_text("待上传 3 条")
        assert posts == []
    finally:
        phone_context.set_offline(False)

    wait_until(phone, "async () => (await window.guanaiOutbox.all()).length === 0", timeout=15_000)
    with live_app.app_context():
        rows = db.session.scalars(select(PairingActivity).where(PairingActivity.pairing_id == pairings["pairing"])
                                  .order_by(PairingActivity.id)).all()
        assert {r.client_uuid for r in rows} == activity_uuids and len(rows) == 2
        assert {(r.minutes, r.kind, r.child_id) for r in rows} == {(45, "tutoring", pairings["child"]),
                                                                   (60, "companionship", pairings["child"])}
        [photo] = db.session.scalars(select(ActivityPhoto)).all()
        with_photo = next(r for r in rows if r.client_uuid == photo_item["after"])
        assert photo.activity_id == with_photo.id and with_photo.pass_on == "孩子说奶奶最近腿疼"
        with Image.open(photo_path(photo)) as image:
            assert image.format == "JPEG" and max(image.size) <= 1280
        db.session.remove()
    # the photo went after the activities had reached the server, never before
    assert posts.count("activity-photos") == 1 and posts.count("pairing-activities") == 2
    assert posts.index("activity-photos") > max(i for i, p in enumerate(posts) if p == "pairing-activities")

    phone.goto("/my/pairings")
    expect(phone.locator(f'[data-pairing-id="{pairings["pairing"]}"]')).to_contain_text("本月 2/2 次")
    phone.goto("/")
    expect(phone.locator(".home-pairings")).to_contain_text("本月 2/2 次")
    screenshot(phone, "home")


def test_she_reaches_no_childs_record_no_archive_and_no_other_pairing(phone, login, pairings, live_app):
    login(phone, "aixin_phone", PASSWORD)
    for child_id in (pairings["child"], pairings["stranger"]):
        assert phone.goto(f"/children/{child_id}").status in (403, 404)
        assert phone.request.get(f"/children/{child_id}/archive.pdf").status in (403, 404)
    phone.goto("/my/pairings")
    body = {"client_uuid": phone.evaluate("crypto.randomUUID()"), "pairing_id": pairings["theirs"],
            "done_on": local_today().isoformat(), "minutes": 30, "kind": "phone", "note": "不是我的结对"}
    assert phone.evaluate(POST_AS_HER, {"url": "/api/v1/pairing-activities", "body": body}) == 404
    listed = phone.evaluate("async () => (await (await fetch('/api/v1/my-pairings')).json()).pairings.map((p) => p.id)")
    assert listed == [pairings["pairing"]]
    with live_app.app_context():
        assert db.session.scalar(select(PairingActivity).where(PairingActivity.pairing_id == pairings["theirs"])) is None
        db.session.remove()


SEND_AT_ONCE = """async ({pairingId, doneOn}) => {
  const token = (await (await fetch("/api/v1/csrf")).json()).token;
  const send = () => fetch("/api/v1/pairing-activities", {method: "POST",
    headers: {"Content-Type": "application/json", "X-CSRFToken": token},
    body: JSON.stringify({client_uuid: crypto.randomUUID(), pairing_id: pairingId, done_on: doneOn, minutes: 20,
                          kind: "phone", note: "电话问候"})}).then((r) => r.status);
  return Promise.all(Array.from({length: 12}, send));
}"""


def test_many_activities_at_once_are_all_stored_on_sqlite(phone, login, pairings, live_app):
    """The outbox sends four at a time: on SQLite each insert waits for the lock, none fails."""
    login(phone, "aixin_phone", PASSWORD)
    phone.goto("/my/pairings")
    with live_app.app_context():
        before = db.session.scalar(select(func.count()).select_from(PairingActivity))
        db.session.remove()
    statuses = phone.evaluate(SEND_AT_ONCE, {"pairingId": pairings["pairing"], "doneOn": local_today().isoformat()})
    assert statuses == [201] * 12
    with live_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PairingActivity)) == before + 12
        db.session.remove()


QUEUE_WITH_PHOTO = """async ({pairingId, doneOn, note, user, image}) => {
  const uuid = crypto.randomUUID(), photoUuid = crypto.randomUUID(), now = new Date().toISOString();
  let file;
  if (image) {
    const canvas = document.createElement("canvas");
    canvas.width = 64; canvas.height = 48;
    canvas.getContext("2d").fillRect(0, 0, 64, 48);
    file = await new Promise((ok) => canvas.toBlob(ok, "image/jpeg", 0.8));
  } else {
    file = new Blob(["这不是照片"], {type: "image/jpeg"});
  }
  const common = {user, tries: 0, last_error: null, errors: null, status: "pending", created_at: now, saved_at: now};
  const body = {client_uuid: uuid, pairing_id: pairingId, done_on: doneOn, minutes: 30, kind: "companionship"};
  if (note) body.note = note;
  await window.guanaiOutbox.putAll([
    {...common, uuid, url: "/api/v1/pairing-activities", kind: "activity", form: "/my/log", label: "活动 " + (note || "（空）"),
     field: "pairing_id", body},
    {...common, uuid: photoUuid, url: "/api/v1/activity-photos", kind: "photo", form: null, label: "照片 · " + (note || "（空）"),
     field: "photo", file, file_field: "photo", after: uuid, after_field: "activity_uuid",
     body: {client_uuid: photoUuid, activity_uuid: uuid}},
  ]);
  return [uuid, photoUuid];
}"""


def test_a_photo_waits_for_its_record_and_a_refused_photo_stays_marked_and_can_be_dropped(phone, login, pairings, live_app):
    login(phone, "aixin_phone", PASSWORD)
    open_form(phone, "/my/log")
    user = phone.evaluate("window.GuanaiSession.user()")
    sent = []
    phone.on("request", lambda r: sent.append(r.post_data_buffer) if r.url.endswith("/api/v1/activity-photos") else None)
    today = local_today().isoformat()
    # A record the server refuses (no note): its photo, a good one, waits and is never sent.
    refused, waiting = phone.evaluate(QUEUE_WITH_PHOTO, {"pairingId": pairings["pairing"], "doneOn": today, "note": None,
                                                         "user": user, "image": True})
    # A good record with a file that is no photo: the record is stored, the photo refused and kept.
    stored, bad = phone.evaluate(QUEUE_WITH_PHOTO, {"pairingId": pairings["pairing"], "doneOn": today, "note": "陪伴写作业",
                                                    "user": user, "image": False})
    phone.evaluate("window.guanaiOutbox.flush()")
    wait_until(phone, "async (uuid) => !(await window.guanaiOutbox.get(uuid))", stored)
    wait_until(phone, "async (uuid) => (await window.guanaiOutbox.get(uuid)).status === 'rejected'", bad)
    items = {i["uuid"]: i for i in phone.evaluate("window.guanaiOutbox.all()")}
    assert set(items) == {refused, waiting, bad}
    assert items[refused]["status"] == "rejected" and "活动内容" in items[refused]["errors"]["note"]
    assert items[waiting]["status"] == "pending" and items[waiting]["tries"] == 0
    assert "照片：这个文件不是能识别的图片" in items[bad]["errors"]["photo"]
    assert len(sent) == 1  # only the bad photo went: the waiting one never left the phone
    with live_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PairingActivity).where(PairingActivity.client_uuid == stored)) == 1
        assert db.session.scalar(select(func.count()).select_from(PairingActivity).where(PairingActivity.client_uuid == refused)) == 0
        db.session.remove()

    phone.goto("/outbox")
    expect(phone.locator(f'[data-outbox-item="{waiting}"]')).to_contain_text("等它所属的记录上传后再上传")
    bad_row = phone.locator(f'[data-outbox-item="{bad}"]')
    expect(bad_row.locator('[data-field="photo"]')).to_contain_text("照片：这个文件不是能识别的图片")
    questions = []
    phone.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    bad_row.get_by_role("button", name="删除").click()  # drop the photo: its record stays stored
    expect(bad_row).to_have_count(0)
    phone.locator(f'[data-outbox-item="{refused}"]').get_by_role("button", name="删除").click()
    expect(phone.locator("[data-outbox-item]")).to_have_count(0)  # the record took its waiting photo along
    assert questions[1] == "确定删除这条记录吗？它的照片也会一起删除，删除后不能恢复。"
