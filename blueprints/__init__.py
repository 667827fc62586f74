"""The areas of the house, in order. Each area's package declares what it adds (its `area`
manifest, see core/areas.py); adding an area is one line here."""
from __future__ import annotations

from importlib import import_module

AREA_NAMES = [
    "places",
    "auth",
    "admin",
    "children",
    "visits",
    "volunteers",
    "schools",
    "care",
    "notices",
    "dashboard",
    "api",
    "pwa",
]


def all_areas():
    return [import_module(f"blueprints.{name}").area for name in AREA_NAMES]
