"""Block-format conversions: bytes of any supported tensor type <-> float32."""
from __future__ import annotations

from typing import Optional

import numpy as np

from . import _core

_q = _core.quant


# Every function takes ``isa``: None for the kernels this process chose (see
# ``pyllama_edge.system_info()["isa"]``), or one of ``system_info()["available_isas"]``
# ("scalar", "avx2", "avx512") to run that path; ``reference=True`` is ``isa="scalar"``, the
# reference kernels. An ISA this machine cannot run raises ValueError.


def dequantize(raw: np.ndarray, type_name: str, n: int, *, reference: bool = False,
               isa: Optional[str] = None) -> np.ndarray:
    """Decode ``n`` values of ``type_name`` ("Q4_0", "F16", ...) from the uint8 array ``raw``."""
    return _q.dequantize(np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1), type_name, int(n), reference, isa)


def quantize(x: np.ndarray, type_name: str, *, reference: bool = False, isa: Optional[str] = None) -> np.ndarray:
    """Encode float values into blocks of an activation type (Q8_0, Q8_1, Q8_K) as uint8 bytes."""
    return _q.quantize(np.ascontiguousarray(x, dtype=np.float32).reshape(-1), type_name, reference, isa)


def quantize_weights(x: np.ndarray, type_name: str, n_threads: int = 0) -> np.ndarray:
    """Encode float rows [n_rows, n_cols] into a weight type (Q4_0 ... Q8_0, Q2_K ... Q6_K) with the
    reference weight quantizers (scale search as llama.cpp's quantizer does); returns uint8
    [n_rows, row bytes]. Rows are split over ``n_threads`` (0: the default count)."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    return _q.quantize_weights(np.ascontiguousarray(x), type_name, int(n_threads))


def _activations(type_name: str, a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32 if _q.activation_type(type_name) == "F32" else None)


def dot(w: np.ndarray, type_name: str, a: np.ndarray, n: int, *, reference: bool = False,
        isa: Optional[str] = None) -> float:
    """Dot product of ``n`` elements: weight blocks ``w`` (uint8 bytes of ``type_name``) against
    activations ``a`` in the paired type (float32 for F32/F16/BF16, else the bytes of Q8_0/Q8_1/Q8_K
    as returned by :func:`quantize`)."""
    return _q.dot(np.ascontiguousarray(w, dtype=np.uint8).reshape(-1), type_name, _activations(type_name, a), int(n),
                  reference, isa)


def dot_rows(w: np.ndarray, type_name: str, a: np.ndarray, n: int, *, reference: bool = False,
             isa: Optional[str] = None) -> np.ndarray:
    """:func:`dot` of each row of the 2-D uint8 array ``w`` (one row of ``n`` elements of
    ``type_name`` per row) with ``a``: float32 array of one value per row, computed on one thread."""
    w = np.ascontiguousarray(w, dtype=np.uint8)
    return _q.dot_rows(w.reshape(w.shape[0], -1), type_name, _activations(type_name, a), int(n), reference, isa)


def activation_type(type_name: str) -> str:
    """The activation block type a weight type is multiplied with ("Q8_0", "Q8_K", "F32", ...)."""
    return _q.activation_type(type_name)


def block_geometry(type_name: str) -> tuple:
    """(elements per block, bytes per block) of a type."""
    return tuple(_q.block_geometry(type_name))


__all__ = ["dequantize", "quantize", "quantize_weights", "dot", "dot_rows", "activation_type", "block_geometry"]
