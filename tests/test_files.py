"""Files with personal data are written 0600 and never left half-written (blueprints/core/files.py)."""
from __future__ import annotations

import io
import stat

import pytest

from blueprints.core.files import copy_private, private_dir, private_file, write_private


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_written_files_are_private(tmp_path):
    folder = private_dir(tmp_path / "jobs")
    assert mode(folder) == 0o700
    assert mode(write_private(folder / "a.pdf", b"%PDF")) == 0o600
    assert mode(copy_private(io.BytesIO(b"xlsx"), folder / "b.xlsx")) == 0o600
    assert (folder / "b.xlsx").read_bytes() == b"xlsx"


def test_a_file_that_was_readable_by_others_becomes_private(tmp_path):
    target = tmp_path / "old.pdf"
    target.write_bytes(b"old")
    target.chmod(0o644)
    write_private(target, b"new")
    assert mode(target) == 0o600 and target.read_bytes() == b"new"


def test_a_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with private_file(tmp_path / "c.pdf") as fh:
            fh.write(b"half")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
