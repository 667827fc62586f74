"""The menu, decided in Python from the user's grants: templates just loop over it. The items
come from the areas' manifests (core/areas.py)."""
from __future__ import annotations

from blueprints.core.access import can
from blueprints.core.areas import NavItem, house

__all__ = ["NavItem", "nav_for"]


def nav_for(user) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    return [item for item in house.nav if item.permission is None or can(user, item.permission)]
