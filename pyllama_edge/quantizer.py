"""Model quantizer: F32/F16/BF16 GGUF -> a quantized GGUF, streamed tensor by tensor.

Memory stays bounded: the input is memory-mapped (ple.GGUFFile), each tensor is converted in row
chunks of at most ``_CHUNK_VALUES`` floats, quantized in C++ (rows split over threads, GIL released)
and appended to the output (gguf_writer.StreamingGGUFWriter); only one chunk of floats and its
blocks are alive at a time. No dependency on the gguf package.

Per-tensor types
----------------
Every file type picks each tensor's type by llama.cpp's rules (``llama_tensor_get_type`` in
``src/llama-quant.cpp``, as of llama-cpp-python 0.3.36) for a dense Llama model without an
importance matrix, so a file from ``quantize IN OUT Q4_0`` has the same tensor types as one from
``llama-quantize IN OUT Q4_0``. ``pure=True`` (CLI ``--pure``) gives every matrix the base type
instead, like ``llama-quantize --pure``. tests/test_quantize_mix.py checks the choices and the error
against a fixture recorded from llama.cpp (bench/quant_error.py --record).

File types, their llama.cpp name (written as ``general.file_type``) and base type:

    Q4_0 Q4_1 Q5_0 Q5_1 Q8_0    -> same name, base type the same
    Q2_K                        -> Q2_K,   base Q2_K
    Q3_K (or Q3_K_S)            -> Q3_K_S, base Q3_K
    Q4_K (or Q4_K_S)            -> Q4_K_S, base Q4_K
    Q5_K (or Q5_K_S)            -> Q5_K_S, base Q5_K
    Q6_K                        -> Q6_K,   base Q6_K
    Q4_K_M / Q5_K_M             -> same name, base Q4_K / Q5_K

Rules, in order (``n`` = block_count, ``i`` = the tensor's layer, ``gqa`` = head_count /
head_count_kv, "row" = ne0, the length of one row):

1. Not quantized, stored F32: tensors with fewer than 2 dimensions (norms, rope_freqs), names that do
   not end in ``weight`` and ``*_norm.weight``. (llama.cpp keeps such tensors in their source type;
   every Llama file stores them F32 already, and F32 is lossless for an F16/BF16 source.)
2. The output head: ``output.weight``, or ``token_embd.weight`` when the file has no
   ``output.weight`` (tied embeddings, as in SmolLM2 and Llama 3.2 1B/3B): Q8_0 if the row is not a
   multiple of the base type's block (32 or 256), else the base type for Q8_0 files, else Q6_K -
   for every file type, the legacy ones included.
3. ``blk.i.attn_v.weight``:  Q2_K -> Q4_K if gqa >= 4 else Q3_K;
                             Q4_K_S -> Q5_K for i < 4;
                             Q4_K_M, Q5_K_M -> Q6_K where use_more_bits(i, n);
   then, in a Llama-70B-shaped model (80 layers, gqa > 1), Q3_K / Q4_K -> Q5_K.
4. ``blk.i.ffn_down.weight``: Q2_K -> Q3_K;
                             Q4_K_S -> Q5_K for i < n/8;
                             Q4_K_M, Q5_K_M -> Q6_K where use_more_bits(i, n).
5. ``blk.i.attn_output.weight``: Q2_K -> Q3_K.
6. Everything else (token_embd when untied, attn_q, attn_k, ffn_gate, ffn_up): the base type.
7. Row fallback, applied last: a 256-block type whose row is not a multiple of 256 becomes
   Q2_K / Q3_K -> Q4_0, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0; a type whose row is still not a
   multiple of its block (32) is stored F16. (llama.cpp has IQ4_NL and Q2_0 among its fallbacks
   only for file types this package does not offer.)

``use_more_bits(i, n)``: the first eighth of the layers, the last eighth, and every third layer in
between (``i < n/8 or i >= 7n/8 or (i - n/8) % 3 == 2``, integer division). llama.cpp counts
attn_v and ffn_down tensors in layer order; for a Llama file, where every layer has one of each,
that count is the layer index and ``n``.

Not followed (no file type here reaches them): rules for the IQ types, Q3_K_M/L, Q2_K_S, MXFP4,
imatrix-only rules (Q4_0/Q5_0 ffn_down in the first eighth), mixture-of-experts and Falcon rules.

Metadata is copied key by key as the raw bytes of each pair, so values keep their exact GGUF types;
``general.file_type`` is replaced and ``general.quantization_version`` set to 2.
"""
from __future__ import annotations

