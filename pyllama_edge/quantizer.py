"""Model quantizer: F32/F16/BF16 GGUF -> a quantized GGUF, streamed tensor by tensor.

Memory stays bounded: the input is memory-mapped (ple.GGUFFile), each tensor is converted in row
chunks of at most ``_CHUNK_VALUES`` floats, quantized in C++ (rows split over threads, GIL released)
and appended to the output (gguf_stream.StreamingGGUFWriter); only one chunk of floats and its
blocks are alive at a time. No dependency on the gguf package.

Pure types (Q4_0 ... Q6_K) put every 2-D weight into that type, like llama.cpp's ``--pure`` (without
it llama.cpp would also give output.weight Q6_K and tweak some tensors of its _S/_M/_L k-quant
"ftypes"; the file is labelled with the _S ftype id). The mixes follow llama.cpp's
``llama_tensor_get_type`` for a dense Llama model:

* Q4_K_M / Q5_K_M: base type Q4_K / Q5_K, except
  - ``output.weight`` -> Q6_K; when the output is tied (no ``output.weight``), ``token_embd.weight``
    plays its part and gets Q6_K;
  - ``blk.i.attn_v.weight`` and ``blk.i.ffn_down.weight`` -> Q6_K in the layers where
    ``use_more_bits(i, n_layer)``: the first eighth, the last eighth, and every third layer between
    (``i < n/8 or i >= 7n/8 or (i - n/8) % 3 == 2``).

Every type: 1-D tensors (norms, rope_freqs) stay F32, as do tensors whose name does not end in
``weight``. k-quant tensors whose rows are not a multiple of 256 fall back as llama.cpp does:
Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0; Q2_K / Q3_K -> Q4_0 (llama.cpp now picks IQ4_NL, a type
this package does not support; Q4_0 was its earlier choice). Legacy types need rows that are a
multiple of 32, else the tensor is kept F16 (llama.cpp would refuse).

Metadata is copied key by key as the raw bytes of each pair, so values keep their exact GGUF types;
``general.file_type`` is replaced and ``general.quantization_version`` set to 2.
"""
from __future__ import annotations

import os
import sys
from typing import Dict, Iterator, Optional, Tuple, Union

import numpy as np

from . import _core
from .gguf_file import GGUFFile
from .gguf_stream import StreamingGGUFWriter, kv_uint32, read_kv_section, replace_keys

PathLike = Union[str, "os.PathLike[str]"]

PURE_TYPES = ("Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K")
MIXES = {"Q4_K_M": "Q4_K", "Q5_K_M": "Q5_K"}
TYPES = PURE_TYPES + tuple(MIXES)

# general.file_type written for each target (llama.cpp's LLAMA_FTYPE names; pure k-quant files are
# labelled with the "_S" variant, whose tensors are closest to all-one-type).
_FILE_TYPE = {"Q4_0": "MOSTLY_Q4_0", "Q4_1": "MOSTLY_Q4_1", "Q5_0": "MOSTLY_Q5_0", "Q5_1": "MOSTLY_Q5_1",
              "Q8_0": "MOSTLY_Q8_0", "Q2_K": "MOSTLY_Q2_K", "Q3_K": "MOSTLY_Q3_K_S", "Q4_K": "MOSTLY_Q4_K_S",
              "Q5_K": "MOSTLY_Q5_K_S", "Q6_K": "MOSTLY_Q6_K", "Q4_K_M": "MOSTLY_Q4_K_M", "Q5_K_M": "MOSTLY_Q5_K_M"}

# Row-length fallbacks for k-quants (rows not a multiple of 256).
_K_FALLBACK = {"Q2_K": "Q4_0", "Q3_K": "Q4_0", "Q4_K": "Q5_0", "Q5_K": "Q5_1", "Q6_K": "Q8_0"}
_FLOAT_INPUTS = ("F32", "F16", "BF16")
_CHUNK_VALUES = 1 << 22  # floats converted and quantized at a time (16 MiB)


