"""Block-format conversions: bytes of any supported tensor type <-> float32."""
from __future__ import annotations

import numpy as np

from . import _core

_q = _core.quant


def dequantize(raw: np.ndarray, type_name: str, n: int, *, reference: bool = False) -> np.ndarray:
    """Decode ``n`` values of ``type_name`` ("Q4_0", "F16", ...) from the uint8 array ``raw``.

    ``reference=True`` uses the scalar reference kernels instead of the fastest path."""
    return _q.dequantize(np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1), type_name, int(n), reference)


def quantize(x: np.ndarray, type_name: str, *, reference: bool = False) -> np.ndarray:
    """Encode float values into blocks of an activation type (Q8_0, Q8_1, Q8_K) as uint8 bytes."""
    return _q.quantize(np.ascontiguousarray(x, dtype=np.float32).reshape(-1), type_name, reference)


def quantize_weights(x: np.ndarray, type_name: str, n_threads: int = 0) -> np.ndarray:
    """Encode float rows [n_rows, n_cols] into a weight type (Q4_0 ... Q8_0, Q2_K ... Q6_K) with the
    reference weight quantizers (scale search as llama.cpp's quantizer does); returns uint8
    [n_rows, row bytes]. Rows are split over ``n_threads`` (0: the default count)."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    return _q.quantize_weights(np.ascontiguousarray(x), type_name, int(n_threads))


def dot(w: np.ndarray, type_name: str, a: np.ndarray, n: int, *, reference: bool = False) -> float:
    """Dot product of ``n`` elements: weight blocks ``w`` (uint8 bytes of ``type_name``) against
    activations ``a`` in the paired type (float32 for F32/F16/BF16, else the bytes of Q8_0/Q8_1/Q8_K
    as returned by :func:`quantize`)."""
    a = np.ascontiguousarray(a, dtype=np.float32 if _q.activation_type(type_name) == "F32" else None)
    return _q.dot(np.ascontiguousarray(w, dtype=np.uint8).reshape(-1), type_name, a, int(n), reference)


def activation_type(type_name: str) -> str:
    """The activation block type a weight type is multiplied with ("Q8_0", "Q8_K", "F32", ...)."""
    return _q.activation_type(type_name)


def block_geometry(type_name: str) -> tuple:
    """(elements per block, bytes per block) of a type."""
    return tuple(_q.block_geometry(type_name))


__all__ = ["dequantize", "quantize", "quantize_weights", "dot", "activation_type", "block_geometry"]
