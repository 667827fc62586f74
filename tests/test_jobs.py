"""Background jobs on huey: named tasks with JSON arguments, progress on the job row, the import
batch lock, the clean-up of old files, 410 for a file past retention, the waiting-for-the-worker
message, and real consumer processes (one killed mid-job: the job is run again, never done twice).

The `app` fixture runs tasks in the request (HUEY_IMMEDIATE); `queued_app` is a second app on the
same database whose tasks go to a SQLite queue in the test's folder, for a consumer subprocess."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import time
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from blueprints.children import excel_routes, tasks
from blueprints.children.excel import import_dir
from blueprints.children.models import Child, ImportBatch
from blueprints.core import jobs
from blueprints.core.audit import AuditEvent
from blueprints.core.jobs import Job
from extensions import db
from tests.conftest import AuthActions, IsolatedClient, make_app
from tests.consumer import start_consumer, stop_consumer, wait_until
from tests.factories import create_child, create_user, create_village, valid_id_number
from tests.test_children_excel import good_row, upload, workbook, years_ago


def fresh(model, id_):
    db.session.rollback()  # a fresh snapshot: the job committed on its own connection
    return db.session.get(model, id_)


def count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def job_id_of(response) -> int:
    return int(re.search(r"/(\d+)$", response.headers["Location"]).group(1))


@pytest.fixture
def village(app):
    return create_village("东洼村")


@pytest.fixture
def civil(app):
    return create_user("civil_affairs", username="minzheng", display_name="民政王")


def rows(n: int) -> list[dict]:
    return [good_row(valid_id_number(years_ago(5 + i % 10, 1 + i % 12, 1 + i % 28), i), 姓名=f"孩子{i}",
                     居住村="东洼村") for i in range(1, n + 1)]


# --- immediate mode: the tasks themselves -------------------------------------------------------


def test_batch_print_is_a_named_task_with_json_arguments_and_progress(app, village, civil, client, auth):
    ids = [create_child(name, village=village).id for name in ("甲一", "乙二")]
    auth.login("minzheng")
    response = client.post("/children/print", data={"village": village.id, "status": "current"})
    job = fresh(Job, job_id_of(response))
    assert job.task == tasks.PRINT_TASK == "children.print_archives"
    arguments = json.loads(job.arguments)
    assert sorted(arguments["child_ids"]) == sorted(ids) and arguments["user_id"] == civil.id
    assert (job.status, job.done, job.total, job.attempts, job.percent) == ("done", 2, 2, 1, 100)
    assert job.worker.endswith(f":{os.getpid()}") and job.finished_at is not None
    assert Path(f"{job.result_path}.pdf").is_file()
    assert Path(job.result_path).parent == Path(app.instance_path) / "jobs"  # JOB_STORAGE_DIR's default


def test_big_import_runs_as_a_task_and_the_batch_is_confirmed_once(app, village, civil, client, auth,
                                                                     monkeypatch):
    monkeypatch.setattr(excel_routes, "BACKGROUND_ROWS", 2)
    auth.login("minzheng")
    assert upload(client, workbook(rows(3))).status_code == 200
    batch_id = db.session.scalar(select(func.max(ImportBatch.id)))
    response = client.post(f"/children/import/{batch_id}/confirm")
    assert response.status_code == 303 and "/job/" in response.headers["Location"]
    job = fresh(Job, job_id_of(response))
    assert job.task == tasks.IMPORT_TASK and json.loads(job.arguments) == {"batch_id": batch_id, "user_id": civil.id}
    assert job.status == "done" and job.message == "已导入 3 名儿童。" and job.done == job.total == 6
    assert fresh(ImportBatch, batch_id).status == "imported" and count(Child) == 3

    again = client.post(f"/children/import/{batch_id}/confirm", follow_redirects=True)
    assert "不能再次确认导入" in again.get_data(as_text=True)
    assert count(Child) == 3 and count(Job) == 1


def test_a_task_for_a_job_not_queued_does_nothing(app, village, civil, client, auth):
    create_child("甲一", village=village)
    auth.login("minzheng")
    job = fresh(Job, job_id_of(client.post("/children/print", data={"village": village.id})))
    assert job.status == "done"
    tasks.print_archives.call_local(job.id, **json.loads(job.arguments))  # a duplicate delivery
    job = fresh(Job, job.id)
    assert job.attempts == 1 and count(AuditEvent, AuditEvent.action == "archive_printed") == 1


def dead_worker() -> str:
    return f"{socket.gethostname()}:{2 ** 22 + 12345}"  # above pid_max's default: never alive


def test_a_job_of_a_dead_worker_runs_once_more_then_fails(app, village, civil):
    child = create_child("甲一", village=village)
    arguments = dict(child_ids=[child.id], user_id=civil.id, what="东洼村")
    first = Job(kind="print_archives", title="打印", user_id=civil.id, status="running", attempts=1,
                worker=dead_worker(), task=tasks.PRINT_TASK, arguments=json.dumps(arguments))
    second = Job(kind="print_archives", title="打印", user_id=civil.id, status="running", attempts=2,
                 worker=dead_worker(), task=tasks.PRINT_TASK, arguments=json.dumps(arguments))
    alive = Job(kind="print_archives", title="打印", user_id=civil.id, status="running", attempts=1,
                worker=f"{socket.gethostname()}:{os.getpid()}", task=tasks.PRINT_TASK,
                arguments=json.dumps(arguments))
    db.session.add_all([first, second, alive])
    db.session.commit()
    ids = first.id, second.id, alive.id

    assert jobs.recover_interrupted() == 2
    first, second, alive = (fresh(Job, i) for i in ids)
    assert (first.status, first.attempts) == ("done", 2)  # run again (immediately, in this test)
    assert second.status == "failed" and "两次被中断" in second.message
    assert alive.status == "running"  # its worker lives: not touched
    assert count(AuditEvent, AuditEvent.action == "archive_printed") == 1


def test_an_import_that_fails_for_good_reopens_its_batch(app, village, civil):
    batch = ImportBatch(user_id=civil.id, filename="x.xlsx", status="importing", total_rows=600)
    db.session.add(batch)
    db.session.flush()
    job = Job(kind="children_import", title="导入", user_id=civil.id, status="running", attempts=2,
              worker=dead_worker(), task=tasks.IMPORT_TASK,
              arguments=json.dumps({"batch_id": batch.id, "user_id": civil.id}))
    db.session.add(job)
    db.session.commit()
    jobs.recover_interrupted()
    assert fresh(Job, job.id).status == "failed"
    assert fresh(ImportBatch, batch.id).status == "previewed"  # nothing kept: it may be confirmed again


# --- files: clean-up and 410 ---------------------------------------------------------------------


def test_daily_cleanup_removes_job_files_and_uploads_past_retention(app):
    old_pdf, new_pdf = jobs.storage_dir() / "job-1.pdf", jobs.storage_dir() / "job-2.pdf"
    old_upload, new_upload = import_dir() / "1-aa.xlsx", import_dir() / "2-bb.xlsx"
    for path in (old_pdf, new_pdf, old_upload, new_upload):
        path.write_bytes(b"x")
    eight_days_ago = time.time() - 8 * 86400
    for path in (old_pdf, old_upload):
        os.utime(path, (eight_days_ago, eight_days_ago))
    jobs.cleanup_job_files.call_local()  # the periodic task's body
    assert not old_pdf.exists() and not old_upload.exists()
    assert new_pdf.exists() and new_upload.exists()
    assert app.config["JOB_FILES_DAYS"] == 7


def test_a_job_file_past_retention_answers_410_in_chinese(app, village, civil, client, auth):
    create_child("甲一", village=village)
    auth.login("minzheng")
    job_id = job_id_of(client.post("/children/print", data={"village": village.id}))
    path = Path(f"{fresh(Job, job_id).result_path}.pdf")
    long_ago = time.time() - 30 * 86400
    os.utime(path, (long_ago, long_ago))
    assert jobs.clean_job_files() >= 1 and not path.exists()
    response = client.get(f"/children/print/{job_id}/download")
    assert response.status_code == 410
    body = response.get_data(as_text=True)
    assert "文件已过期删除" in body and "7 天" in body and "请重新生成" in body


def test_a_queued_job_without_a_consumer_says_it_waits_for_the_worker(app, civil, client, auth):
    jobs.bind(app)
    jobs.huey.storage.delete_data(jobs.HEARTBEAT_KEY)
    job = Job(kind="print_archives", title="打印儿童档案（测试）", user_id=civil.id, status="queued",
              task=tasks.PRINT_TASK)
    db.session.add(job)
    db.session.commit()
    auth.login("minzheng")
    body = client.get(f"/children/print/{job.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "等待后台任务程序" in body and 'hx-trigger="every 1s"' in body  # still polls: it may start
    jobs.touch_heartbeat()  # a consumer was seen just now
    body = client.get(f"/children/print/{job.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "等待后台任务程序" not in body and "排队中" in body


# --- real consumer processes ----------------------------------------------------------------------


@pytest.fixture
def queued_app(app, database_url, tmp_path):
    """The same database, but jobs queued in tmp_path/huey.db for a consumer, as in production."""
    queued = make_app(database_url, tmp_path, HUEY_IMMEDIATE=False)
    queued.test_client_class = IsolatedClient
    yield queued
    with queued.app_context():
        db.engine.dispose()
    jobs.bind(app)


@pytest.fixture
def consumers(database_url, tmp_path):
    """start() runs a consumer on the queued app's queue and folder; all are stopped at the end."""
    started = []

    def start():
        process = start_consumer(database_url, tmp_path, tmp_path / "consumer.log")
        started.append(process)
        return process

    yield start
    for process in started:
        stop_consumer(process)


