"""The house's doors: areas declare what they add, the core knows no area, arrows between areas
point one way, and the access matrix in docs/ is the one the manifests make."""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from blueprints import AREA_NAMES
from blueprints.core.access import ROLES, access_matrix
from blueprints.core.areas import house
from blueprints.core.disclosure import FIELDS, KINDS, POLICY, disclosure_table

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = ROOT / "blueprints"


def area_imports() -> dict[str, dict[str, list[str]]]:
    """area → the other packages under blueprints/ it imports → where."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in BLUEPRINTS.rglob("*.py"):
        parts = path.relative_to(BLUEPRINTS).parts
        if len(parts) < 2:
            continue
        area = parts[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                bits = name.split(".")
                if bits[0] == "blueprints" and len(bits) > 1 and bits[1] != area:
                    graph[area][bits[1]].append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return graph


def find_cycle(graph) -> list[str] | None:
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for other in graph.get(node, {}):
            if state.get(other) == 1:
                return stack[stack.index(other):] + [other]
            if other not in state and (found := visit(other)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in list(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_core_imports_no_area():
    graph = area_imports()
    assert dict(graph.get("core", {})) == {}, "the core must not import an area: let the area register with it"


def test_no_import_cycle_between_areas():
    graph = area_imports()
    cycle = find_cycle(graph)
    if cycle:
        where = [f"{a} → {b}: {graph[a][b][0]}" for a, b in zip(cycle, cycle[1:])]
        raise AssertionError("import cycle between areas:\n" + "\n".join(where))


def test_the_cycle_finder_finds_one():
    """The test above can fail: a made-up graph with a loop is caught."""
    assert find_cycle({"children": {"visits": []}, "visits": {"children": []}}) == ["children", "visits", "children"]
    assert find_cycle({"visits": {"children": []}, "children": {"core": []}}) is None


def test_arrows_point_one_way():
    graph = area_imports()
    assert "visits" not in graph["children"], "children must not import visits: visits adds its own sections"
    assert "dashboard" not in graph["visits"]
    assert "children" not in graph["admin"]


def test_every_area_is_listed_and_declares_itself(app):
    packages = {p.name for p in BLUEPRINTS.iterdir() if (p / "__init__.py").exists() and p.name != "core"}
    assert packages == set(AREA_NAMES), "an area package missing from blueprints/__init__.py, or one too many"
    assert [a.name for a in house.areas] == AREA_NAMES


def test_menu_and_sections_come_from_the_manifests(app):
    endpoints = set(app.view_functions)
    for item in house.nav:
        assert set(item.endpoints) <= endpoints, item
    for endpoint in house.offline_pages:
        assert endpoint in endpoints
    keys = [s.key for _, s in house.record_sections]
    assert keys.index("suggestions") < keys.index("visits") < keys.index("basic")  # visits near the top
    archive = [s.key for _, s in house.archive_sections]
    assert archive.index("contacts") < archive.index("visits") < archive.index("benefits")


def test_access_matrix_matches_the_docs(app, runner):
    documented = (ROOT / "docs" / "access-matrix.md").read_text(encoding="utf-8")
    printed = runner.invoke(args=["access-matrix"]).output
    assert printed == access_matrix() + disclosure_table()
    assert printed == documented, "run `flask --app app access-matrix > docs/access-matrix.md` and review the diff"
    for role in ROLES:
        assert f"`{role}`" in printed


def test_every_registered_field_has_a_known_kind_and_every_reach_a_policy(app):
    assert FIELDS and set(FIELDS.values()) <= set(KINDS)
    assert {r.reach for r in ROLES.values()} <= set(POLICY)
    for levels in POLICY.values():
        assert set(levels) == set(KINDS)
