"""Where a process's memory sits: heap, anonymous maps, libraries, mapped files, children."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

import psutil

MB = 1024 * 1024
LIBRARY_MARKERS = (".so", ".dylib", ".dll")
MODEL_SUFFIXES = (".onnx", ".bin", ".safetensors", ".pt", ".pth", ".gguf", ".sqlite3", ".db")


@dataclass
class Breakdown:
    pid: int
    name: str
    rss_mb: float
    vms_mb: float
    uss_mb: float | None = None
    pss_mb: float | None = None
    swap_mb: float | None = None
    shared_mb: float | None = None
    categories: dict[str, float] = field(default_factory=dict)  # RSS MB per kind of mapping
    top_mappings: list[dict[str, Any]] = field(default_factory=list)
    children: list[dict[str, Any]] = field(default_factory=list)
    children_rss_mb: float = 0.0
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def category(path: str) -> str:
    """Kind of memory a mapping holds, from its path as /proc/PID/smaps names it."""
    if path == "[heap]":
        return "heap (malloc)"
    if path in ("", "[anon]") or path.startswith("[anon:"):
        return "anonymous (Python objects, arenas, tensors)"
    if path.startswith("[stack"):
        return "stacks"
    if path.startswith("["):
        return "kernel mappings"
    name = os.path.basename(path)
    if any(m in name for m in LIBRARY_MARKERS):
        return "shared libraries"
    if name.endswith(MODEL_SUFFIXES):
        return "mapped model and data files"
    return "other mapped files"


def _mb(value: float) -> float:
    return round(value / MB, 2)


def breakdown(pid: int, top: int = 10) -> Breakdown:
    """Raises psutil.NoSuchProcess / AccessDenied for the caller to report."""
    proc = psutil.Process(pid)
    info = proc.memory_info()
    result = Breakdown(pid=pid, name=proc.name(), rss_mb=_mb(info.rss), vms_mb=_mb(info.vms))
    shared = getattr(info, "shared", None)
    result.shared_mb = None if shared is None else _mb(shared)
    try:
        full = proc.memory_full_info()
        result.uss_mb = _mb(full.uss)
        result.pss_mb = _mb(getattr(full, "pss", 0)) if hasattr(full, "pss") else None
        result.swap_mb = _mb(getattr(full, "swap", 0)) if hasattr(full, "swap") else None
    except (psutil.AccessDenied, OSError) as exc:
        result.problems.append(f"USS/PSS not readable: {exc}")
    try:
        maps = proc.memory_maps(grouped=True)
    except (psutil.AccessDenied, OSError, AttributeError, NotImplementedError) as exc:
        maps = []
        result.problems.append(f"memory maps not readable: {exc}")
    totals: dict[str, float] = {}
    for mapping in maps:
        kind = category(mapping.path)
        totals[kind] = totals.get(kind, 0.0) + mapping.rss
    result.categories = {k: _mb(v) for k, v in sorted(totals.items(), key=lambda kv: -kv[1])}
    result.top_mappings = [
        {
            "path": m.path or "[anon]",
            "rss_mb": _mb(m.rss),
            "private_mb": _mb(getattr(m, "private_clean", 0) + getattr(m, "private_dirty", 0)),
            "kind": category(m.path),
        }
        for m in sorted(maps, key=lambda m: m.rss, reverse=True)[:top]
    ]
    try:
        children = proc.children(recursive=True)
    except psutil.Error:
        children = []
    for child in children:
        try:
            rss = child.memory_info().rss
            result.children.append({"pid": child.pid, "name": child.name(), "rss_mb": _mb(rss)})
            result.children_rss_mb += _mb(rss)
        except psutil.Error:
            continue
    result.children_rss_mb = round(result.children_rss_mb, 2)
    return result


def format_breakdown(result: Breakdown) -> str:
    def opt(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1f} MB"

    lines = [
        f"Memory of pid {result.pid} ({result.name})",
        f"  RSS {result.rss_mb:.1f} MB   USS {opt(result.uss_mb)}   PSS {opt(result.pss_mb)}   "
        f"swap {opt(result.swap_mb)}   virtual {result.vms_mb:.1f} MB",
        "",
        "By kind (resident):",
    ]
    lines += [f"  {mb:10.1f} MB  {kind}" for kind, mb in result.categories.items()]
    if result.top_mappings:
        lines += ["", "Largest mappings:"]
        lines += [
            f"  {m['rss_mb']:10.1f} MB  {m['path']}  (private {m['private_mb']:.1f} MB)"
            for m in result.top_mappings
        ]
    if result.children:
        lines += ["", f"Child processes ({result.children_rss_mb:.1f} MB resident):"]
        lines += [f"  {c['rss_mb']:10.1f} MB  pid {c['pid']} {c['name']}" for c in result.children]
    if result.problems:
        lines += ["", "Not available:"] + [f"  - {p}" for p in result.problems]
    lines += [
        "",
        "USS is what the process alone holds (freed if it exits); a growing 'anonymous' or "
        "'heap' total is the bot's own objects: use MEMORY_PROFILING=true (tracemalloc) to find "
        "the allocation site.",
    ]
    return "\n".join(lines)
