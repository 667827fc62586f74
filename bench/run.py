"""`make bench`: server time of the busiest pages with 20,000 children and 200,000 visits, on SQLite
and PostgreSQL,
beside /healthz in the same run; the volunteer's phone pages; printing times (archives, and pairing
records through their background job). Medians over repeated requests, in-process (the Flask test
client), so the figure is the server's own time without the network.

Usage: python bench/run.py [--children N] [--pairings N] [--school-pupils N] [--repeat N] [--print-runs N]
                           [--database URL]
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from app import create_app  # noqa: E402
from bench.seed import (BENCH_PLAN_NEEDS, BENCH_REFERRALS, BENCH_PROGRAMME, BENCH_UNREVIEWED,  # noqa: E402
                        plan_child_id, seed_bench_data, seed_visit_history)
from blueprints.children.models import Child  # noqa: E402
from extensions import db  # noqa: E402


def median_ms(client, path: str, repeat: int) -> float:
    client.get(path)  # warm caches and templates
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(times)


def run(database_url: str, children: int, visits: int, pairings: int, repeat: int, print_too: bool = False,
        print_runs: int = 3, school_pupils: int = 3000) -> dict:
    instance = tempfile.mkdtemp(prefix="guanai-bench-")
    # HUEY_IMMEDIATE: a background job runs in this process, as the consumer would run it.
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "DEMO_MODE": True, "INSTANCE_PATH": instance, "HUEY_IMMEDIATE": True})
    results = {"database": db_name(database_url), "children": children, "visits": visits, "pairings": pairings}
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        start = time.perf_counter()
        seed_bench_data(children, app.config["ORG_NAME"], visits=visits, pairings=pairings,
                        school_pupils=school_pupils)
        results["seed_s"] = round(time.perf_counter() - start, 1)
        results["children_in_db"] = db.session.scalar(select(func.count()).select_from(Child))
        child_id = plan_child_id()  # the first child of the first village, with a care plan
        db.session.remove()

    client = app.test_client()
    client.post("/login", data={"username": "minzheng", "password": "guanai-demo"})
    director = app.test_client()
    director.post("/login", data={"username": "zhuren1", "password": "guanai-demo"})
    pages = {
        "/healthz": (client, "/healthz"),
        "/children (全镇, 第一页)": (client, "/children"),
        "/children?q=zh (拼音)": (client, "/children?q=zh"),
        "/children?q=王&category=left_behind": (client, "/children?q=%E7%8E%8B&category=left_behind"),
        "/children (儿童主任, 本村)": (director, "/children?q=l"),
        "/children/<id>": (client, f"/children/{child_id}"),
        "/visits/due (儿童主任)": (director, "/visits/due"),
        "/visits/compliance (全镇, 本月)": (client, "/visits/compliance"),
        "/api/v1/due-list (儿童主任)": (director, "/api/v1/due-list"),
    }
    results["pages_ms"] = {name: round(median_ms(c, path, repeat), 1) for name, (c, path) in pages.items()}
    results["volunteer_pages_ms"] = volunteer_pages(app, repeat)
    results["school_pages_ms"] = school_pages(app, repeat, school_pupils)
    results["care_pages_ms"] = care_pages(app, repeat, child_id)
    if print_too:
        results.update(print_timings(app))
        results.update(pairing_print_timings(app, print_runs))
    with app.app_context():
        db.engine.dispose()
    return results


def print_timings(app) -> dict:
    """One archive (median of 5 after a first, warm-up one), 100 archives into one PDF, and the
    archive of a child visited 3,000 times over ten years (median of 5)."""
    from blueprints.auth.models import User
    from blueprints.children.printing import Printer, render_archive, render_archives

    with app.app_context():
        ids = list(db.session.scalars(select(Child.id).order_by(Child.id).limit(100)))
        printer = Printer.command_line()
        start = time.perf_counter()
        render_archive(ids[0], printer)
        first = time.perf_counter() - start
        times = []
        for child_id in ids[1:6]:
            start = time.perf_counter()
            render_archive(child_id, printer)
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        pdf = render_archives(ids, printer)
        batch = time.perf_counter() - start
        long_child = db.session.scalar(select(Child.id).order_by(Child.id.desc()).limit(1))
        visitors = list(db.session.scalars(select(User.id).where(User.username.in_(("zhuren1", "zhuren2")))))
        seed_visit_history(long_child, visitors, visits=3000, years=10)
        long_times = []
        for _ in range(5):
            start = time.perf_counter()
            render_archive(long_child, printer)
            long_times.append(time.perf_counter() - start)
        db.session.remove()
    return {"archive_first_s": round(first, 2), "archive_median_s": round(statistics.median(times), 2),
            "archives_100_s": round(batch, 1), "archives_100_mb": round(len(pdf) / 1e6, 1),
            "archive_3000_visits_median_s": round(statistics.median(long_times), 2)}


VOLUNTEER_PAGES = {"/my/pairings (志愿者, 3 个结对)": "/my/pairings", "/my/log (志愿者, 记录活动)": "/my/log"}


def volunteer_pages(app, repeat: int) -> dict[str, float | None]:
    """The volunteer's phone (aixinmama1, with her pairings from the bench seed): her home and the
    activity form. None for a page the app does not have yet (404): noted, not measured."""
    phone = app.test_client()
    phone.post("/login", data={"username": "aixinmama1", "password": "guanai-demo"})
    timings: dict[str, float | None] = {}
    for name, path in VOLUNTEER_PAGES.items():
        if phone.get(path).status_code == 404:
            print(f"  note: {path} answers 404 (not written yet): not measured", file=sys.stderr)
            timings[name] = None
            continue
        timings[name] = round(median_ms(phone, path, repeat), 1)
    return timings


def school_pages(app, repeat: int, pupils: int) -> dict[str, float]:
    """The school's home page for each duty (xuexiao1's school has `pupils` pupils from the bench
    seed) and the town's dropout list, for civil affairs and for 镇教办."""
    pages = {
        f"/ (学校·关爱工作负责人, {pupils} 名学生)": ("xuexiao1", "/"),
        f"/ (学校·班主任, 本班 45 名, 全校 {pupils} 名学生)": ("banzhuren1", "/"),
        f"/ (学校·心理老师, {pupils} 名学生)": ("xinli1", "/"),
        "/schools/dropouts (民政组, 全镇)": ("minzheng", "/schools/dropouts"),
        "/schools/dropouts (教办, 全镇)": ("jiaoban", "/schools/dropouts"),
    }
    timings = {}
    for name, (username, path) in pages.items():
        client = app.test_client()
        client.post("/login", data={"username": username, "password": "guanai-demo"})
        timings[name] = round(median_ms(client, path, repeat), 1)
    return timings


