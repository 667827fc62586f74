"""(being written)"""
def seed(options):
    return {}