def poll(client, url: str) -> str:
    return client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)


def test_batch_print_through_a_real_consumer(queued_app, village, civil, consumers, tmp_path):
    for name in ("甲一", "乙二", "丙三"):
        create_child(name, village=village)
    client = queued_app.test_client()
    AuthActions(client).login("minzheng")
    job_id = job_id_of(client.post("/children/print", data={"village": village.id, "status": "current"}))
    url = f"/children/print/{job_id}"
    assert fresh(Job, job_id).status == "queued"
    assert "等待后台任务程序" in poll(client, url)  # no consumer yet

    consumers()
    body = wait_until(lambda: (b := poll(client, url)) and "下载 PDF" in b and b, 90, what="the print job")
    assert "3 / 3" in body and "等待后台任务程序" not in body
    with client.get(f"{url}/download") as download:
        assert download.status_code == 200
        text = "".join(page.extract_text() for page in PdfReader(BytesIO(download.data)).pages)
    assert all(name in text for name in ("甲一", "乙二", "丙三"))
    job = fresh(Job, job_id)
    assert job.attempts == 1 and job.worker != f"{socket.gethostname()}:{os.getpid()}"
    assert (tmp_path / "jobs" / f"job-{job_id}.pdf").is_file()


def test_big_import_through_a_real_consumer_refuses_a_second_confirm(queued_app, village, civil, consumers,
                                                                      monkeypatch):
    monkeypatch.setattr(excel_routes, "BACKGROUND_ROWS", 2)
    client = queued_app.test_client()
    AuthActions(client).login("minzheng")
    assert upload(client, workbook(rows(5))).status_code == 200
    batch_id = db.session.scalar(select(func.max(ImportBatch.id)))
    response = client.post(f"/children/import/{batch_id}/confirm")
    url = response.headers["Location"]
    assert fresh(ImportBatch, batch_id).status == "importing"
    again = client.post(f"/children/import/{batch_id}/confirm", follow_redirects=True)  # while queued
    assert "不能再次确认导入" in again.get_data(as_text=True) and count(Job) == 1
    assert "等待后台任务程序" in poll(client, url)

    consumers()
    body = wait_until(lambda: (b := poll(client, url)) and 'hx-trigger' not in b and b, 90, what="the import")
    assert "已导入 5 名儿童" in body
    assert fresh(ImportBatch, batch_id).status == "imported" and count(Child) == 5
    assert client.post(f"/children/import/{batch_id}/confirm").status_code == 303 and count(Child) == 5


