"""Simple numpy quantizers for the k-quant formats that gguf (the Python package) can only dequantize:
Q4_K, Q5_K and Q6_K. Written from the block layouts (256-element super-blocks); the choice of scales
is plain min/max (no error search like llama.cpp's), which is enough for synthetic test models:
any valid bytes are a valid file, and tests compare against gguf.quants.dequantize of these bytes.

Every function takes float32 rows [n_rows, n_cols] (n_cols a multiple of 256) and returns uint8
[n_rows, n_cols / 256 * block_bytes], the exact bytes of the blocks in file order."""
from __future__ import annotations

import numpy as np

QK_K = 256


def _blocks(x: np.ndarray, sub: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] % QK_K:
        raise ValueError(f"k-quants need rows whose length is a multiple of {QK_K}; got shape {x.shape}")
    return x.reshape(-1, QK_K // sub, sub)  # [n_blocks, n_sub, sub]


def _f16(v: np.ndarray) -> np.ndarray:
    """Rounds to float16 (the stored precision); returns (float32 value, uint8 [.., 2] little-endian bytes)."""
    h = v.astype(np.float16)
    return h.astype(np.float32), h.astype("<f2").view(np.uint8).reshape(*v.shape, 2)


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape, np.float32), where=b != 0)


def _scale_min_6bit(x: np.ndarray, levels: int):
    """Asymmetric sub-block scales for Q4_K/Q5_K: y = d*sc[j]*q - dmin*m[j], q in [0, levels],
    sc and m 6-bit. x [nb, 8, 32] -> (q [nb, 8, 32] uint8, d bytes, dmin bytes, sc [nb, 8], m [nb, 8])."""
    lo = np.minimum(x.min(axis=-1), 0.0)                 # the sub-block minimum, as a non-negative offset
    scale = (x.max(axis=-1) - lo) / levels               # [nb, 8]
    d, d_bytes = _f16(scale.max(axis=-1) / 63)           # [nb]
    dmin, dmin_bytes = _f16(-lo.min(axis=-1) / 63)
    sc = np.clip(np.rint(_safe_div(scale, d[:, None])), 0, 63).astype(np.uint8)
    m = np.clip(np.rint(_safe_div(-lo, dmin[:, None])), 0, 63).astype(np.uint8)
    step = (d[:, None] * sc)[..., None]                  # [nb, 8, 1]
    offset = (dmin[:, None] * m)[..., None]
    q = np.clip(np.rint(_safe_div(x + offset, step)), 0, levels).astype(np.uint8)
    return q, d_bytes, dmin_bytes, sc, m


def _pack_scales_12(sc: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Eight 6-bit scales and mins into 12 bytes: bytes 0-3 sc[0:4] (+ top 2 bits of sc[4:8]),
    bytes 4-7 m[0:4] (+ top 2 bits of m[4:8]), bytes 8-11 low nibbles of sc[4:8] | m[4:8] << 4."""
    out = np.empty((sc.shape[0], 12), np.uint8)
    out[:, 0:4] = sc[:, 0:4] | ((sc[:, 4:8] >> 4) << 6)
    out[:, 4:8] = m[:, 0:4] | ((m[:, 4:8] >> 4) << 6)
    out[:, 8:12] = (sc[:, 4:8] & 0xF) | ((m[:, 4:8] & 0xF) << 4)
    return out


def _nibbles_q4k(q: np.ndarray) -> np.ndarray:
    """q [nb, 256] (low 4 bits used) -> qs [nb, 128]: for each 64-element chunk c,
    byte 32c+l holds element 64c+l (low nibble) and element 64c+32+l (high nibble)."""
    q = q.reshape(-1, 4, 2, 32) & 0xF
    return (q[:, :, 0] | (q[:, :, 1] << 4)).reshape(-1, 128)


def quantize_q4_k(x: np.ndarray) -> np.ndarray:
    """Block (144 B): d f16, dmin f16, scales[12], qs[128]."""
    n_rows = np.asarray(x).shape[0]
    q, d, dmin, sc, m = _scale_min_6bit(_blocks(x, 32), 15)
    blocks = np.concatenate([d, dmin, _pack_scales_12(sc, m), _nibbles_q4k(q.reshape(-1, QK_K))], axis=1)
    return blocks.reshape(n_rows, -1)


def quantize_q5_k(x: np.ndarray) -> np.ndarray:
    """Block (176 B): d f16, dmin f16, scales[12], qh[32], qs[128]; bit 2c (2c+1) of qh[l] is the fifth
    bit of element 64c+l (64c+32+l)."""
    n_rows = np.asarray(x).shape[0]
    q, d, dmin, sc, m = _scale_min_6bit(_blocks(x, 32), 31)
    q = q.reshape(-1, QK_K)
    hi = (q >> 4).reshape(-1, 8, 32).astype(np.uint8)   # [nb, sub-block j, l]: bit j of qh[l]
    qh = np.zeros((q.shape[0], 32), np.uint8)
    for j in range(8):
        qh |= hi[:, j] << j
    blocks = np.concatenate([d, dmin, _pack_scales_12(sc, m), qh, _nibbles_q4k(q)], axis=1)
    return blocks.reshape(n_rows, -1)


def quantize_q6_k(x: np.ndarray) -> np.ndarray:
    """Block (210 B): ql[128], qh[64], scales[16] int8, d f16; y = d*scales[j]*(q-32), q in [0, 63],
    sub-block j = element // 16. Within each 128-element half n, element 128n+32k+l (k<4, l<32) keeps
    its low nibble in ql[64n + 32(k%2) + l] (k<2: low half of the byte, k>=2: high half) and its top
    2 bits in qh[32n + l] at bit 2k."""
    n_rows = np.asarray(x).shape[0]
    xb = _blocks(x, 16)                                   # [nb, 16, 16]
    amax = np.abs(xb).max(axis=-1)                        # [nb, 16]
    d, d_bytes = _f16(amax.max(axis=-1) / (31 * 127))
    sc = np.clip(np.rint(_safe_div(amax / 31, d[:, None])), -128, 127).astype(np.int8)
    step = (d[:, None] * sc)[..., None]
    q = (np.clip(np.rint(_safe_div(xb, step)), -32, 31) + 32).astype(np.uint8).reshape(-1, 2, 4, 32)
    lo, hi = q & 0xF, q >> 4                              # [nb, half n, k, l]
    ql = np.concatenate([lo[:, :, 0] | (lo[:, :, 2] << 4), lo[:, :, 1] | (lo[:, :, 3] << 4)], axis=2)
    qh = hi[:, :, 0] | (hi[:, :, 1] << 2) | (hi[:, :, 2] << 4) | (hi[:, :, 3] << 6)   # [nb, 2, 32]
    blocks = np.concatenate([ql.reshape(-1, 128), qh.reshape(-1, 64), sc.view(np.uint8), d_bytes], axis=1)
    return blocks.reshape(n_rows, -1)


QUANTIZERS = {"Q4_K": quantize_q4_k, "Q5_K": quantize_q5_k, "Q6_K": quantize_q6_k}