def care_pages(app, repeat: int, plan_child_id: int) -> dict[str, float]:
    """The police's referral inbox and home, the supervisor's review queue, and a child's record page
    and care plan with BENCH_PLAN_NEEDS needs (the bench seed: seed_bench_care)."""
    pages = {
        f"/referrals (派出所, {BENCH_REFERRALS} 条转介)": ("paichusuo", "/referrals"),
        f"/ (派出所首页, {BENCH_REFERRALS} 条转介)": ("paichusuo", "/"),
        f"/visits/review (督导员, {BENCH_UNREVIEWED} 条待评阅)": ("dudao", "/visits/review"),
        f"/children/<id> (民政组, 帮扶方案 {BENCH_PLAN_NEEDS} 项需求)": ("minzheng", f"/children/{plan_child_id}"),
        f"/children/<id>/plan (民政组, {BENCH_PLAN_NEEDS} 项需求)": ("minzheng", f"/children/{plan_child_id}/plan"),
    }
    timings = {}
    for name, (username, path) in pages.items():
        client = app.test_client()
        client.post("/login", data={"username": username, "password": "guanai-demo"})
        timings[name] = round(median_ms(client, path, repeat), 1)
    return timings


def pairing_print_timings(app, runs: int = 3) -> dict:
    """100 pairing records of this year through the batch job (blueprints/volunteers/tasks.py), run
    as the huey consumer runs it (HUEY_IMMEDIATE: claim, work, finish): median of `runs` runs."""
    from blueprints.auth.models import User
    from blueprints.core.jobs import start_job
    from blueprints.core.clock import local_today
    from blueprints.volunteers import print_routes, printing, tasks
    from blueprints.volunteers.access import reachable_pairings

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "minzheng"))
        year = local_today().year
        ids = printing.batch_ids(reachable_pairings(user, "pairings:print"), BENCH_PROGRAMME, printing.Year(year))[:100]
        assert len(ids) == 100, f"the bench seed has {len(ids)} pairings of {BENCH_PROGRAMME} in {year}, not 100"
        times, size = [], 0
        for _ in range(runs):
            start = time.perf_counter()
            job = start_job(print_routes.JOB_KIND, "bench", user.id, tasks.PRINT_TASK, pairing_ids=ids,
                            programme=BENCH_PROGRAMME, year=year, user_id=user.id)
            times.append(time.perf_counter() - start)
            assert job.status == "done", (job.status, job.message)
            size = Path(f"{job.result_path}.pdf").stat().st_size
        db.session.remove()
    return {"pairings_100_runs_s": [round(t, 1) for t in times],
            "pairings_100_median_s": round(statistics.median(times), 1), "pairings_100_mb": round(size / 1e6, 1)}