import os
import warnings
from typing import Dict, Iterator, Mapping, Optional, Tuple, Union

import numpy as np

from . import _core
from .gguf_file import GGUFFile
from .gguf_writer import StreamingGGUFWriter, kv_uint32, replace_keys
from .progress import ProgressBar

PathLike = Union[str, "os.PathLike[str]"]

# File types offered: name -> (llama.cpp's LLAMA_FTYPE name, written as general.file_type; base type).
FILE_TYPES: Dict[str, Tuple[str, str]] = {
    "Q4_0": ("Q4_0", "Q4_0"), "Q4_1": ("Q4_1", "Q4_1"), "Q5_0": ("Q5_0", "Q5_0"), "Q5_1": ("Q5_1", "Q5_1"),
    "Q8_0": ("Q8_0", "Q8_0"), "Q2_K": ("Q2_K", "Q2_K"), "Q3_K": ("Q3_K_S", "Q3_K"), "Q4_K": ("Q4_K_S", "Q4_K"),
    "Q5_K": ("Q5_K_S", "Q5_K"), "Q6_K": ("Q6_K", "Q6_K"), "Q4_K_M": ("Q4_K_M", "Q4_K"), "Q5_K_M": ("Q5_K_M", "Q5_K"),
}
# llama.cpp's names for the three "_S" file types, accepted too.
ALIASES = {"Q3_K_S": "Q3_K", "Q4_K_S": "Q4_K", "Q5_K_S": "Q5_K"}
BASE_TYPES = ("Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K")  # named after their base
MIXES = {"Q4_K_M": "Q4_K", "Q5_K_M": "Q5_K"}
TYPES = tuple(FILE_TYPES)

# Row-length fallbacks for the 256-block types (rows not a multiple of 256).
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


def file_type(target: str) -> str:
    """The file type name ``target`` stands for (upper case, aliases resolved); ValueError if unknown."""
    t = str(target).upper()
    t = ALIASES.get(t, t)
    if t not in FILE_TYPES:
        raise ValueError(f"unknown quantization type {target!r}; choose one of {', '.join(TYPES + tuple(ALIASES))}")
    return t


def _mix_type(name: str, row: int, ftype: str, base: str, n_layer: int, has_output: bool, n_gqa: int,
              llama_70b: bool) -> str:
    """Rules 2-6 of the module docstring: the type before the row fallback."""
    if name == "output.weight" or (not has_output and name == "token_embd.weight"):
        if row % (256 if base in _K_FALLBACK else 32) != 0:
            return "Q8_0"
        return base if base == "Q8_0" else "Q6_K"
    layer = _layer_of(name)
    if layer is None:
        return base
    t = base
    more = use_more_bits(layer, n_layer)
    if "attn_v.weight" in name:
        if ftype == "Q2_K":
            t = "Q4_K" if n_gqa >= 4 else "Q3_K"
        elif ftype in ("Q4_K_M", "Q5_K_M") and more:
            t = "Q6_K"
        elif ftype == "Q4_K_S" and layer < 4:
            t = "Q5_K"
        if llama_70b and t in ("Q3_K", "Q4_K"):  # its attn_v is 8x smaller than attn_q: cheap to widen
            t = "Q5_K"
    elif "ffn_down" in name:
        if ftype == "Q2_K":
            t = "Q3_K"
        elif ftype in ("Q4_K_M", "Q5_K_M") and more:
            t = "Q6_K"
        elif ftype == "Q4_K_S" and layer < n_layer // 8:
            t = "Q5_K"
    elif "attn_output.weight" in name and ftype == "Q2_K":
        t = "Q3_K"
    return t


def choose_type(name: str, shape: Tuple[int, ...], target: str, n_layer: int, has_output: bool, *,
                n_head: int = 1, n_head_kv: int = 1, arch: str = "llama", pure: bool = False) -> str:
    """Tensor type for tensor ``name`` with GGUF shape ``shape`` (ne0 = row length first) in a file of
    type ``target`` (see the module docstring for the rules). ``has_output`` is False when the file has
    no output.weight (tied embeddings); ``n_head`` / ``n_head_kv`` / ``arch`` are the model's."""
    if len(shape) < 2 or not name.endswith("weight") or "_norm.weight" in name:
        return "F32"
    ftype, base = FILE_TYPES[file_type(target)]
    row = int(shape[0])
    if pure:
        t = base
    else:
        n_gqa = n_head // n_head_kv if n_head_kv > 0 else 0
        llama_70b = arch == "llama" and n_layer == 80 and n_head != n_head_kv
        t = _mix_type(name, row, ftype, base, n_layer, has_output, n_gqa, llama_70b)
    if t in _K_FALLBACK and row % 256 != 0:
        t = _K_FALLBACK[t]
    if row % 32 != 0:
        t = "F16"
    return t


