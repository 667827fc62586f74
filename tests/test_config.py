import os
import stat

from config import instance_secret_key


def test_secret_key_is_generated_once_owner_only(tmp_path):
    key = instance_secret_key(tmp_path / "instance")
    path = tmp_path / "instance" / "secret_key"
    assert len(key) == 64
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert instance_secret_key(tmp_path / "instance") == key  # reused, not regenerated


def test_dates_show_in_beijing_time():
    from datetime import datetime

    from blueprints.core.clock import format_date, format_datetime

    utc = datetime(2026, 3, 1, 17, 30)  # stored naive UTC
    assert format_datetime(utc) == "2026-03-02 01:30"
    assert format_date(utc) == "2026-03-02"
