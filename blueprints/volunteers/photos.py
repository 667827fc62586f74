"""An activity's photo: checked, decoded and re-encoded here, stored outside the database.

The phone has already shrunk it (at most 1280 px, 300 KB: static/js/outbox/forms.js) and sends it
after the activity, as its own upload with its own client_uuid (idempotent through
core/offline.py store_once; the fingerprint is the sha256 of the bytes sent). The server trusts
none of that: a file over PHOTO_MAX_UPLOAD_BYTES or that is not an image is refused with a
message naming the photo; an image is decoded only when its size in pixels is sane (a small file
can unpack into gigabytes), turned upright as the phone recorded it, shrunk to MAX_SIDE and
written again as a plain JPEG: no metadata survives (a phone's EXIF holds where the photo was
taken). Files live under PHOTO_DIR (default <instance>/photos), mode 0600, named at random; the
row keeps the path relative to that folder.
"""
from __future__ import annotations

import hashlib
import uuid
import warnings
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.exc import IntegrityError

from blueprints.core import audit
from blueprints.core.clock import local_today
from blueprints.core.files import belongs_to_transaction, private_dir, write_private
from blueprints.core.offline import CONFLICT_MESSAGES, Outcome, conflict, store_once
from blueprints.volunteers.models import ActivityPhoto, PairingActivity
from extensions import db

MAX_SIDE = 1280
JPEG_QUALITY = 82
FORMATS = ("JPEG", "PNG", "WEBP")  # what phones' cameras and canvases write
OTHER_MAX_PIXELS = 12_000_000  # PNG and WebP, decoded in full: the phone sends at most 1280 px anyway
NOT_AN_IMAGE = "照片：这个文件不是能识别的图片（支持 JPEG、PNG、WebP），请重新选择照片，或删除这张照片"
TAKEN = "这条活动已经有一张照片，服务器没有保存这一张，原照片未改动。"


class PhotoError(ValueError):
    """A photo refused, with the message (in Chinese, naming the photo) for the outbox or the form."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Photo:
    data: bytes  # the JPEG as stored
    width: int
    height: int


def photo_dir() -> Path:
    return private_dir(current_app.config.get("PHOTO_DIR") or Path(current_app.instance_path) / "photos")


def photo_path(photo: ActivityPhoto) -> Path:
    return photo_dir() / photo.path


def _flatten(image: Image.Image) -> Image.Image:
    """RGB for JPEG: a transparent background becomes white, not black."""
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def decode(data: bytes) -> Photo:
    """The photo as it will be stored, or PhotoError."""
    limit = current_app.config["PHOTO_MAX_UPLOAD_BYTES"]
    if not data:
        raise PhotoError("照片：文件是空的，请重新选择照片，或删除这张照片")
    if len(data) > limit:
        raise PhotoError(f"照片：文件超过 {limit / 1024 / 1024:g} MB，请换一张较小的照片，或删除这张照片")
    try:
        with warnings.catch_warnings():
            # Pillow warns, then refuses, past its own pixel limit: both are a refusal here
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(BytesIO(data), formats=FORMATS)  # reads the header only
            width, height = image.size
            # A JPEG is decoded at a smaller scale straight away (draft); any other format in full,
            # at 4 bytes a pixel and copies: a few KB of PNG or WebP could ask for a gigabyte.
            most = current_app.config["PHOTO_MAX_PIXELS"] if image.format == "JPEG" else OTHER_MAX_PIXELS
            if width * height > most:
                raise PhotoError(f"照片：图片尺寸太大（{width}×{height} 像素），请换一张照片，或删除这张照片")
            image.draft("RGB", (MAX_SIDE, MAX_SIDE))
            image.load()
            image.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)  # small first (in place, EXIF kept)
            image = ImageOps.exif_transpose(image)  # upright as the phone recorded it, before the metadata goes
    except PhotoError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            OSError, SyntaxError, ValueError, EOFError) as error:  # not an image, or a broken one
        raise PhotoError(NOT_AN_IMAGE) from error
    image = _flatten(image)
    image.info = {}  # no comment, no text chunk, no profile: the JPEG writer takes them from here
    out = BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)  # no exif=, no icc_profile=: pixels only
    return Photo(out.getvalue(), image.width, image.height)


def store_photo(activity: PairingActivity, data: bytes, client_uuid: str, *, actor,
                decoded: Photo | None = None) -> Outcome:
    """Once per client_uuid: a replay (same volunteer, same activity, same bytes) gets the stored
    photo; the uuid used otherwise, or a second photo for the same activity, a conflict. Raises
    PhotoError for a file that is not a photo it can keep. `decoded`: `data` already decoded.
    The file is written before the commit: a transaction rolled back afterwards removes it
    (core/files.py belongs_to_transaction)."""
    photo = decoded or decode(data)
    existing = activity.photo
    if existing is not None and existing.client_uuid != client_uuid:
        return conflict(TAKEN)
    written: list[Path] = []

    def build() -> ActivityPhoto:
        relative = f"{local_today():%Y/%m}/{uuid.uuid4().hex}.jpg"
        path = photo_dir() / relative
        private_dir(path.parent.parent)  # each level 0700: mkdir(parents=True) gives the parents 0755
        private_dir(path.parent)
        written.append(write_private(path, photo.data))
        row = ActivityPhoto(activity_id=activity.id, child_id=activity.child_id, uploaded_by_id=actor.id,
                            path=relative, size=len(photo.data), width=photo.width, height=photo.height)
        db.session.add(row)
        return row

    try:
        outcome = store_once(ActivityPhoto, client_uuid, owner_field="uploaded_by_id", owner_id=actor.id,
                             child_id=activity.child_id, fingerprint=hashlib.sha256(data).hexdigest(), build=build)
    except IntegrityError:  # another photo for this activity stored at the same moment (activity_id is unique)
        for path in written:
            path.unlink(missing_ok=True)
        return conflict(TAKEN)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    if not outcome.created:  # a replay, or a concurrent request stored this uuid first: one file only
        for path in written:
            path.unlink(missing_ok=True)
    if outcome.status == "replay" and outcome.record.activity_id != activity.id:
        return conflict(CONFLICT_MESSAGES["body"])  # the same bytes under the same uuid, for another activity
    if outcome.created:
        belongs_to_transaction(db.session, written)
        audit.record("activity_photo_uploaded", outcome.record,
                     detail=f"{photo.width}×{photo.height}，{len(photo.data) // 1024} KB", user=actor)
    return outcome
