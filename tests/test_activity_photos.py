"""An activity's photo: uploaded after its activity (POST /api/v1/activity-photos, multipart, its own
client_uuid: 201/200/409/422/404), decoded and written again as a JPEG of at most 1280 px without
any metadata, stored under PHOTO_DIR (mode 0600), shown only to civil affairs, the supervisor and
the volunteer herself (/pairings/activities/<id>/photo, no-store, audited)."""
from __future__ import annotations

import hashlib
import re
import stat
import uuid
from datetime import date
from io import BytesIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from blueprints.volunteers.models import ActivityPhoto, PairingActivity
from extensions import db
from tests.factories import create_child, create_pairing, create_user, create_village, create_volunteer

API = "/api/v1/activity-photos"


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def image_bytes(size=(800, 600), fmt="JPEG", mode="RGB", color=(200, 60, 40), exif=None) -> bytes:
    out = BytesIO()
    image = Image.new(mode, size, color)
    if exif is not None:
        image.save(out, fmt, exif=exif)
    else:
        image.save(out, fmt)
    return out.getvalue()


@pytest.fixture
def photo_dir(app, tmp_path, monkeypatch):
    folder = tmp_path / "photos"
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(folder))
    return folder


@pytest.fixture
def scene(app, photo_dir):
    village = create_village("乙村")
    her = create_volunteer(create_user("volunteer", username="aixin_p"), name="孙丽")
    other = create_volunteer(create_user("volunteer", username="aixin_q"), name="周强", kind="youth")
    child = create_child("刘小雨", village=village)
    pairing = create_pairing(child, her, started_on=date(2026, 1, 5))
    theirs = create_pairing(create_child("陈小东", village=village), other, started_on=date(2026, 1, 5))
    create_user("civil_affairs", username="minzheng_p")
    create_user("supervisor", username="dudao_p")
    create_user("director", username="zhuren_p", villages=[village])
    create_user("department", username="tuanwei_p", department_code="youth")
    return dict(village=village, her=her, other=other, child=child, pairing=pairing, theirs=theirs)


def log_activity(client, pairing) -> dict:
    body = {"client_uuid": str(uuid.uuid4()), "pairing_id": pairing.id, "done_on": local_today().isoformat(),
            "minutes": 60, "kind": "companionship", "note": "一起画画"}
    assert client.post("/api/v1/pairing-activities", json=body).status_code == 201
    return body


def upload(client, activity_uuid, data: bytes, photo_uuid=None, filename="photo.jpg"):
    return client.post(API, data={"client_uuid": photo_uuid or str(uuid.uuid4()), "activity_uuid": activity_uuid,
                                  "photo": (BytesIO(data), filename)}, content_type="multipart/form-data")


def test_a_photo_is_stored_once_shrunk_upright_without_metadata_and_private(client, auth, scene, photo_dir):
    auth.login("aixin_p")
    activity = log_activity(client, scene["pairing"])
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was held upright, the pixels lie on their side
    exif[0x010F] = "PhoneMaker"
    exif[0x9003] = "2026:03:02 10:00:00"
    data = image_bytes((3000, 2000), exif=exif)
    assert b"PhoneMaker" in data
    photo_uuid = str(uuid.uuid4())
    answers = [upload(client, activity["client_uuid"], data, photo_uuid) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 200, 200]
    assert answers[0].get_json()["client_uuid"] == photo_uuid
    [photo] = db.session.scalars(select(ActivityPhoto)).all()
    stored_activity = db.session.scalar(select(PairingActivity).where(PairingActivity.client_uuid == activity["client_uuid"]))
    assert (photo.activity_id, photo.child_id, photo.uploaded_by_id) == (stored_activity.id, scene["child"].id, scene["her"].user_id)
    assert photo.fingerprint == hashlib.sha256(data).hexdigest()
    path = photo_dir / photo.path
    files = [p for p in photo_dir.rglob("*") if p.is_file()]
    assert files == [path]  # the replays left no second file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = path.read_bytes()
    assert b"PhoneMaker" not in stored and b"Exif" not in stored
    with Image.open(path) as image:
        assert image.format == "JPEG" and image.size == (853, 1280) == (photo.width, photo.height)
        assert dict(image.getexif()) == {}
    assert photo.size == len(stored)
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "activity_photo_uploaded")).all()
    assert event.object_id == str(photo.id) and "853×1280" in event.detail


def test_a_transparent_png_gets_a_white_background(client, auth, scene, photo_dir):
    auth.login("aixin_p")
    activity = log_activity(client, scene["pairing"])
    assert upload(client, activity["client_uuid"], image_bytes((400, 300), "PNG", "RGBA", (0, 0, 0, 0)), filename="a.png").status_code == 201
    photo = db.session.scalar(select(ActivityPhoto))
    with Image.open(photo_dir / photo.path) as image:
        assert image.size == (400, 300) and min(image.convert("RGB").getpixel((10, 10))) > 240


