"""(placeholder until the roster lands)"""
from blueprints.core.access import require
from blueprints.volunteers import bp


@bp.route("/volunteers/<int:volunteer_id>")
@require("volunteers:read")
def volunteer_detail(volunteer_id):
    return "志愿者"


@bp.route("/volunteers")
@require("volunteers:read")
def volunteer_list():
    return "list"


@bp.route("/volunteers/new")
@require("volunteers:manage")
def volunteer_new():
    return "new"


@bp.route("/volunteers/<int:volunteer_id>/edit")
@require("volunteers:manage")
def volunteer_edit(volunteer_id):
    return "edit"


@bp.route("/volunteers/import")
@require("volunteers:manage")
def volunteer_import():
    return "import"


@bp.route("/volunteers/organisations")
@require("volunteers:read")
def organisations():
    return "orgs"