def use_more_bits(i_layer: int, n_layer: int) -> bool:
    """llama.cpp's rule for the layers whose attn_v / ffn_down get more bits in the _M mixes."""
    return i_layer < n_layer // 8 or i_layer >= 7 * n_layer // 8 or (i_layer - n_layer // 8) % 3 == 2


def _layer_of(name: str) -> Optional[int]:
    parts = name.split(".")
    if len(parts) > 2 and parts[0] == "blk" and parts[1].isdigit():
        return int(parts[1])
    return None


def choose_type(name: str, shape: Tuple[int, ...], target: str, n_layer: int, has_output: bool) -> str:
    """Tensor type for tensor ``name`` with GGUF shape ``shape`` (ne0 = row length first)."""
    if len(shape) < 2 or not name.endswith("weight"):
        return "F32"
    base = MIXES.get(target, target)
    t = base
    if target in MIXES:
        is_output = name == "output.weight" or (not has_output and name == "token_embd.weight")
        layer = _layer_of(name)
        if is_output:
            t = "Q6_K"
        elif layer is not None and (name.endswith(".attn_v.weight") or name.endswith(".ffn_down.weight")):
            if use_more_bits(layer, n_layer):
                t = "Q6_K"
    row = int(shape[0])
    if t in _K_FALLBACK and row % 256 != 0:
        t = _K_FALLBACK[t]
    if row % 32 != 0:
        t = "F16"
    return t


# GGUF tensor type ids (ggml_type) and llama.cpp LLAMA_FTYPE ids, from the format.
_TYPE_ID = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q5_0": 6, "Q5_1": 7, "Q8_0": 8, "Q2_K": 10, "Q3_K": 11,
            "Q4_K": 12, "Q5_K": 13, "Q6_K": 14, "BF16": 30}
_FTYPE_ID = {"MOSTLY_Q4_0": 2, "MOSTLY_Q4_1": 3, "MOSTLY_Q8_0": 7, "MOSTLY_Q5_0": 8, "MOSTLY_Q5_1": 9,
             "MOSTLY_Q2_K": 10, "MOSTLY_Q3_K_S": 11, "MOSTLY_Q4_K_S": 14, "MOSTLY_Q4_K_M": 15, "MOSTLY_Q5_K_S": 16,
             "MOSTLY_Q5_K_M": 17, "MOSTLY_Q6_K": 18}


def _source_rows(src: GGUFFile, info, chunk_rows: int) -> Iterator[np.ndarray]:
    """float32 [rows, ne0] chunks of a F32/F16/BF16 tensor (read from the mapping, chunk by chunk)."""
    ne0 = int(info.shape[-1]) if info.shape else 1
    n_rows = int(np.prod(info.shape[:-1])) if len(info.shape) > 1 else 1
    raw = src.raw(info.name)
    dtype = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16}[info.type]
    rows = raw.view(dtype).reshape(n_rows, ne0)
    for r in range(0, n_rows, chunk_rows):
        part = rows[r:r + chunk_rows]
        if info.type == "BF16":
            yield (part.astype(np.uint32) << 16).view(np.float32)
        else:
            yield np.asarray(part, dtype=np.float32)


def _encode(rows: np.ndarray, type_name: str, threads: int) -> np.ndarray:
    if type_name == "F32":
        return np.ascontiguousarray(rows, dtype=np.float32)
    if type_name == "F16":
        return rows.astype(np.float16)
    return _core.quant.quantize_weights(np.ascontiguousarray(rows), type_name, threads)