@pytest.mark.parametrize("data,message", [
    (b"%PDF-1.7 not a photo at all", "照片：这个文件不是能识别的图片"),
    (b"", "照片：文件是空的"),
    (image_bytes()[:200], "照片：这个文件不是能识别的图片"),  # cut off
    (image_bytes((100, 100), "GIF", "P", 1), "照片：这个文件不是能识别的图片"),
], ids=["pdf", "empty", "truncated", "gif"])
def test_what_is_not_a_photo_is_422_naming_the_photo(client, auth, scene, data, message):
    auth.login("aixin_p")
    activity = log_activity(client, scene["pairing"])
    response = upload(client, activity["client_uuid"], data)
    assert response.status_code == 422
    assert message in response.get_json()["errors"]["photo"]
    assert count(ActivityPhoto) == 0


def test_a_decompression_bomb_is_refused_before_it_is_decoded(client, auth, scene):
    auth.login("aixin_p")
    activity = log_activity(client, scene["pairing"])
    bomb = image_bytes((12000, 12000), "PNG", "L", 0)  # 144 megapixels in a few hundred KB
    assert len(bomb) < 1024 * 1024
    response = upload(client, activity["client_uuid"], bomb)
    assert response.status_code == 422 and "照片" in response.get_json()["errors"]["photo"]
    assert count(ActivityPhoto) == 0


