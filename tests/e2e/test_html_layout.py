"""The HTML report as someone opens it from a CI artifact: the verdict and findings before
pytest-html's Environment table, text that meets WCAG AA contrast (4.5:1), guide links that
resolve inside the report's own directory, and trend labels that fit their chart. Measured in
headless Chromium where it is installed (CI: .ci/run installs it)."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from acore_doctor.report.html import COLOURS, STYLE
from tests.support.runs import run_suite_process

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
MEASURE = """
<script>
window.addEventListener("load", () => setTimeout(() => {
  const top = (el) => el ? Math.round(el.getBoundingClientRect().top + window.scrollY) : -1;
  const colour = (el) => el ? getComputedStyle(el).color : "";
  const status = document.querySelector(".acore-doctor-summary h2.status");
  const env = document.querySelector("#environment");
  const para = document.querySelector(".acore-doctor-summary p");
  const svg = document.querySelector("svg.trend");
  let clipped = 0;
  if (svg) {
    const box = svg.getBoundingClientRect();
    for (const t of svg.querySelectorAll("text")) {
      const r = t.getBoundingClientRect();
      if (r.right > box.right + 0.5 || r.left < box.left - 0.5) clipped++;
    }
  }
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({status: top(status), env: top(env),
    body: getComputedStyle(document.body).color, para: colour(para), clipped: clipped});
  document.body.appendChild(out);
}, 300));
</script>
"""


def luminance(rgb: tuple[int, int, int]) -> float:
    channels = [c / 255 for c in rgb]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: tuple[int, int, int], b: tuple[int, int, int] = (255, 255, 255)) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def hex_rgb(value: str) -> tuple[int, int, int]:
    value = value.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and "guide" in (values.get("class") or ""):
            self.hrefs.append(values["href"] or "")
        if values.get("id"):
            self.ids.add(values["id"] or "")


@pytest.fixture(scope="module")
def html_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.support.builder import DeploymentBuilder

    base = tmp_path_factory.mktemp("html")
    bot = DeploymentBuilder(base / "acore_bot")
    bot.set_env(LOG_LEVEL="DEBUG", DISCORD_TOKEN="nope")
    html = base / "artifact" / "report.html"
    for _ in range(2):  # a trend needs two full runs
        run = run_suite_process(
            bot.root, base / "reports", "--offline", f"--html={html}", "--self-contained-html"
        )
        assert run.code in (1, 2), run.stdout[-2000:] + run.stderr[-2000:]
    return html


def test_summary_colours_meet_wcag_aa():
    for name, colour in COLOURS.items():
        assert contrast(hex_rgb(colour)) >= 4.5, (name, colour, contrast(hex_rgb(colour)))
    # pytest-html's own grey text is overridden with a colour that passes.
    body = re.search(r"body,a,#results-table[^{]*\{color:(#[0-9a-f]+)\}", STYLE)
    assert body and contrast(hex_rgb(body[1])) >= 4.5


def test_guide_links_resolve_beside_the_report(html_report):
    parser = Links()
    parser.feed(html_report.read_text())
    assert parser.hrefs, "no guide link in the report"
    for href in set(parser.hrefs):
        parts = urlsplit(href)
        assert not parts.scheme and not href.startswith("/"), f"not relative: {href}"
        page = html_report.parent / parts.path
        assert page.is_file(), f"{href} does not resolve beside the report"
        anchors = Links()
        anchors.feed(page.read_text())
        assert parts.fragment in anchors.ids, f"{href}: no #{parts.fragment} in {page.name}"


def test_verdict_is_above_the_environment_in_chromium(html_report, tmp_path):
    browser = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if browser is None:
        pytest.skip("no headless Chromium here (.ci/run installs it)")
    page = html_report.parent / "measured.html"
    page.write_text(html_report.read_text().replace("</body>", MEASURE + "</body>"))
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,900",
         "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    import json

    found = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stderr[-2000:]
    measured = json.loads(found[1].replace("&quot;", '"'))
    assert 0 <= measured["status"] < 900, f"the verdict is below the fold: {measured}"
    assert measured["env"] == -1 or measured["status"] < measured["env"], measured
    for key in ("body", "para"):
        rgb = tuple(int(n) for n in re.findall(r"\d+", measured[key])[:3])
        assert contrast(rgb) >= 4.5, (key, measured[key])
    assert measured["clipped"] == 0, f"{measured['clipped']} trend label(s) clipped"
