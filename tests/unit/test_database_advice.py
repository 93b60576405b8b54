"""The damaged-database advice (issue 19, point 7): our own repair, dry run first; never the
bare `.recover` pipeline (Debian 12's sqlite3 cannot run it and gives an empty database)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def recommendation(module: Path, test: str) -> str:
    """The recommendation of a check's @check(...) declaration, read from its source (the
    health checks import only inside a health run)."""
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.FunctionDef) and node.name == test:
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "check":
                    return ast.literal_eval(decorator.args[1])
    raise AssertionError(f"{test} has no @check")


def test_the_damaged_database_advice_names_repair_dry_run_first() -> None:
    advice = recommendation(ROOT / "health_tests" / "test_databases.py", "test_databases_undamaged")
    assert "acore-doctor repair --apply" in advice
    assert advice.index("'acore-doctor repair'") < advice.index("--apply"), "dry run first"
    assert ".recover" not in advice
    guide = (ROOT / "guides" / "deployment_issues.md").read_text()
    section = guide[guide.index("## Database damaged") :].split("\n## ")[0]
    assert "acore-doctor repair" in section and "--apply" in section
    assert '".recover" | sqlite3' not in section