def test_a_consumer_killed_mid_job_leaves_it_to_the_next_one_never_done_twice(queued_app, village, civil,
                                                                               consumers):
    names = [f"儿童{i:02d}" for i in range(40)]
    for name in names:
        create_child(name, village=village)
    client = queued_app.test_client()
    AuthActions(client).login("minzheng")
    job_id = job_id_of(client.post("/children/print", data={"village": village.id, "status": "current"}))

    first = consumers()
    running = wait_until(lambda: (job := fresh(Job, job_id)).status == "running" and 0 < job.done < job.total
                         and job, 120, 0.05, "the job to be under way")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    job = fresh(Job, job_id)
    assert job.status == "running" and job.worker == running.worker and job.attempts == 1

    consumers()  # its start-up finds the dead worker's job and runs it once more
    job = wait_until(lambda: (j := fresh(Job, job_id)).finished and j, 180, what="the job to finish")
    assert job.status == "done" and job.attempts == 2 and job.done == job.total == 40
    assert count(AuditEvent, AuditEvent.action == "archive_printed") == 1  # done once
    with client.get(f"/children/print/{job_id}/download") as download:
        assert download.status_code == 200
        assert len(PdfReader(BytesIO(download.data)).pages) >= 40


def test_a_job_taken_from_its_worker_keeps_nothing_of_its_work(app, village, civil, client, auth, monkeypatch):
    """The old bug: a job failed meanwhile (by the poll, then) still finished as done. Now the
    finish is conditional and in the work's own transaction: the work is rolled back."""
    create_child("甲一", village=village)
    record_batch = tasks.printing.record_batch

    def failed_meanwhile(*args, **kwargs):
        db.session.commit()  # end the task's read snapshot (SQLite), as between two progress reports
        with db.engine.begin() as connection:  # the consumer's watch, on a connection of its own
            connection.execute(Job.__table__.update().values(status="failed", message=jobs.GAVE_UP))
        record_batch(*args, **kwargs)

    monkeypatch.setattr(tasks.printing, "record_batch", failed_meanwhile)
    auth.login("minzheng")
    job = fresh(Job, job_id_of(client.post("/children/print", data={"village": village.id})))
    assert job.status == "failed" and job.message == jobs.GAVE_UP
    assert count(AuditEvent, AuditEvent.action == "archive_printed") == 0
    assert client.get(f"/children/print/{job.id}/download").status_code == 404
