"""The vocabulary is named once (blueprints/core/vocabulary.py): the label filter, the age rule, and
AST checks that no other module under blueprints/ spells a code's label or the current statuses again."""
from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest

from blueprints.core import vocabulary
from blueprints.core.vocabulary import CURRENT_STATUSES, VOCABULARIES, age_on, birthday_at, label

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = ROOT / "blueprints"
VOCABULARY_FILE = BLUEPRINTS / "core" / "vocabulary.py"


def _modules():
    for path in sorted(BLUEPRINTS.rglob("*.py")):
        if path != VOCABULARY_FILE:
            yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_label_filter_renders_known_and_unknown_codes(app):
    render = app.jinja_env.from_string
    assert render("{{ code|label('gender') }}").render(code="female") == "女"
    assert render("{{ code|label('category') }}").render(code="left_behind") == "留守儿童"
    assert render("{{ code|label('category_short') }}").render(code="left_behind") == "留守"
    assert render("{{ code|label('gender') }}").render(code="unknown_code") == "unknown_code"
    assert render("{{ code|label('gender') }}").render(code=None) == ""


def test_label_function():
    assert label("long_term", "state_guardianship") == "长期监护"
    assert label("nope", "benefit_kind") == "nope"
    with pytest.raises(KeyError):
        label("male", "no_such_vocabulary")


def test_age_on_around_a_birthday():
    born = date(2010, 6, 15)
    assert age_on(born, date(2026, 6, 14)) == 15
    assert age_on(born, date(2026, 6, 15)) == 16
    assert age_on(born, date(2026, 6, 16)) == 16
    assert age_on(born, born) == 0


def test_age_on_29_february():
    born = date(2008, 2, 29)
    assert age_on(born, date(2026, 2, 28)) == 17  # not yet: no 29 February in 2026
    assert age_on(born, date(2026, 3, 1)) == 18
    assert age_on(born, date(2028, 2, 28)) == 19
    assert age_on(born, date(2028, 2, 29)) == 20
    assert birthday_at(born, 18) == date(2026, 2, 28)
    assert birthday_at(born, 20) == date(2028, 2, 29)


def test_child_age_on_uses_the_vocabulary():
    from blueprints.children.models import Child

    child = Child(birth_date=date(2012, 2, 29))
    assert child.age_on(date(2026, 2, 28)) == age_on(date(2012, 2, 29), date(2026, 2, 28)) == 13


def test_limits():
    assert (vocabulary.LEFT_BEHIND_AGE, vocabulary.CHILD_AGE) == (16, 18)
    assert CURRENT_STATUSES == ("registered", "active")
    assert set(CURRENT_STATUSES) <= set(VOCABULARIES["status"])


def test_no_other_module_maps_a_code_to_its_label():
    """A dict literal pairing a known code with its label (e.g. "left_behind": "留守儿童") belongs in
    the vocabulary only; elsewhere import the named mapping."""
    pairs = {(code, text) for mapping in VOCABULARIES.values() for code, text in mapping.items()}
    found = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Dict):
                continue
            for key, value in zip(node.keys, node.values):
                if (isinstance(key, ast.Constant) and isinstance(value, ast.Constant)
                        and (key.value, value.value) in pairs):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {key.value!r}: {value.value!r}")
    assert not found, "labels defined outside blueprints/core/vocabulary.py:\n" + "\n".join(found)


def test_no_other_module_spells_the_current_statuses():
    found = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and len(node.elts) == 2 and all(
                    isinstance(e, ast.Constant) for e in node.elts) and {
                    e.value for e in node.elts} == set(CURRENT_STATUSES):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, "use vocabulary.CURRENT_STATUSES instead of:\n" + "\n".join(found)


def test_the_vocabulary_imports_no_area():
    tree = ast.parse(VOCABULARY_FILE.read_text(encoding="utf-8"))
    imported = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)] + [
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in imported if m and m.startswith("blueprints")]
