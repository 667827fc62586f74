"""A pupil's enrolment state (在读, 休学, 辍学, 转学, 毕业, 未入学) and its changes, kept as rows of
enrolment_changes; a transfer to another school of the town.

Rules (each broken one is a message in Chinese naming its field):
- 辍学 is reported through a dropout case (dropouts.py), which starts the follow-up; and while a
  case waits for the pupil's return, her state changes only by that return;
- the date is not after today, nor before the current state began;
- a transfer to a school of the town changes the child's school through the children area's
  service (its history records it), and she leaves the old school's reach for the new one's; a
  transfer out of the town names the school in the note, and the pupil stays on the old school's
  roll as 转学;
- a pupil who leaves the school (a transfer, 毕业, 未入学: LEFT_SCHOOL) leaves her responsible
  carer too: the carer's row ends that day (a teacher of the old school looks after her no more,
  and the new school's card names her as a key pupil without a carer).

Two writers to one pupil (a dropout reported while her state is changed) wait for each other on
the child's row (lock_child)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from blueprints.children.models import Child
from blueprints.children.services import ensure_open, lock_child, update_child
from blueprints.core import audit
from blueprints.core.clock import local_today
from blueprints.core.forms import FieldErrors
from blueprints.core.vocabulary import ENROLMENT_STATES
from blueprints.places.models import School
from blueprints.schools.models import DropoutCase, Enrolment, EnrolmentChange, ResponsibleCarer
from extensions import db


# The states of a pupil no longer at her school: no carer, no waiver is asked for her there.
LEFT_SCHOOL = ("transferred", "graduated", "not_enrolled")


class EnrolmentError(FieldErrors):
    """A change of enrolment the rules refuse: {field: message}."""


def default_state(school_id: int | None) -> str:
    """A pupil without an enrolment row: 在读 when she has a school, else 未入学."""
    return "enrolled" if school_id else "not_enrolled"


def current_state(child: Child) -> tuple[str, date | None]:
    """The pupil's state and since when (None: never changed here)."""
    row = db.session.get(Enrolment, child.id)
    return (row.state, row.since) if row else (default_state(child.school_id), None)


def at_school():
    """The clause on Child: her enrolment state, if any, is not one of LEFT_SCHOOL."""
    return Child.id.not_in(select(Enrolment.child_id).where(Enrolment.state.in_(LEFT_SCHOOL)))


def _end_carer(child: Child, on: date, why: str, actor) -> None:
    """Her carer's naming ends on `on` (or the day it began, when that is later)."""
    carer = db.session.scalar(select(ResponsibleCarer).where(ResponsibleCarer.child_id == child.id,
                                                             ResponsibleCarer.ended_on.is_(None)))
    if carer is not None:
        carer.ended_on, carer.end_note = max(on, carer.since), why
        carer.ended_by_id = actor.id if actor is not None else None


def waiting_case(child_id: int) -> DropoutCase | None:
    """Her dropout case not yet returned, if any (at most one: the partial unique index)."""
    return db.session.scalar(select(DropoutCase).where(DropoutCase.child_id == child_id,
                                                       DropoutCase.returned_on.is_(None)))


def transfer_schools(child: Child) -> list[School]:
    """The other active schools of the town: where a pupil may move."""
    return list(db.session.scalars(select(School).where(School.active.is_(True), School.id != child.school_id)
                                   .order_by(School.name)))


def record_state(child: Child, state: str, on: date, note: str | None = None, *, actor,
                 to_school_id: int | None = None, label: str | None = None) -> EnrolmentChange:
    """Set the state (no rules: the callers check them) and keep the change."""
    row = db.session.get(Enrolment, child.id)
    before = row.state if row else default_state(child.school_id)
    if row is None:
        row = Enrolment(child_id=child.id, state=state, since=on)
        db.session.add(row)
    row.state, row.since, row.updated_by_id = state, on, actor.id if actor is not None else None
    change = EnrolmentChange(child_id=child.id, school_id=child.school_id, to_school_id=to_school_id,
                             state_from=before, state_to=label or state, changed_on=on, note=note or None,
                             changed_by_id=actor.id if actor is not None else None)
    db.session.add(change)
    return change


def change_enrolment(child: Child, values: dict, *, actor) -> EnrolmentChange:
    """values: state, changed_on, to_school_id (a transfer within the town), note."""
    ensure_open(child)
    lock_child(child)
    state, on = values.get("state"), values.get("changed_on")
    note = (values.get("note") or "").strip()
    current, since = current_state(child)
    errors: dict[str, str] = {}
    waiting = waiting_case(child.id)
    to_school = None
    if state not in ENROLMENT_STATES:
        errors["state"] = "在读状态：请从列表中选择"
    elif state == "dropped_out":
        errors["state"] = "在读状态：辍学请用“报告辍学”登记，登记后会列入劝返跟进"
    elif waiting is not None:
        errors["state"] = (f"在读状态：该生 {waiting.dropped_on:%Y-%m-%d} 辍学，还没有登记返校。"
                           "请先在辍学记录里登记返校")
    elif state == "transferred":
        to_id = values.get("to_school_id")
        if to_id:
            to_school = db.session.get(School, to_id)
            if to_school is None or not to_school.active or to_school.id == child.school_id:
                errors["to_school_id"] = "转入学校：请选择本镇的另一所学校"
        elif not note:
            errors["note"] = "说明：转出本镇时请写明转入的学校"
    elif state == current:
        errors["state"] = f"在读状态：目前已是“{ENROLMENT_STATES[current]}”，不用变更"
    if not isinstance(on, date):
        errors["changed_on"] = "变更日期：请填写日期"
    elif on > local_today():
        errors["changed_on"] = "变更日期：不能晚于今天"
    elif since is not None and on < since:
        errors["changed_on"] = f"变更日期：不能早于目前状态的开始日期 {since:%Y-%m-%d}"
    if len(note) > 200:
        errors["note"] = "说明：最多 200 个字，请删减"
    if errors:
        raise EnrolmentError(errors)
    if to_school is not None:
        # A transfer within the town: the child's school changes through the children area (its
        # history says who moved her, when), and she is 在读 at the new school from that day.
        old_school = child.school.name if child.school else ""
        change = record_state(child, "enrolled", on, note, actor=actor, to_school_id=to_school.id,
                              label="transferred")
        _end_carer(child, on, f"转学到{to_school.name}", actor)
        update_child(child, {"school_id": to_school.id}, actor=actor)
        audit.record("pupil_transferred", child, detail=f"{child.name}：{old_school} → {to_school.name}", user=actor)
        return change
    change = record_state(child, state, on, note, actor=actor)
    if state in LEFT_SCHOOL:
        _end_carer(child, on, ENROLMENT_STATES[state], actor)
    audit.record("enrolment_changed", child,
                 detail=f"{child.name}：{ENROLMENT_STATES[current]} → {ENROLMENT_STATES[state]}", user=actor)
    return change
