"""Numeric thresholds that are both a command-line option and a pytest.ini key.

An area declares a table ``{name: (default, help)}``; ``--doctor-name-with-dashes`` (alias
``--name-with-dashes`` where free, see acore_doctor.options) wins over the ini key ``name``,
which wins over the default.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest

ThresholdTable = Mapping[str, tuple[float, str]]


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
