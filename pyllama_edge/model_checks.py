"""Checks run on a pulled GGUF file before it is loaded, so a wrong download ends in one clear
line instead of a failure deep in the loader or an out-of-memory kill half-way through."""
from __future__ import annotations

import os
from typing import Optional, Sequence

from .errors import UnsupportedModelError
from .gguf_file import GGUFFile
from .model_names import split_part

SUPPORTED_ARCHITECTURES = ("llama",)


class ModelTooLargeError(MemoryError):
    """The model's weights and KV cache are estimated to need more memory than the machine has."""


class SplitModelNotSupportedError(UnsupportedModelError):
    pass


def estimated_memory_bytes(path: str, n_ctx: Optional[int] = None) -> int:
    """Weights + F16 KV cache at n_ctx (default min(4096, the model's)): the core's estimate, the
    figure `pyllama-edge info` prints as "memory at n_ctx"; the weights alone when the metadata
    lacks the hyper-parameters."""
    with GGUFFile(path) as g:
        estimate = g.memory_estimate(n_ctx, "f16")
        if estimate is None:
            return sum(t.nbytes for t in g.tensors.values())
    return estimate["weight_bytes"] + estimate["kv_cache_bytes"]


def available_memory_bytes() -> Optional[int]:
    """What the OS can hand out without swapping (Linux MemAvailable; elsewhere the free physical
    pages), or None when unknown (then nothing is refused)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_architecture(path: str) -> None:
    with GGUFFile(path) as g:
        arch = g.metadata.get("general.architecture", "")
        split_count = g.metadata.get("split.count", 1)
    if arch not in SUPPORTED_ARCHITECTURES:
        raise UnsupportedModelError(f"{path}: model architecture {arch or '(none)'!r} is not supported "
                                    f"(supported: {', '.join(SUPPORTED_ARCHITECTURES)})")
    if isinstance(split_count, int) and split_count > 1:
        raise split_not_supported([path])


def split_not_supported(parts: Sequence[str]) -> SplitModelNotSupportedError:
    return SplitModelNotSupportedError(
        f"{os.path.basename(parts[0])} is the first of {len(parts)} parts of a split GGUF file; all parts are "
        f"downloaded (in {os.path.dirname(parts[0])}) but split files are not yet loadable: merge them into one "
        "file with llama.cpp's `llama-gguf-split --merge FIRST_PART OUT.gguf` and pass OUT.gguf")


def check_fits_memory(path: str, n_ctx: Optional[int] = None) -> None:
    needed = estimated_memory_bytes(path, n_ctx)
    available = available_memory_bytes()
    if available is not None and needed > available:
        raise ModelTooLargeError(
            f"{os.path.basename(path)} needs about {needed / 2**30:.1f} GiB (weights + KV cache at the default "
            f"context) but this machine has {available / 2**30:.1f} GiB available; pick a smaller model or quant, "
            f"or pass the file path to run it anyway (slowly, paged from disk): {path}")


def check_runnable(parts: Sequence[str]) -> None:
    """Every check for a pulled model given as its file (or split parts, in order)."""
    if len(parts) > 1 or split_part(parts[0]):
        raise split_not_supported(parts)
    check_architecture(parts[0])
    check_fits_memory(parts[0])
