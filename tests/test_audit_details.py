"""The audit log keeps every event, but a detail that names data of a restricted kind (who had a
psychological screening, and was followed up) is read only by those who may see that kind."""
from __future__ import annotations

from datetime import timedelta

from blueprints.core.clock import local_today
from blueprints.core.disclosure import AUDIT_DETAIL_HIDDEN
from blueprints.schools.terms import term_of
from tests.factories import create_child, create_instrument, create_school, create_user


def test_the_administrator_sees_that_a_screening_was_recorded_but_not_whose(client, auth):
    school = create_school("中心小学")
    create_user("admin", username="boss")
    create_user("civil_affairs", username="mz")
    create_user("school", username="xl", school=school, school_duty="mental_health")
    child = create_child("王小花", school=school)
    instrument = create_instrument()
    auth.login("xl")
    screened_on = local_today() - timedelta(days=1)
    response = client.post(f"/schools/screenings/new?child_id={child.id}", data={
        "term": term_of(screened_on),
        "instrument_id": instrument.id, "screened_on": screened_on.isoformat(), "score": "30"})
    assert response.status_code == 303, response.get_data(as_text=True)
    auth.logout()

    auth.login("boss")
    for path in ("/admin/audit", "/"):
        row = event_row(client.get(path).get_data(as_text=True), "录入心理筛查")  # the event is there
        assert "王小花" not in row and AUDIT_DETAIL_HIDDEN in row, path
    auth.logout()
    auth.login("mz")  # civil affairs reads screenings: the detail too
    row = event_row(client.get("/admin/audit").get_data(as_text=True), "录入心理筛查")
    assert "王小花" in row and AUDIT_DETAIL_HIDDEN not in row


def event_row(page: str, label: str) -> str:
    rows = [row for row in page.split("<li") if f'class="tag">{label}<' in row]
    assert len(rows) == 1, (label, len(rows))
    return rows[0]
