"""Files that hold personal data (job PDFs, uploads, backups): readable by the server's user only.

Written with mode 0600 from the first byte (never chmod afterwards: another user could open the
file in between), and into a temporary name renamed at the end, so that a reader never sees half.
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

from sqlalchemy import event
from sqlalchemy.orm import Session

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def private_dir(path: Path | str) -> Path:
    """`path` as a directory only the server's user may list (created when missing)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    os.chmod(path, PRIVATE_DIR)
    return path


@contextmanager
def private_file(path: Path | str) -> Iterator[BinaryIO]:
    """Open `path` for writing (mode 0600); it appears under its name only when the block succeeds,
    and nothing is left behind when it fails."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.chmod(partial, PRIVATE_FILE)  # in case the file existed before with other rights
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_private(path: Path | str, data: bytes) -> Path:
    with private_file(path) as fh:
        fh.write(data)
    return Path(path)


def copy_private(source: BinaryIO, path: Path | str) -> Path:
    """Stream an upload (a werkzeug FileStorage's stream) into a private file."""
    with private_file(path) as fh:
        shutil.copyfileobj(source, fh)
    return Path(path)


# A file that belongs to a row (an activity photo, a referral's attachment) is written before the
# row is committed. Should the transaction roll back instead (a failed commit, an error later in the
# request), the file goes too: no file without its row, none copied by the nightly backup for a
# record that does not exist.
UNSAVED_FILES = "guanai_unsaved_files"


def belongs_to_transaction(session, paths: Iterable[Path]) -> None:
    """Remove `paths` should `session`'s transaction roll back; keep them once it commits."""
    session.info.setdefault(UNSAVED_FILES, []).extend(paths)


@event.listens_for(Session, "after_commit")
def _keep_saved_files(session) -> None:
    session.info.pop(UNSAVED_FILES, None)


@event.listens_for(Session, "after_rollback")
def _forget_unsaved_files(session) -> None:
    for path in session.info.pop(UNSAVED_FILES, ()):
        path.unlink(missing_ok=True)
