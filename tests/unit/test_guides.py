"""Every guide link the suite can print resolves to a heading that exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"guides/([\w-]+\.md)#([\w-]+)")
SOURCES = ["acore_doctor", "health_tests", "recovery_tests", "guides"]


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(guide: Path) -> set[str]:
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+)$", guide.read_text(), re.M)}


def guide_links() -> list[tuple[Path, str, str]]:
    links = []
    for source in SOURCES:
        for path in (ROOT / source).rglob("*"):
            if path.suffix in (".py", ".md", ".json", ".toml", ".yaml") and path.is_file():
                for match in LINK.finditer(path.read_text(errors="replace")):
                    links.append((path, match.group(1), match.group(2)))
    return links


def test_slug_follows_github_rules():
    assert slug("Bot not responding") == "bot-not-responding"
    assert slug("LLM errors (Ollama, OpenRouter)") == "llm-errors-ollama-openrouter"
    assert slug("`.env` file missing") == "env-file-missing"


def test_the_four_guides_exist():
    names = {p.name for p in (ROOT / "guides").glob("*.md")}
    assert names >= {
        "common_issues.md",
        "performance_issues.md",
        "deployment_issues.md",
        "integration_issues.md",
    }


def test_every_guide_link_resolves():
    links = guide_links()
    assert links, "no guide links found at all"
    broken = [
        f"{path.relative_to(ROOT)}: guides/{name}#{anchor}"
        for path, name, anchor in links
        if not (ROOT / "guides" / name).exists() or anchor not in anchors(ROOT / "guides" / name)
    ]
    assert not broken, "broken guide links:\n" + "\n".join(broken)