def test_over_ten_mb_is_a_chinese_message_naming_the_photo_not_a_bare_413(client, auth, scene, app):
    auth.login("aixin_p")
    activity = log_activity(client, scene["pairing"])
    big = image_bytes((64, 64)) + b"\0" * (10 * 1024 * 1024)
    boundary, body = encode_multipart({"client_uuid": str(uuid.uuid4()), "activity_uuid": activity["client_uuid"],
                                       "photo": FileStorage(BytesIO(big), "big.jpg")})
    response = client.post(API, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 422
    assert response.get_json()["errors"]["photo"] == "照片：文件超过 10 MB，请换一张较小的照片，或删除这张照片"
    # Past the upload limit of every request the body is not read at all: still JSON in Chinese.
    huge = b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    boundary, body = encode_multipart({"client_uuid": str(uuid.uuid4()), "activity_uuid": activity["client_uuid"],
                                       "photo": FileStorage(BytesIO(huge), "huge.jpg")})
    response = client.post(API, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413 and response.get_json()["error"] == "提交的内容太大"
    assert count(ActivityPhoto) == 0


def test_conflicts_and_reach(client, auth, scene):
    auth.login("aixin_p")
    activity = log_activity(client, scene["pairing"])
    photo_uuid = str(uuid.uuid4())
    assert upload(client, activity["client_uuid"], image_bytes(), photo_uuid).status_code == 201
    other_bytes = upload(client, activity["client_uuid"], image_bytes(color=(0, 0, 255)), photo_uuid)
    assert other_bytes.status_code == 409 and "内容不同" in other_bytes.get_json()["message"]
    second = upload(client, activity["client_uuid"], image_bytes(color=(0, 255, 0)))
    assert second.status_code == 409 and "已经有一张照片" in second.get_json()["message"]
    unknown = upload(client, str(uuid.uuid4()), image_bytes())
    assert unknown.status_code == 404 and "找不到这张照片所属的活动记录" in unknown.get_json()["message"]
    assert upload(client, "not-a-uuid", image_bytes()).status_code == 422
    auth.logout()
    auth.login("aixin_q")  # another volunteer: her activity is out of reach
    assert upload(client, activity["client_uuid"], image_bytes(color=(1, 2, 3))).status_code == 404
    auth.logout()
    auth.login("zhuren_p")
    refused = upload(client, activity["client_uuid"], image_bytes(color=(1, 2, 3)))
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    assert count(ActivityPhoto) == 1


def test_the_photo_is_shown_to_civil_affairs_the_supervisor_and_herself_only(client, auth, scene):
    auth.login("aixin_p")
    activity = log_activity(client, scene["pairing"])
    data = image_bytes()
    assert upload(client, activity["client_uuid"], data).status_code == 201
    activity_id = db.session.scalar(select(PairingActivity.id).where(PairingActivity.client_uuid == activity["client_uuid"]))
    url = f"/pairings/activities/{activity_id}/photo"
    shown = client.get(url)
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert shown.headers["Cache-Control"] == "no-store" and shown.data[:2] == b"\xff\xd8"
    assert "查看照片" in client.get("/my/history").get_data(as_text=True)
    auth.logout()
    for username, status in [("minzheng_p", 200), ("dudao_p", 200), ("zhuren_p", 403), ("tuanwei_p", 403), ("aixin_q", 404)]:
        auth.login(username)
        # asked as a fragment: the refusal's short message, the same status (the full error page
        # draws the menu, whose pairing pages arrive with the other parts of this area)
        assert client.get(url, headers={"HX-Request": "true"}).status_code == status, username
        auth.logout()
    viewers = db.session.scalars(select(AuditEvent.username).where(AuditEvent.action == "activity_photo_viewed")).all()
    assert viewers == ["aixin_p", "minzheng_p", "dudao_p"]
    auth.login("minzheng_p")
    assert client.get(f"/pairings/activities/{activity_id + 1}/photo", headers={"HX-Request": "true"}).status_code == 404


def test_the_form_without_script_takes_the_photo_too(client, auth, scene, photo_dir):
    auth.login("aixin_p")
    fields = {"client_uuid": str(uuid.uuid4()), "photo_uuid": str(uuid.uuid4()), "pairing_id": str(scene["pairing"].id),
              "done_on": local_today().isoformat(), "minutes": "30", "kind": "visit", "note": "上门辅导"}
    refused = client.post("/my/log", data={**fields, "photo": (BytesIO(b"not an image"), "x.jpg")},
                          content_type="multipart/form-data")
    assert refused.status_code == 422 and "照片：这个文件不是能识别的图片" in refused.get_data(as_text=True)
    assert count(PairingActivity) == 0  # the form comes back whole: nothing half stored
    done = client.post("/my/log", data={**fields, "photo": (BytesIO(image_bytes((2000, 1000))), "x.jpg")},
                       content_type="multipart/form-data")
    assert done.status_code == 303
    photo = db.session.scalar(select(ActivityPhoto))
    assert photo.client_uuid == fields["photo_uuid"] and (photo.width, photo.height) == (1280, 640)
    assert (photo_dir / photo.path).is_file()
    # Back, the minutes changed, saved again: the record number is taken (409) and the form comes back
    # with new numbers for the record and its photo, so that saving it stores both, not the record alone
    again = client.post("/my/log", data={**fields, "minutes": "45", "photo": (BytesIO(image_bytes()), "y.jpg")},
                        content_type="multipart/form-data")
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    assert fields["client_uuid"] not in page and fields["photo_uuid"] not in page
    renewed = {name: re.search(rf'name="{name}" value="([^"]+)"', page)[1] for name in ("client_uuid", "photo_uuid")}
    stored = client.post("/my/log", data={**fields, **renewed, "minutes": "45",
                                          "photo": (BytesIO(image_bytes()), "y.jpg")}, content_type="multipart/form-data")
    assert stored.status_code == 303
    assert count(PairingActivity) == 2 and count(ActivityPhoto) == 2


def test_no_file_is_ever_a_500(client, auth, scene):
    """Random bytes behind the signatures of the formats a photo may come in: refused (422), or
    stored when they happen to be an image; never a 500."""
    auth.login("aixin_p")
    activity = log_activity(client, scene["pairing"])
    real = image_bytes((40, 30), "PNG")
    signatures = [b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"RIFF\x00\x00\x00\x00WEBPVP8 ", b"GIF89a", b""]

    @settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(head=st.sampled_from(signatures), tail=st.binary(max_size=400), cut=st.integers(0, len(real)),
           mangle=st.booleans())
    def check(head, tail, cut, mangle):
        data = real[:cut] + tail if mangle else head + tail
        response = upload(client, activity["client_uuid"], data)
        assert response.status_code in (201, 409, 422), (response.status_code, data[:60])

    check()


def test_no_comment_survives_and_a_huge_png_or_webp_is_refused_before_it_is_decoded(client, auth, scene, photo_dir):
    """A JPEG comment (or a PNG text chunk) can carry where the photo was taken, as EXIF does; a PNG
    or WebP is decoded in full, so a few KB of one must not ask for a gigabyte."""
    auth.login("aixin_p")
    out = BytesIO()
    Image.new("RGB", (640, 480), (10, 120, 200)).save(out, "JPEG", comment=b"GPS 29.12N 110.45E home of Liu")
    activity = log_activity(client, scene["pairing"])
    assert upload(client, activity["client_uuid"], out.getvalue()).status_code == 201
    stored = (photo_dir / db.session.scalar(select(ActivityPhoto.path))).read_bytes()
    assert b"GPS" not in stored and b"home of Liu" not in stored
    assert "comment" not in Image.open(BytesIO(stored)).info
    for fmt in ("PNG", "WEBP"):
        big = BytesIO()
        Image.new("1" if fmt == "PNG" else "RGB", (4000, 4000)).save(big, fmt)
        assert len(big.getvalue()) < 300_000  # small on the wire …
        refused = upload(client, log_activity(client, scene["pairing"])["client_uuid"], big.getvalue())
        assert refused.status_code == 422 and "图片尺寸太大（4000×4000 像素）" in refused.get_json()["errors"]["photo"]
    assert count(ActivityPhoto) == 1


def test_a_photo_file_goes_when_its_transaction_rolls_back(client, auth, scene, photo_dir):
    from blueprints.volunteers.photos import store_photo

    auth.login("aixin_p")
    activity = db.session.scalar(select(PairingActivity).where(
        PairingActivity.client_uuid == log_activity(client, scene["pairing"])["client_uuid"]))
    outcome = store_photo(activity, image_bytes(), str(uuid.uuid4()), actor=scene["her"].user)
    assert outcome.created
    written = photo_dir / outcome.record.path
    assert written.is_file()
    db.session.rollback()  # as a failed commit ends
    assert not written.exists() and count(ActivityPhoto) == 0
