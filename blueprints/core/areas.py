"""What an area adds to the house, and the one place where the areas are put together.

Each area's `__init__.py` declares an `Area`: its blueprint, the modules that add routes and
models, its menu items (by grant), the grants it gives each role, its audit action labels, its
command-line commands, its demo seeder, its home-page panels, its offline pages, the sections it
adds to a child's record page and printed archive, and the reach clauses and disclosure fields it
registers with the access gate. `blueprints/__init__.py` lists the areas; `compose()` here puts
them together. The core knows no area: an area names its own functions as "module:function"
strings (relative to the area's package), resolved when the app is built, so declaring an area
imports nothing of it and no area's import can loop back into another.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Callable

from flask import Blueprint, Flask
from markupsafe import Markup


def resolve(package: str, ref: str) -> Any:
    """"module:attribute" inside `package` → the object."""
    module, _, attribute = ref.partition(":")
    return getattr(import_module(f"{package}.{module}"), attribute)


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoints: tuple[str, ...]  # the first is the link; the others light the item up too
    permission: str | None  # None: every signed-in user
    order: int = 50

    @property
    def endpoint(self) -> str:
        return self.endpoints[0]


# How many names a home card lists on a phone: its count and a link to the full list say the rest
# (a school's card of key pupils would otherwise run a phone's page long).
HOME_CARD_NAMES = 8


@dataclass(frozen=True)
class HomePanel:
    """A card on the home page, shown to users holding `permission` (None: everyone signed in).
    `context` ("module:function") takes the user and returns what the template shows, or None to
    show nothing."""

    key: str
    order: int
    permission: str | None
    template: str
    context: str | None = None


@dataclass(frozen=True)
class Section:
    """A section of a child's record page or printed archive.

    `load` ("module:function") is one batched loader: (child_ids, viewer) → {child_id: data} in
    a fixed number of queries whatever the number of children, so a batch of archives costs the
    same queries per chunk as one. A child missing from the answer gets `empty`. `viewer` is the
    signed-in user on the page and the printer (see children/printing.py) in print."""

    key: str
    title: str
    order: int
    permission: str | None
    template: str
    load: str | None = None
    empty: Any = None


@dataclass(frozen=True)
class Slot:
    """A piece that an area adds to a page it does not own: the page names its slot
    (`{{ slots("visit", visit=visit) }}`), the areas fill it, and the page knows none of them
    (the care plan's "需要跟进" on the visit page, the notice bell in the top bar).

    `context` ("module:function") takes the viewer and the page's values and returns what the
    template shows, or None to show nothing; without it the template gets the page's values."""

    page: str
    key: str
    order: int
    permission: str | None
    template: str
    context: str | None = None


@dataclass
class Area:
    name: str
    blueprint: Blueprint | None = None
    route_modules: tuple[str, ...] = ()
    model_modules: tuple[str, ...] = ()
    nav: tuple[NavItem, ...] = ()
    grants: dict[str, frozenset[str]] = field(default_factory=dict)  # role code → permissions
    audit_labels: dict[str, str] = field(default_factory=dict)
    cli: str | None = None  # "module:function(app)" adding commands
    demo_seeder: str | None = None  # "module:function(org_name) → {what: how many added}"
    seed_order: int = 50  # seeders run in this order (places before children before visits)
    home_panels: tuple[HomePanel, ...] = ()
    offline_pages: tuple[str, ...] = ()  # endpoints the service worker keeps for offline use
    record_sections: tuple[Section, ...] = ()
    archive_sections: tuple[Section, ...] = ()
    # "module:function(viewer) → {child_id: [Notice]}": what this area asks `viewer` to see to about
    # the children she reaches, shown beside them on the due list (a volunteer's word for the director)
    child_notices: str | None = None
    # "module:function(child, on, actor)": what this area closes when a child leaves the roll (its
    # pairings end), in the exit's own transaction
    on_child_exit: str | None = None
    setup: str | None = None  # "module:function()" registering reach clauses and disclosure fields
    slots: tuple[Slot, ...] = ()  # pieces of other areas' pages (and of the shell's top bar)

    @property
    def package(self) -> str:
        return f"blueprints.{self.name}"

    def resolve(self, ref: str) -> Any:
        return resolve(self.package, ref)


@dataclass
class House:
    """Everything the areas added, in order: what the shell, the home page, the record page, the
    archive and the service worker read."""

    areas: list[Area] = field(default_factory=list)
    nav: list[NavItem] = field(default_factory=list)
    home_panels: list[tuple[Area, HomePanel]] = field(default_factory=list)
    record_sections: list[tuple[Area, Section]] = field(default_factory=list)
    archive_sections: list[tuple[Area, Section]] = field(default_factory=list)
    offline_pages: list[str] = field(default_factory=list)
    seeders: list[tuple[Area, Callable]] = field(default_factory=list)
    child_notices: list[Callable] = field(default_factory=list)
    exit_hooks: list[Callable] = field(default_factory=list)
    slots: dict[str, list[tuple[Area, Slot]]] = field(default_factory=dict)  # page → its pieces


house = House()
_composed: list[str] = []


def compose(areas: list[Area]) -> House:
    """Put the areas together (once per process; every app built afterwards shares it)."""
    from blueprints.core import access, audit  # the core's own registries

    names = [a.name for a in areas]
    if _composed:
        if _composed != names:
            raise RuntimeError(f"areas already composed as {_composed}, not {names}")
        return house
    for area in areas:
        for module in area.model_modules:
            import_module(f"{area.package}.{module}")  # every table, so Alembic sees them all
    for area in areas:
        for role, permissions in area.grants.items():
            access.add_grants(role, permissions)
        audit.ACTION_LABELS.update(area.audit_labels)
        if area.setup:
            area.resolve(area.setup)()
        house.nav.extend(area.nav)
        house.home_panels.extend((area, p) for p in area.home_panels)
        house.record_sections.extend((area, s) for s in area.record_sections)
        house.archive_sections.extend((area, s) for s in area.archive_sections)
        house.offline_pages.extend(area.offline_pages)
        if area.demo_seeder:
            house.seeders.append((area, area.resolve(area.demo_seeder)))
        if area.child_notices:
            house.child_notices.append(area.resolve(area.child_notices))
        if area.on_child_exit:
            house.exit_hooks.append(area.resolve(area.on_child_exit))
        for slot in area.slots:
            house.slots.setdefault(slot.page, []).append((area, slot))
    house.areas = list(areas)
    house.nav.sort(key=lambda item: item.order)
    house.home_panels.sort(key=lambda pair: pair[1].order)
    house.record_sections.sort(key=lambda pair: pair[1].order)
    house.archive_sections.sort(key=lambda pair: pair[1].order)
    house.seeders.sort(key=lambda pair: pair[0].seed_order)
    for pieces in house.slots.values():
        pieces.sort(key=lambda pair: pair[1].order)
    _composed.extend(names)
    return house


def install(app: Flask, areas: list[Area]) -> House:
    """Compose the areas and add their blueprints and commands to `app`."""
    compose(areas)
    for area in areas:
        for module in area.route_modules:
            import_module(f"{area.package}.{module}")
        if area.blueprint is not None:
            app.register_blueprint(area.blueprint)
        if area.cli:
            area.resolve(area.cli)(app)
    app.jinja_env.globals["slots"] = render_slots
    return house


def render_slots(page: str, **values) -> Markup:
    """The pieces the areas add to `page` for the signed-in user, in order (a template global)."""
    from flask import render_template
    from flask_login import current_user

    from blueprints.core.access import can

    parts = []
    for area, slot in house.slots.get(page, ()):
        if slot.permission is not None and not can(current_user, slot.permission):
            continue
        context = area.resolve(slot.context)(current_user, **values) if slot.context else values
        if context is not None:
            parts.append(render_template(slot.template, **context))
    return Markup("".join(parts))


@dataclass(frozen=True)
class Notice:
    """Something about a child that another area asks its visitor to see to (child_notices)."""

    text: str
    url: str | None = None  # where to read it and mark it seen
    since: Any = None  # a date or datetime, shown beside it


def notices_for(viewer) -> dict[int, list[Notice]]:
    """Every area's open notices for `viewer`, by child: one call per area. Few at a time (each
    is closed when seen), so they are looked up for the viewer, not for a list of children."""
    found: dict[int, list[Notice]] = {}
    for load in house.child_notices:
        for child_id, notices in load(viewer).items():
            found.setdefault(child_id, []).extend(notices)
    return found


def sections_for(kind: str, viewer, child_ids: list[int], may: Callable[[str], bool]) -> list[tuple[Section, dict]]:
    """The sections of `kind` ("record" or "archive") that `viewer` may see, each with its data
    for every child: one call of each section's loader for all of `child_ids`."""
    pairs = house.record_sections if kind == "record" else house.archive_sections
    result = []
    for area, section in pairs:
        if section.permission is not None and not may(section.permission):
            continue
        data = area.resolve(section.load)(child_ids, viewer) if section.load else {}
        result.append((section, data))
    return result