# GGUF tensor type ids (ggml_type) and llama.cpp LLAMA_FTYPE ids, from the format.
_TYPE_ID = {"F32": 0, "F16": 1, "Q4_0": 2, "Q4_1": 3, "Q5_0": 6, "Q5_1": 7, "Q8_0": 8, "Q2_K": 10, "Q3_K": 11,
            "Q4_K": 12, "Q5_K": 13, "Q6_K": 14, "BF16": 30}
_FTYPE_ID = {"Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q2_K": 10, "Q3_K_S": 11, "Q4_K_S": 14,
             "Q4_K_M": 15, "Q5_K_S": 16, "Q5_K_M": 17, "Q6_K": 18}


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


def _hparam(meta: Mapping[str, object], key: str, default: int) -> int:
    v = meta.get(key, default)
    if isinstance(v, (list, tuple, np.ndarray)):  # per-layer arrays: the rules read one value
        v = v[0] if len(v) else default
    return int(v or 0)


def tensor_types(metadata: Mapping[str, object], shapes: Mapping[str, Tuple[int, ...]], type: str,
                 pure: bool = False) -> Dict[str, str]:
    """{tensor name: type} that ``quantize_model(..., type, pure)`` gives a model with this metadata and
    these tensors (GGUF shapes, ne0 = row length first)."""
    target = file_type(type)
    arch = str(metadata.get("general.architecture", "llama"))
    n_layer = _hparam(metadata, f"{arch}.block_count", 0)
    n_head = _hparam(metadata, f"{arch}.attention.head_count", 1)
    n_head_kv = _hparam(metadata, f"{arch}.attention.head_count_kv", n_head)
    has_output = "output.weight" in shapes
    return {name: choose_type(name, shape, target, n_layer, has_output, n_head=n_head, n_head_kv=n_head_kv,
                              arch=arch, pure=pure) for name, shape in shapes.items()}


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


def quantize_model(in_path: PathLike, out_path: PathLike, type: str, threads: Optional[int] = None,
                   progress: bool = True, pure: bool = False) -> Dict[str, str]:
    """Quantize the F32/F16/BF16 GGUF file ``in_path`` to ``type`` (one of ``TYPES`` or ``ALIASES``)
    into ``out_path``, each tensor's type chosen by llama.cpp's rules (module docstring); ``pure``
    gives every matrix the base type instead.

    Returns {tensor name: chosen type}. Raises ValueError for an unknown type, a non-float input or
    non-finite weights (GGUFError, a ValueError, for an invalid file), FileNotFoundError for a
    missing input; no partial output file is left behind."""
    target = file_type(type)
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
    # GGUF dims are ne0 (the row length) first: the reverse of the numpy shape
    types = tensor_types(src.metadata, {t.name: tuple(reversed(t.shape)) for t in infos}, target, pure)
    plan = [(t, types[t.name]) for t in infos]

    alignment, kv = src.alignment, src.metadata_pairs()
    kv = replace_keys(kv, {"general.file_type": kv_uint32("general.file_type", _FTYPE_ID[FILE_TYPES[target][0]]),
                           "general.quantization_version": kv_uint32("general.quantization_version", 2)})
    table = []
    for t, tt in plan:
        block, type_size = _core.quant.block_geometry(tt)
        n = int(np.prod(t.shape)) if t.shape else 1
        table.append((t.name, tuple(reversed(t.shape)), _TYPE_ID[tt], n // block * type_size))

    bar = ProgressBar(sum(int(np.prod(t.shape)) for t, _ in plan), progress)
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


def quantize(in_path: PathLike, out_path: PathLike, type: str, threads: Optional[int] = None,
             progress: bool = True, pure: bool = False) -> Dict[str, str]:
    """Deprecated alias of :func:`quantize_model` (the name clashed with ``ple.quant.quantize``,
    which quantizes activation blocks)."""
    warnings.warn("pyllama_edge.quantize is deprecated: use pyllama_edge.quantize_model", DeprecationWarning,
                  stacklevel=2)
    return quantize_model(in_path, out_path, type, threads=threads, progress=progress, pure=pure)


__all__ = ["quantize_model", "quantize", "tensor_types", "choose_type", "file_type", "use_more_bits", "TYPES", "FILE_TYPES", "ALIASES",
           "BASE_TYPES", "MIXES"]