class _Progress:
    """A one-line progress bar on stderr (no dependency); silent when disabled."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.enabled = max(1, total), 0, enabled

    def update(self, n: int, label: str) -> None:
        self.done += n
        if self.enabled:
            frac = self.done / self.total
            bar = "#" * int(30 * frac)
            sys.stderr.write(f"\r[{bar:<30}] {100 * frac:5.1f}% {label[:40]:<40}")
            sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")


def _refuse_same_file(in_path: str, out_path: str) -> None:
    """ValueError when out_path is in_path, also through a symlink or a hard link: the output
    would replace the model being read."""
    same = os.path.abspath(in_path) == os.path.abspath(out_path)
    try:
        a, b = os.stat(in_path), os.stat(out_path)
        same = same or (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
    except FileNotFoundError:
        pass
    if same:
        raise ValueError(f"the output {out_path!r} is the input {in_path!r} (the same file): "
                         "choose another output path")


def quantize(in_path: PathLike, out_path: PathLike, type: str, threads: Optional[int] = None,
             progress: bool = True) -> Dict[str, str]:
    """Quantize the F32/F16/BF16 GGUF file ``in_path`` to ``type`` (one of ``TYPES``) into ``out_path``.

    Returns {tensor name: chosen type}. Raises ValueError for an unknown type, a non-float input or
    non-finite weights (GGUFError, a ValueError, for an invalid file), FileNotFoundError for a
    missing input; no partial output file is left behind."""
    target = str(type).upper()
    if target not in TYPES:
        raise ValueError(f"unknown quantization type {type!r}; choose one of {', '.join(TYPES)}")
    in_path, out_path = os.fspath(in_path), os.fspath(out_path)
    if not os.path.isfile(in_path):
        raise FileNotFoundError(f"no such GGUF file: {in_path}")
    _refuse_same_file(in_path, out_path)
    if threads is not None and int(threads) < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    n_threads = int(threads) if threads else 0
    src = GGUFFile(in_path)  # FileNotFoundError / GGUFError (a ValueError) for bad input
    infos = list(src.tensors.values())
    bad = [t for t in infos if t.type not in _FLOAT_INPUTS]
    if bad:
        raise ValueError(f"{in_path}: the quantizer needs F32/F16/BF16 input; tensor {bad[0].name!r} is {bad[0].type}")
    meta = src.metadata
    arch = meta.get("general.architecture", "llama")
    n_layer = int(meta.get(f"{arch}.block_count", 0) or 0)
    has_output = "output.weight" in src.tensors
    # GGUF dims are ne0 (the row length) first: the reverse of the numpy shape
    plan = [(t, choose_type(t.name, tuple(reversed(t.shape)), target, n_layer, has_output)) for t in infos]

    alignment, kv = read_kv_section(in_path)
    kv = replace_keys(kv, {"general.file_type": kv_uint32("general.file_type", _FTYPE_ID[_FILE_TYPE[target]]),
                           "general.quantization_version": kv_uint32("general.quantization_version", 2)})
    table = []
    for t, tt in plan:
        block, type_size = _core.quant.block_geometry(tt)
        n = int(np.prod(t.shape)) if t.shape else 1
        table.append((t.name, tuple(reversed(t.shape)), _TYPE_ID[tt], n // block * type_size))

    bar = _Progress(sum(int(np.prod(t.shape)) for t, _ in plan), progress)
    try:
        # Written beside out_path and renamed over it when complete: a failure leaves an existing
        # out_path as it was and no partial file behind.
        with StreamingGGUFWriter(out_path, kv, table, alignment) as w:
            for t, tt in plan:
                ne0 = int(t.shape[-1])
                for rows in _source_rows(src, t, max(1, _CHUNK_VALUES // ne0)):
                    if not np.isfinite(rows).all():  # the scale searches assume finite values
                        raise ValueError(f"{in_path}: tensor {t.name!r} contains NaN or infinite values")
                    w.write(_encode(rows, tt, n_threads))
                    bar.update(rows.size, t.name)
                w.end_tensor()
    finally:
        bar.close()
        src.close()
    return {t.name: tt for t, tt in plan}


__all__ = ["quantize", "choose_type", "use_more_bits", "TYPES", "PURE_TYPES", "MIXES"]
