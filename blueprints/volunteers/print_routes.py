"""(placeholder until the pairing record lands)"""
from blueprints.core.access import require
from blueprints.volunteers import bp


@bp.route("/pairings/<int:pairing_id>/record.pdf")
@require("pairings:print")
def pairing_record(pairing_id):
    return "pdf"


@bp.route("/pairings/print")
@require("pairings:print")
def pairing_batch():
    return "batch"