def db_name(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--children", type=int, default=20000)
    parser.add_argument("--visits", type=int, default=200000)
    parser.add_argument("--pairings", type=int, default=300)
    parser.add_argument("--school-pupils", type=int, default=3000, help="pupils of xuexiao1's school")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--print-runs", type=int, default=3, help="runs of the 100 pairing records (median)")
    parser.add_argument("--database", action="append", required=True)
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    # printing is CPU-bound, the database does not change it: measured once, on the first one
    all_results = [run(url, args.children, args.visits, args.pairings, args.repeat, print_too=(i == 0),
                       print_runs=args.print_runs, school_pupils=args.school_pupils)
                   for i, url in enumerate(args.database)]
    for result in all_results:
        print(f"\n== {result['database']}: {result['children_in_db']} children, {result['visits']} visits "
              f"(seeded in {result['seed_s']} s) ==")
        for name, ms in result["pages_ms"].items():
            flag = "" if name == "/healthz" or ms < 50 else "   OVER BUDGET (50 ms)"
            print(f"  {name:<40} median {ms:7.1f} ms{flag}")
        for name, ms in (result["school_pages_ms"] | result["care_pages_ms"]).items():
            print(f"  {name:<40} median {ms:7.1f} ms{'' if ms < 50 else '   OVER BUDGET (50 ms)'}")
        for name, ms in result["volunteer_pages_ms"].items():
            if ms is None:
                print(f"  {name:<40} not measured: the page answers 404 (not written yet)")
            else:
                print(f"  {name:<40} median {ms:7.1f} ms{'' if ms < 50 else '   OVER BUDGET (50 ms)'}")
        if "archive_median_s" in result:
            print(f"  archive PDF: first in process {result['archive_first_s']} s, then median "
                  f"{result['archive_median_s']} s (budget 1.5 s); 100 archives {result['archives_100_s']} s "
                  f"(budget 60 s), {result['archives_100_mb']} MB")
            print(f"  archive PDF of a child with 3,000 visits over ten years: median "
                  f"{result['archive_3000_visits_median_s']} s (budget 1.5 s)")
        if "pairings_100_median_s" in result:
            flag = "" if result["pairings_100_median_s"] < 60 else "   OVER BUDGET (60 s)"
            print(f"  100 pairing records in the background job: median {result['pairings_100_median_s']} s of "
                  f"{result['pairings_100_runs_s']} (budget 60 s), {result['pairings_100_mb']} MB{flag}")
    if args.json:
        Path(args.json).write_text(json.dumps(all_results, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
