"""How far each reach goes over volunteers and pairings (registered with the access gate), what
kind of data the pairing adds to a child's record (registered with the disclosure policy), and the
queries every list, page, figure and export of this area starts from.

Pairings: town-reach staff and the departments granted pairings:* (团委, 妇联) reach them all; a
child director those of her villages' children; a volunteer her own, and an ended one for
OWN_AFTER_END more days (to log what was still missing), then no longer. Activities and photos are
reached through their pairing."""
from __future__ import annotations

from datetime import timedelta

from flask_login import current_user

from extensions import db
from sqlalchemy import Select, or_, select

from blueprints.children.models import Child
from blueprints.core.access import get_reachable_or_404, reachable, register_reach
from blueprints.core.backup import keep_folder
from blueprints.core.clock import local_today
from blueprints.core.disclosure import register_fields
from blueprints.core.vocabulary import CURRENT_STATUSES
from blueprints.volunteers.models import ActivityPhoto, Pairing, PairingActivity, Volunteer
from blueprints.volunteers.photos import photo_dir

OWN_AFTER_END = timedelta(days=30)

PAIRING_FIELDS = {
    "pairing.goals": "needs",
    "pairing.needs": "needs",
}


def _own_pairings(user):
    since = local_today() - OWN_AFTER_END
    mine = select(Volunteer.id).where(Volunteer.user_id == user.id, Volunteer.active.is_(True)).scalar_subquery()
    return (Pairing.volunteer_id == mine) & or_(Pairing.ended_on.is_(None), Pairing.ended_on >= since)


def _village_pairings(user):
    villages = [v.id for v in user.villages]
    return Pairing.child_id.in_(select(Child.id).where(Child.residence_village_id.in_(villages)))


def setup() -> None:
    register_reach("pairings", "town", lambda user: None)
    register_reach("pairings", "department", lambda user: None)  # only with a department's pairings:* grant
    register_reach("pairings", "village", _village_pairings)
    register_reach("pairings", "own", _own_pairings)
    # The children a manager may pair (and see in the matching): 团委 and 妇联 reach none through
    # children:read, but pair children town-wide.
    register_reach("children_to_pair", "town", lambda user: None)
    register_reach("children_to_pair", "department", lambda user: None)
    register_reach("volunteers", "town", lambda user: None)
    register_reach("volunteers", "department", lambda user: None)  # only with volunteers:* (团委, 妇联)
    register_fields(PAIRING_FIELDS)
    keep_folder("photos", photo_dir)  # the activity photos: copied by the nightly backup


def reachable_pairings(user, permission: str = "pairings:read") -> Select:
    return reachable(select(Pairing), "pairings", user, permission)


def get_pairing_or_404(pairing_id: int, permission: str = "pairings:read", options=()) -> Pairing:
    return get_reachable_or_404(reachable_pairings(current_user, permission), Pairing, pairing_id, permission, options)


def reachable_activities(user, permission: str = "pairings:read") -> Select:
    """Activities of the pairings `user` reaches with `permission`."""
    pairings = reachable_pairings(user, permission).with_only_columns(Pairing.id)
    return select(PairingActivity).where(PairingActivity.pairing_id.in_(pairings))


def get_photo_or_404(photo_id: int) -> ActivityPhoto:
    """A photo: for civil affairs and supervisors (activities:photos, town reach) and the volunteer
    who took it (her own pairings); nobody else, whatever else they may read."""
    pairings = reachable_pairings(current_user, "activities:photos").with_only_columns(Pairing.id)
    query = select(ActivityPhoto).join(PairingActivity, PairingActivity.id == ActivityPhoto.activity_id) \
        .where(PairingActivity.pairing_id.in_(pairings))
    return get_reachable_or_404(query, ActivityPhoto, photo_id, "activities:photos")


def children_to_pair(user, permission: str = "pairings:manage") -> Select:
    """Children on the roll `user` may pair (an exited child takes no new pairing)."""
    return reachable(select(Child), "children_to_pair", user, permission).where(Child.status.in_(CURRENT_STATUSES))


def get_child_to_pair_or_404(child_id: int) -> Child:
    return get_reachable_or_404(children_to_pair(current_user), Child, child_id, "pairings:manage")


def reachable_volunteers(user, permission: str = "volunteers:read") -> Select:
    return reachable(select(Volunteer), "volunteers", user, permission)


def get_volunteer_or_404(volunteer_id: int, permission: str = "volunteers:read", options=()) -> Volunteer:
    return get_reachable_or_404(reachable_volunteers(current_user, permission), Volunteer, volunteer_id,
                                permission, options)


def volunteer_of(user) -> Volunteer | None:
    """The signed-in volunteer's profile (None for an account registered without one)."""
    return db.session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))
