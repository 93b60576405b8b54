"""ARCHITECTURE.md tells the truth about the tree: every path it names exists (and every
``path::name`` names something defined there), and every ``§`` citation in our code and docs
points to a section of a reference shipped in docs/reference/ (or of SQLite's own documents)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "ARCHITECTURE.md"
#: `path`, `path::name`, `path#anchor`: a backticked name with a slash or a file suffix
NAMED_PATH = re.compile(
    r"`([\w./*<>-]+(?:/|\.py|\.md|\.toml|\.service)[\w./*<>-]*)(::\w+)?(#[\w-]+)?`"
)
#: where a relative name may start: the checkout, the package
BASES = (ROOT, ROOT / "acore_doctor")
#: the checked bot's own files, which ARCHITECTURE.md names too
BOT_FILES = {"config/", "config.py"}


def _exists(name: str) -> bool:
    if "<" in name:  # a placeholder (`commands/<name>.py`): its folder must exist
        name = name.split("<", 1)[0].rsplit("/", 1)[0] or "."
    return any(list(base.glob(name)) if "*" in name else (base / name).exists() for base in BASES)


def _defines(name: str, symbol: str) -> bool:
    return any(
        re.search(
            rf"^\s*(?:async\s+)?(?:def|class)\s+{symbol}\b|^{symbol}\s*[:=]",
            (base / name).read_text(),
            re.M,
        )
        for base in BASES
        if (base / name).is_file()
    )


def test_every_path_architecture_names_exists() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    missing = []
    for match in NAMED_PATH.finditer(text):
        name, symbol = match.group(1), match.group(2)
        if name in BOT_FILES:
            continue
        if not _exists(name):
            missing.append(name)
        elif symbol and not _defines(name, symbol[2:]):
            missing.append(f"{name}{symbol}")
    assert NAMED_PATH.search(text) and not missing, (
        f"ARCHITECTURE.md names what is not there: {missing}"
    )


#: The documents a `§` may cite: a shipped reference (its headings) or SQLite's documentation.
SHIPPED = ROOT / "docs" / "reference" / "acore-bot-deployment.md"
SQLITE_DOCS = {"fileformat", "fileformat2", "datatype3.html"}
CITATION = re.compile(r"(?:([\w.-]+)\s+)?§(\d+(?:\.\d+)*)")


def _sections(path: Path) -> set[str]:
    return {m.group(1) for m in re.finditer(r"^#+\s+(\d+(?:\.\d+)*)\.?\s", path.read_text(), re.M)}


def test_every_section_citation_points_to_a_shipped_reference() -> None:
    sections = _sections(SHIPPED)
    files = [
        path
        for folder in ("acore_doctor", "health_tests", "recovery_tests", "tests", "docs", "guides")
        for path in (ROOT / folder).rglob("*")
        if path.suffix in (".py", ".md")
        and path.is_file()
        and not path.is_relative_to(SHIPPED.parent)
    ]
    files += [ROOT / "ARCHITECTURE.md", ROOT / "README.md"]
    wrong = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        if "§" not in text:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            for match in CITATION.finditer(line):
                document, section = match.group(1), match.group(2)
                if document in SQLITE_DOCS:
                    continue
                if document and "." in document:  # another document: not shipped
                    wrong.append(f"{path.relative_to(ROOT)}:{number}: {match.group(0)}")
                elif section not in sections and section.split(".")[0] not in sections:
                    wrong.append(
                        f"{path.relative_to(ROOT)}:{number}: {match.group(0)} (no such section)"
                    )
    assert not wrong, (
        f"cite {SHIPPED.relative_to(ROOT)} (bare §, 'deployment §', 'reference §') or drop it:\n"
        + "\n".join(wrong)
    )
