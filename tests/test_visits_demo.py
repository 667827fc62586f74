"""Demo data with a past: seed-demo adds a year of visits, reviews and parent contacts, with gaps,
so that the due lists and the compliance figures have something to show; twice adds nothing."""
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from blueprints.places.models import Village
from blueprints.auth.models import User
from blueprints.children.models import Child, ChildCategory, ParentContact
from blueprints.core.clock import local_today
from blueprints.visits.demo import seed_demo_visits
from blueprints.visits.models import Visit, VisitNeed
from blueprints.visits.services import compliance, due_list
from extensions import db


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def seed(app, runner, children=120):
    app.config["DEMO_MODE"] = True
    result = runner.invoke(args=["seed-demo", "--children", str(children)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result


def user(username):
    return db.session.scalar(select(User).where(User.username == username))


def test_seed_demo_gives_a_director_a_due_list_in_several_buckets(app, runner):
    result = seed(app, runner)
    assert "走访和亲情联系" in result.output
    today = local_today()
    rows, counts = due_list(user("zhuren1"), today)
    assert rows and sum(1 for n in counts.values() if n) >= 3, counts
    assert counts["overdue"] > 0
    overdue_key = [r for r in rows if r.bucket == "overdue" and r.attention == "key"]
    assert overdue_key, "some key children are overdue"


def test_last_month_compliance_has_visits_done(app, runner):
    seed(app, runner)
    today = local_today()
    first = today.replace(day=1) - timedelta(days=1)
    by_village, by_director, total = compliance(user("minzheng"), first.year, first.month, today)
    assert total.due > 0 and total.done > 0 and total.done <= total.due
    assert any(row.name == "张秀英" and row.done > 0 for row in by_director)
    assert len(by_village) == 8


def test_visits_are_a_year_long_by_the_village_staff_and_reviewed(app, runner):
    seed(app, runner)
    today = local_today()
    oldest, newest = db.session.execute(select(func.min(Visit.visited_on), func.max(Visit.visited_on))).one()
    assert (today - oldest).days > 300 and newest <= today
    supervisor = user("dudao")
    staff_of = {u.id: {v.id for v in u.villages} for u in db.session.scalars(select(User).where(User.role == "director"))}
    for visitor_id, village_id in db.session.execute(
            select(Visit.visitor_id, Child.residence_village_id).join(Child, Child.id == Visit.child_id)):
        assert visitor_id == supervisor.id or village_id in staff_of[visitor_id]
    visitors = Counter(db.session.scalars(select(Visit.visitor_id)))
    assert len(visitors) == 3  # zhuren1, zhuren2 and the supervisor elsewhere
    assert count(Visit, Visit.reviewed_by_id == supervisor.id) > 0
    assert count(Visit, Visit.reviewed_by_id.is_(None)) > 0
    assert count(VisitNeed) > 0
    # every child's last visit is the newest one stored
    newest_by_child = {child_id: last for child_id, last in db.session.execute(
        select(Visit.child_id, func.max(Visit.visited_on)).group_by(Visit.child_id))}
    for child_id, last in db.session.execute(select(Child.id, Child.last_visit_on)):
        assert last == newest_by_child.get(child_id), child_id


def test_left_behind_children_have_a_year_of_weekly_contacts_with_missed_weeks(app, runner):
    seed(app, runner)
    today = local_today()
    left_behind = select(ChildCategory.child_id).where(ChildCategory.category == "left_behind")
    assert count(ParentContact, ParentContact.child_id.not_in(left_behind)) == 0
    weeks = Counter()
    for child_id, on in db.session.execute(select(ParentContact.child_id, ParentContact.contacted_on)):
        weeks[child_id] += 1
        assert (today - on).days <= 53 * 7
    children = db.session.scalar(select(func.count()).select_from(left_behind.subquery()))
    assert len(weeks) >= children * 0.9
    assert max(weeks.values()) > 40  # a year of weeks…
    assert min(weeks.values()) < 45  # …with missed ones


def test_seed_demo_twice_changes_no_counts(app, runner):
    seed(app, runner, children=60)
    models = (Child, Visit, VisitNeed, ParentContact, Village, User)
    before = {m.__tablename__: count(m) for m in models}
    last_visits = {i: last for i, last in db.session.execute(select(Child.id, Child.last_visit_on))}
    result = seed(app, runner, children=60)
    assert "演示数据已存在，未做改动" in result.output
    assert {m.__tablename__: count(m) for m in models} == before
    assert {i: last for i, last in db.session.execute(select(Child.id, Child.last_visit_on))} == last_visits
    assert seed_demo_visits() == 0


def test_nothing_to_seed_without_demo_villages(app):
    assert seed_demo_visits() == 0
