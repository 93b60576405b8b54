"""Root keys for Blocked come from acore_doctor.roots, never from string literals."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from acore_doctor import roots
from tests.support.sources import SUITE_ROOT, suite_sources, tree_of

#: call name -> position of its root-key argument
ROOT_ARGUMENT = {"Blocked": 0, "require_answer": 1}


def _name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


@functools.cache
def root_key_uses() -> list[tuple[Path, int, str, ast.expr]]:
    """(file, line, call, key expression) for every root= and every Blocked/require_answer."""
    uses = []
    for path in suite_sources():
        for node in ast.walk(tree_of(path)):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            if name == "check":
                uses += [
                    (path, node.lineno, "check", k.value) for k in node.keywords if k.arg == "root"
                ]
            position = ROOT_ARGUMENT.get(name)
            if position is not None and len(node.args) > position:
                uses.append((path, node.lineno, name, node.args[position]))
    return uses


def test_no_root_key_is_a_string_literal():
    literal = [
        f"{path.relative_to(SUITE_ROOT)}:{line} {call}({ast.unparse(key)})"
        for path, line, call, key in root_key_uses()
        if isinstance(key, ast.Constant) and isinstance(key.value, str)
    ]
    assert literal == [], "use a name from acore_doctor.roots instead: " + ", ".join(literal)


def test_every_root_key_is_declared_by_one_check():
    declared = [
        ast.unparse(key).rsplit(".", 1)[-1]
        for _, _, call, key in root_key_uses()
        if call == "check" and isinstance(key, ast.Attribute)
    ]
    names = {value: name for name, value in vars(roots).items() if name.isupper() and name != "ALL"}
    assert sorted(declared) == sorted(names[key] for key in roots.ALL)
    assert len(set(roots.ALL)) == len(roots.ALL)
