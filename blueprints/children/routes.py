"""The registry pages: list and search, the record, create and edit."""
from blueprints.children import bp  # noqa: F401
