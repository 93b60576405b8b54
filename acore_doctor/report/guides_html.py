"""The troubleshooting guides as HTML pages beside the HTML report.

A report archived by CI (an artifact, a mail attachment) cannot follow a ``file://`` link into
the checkout or the installed package; ``guides/<name>.html`` next to the report travels with
it, and the report links there relatively (``guides/common_issues.html#crash-loop``).
The Markdown is rendered plainly: headings (with GitHub's anchors, the ones our checks link
to), paragraphs, lists, code blocks and inline code; everything else is text.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from acore_doctor.fsio import private_dir, write_atomic

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")

PAGE = (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
    "<style>body{{font-family:Helvetica,Arial,sans-serif;max-width:60em;margin:1em auto;"
    "padding:0 1em;color:#222;line-height:1.45}}code,pre{{background:#f3f3f3}}"
    "pre{{padding:.5em;overflow:auto}}a{{color:#0b57d0}}</style></head><body>\n{body}\n"
    "</body></html>\n"
)


def slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading (what ``guide=...#anchor`` names)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _inline(text: str) -> str:
    text = escape(text)
    text = _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", text)
    return _BOLD.sub(lambda m: f"<strong>{m.group(1)}</strong>", text)


def markdown_to_html(markdown: str) -> str:
    out: list[str] = []
    paragraph: list[str] = []
    in_list = in_code = False

    def flush() -> None:
        nonlocal in_list
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if in_list:
            out.append("</ul>")
            in_list = False

    for line in markdown.splitlines():
        if line.startswith("```"):
            if in_code:
                out.append("</pre>")
            else:
                flush()
                out.append("<pre>")
            in_code = not in_code
            continue
        if in_code:
            out.append(escape(line))
            continue
        heading = _HEADING.match(line)
        if heading:
            flush()
            level, text = len(heading.group(1)), heading.group(2)
            out.append(f'<h{level} id="{escape(slug(text))}">{_inline(text)}</h{level}>')
        elif line.lstrip().startswith(("- ", "* ")):
            if paragraph:
                out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
                paragraph.clear()
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{_inline(line.lstrip()[2:])}")
        elif not line.strip():
            flush()
        elif in_list and line.startswith("  "):
            out[-1] += " " + _inline(line.strip())
        else:
            paragraph.append(line.strip())
    flush()
    if in_code:
        out.append("</pre>")
    return "\n".join(out)


def guide_href(guide: str) -> str | None:
    """``guides/<name>.md#anchor`` as the relative link to its rendered page, or None."""
    path, _, anchor = guide.partition("#")
    if not path.startswith("guides/") or ".." in path or not path.endswith(".md"):
        return None
    return path.removesuffix(".md") + ".html" + (f"#{anchor}" if anchor else "")


def write_guides(source: Path, report_dir: Path) -> list[Path]:
    """Every ``source/*.md`` as ``report_dir/guides/<name>.html``."""
    target = private_dir(report_dir / "guides")  # owner-only, like every output beside it
    written = []
    for guide in sorted(source.glob("*.md")):
        markdown = guide.read_text(encoding="utf-8")
        first = next((m.group(2) for m in map(_HEADING.match, markdown.splitlines()) if m), "")
        page = PAGE.format(title=escape(first or guide.stem), body=markdown_to_html(markdown))
        path = target / f"{guide.stem}.html"
        write_atomic(path, page)
        written.append(path)
    return written
