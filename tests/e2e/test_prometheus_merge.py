"""Two bots on one host, one node-exporter: their textfiles merge into one valid exposition.

node-exporter's textfile collector merges the families of every ``*.prom`` file: a family
must have one HELP and TYPE everywhere and no series may appear twice. The merge is checked
with the prometheus-client parser (dev dependency) and, where it is installed, with
``promtool check metrics`` (Debian package ``prometheus``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from acore_doctor.ops.prometheus import CONTENT_TYPE
from tests.support.builder import DeploymentBuilder
from tests.support.runs import run_suite_process


def merge_like_node_exporter(texts: list[str]) -> str:
    """One exposition from several textfiles; fails as node-exporter would."""
    families: dict[str, tuple[str, str, list[str]]] = {}
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    label_sets: dict[str, set[frozenset[str]]] = {}
    for text in texts:
        for family in text_string_to_metric_families(text):
            help_text, kind, lines = families.setdefault(
                family.name, (family.documentation, family.type, [])
            )
            assert (help_text, kind) == (family.documentation, family.type), family.name
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                assert key not in seen, f"duplicate series {key}"
                seen.add(key)
                assert "deployment" in sample.labels, f"{sample.name} has no deployment label"
                label_sets.setdefault(sample.name, set()).add(frozenset(sample.labels))
                labels = ",".join(
                    f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
                    for k, v in sorted(sample.labels.items())
                )
                lines.append(f"{sample.name}{{{labels}}} {sample.value!r}")
    unstable = {name: sets for name, sets in label_sets.items() if len(sets) > 1}
    assert not unstable, f"label sets differ within a family: {unstable}"
    out = []
    for name, (help_text, kind, lines) in families.items():
        out += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *lines]
    return "\n".join(out) + "\n"


def test_two_deployments_textfiles_merge(tmp_path):
    texts = []
    for name in ("bot_one", "bot_two"):
        bot = DeploymentBuilder(tmp_path / name)  # /opt/bot_one, /opt/bot_two
        target = tmp_path / "textfiles" / f"acore_doctor_{name}.prom"
        run = run_suite_process(
            bot.root,
            tmp_path / f"reports_{name}",
            "--offline",
            "--allow-stopped",
            "-m",
            "critical",
            f"--prometheus={target}",
        )
        assert run.code in (0, 1, 2), run.stdout[-2000:] + run.stderr[-2000:]
        texts.append(target.read_text())
    assert 'deployment="' in texts[0] and texts[0] != texts[1]
    # Values that change between runs are values: no status, outcome or title label.
    for line in texts[0].splitlines():
        if line.startswith(("acore_doctor_status", "acore_doctor_check_status")):
            assert "status=" not in line.split("{", 1)[-1] and "outcome=" not in line, line
    assert "title=" not in "".join(
        line for line in texts[0].splitlines() if not line.startswith("acore_doctor_check_info")
    )
    merged = merge_like_node_exporter(texts)
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian: apt-get install prometheus)")
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=merged, capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_metrics_content_type_names_the_format_version():
    assert CONTENT_TYPE == "text/plain; version=0.0.4; charset=utf-8"


def test_systemd_templates_serve_several_bots():
    deploy = Path(__file__).resolve().parents[2] / "deploy" / "systemd"
    service = (deploy / "acore-doctor@.service").read_text()
    timer = (deploy / "acore-doctor@.timer").read_text()
    assert "%i" in service and "acore_doctor_%i.prom" in service
    assert "--prometheus-deployment=%i" in service
    assert "Unit=acore-doctor@%i.service" in timer
