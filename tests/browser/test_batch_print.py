"""Batch printing from the phone, run by a real huey consumer: the progress bar reaches 100% and
the PDF downloads."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import expect

from blueprints.places.models import Village
from blueprints.children.services import create_child
from extensions import db
from tests.factories import valid_id_number

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def small_village(live_app):
    """A village of three children: a batch that prints in a few seconds."""
    with live_app.app_context():
        village = Village(name="打印测试村")
        db.session.add(village)
        db.session.flush()
        for i, name in enumerate(["印一", "印二", "印三"], start=1):
            birth = date(2015, i, 3)
            create_child(dict(name=name, residence_village_id=village.id, birth_date=birth, gender="male",
                              id_number=valid_id_number(birth, 500 + i), status="active", attention_level="general"),
                         ["poverty"], [], actor=None)
        db.session.commit()
        village_id = village.id
        db.session.remove()
    return village_id


def test_batch_print_reaches_100_percent_and_downloads(phone, login, small_village, live_consumer, screenshot):
    login(phone, "minzheng")
    phone.goto("/children/print")
    phone.get_by_label("村", exact=True).select_option(str(small_village))
    phone.get_by_role("button", name="开始打印").click()
    job = phone.locator("#print-job")
    expect(job).to_be_visible()
    link = phone.get_by_role("link", name="下载 PDF")
    expect(link).to_be_visible(timeout=90_000)  # the consumer lays out three archives
    bar = job.locator("progress")
    expect(bar).to_have_attribute("value", "3")
    expect(bar).to_have_attribute("max", "3")
    expect(job).to_contain_text("3 / 3")
    expect(job).not_to_contain_text("等待后台任务程序")
    screenshot(phone)
    with phone.expect_download() as info:
        link.click()
    download = info.value
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 10_000
    assert download.suggested_filename.startswith("archives-") and download.suggested_filename.endswith(".pdf")
