from flask import render_template
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from blueprints.places.models import School
from blueprints.auth.staff import directors_by_village
from blueprints.places.access import get_school_or_404, get_village_or_404, reachable_schools, reachable_villages
from blueprints.core.access import require
from blueprints.dashboard import bp
from blueprints.dashboard.services import home_panels, school_page_context, village_page_context
from extensions import db


@bp.route("/")
@login_required
def home():
    return render_template("dashboard/home.html", panels=home_panels(current_user))


@bp.route("/villages")
@require("villages:read")
def villages():
    villages = db.session.scalars(reachable_villages(current_user)).all()
    return render_template("dashboard/villages.html", villages=villages,
                           directors=directors_by_village([v.id for v in villages]))


@bp.route("/villages/<int:village_id>")
@require("villages:read")
def village(village_id: int):
    return render_template("dashboard/village.html", **village_page_context(get_village_or_404(village_id)))


@bp.route("/schools")
@require("schools:read")
def schools():
    query = reachable_schools(current_user).options(selectinload(School.villages))
    return render_template("dashboard/schools.html", schools=db.session.scalars(query).all())


@bp.route("/schools/<int:school_id>")
@require("schools:read")
def school(school_id: int):
    return render_template("dashboard/school.html", **school_page_context(get_school_or_404(school_id)))
