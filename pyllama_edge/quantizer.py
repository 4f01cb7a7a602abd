"""Model quantizer: F32/F16/BF16 GGUF -> a quantized GGUF, streamed tensor by tensor.

Memory stays bounded: the input is memory-mapped (gguf.GGUFReader), each tensor is converted in row
chunks of at most ``_CHUNK_VALUES`` floats, quantized in C++ (rows split over threads, GIL released)
and appended to the output; only one chunk of floats and its blocks are alive at a time.

Pure types (Q4_0 ... Q6_K) put every 2-D weight into that type. The mixes follow llama.cpp's
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

Metadata is copied key by key with its original value types; ``general.file_type`` is replaced and
``general.quantization_version`` set to 2.
"""
from __future__ import annotations

import os
import sys
from typing import Callable, Dict, Iterator, List, Optional, Tuple, Union

import numpy as np

from . import _core

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


def _gguf():
    import gguf  # the writer and reader of the gguf package; imported lazily (CLI start-up time)
    return gguf


def _source_rows(gguf, tensor, chunk_rows: int) -> Iterator[np.ndarray]:
    """float32 [rows, ne0] chunks of a float tensor of the reader."""
    ne0 = int(tensor.shape[0])
    raw = tensor.data
    type_name = tensor.tensor_type.name
    n_rows = int(np.prod(tensor.shape[1:]))
    if type_name == "BF16":
        rows = raw.reshape(-1).view(np.uint16).reshape(n_rows, ne0)
    else:
        rows = raw.reshape(n_rows, ne0)
    for r in range(0, n_rows, chunk_rows):
        part = rows[r:r + chunk_rows]
        if type_name == "BF16":
            yield (part.astype(np.uint32) << 16).view(np.float32)
        else:
            yield np.asarray(part, dtype=np.float32)


def _encode(rows: np.ndarray, type_name: str, threads: int) -> np.ndarray:
    if type_name == "F32":
        return np.ascontiguousarray(rows, dtype=np.float32)
    if type_name == "F16":
        return rows.astype(np.float16)
    return _core.quant.quantize_weights(np.ascontiguousarray(rows), type_name, threads)


def _copy_metadata(gguf, reader, writer, file_type: int) -> None:
    VT = gguf.GGUFValueType
    for field in reader.fields.values():
        key = field.name
        if key.startswith("GGUF.") or key in ("general.architecture", "general.file_type", "general.quantization_version"):
            continue
        vtype = VT(field.types[0])
        if vtype == VT.ARRAY:
            sub = VT(field.types[-1]) if len(field.types) > 1 else VT.INT32
            writer.add_key_value(key, field.contents(), vtype, sub_type=sub)
        else:
            writer.add_key_value(key, field.contents(), vtype)
    writer.add_key_value("general.file_type", int(file_type), VT.UINT32)
    writer.add_key_value("general.quantization_version", 2, VT.UINT32)


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


def quantize(in_path: PathLike, out_path: PathLike, type: str, threads: Optional[int] = None,
             progress: bool = True) -> Dict[str, str]:
    """Quantize the F32/F16/BF16 GGUF file ``in_path`` to ``type`` (one of ``TYPES``) into ``out_path``.

    Returns {tensor name: chosen type}. Raises ValueError for an unknown type or a non-float input,
    FileNotFoundError for a missing input."""
    target = str(type).upper()
    if target not in TYPES:
        raise ValueError(f"unknown quantization type {type!r}; choose one of {', '.join(TYPES)}")
    in_path, out_path = os.fspath(in_path), os.fspath(out_path)
    if not os.path.isfile(in_path):
        raise FileNotFoundError(f"no such GGUF file: {in_path}")
    if os.path.abspath(in_path) == os.path.abspath(out_path):
        raise ValueError("output path must differ from the input path")
    if threads is not None and int(threads) < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    n_threads = int(threads) if threads else 0
    gguf = _gguf()
    try:
        reader = gguf.GGUFReader(in_path)
    except Exception as e:  # the gguf package raises assorted errors for non-GGUF bytes
        raise ValueError(f"{in_path}: not a readable GGUF file ({e})") from e
    bad = [t.name for t in reader.tensors if t.tensor_type.name not in _FLOAT_INPUTS]
    if bad:
        raise ValueError(f"{in_path}: the quantizer needs F32/F16/BF16 input; tensor {bad[0]!r} is "
                         f"{next(t.tensor_type.name for t in reader.tensors if t.name == bad[0])}")
    arch_field = reader.fields.get("general.architecture")
    arch = arch_field.contents() if arch_field is not None else "llama"
    n_layer_field = reader.fields.get(f"{arch}.block_count")
    n_layer = int(n_layer_field.contents()) if n_layer_field is not None else 0
    names = {t.name for t in reader.tensors}
    has_output = "output.weight" in names

    plan: List[Tuple[object, str]] = []
    for t in reader.tensors:
        plan.append((t, choose_type(t.name, tuple(int(s) for s in t.shape), target, n_layer, has_output)))

    writer = gguf.GGUFWriter(out_path, arch, endianess=reader.endianess)
    _copy_metadata(gguf, reader, writer, gguf.LlamaFileType[_FILE_TYPE[target]].value)
    QT = gguf.GGMLQuantizationType
    for t, tt in plan:
        ne = [int(s) for s in t.shape]
        block, type_size = gguf.GGML_QUANT_SIZES[QT[tt]]
        nbytes = int(np.prod(ne)) // block * type_size
        # numpy shape of the tensor's bytes as stored: [.., rows, row bytes]
        byte_shape = list(reversed(ne[1:])) + [ne[0] // block * type_size]
        writer.add_tensor_info(t.name, byte_shape, np.dtype(np.uint8), nbytes, raw_dtype=QT[tt])

    bar = _Progress(sum(int(t.n_elements) for t, _ in plan), progress)
    try:
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        for t, tt in plan:
            ne0 = int(t.shape[0])
            chunk_rows = max(1, _CHUNK_VALUES // ne0)
            parts = [_encode(rows, tt, n_threads).reshape(-1).view(np.uint8)
                     for rows in _chunked(_source_rows(gguf, t, chunk_rows), bar, t.name)]
            # One tensor's encoded bytes (at most its F32 size / ~4 for quantized types) are joined
            # before writing, because the gguf writer takes each tensor in a single call.
            writer.write_tensor_data(np.concatenate(parts) if len(parts) > 1 else parts[0])
    finally:
        writer.close()
        bar.close()
    return {t.name: tt for t, tt in plan}


def _chunked(rows: Iterator[np.ndarray], bar: _Progress, name: str) -> Iterator[np.ndarray]:
    for part in rows:
        yield part
        bar.update(part.size, name)


__all__ = ["quantize", "choose_type", "use_more_bits", "TYPES", "PURE_TYPES", "MIXES"]
