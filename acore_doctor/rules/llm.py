"""Judging the LLM's facts: whether the configured Ollama model fits the memory it runs in.

Troubleshooting design, "Insufficient Memory: use a smaller model". Ollama loads a model's
weights into GPU memory and RAM together; beside the weights it needs a KV cache and its
runtime. A model whose weights alone outgrow the host's RAM and GPU memory together cannot
load at all; that is what is judged, so the warning never fires on a model that merely runs
slowly because it spills from the GPU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

GIB = 1024**3
#: KV cache and runtime beside the weights: Ollama's default context on a small model takes
#: about half a GiB; larger contexts scale the cache, so this is the floor, not the estimate.
WEIGHT_OVERHEAD = 1.10
RUNTIME_BYTES = GIB // 2


@dataclass(frozen=True)
class PulledModel:
    name: str
    size: int  # bytes on disk, /api/tags


def memory_needed(size: int) -> int:
    """Bytes a model of ``size`` bytes of weights needs to load, at the least."""
    return int(size * WEIGHT_OVERHEAD) + RUNTIME_BYTES


def model_fit_problem(
    setting: str,
    wanted: PulledModel,
    pulled: Sequence[PulledModel],
    ram_bytes: int,
    gpu_bytes: int,
) -> str | None:
    """Why ``wanted`` cannot load on a host with ``ram_bytes`` RAM and ``gpu_bytes`` GPU
    memory, naming the pulled models that would; None when it fits."""
    capacity = ram_bytes + gpu_bytes
    need = memory_needed(wanted.size)
    if need <= capacity:
        return None
    smaller = sorted(
        (m for m in pulled if memory_needed(m.size) <= capacity), key=lambda m: -m.size
    )
    where = f"{ram_bytes / GIB:.1f} GiB RAM" + (
        f" + {gpu_bytes / GIB:.1f} GiB GPU memory" if gpu_bytes else " and no GPU memory"
    )
    advice = (
        "smaller pulled models that fit: "
        + ", ".join(f"{m.name} ({m.size / GIB:.1f} GiB)" for m in smaller[:3])
        if smaller
        else "no pulled model fits; pull a smaller or more quantised one"
    )
    return (
        f"expected {setting}={wanted.name} ({wanted.size / GIB:.1f} GiB of weights, needs at "
        f"least {need / GIB:.1f} GiB) to fit this host's {where}, found it cannot load; {advice}"
    )
