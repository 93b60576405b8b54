"""Numeric thresholds that are both a command-line option and a pytest.ini key.

An area declares a table ``{name: (default, help)}`` (one line per threshold, the only place
it is declared); ``--doctor-name-with-dashes`` (alias ``--name-with-dashes`` where free, see
acore_doctor.options) wins over the ini key ``name``, which wins over the default. The area's
dataclass is made from the table (:func:`threshold_class`), and a health run refuses to start
when code reads a threshold no table declares (:func:`undeclared_uses`).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import field, make_dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # standard library only at run time: `acore-doctor logs` imports this
    import pytest

ThresholdTable = Mapping[str, tuple[float, str]]
#: The names code reads thresholds through: ``thresholds.<name>``, ``log_thresholds.<name>``.
THRESHOLD_VARIABLES = frozenset({"thresholds", "log_thresholds"})


def threshold_class(name: str, table: ThresholdTable, module: str) -> type:
    """A frozen dataclass with one float field per row of ``table``, defaulting to its value."""
    cls = make_dataclass(
        name,
        [(key, float, field(default=float(default))) for key, (default, _) in table.items()],
        frozen=True,
    )
    cls.__module__ = module  # where it is declared, for reprs and pickling
    return cls


def _parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def undeclared_uses(
    paths: Iterable[Path], *tables: ThresholdTable, parse: Callable[[Path], ast.AST] = _parse
) -> list[str]:
    """``path:line: name`` for each ``thresholds.<name>`` read in ``paths`` that no table has."""
    declared = {name for table in tables for name in table}
    found = []
    for path in paths:
        try:
            tree = parse(path)
        except (OSError, SyntaxError, ValueError):
            continue  # not ours to judge here: collection reports it
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in THRESHOLD_VARIABLES
                and not node.attr.startswith("_")
                and node.attr not in declared
            ):
                found.append(f"{path}:{node.lineno}: {node.value.id}.{node.attr}")
    return found


def add_threshold_options(
    parser: pytest.Parser, group: pytest.OptionGroup, table: ThresholdTable
) -> None:
    for name, (default, help_text) in table.items():
        group.addoption(
            f"--{name.replace('_', '-')}",
            type=float,
            default=None,
            # argparse %-formats help text: a literal "(%)" would crash pytest --help
            help=f"{help_text} (default {default:g}; ini: {name})".replace("%", "%%"),
        )
        parser.addini(name, help_text, default=str(default))


def read_thresholds(config: pytest.Config, table: ThresholdTable) -> dict[str, float]:
    values = {}
    for name, (default, _) in table.items():
        value = config.getoption(f"doctor_{name}")  # --doctor-<name>, see options.DoctorGroup
        if value is None:
            try:
                value = float(config.getini(name))
            except (TypeError, ValueError):
                value = default
        values[name] = float(value)
    return values
