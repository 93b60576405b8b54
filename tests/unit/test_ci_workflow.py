"""The shipped CI workflow and README's CI recipe install the candidate the way it declares
its dependencies (deploy/github/install-candidate.sh), then run the gate offline on critical
checks. The script itself runs on a candidate of each layout in tests/e2e/test_ci_install.py."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "deploy" / "github" / "acore-doctor.yml"


def steps() -> list[dict]:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]["health"]["steps"]


def test_the_workflow_installs_the_candidate_with_the_script_before_the_gate() -> None:
    found = steps()
    runs = [s.get("run", "") for s in found]
    install = next(i for i, r in enumerate(runs) if "install-candidate.sh acore_bot" in r)
    gate = next(i for i, s in enumerate(found) if s.get("id") == "doctor")
    clone = next(i for i, r in enumerate(runs) if "git clone" in r)
    assert clone < install < gate  # the script comes with acore-doctor's checkout
    assert "requirements.txt" not in runs[install]  # no layout is assumed in the workflow
    assert all(option in runs[gate] for option in ("--offline", "-m critical"))
    setup_uv = next(s for s in found if str(s.get("uses", "")).startswith("astral-sh/setup-uv"))
    assert "uv.lock" in setup_uv["if"]


def test_the_script_prefers_the_lock_then_the_project_then_requirements() -> None:
    script = (ROOT / "deploy" / "github" / "install-candidate.sh").read_text()
    order = [script.index(s) for s in ("-f uv.lock", "\\[project\\]", "-f requirements.txt")]
    assert order == sorted(order)
    assert "uv sync --frozen" in script and "pip install --quiet -e ." in script


def test_the_readme_recipe_installs_with_the_script_and_gates_offline() -> None:
    readme = (ROOT / "README.md").read_text()
    recipe = readme[readme.index("## In CI") :]
    recipe = recipe[: recipe.index("\n## ", 5)]
    assert "deploy/github/install-candidate.sh" in recipe
    assert "--offline -m critical" in recipe
    assert "pip install -r requirements.txt\n" not in recipe
