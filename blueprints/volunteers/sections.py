"""(being written)"""
def record_pairings(child_ids, viewer):
    return {}
def archive_pairings(child_ids, viewer):
    return {}
def pass_on_notices(child_ids, viewer):
    return {}
