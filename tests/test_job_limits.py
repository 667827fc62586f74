"""Limits on background jobs (issue 8 §11, §12): at most JOB_MAX_ACTIVE_PER_USER queued or running
jobs per user, the next refused with 409 in Chinese and no row; job files 0600 in a 0700 folder."""
from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from blueprints.children import print_routes, tasks
from blueprints.core.jobs import Job
from extensions import db
from tests.factories import create_child, create_user, create_village


def jobs_of(user) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Job).where(Job.user_id == user.id))


def waiting_job(user, status: str = "queued") -> Job:
    """A job row as the queue leaves it while a consumer is busy (HUEY_IMMEDIATE would finish it)."""
    job = Job(kind=print_routes.JOB_KIND, title="打印儿童档案", user_id=user.id, task=tasks.PRINT_TASK, status=status,
              arguments="{}")
    db.session.add(job)
    db.session.commit()
    return job


@pytest.fixture
def town(app):
    village = create_village("东洼村")
    create_child("龚鑫淼", village=village)
    return {"village": village, "civil": create_user("civil_affairs", username="minzheng"),
            "other": create_user("civil_affairs", username="minzheng2")}


def test_a_user_with_the_most_jobs_waiting_is_refused_a_new_one(app, town, client, auth):
    assert app.config["JOB_MAX_ACTIVE_PER_USER"] == 2
    waiting_job(town["civil"], "queued")
    waiting_job(town["civil"], "running")
    waiting_job(town["civil"], "done")  # finished jobs do not count
    waiting_job(town["civil"], "failed")
    auth.login("minzheng")

    response = client.post("/children/print", data={"village": town["village"].id, "status": "current"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "您已有 2 个任务正在排队或进行中" in page and "每人同时最多 2 个" in page
    assert jobs_of(town["civil"]) == 4

    fragment = client.post("/children/print", data={"village": town["village"].id}, headers={"HX-Request": "true"})
    assert fragment.status_code == 409 and "<html" not in fragment.get_data(as_text=True)
    assert "每人同时最多 2 个" in fragment.get_data(as_text=True)
    assert jobs_of(town["civil"]) == 4


def test_the_limit_is_per_user_and_frees_up_when_a_job_ends(app, town, client, auth):
    first = waiting_job(town["civil"])
    waiting_job(town["civil"])
    auth.login("minzheng2")  # someone else's jobs do not count against this user
    assert client.post("/children/print", data={"village": town["village"].id}).status_code == 303
    assert jobs_of(town["other"]) == 1
    auth.logout()

    auth.login("minzheng")
    assert client.post("/children/print", data={"village": town["village"].id}).status_code == 409
    first.status = "done"
    db.session.commit()
    assert client.post("/children/print", data={"village": town["village"].id}).status_code == 303
    assert jobs_of(town["civil"]) == 3


def test_a_batch_print_file_is_0600_in_a_0700_folder(app, town, client, auth):
    auth.login("minzheng")
    response = client.post("/children/print", data={"village": town["village"].id, "status": "current"})
    job_id = int(re.fullmatch(r"/children/print/(\d+)", response.headers["Location"]).group(1))
    job = db.session.get(Job, job_id)
    assert job.status == "done"  # HUEY_IMMEDIATE: done in the request
    path = Path(f"{job.result_path}.pdf")
    assert path.read_bytes().startswith(b"%PDF")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.parent == Path(app.instance_path) / "jobs"
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".")]  # nothing half-written left
