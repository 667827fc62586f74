"""(placeholder until the phone lands)"""
from blueprints.core.access import require
from blueprints.volunteers import bp


@bp.route("/pairings/activities/<int:activity_id>/photo")
@require("activities:photos")
def activity_photo(activity_id):
    return "photo"


@bp.route("/my/pairings")
@require("activities:write")
def my_home():
    return "home"


@bp.route("/my/log")
@require("activities:write")
def log_activity():
    return "log"


@bp.route("/my/history")
@require("activities:write")
def my_history():
    return "history"
