"""Block formats against gguf-py (the reference decoder of the GGUF format): dequantization bit for
bit, Q8_0 quantization bit for bit, dots within derived bounds, and the real SmolLM2 file."""
from __future__ import annotations

import numpy as np
import pytest
from gguf import GGMLQuantizationType as QT
from gguf import GGUFReader
from gguf import quants as gq
from gguf.constants import GGML_QUANT_SIZES

import pyllama_edge as ple
from pyllama_edge import _core, quant

EPS32 = 2.0 ** -24  # float32 unit roundoff
GGUF_TYPES = ["F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]
WEIGHT_TYPES = GGUF_TYPES  # every one has a dot
ALL_TYPES = GGUF_TYPES + ["Q8_1", "Q8_K"]

# Byte offsets of the fp16 fields in a block: (scale, min or None); whether the min is added
# (x = d*q + m) or subtracted (x = d*sc*q - dmin*m).
HALF_FIELDS = {"Q4_0": (0, None), "Q4_1": (0, 2), "Q5_0": (0, None), "Q5_1": (0, 2), "Q8_0": (0, None),
               "Q8_1": (0, 2), "Q2_K": (80, 82), "Q3_K": (108, None), "Q4_K": (0, 2), "Q5_K": (0, 2),
               "Q6_K": (208, None)}
MIN_ADDED = {"Q4_1", "Q5_1"}
# 65504 (largest), subnormals (smallest, largest), smallest normal, +0, -0, +-Inf, quiet and
# signalling NaN of both signs.
SPECIAL_HALVES = [0x7BFF, 0xFBFF, 0x0001, 0x8001, 0x03FF, 0x0400, 0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x7C01, 0xFE00]
SPECIAL_F32 = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-45, -1e-40, 3.4e38, 1.0], dtype=np.float32)


def geometry(t: str) -> tuple[int, int]:
    return quant.block_geometry(t)


def random_halves(rng: np.random.Generator, count: int) -> np.ndarray:
    """Half bit patterns for scale fields: each special value at least once when count >= 13 (at
    shuffled positions), a quarter of the rest special too, the others normal with random sign,
    exponent and mantissa (magnitudes 2^-14 .. 65504)."""
    h = (rng.integers(0, 2, count) << 15) | (rng.integers(1, 31, count) << 10) | rng.integers(0, 1024, count)
    extra = rng.random(count) < 0.25
    h[extra] = rng.choice(SPECIAL_HALVES, int(extra.sum()))
    k = min(count, len(SPECIAL_HALVES))
    h[rng.permutation(count)[:k]] = SPECIAL_HALVES[:k]
    return h.astype(np.uint16)


def moderate_halves(rng: np.random.Generator, count: int) -> np.ndarray:
    """Normal halves of either sign with magnitudes in [2^-10, 2^-4): realistic weight scales."""
    return ((rng.integers(0, 2, count) << 15) | rng.integers(0x1400, 0x2C00, count)).astype(np.uint16)


def random_raw(t: str, n_blocks: int, rng: np.random.Generator, specials: bool = True) -> np.ndarray:
    """Random block bytes with controlled scale fields: random_halves, or moderate_halves when
    specials is False."""
    block, size = geometry(t)
    raw = rng.integers(0, 256, (n_blocks, size), dtype=np.uint8)
    fields = [f for f in HALF_FIELDS.get(t, ()) if f is not None]
    if t in ("F16", "BF16"):  # the random bytes already cover every class; make sure of the specials
        k = min(len(SPECIAL_HALVES), raw.size // 2)
        raw.reshape(-1).view(np.uint16)[:k] = SPECIAL_HALVES[:k]
    elif t == "F32":
        raw.reshape(-1).view(np.float32)[: len(SPECIAL_F32)] = SPECIAL_F32[: raw.size // 4]
    elif t == "Q8_K":
        d = rng.standard_normal(n_blocks).astype(np.float32) * np.float32(0.01)
        if specials:
            d[: len(SPECIAL_F32)] = SPECIAL_F32[:n_blocks]
        raw[:, :4] = d.view(np.uint8).reshape(n_blocks, 4)
    for off in fields:
        h = random_halves(rng, n_blocks) if specials else moderate_halves(rng, n_blocks)
        raw[:, off:off + 2] = h.view(np.uint8).reshape(n_blocks, 2)
    return raw.reshape(-1)


def np_dequantize_q8(raw: np.ndarray, t: str) -> np.ndarray:
    """gguf-py has no Q8_1/Q8_K: decoders written from the layouts (Q8_1: fp16 d, fp16 s, 32 int8;
    Q8_K: float32 d, 256 int8, 16 int16 bsums). x = d * q in float32."""
    block, size = geometry(t)
    b = raw.reshape(-1, size)
    d = b[:, :2].copy().view(np.float16).astype(np.float32) if t == "Q8_1" else b[:, :4].copy().view(np.float32)
    q = b[:, 4:4 + block].view(np.int8).astype(np.float32)
    return (d * q).reshape(-1)


def reference_dequantize(raw: np.ndarray, t: str) -> np.ndarray:
    with np.errstate(all="ignore"):
        if t in ("Q8_1", "Q8_K"):
            return np_dequantize_q8(raw, t)
        return np.asarray(gq.dequantize(raw, QT[t]), dtype=np.float32).reshape(-1)


def assert_same_floats(got: np.ndarray, want: np.ndarray) -> None:
    """Equal with NaN == NaN, and bit-identical wherever not NaN (so -0.0 != +0.0). NaN payloads
    are not compared: numpy's float16 -> float32 cast may quiet a signalling NaN."""
    np.testing.assert_array_equal(got, want)
    finite = ~np.isnan(want)
    np.testing.assert_array_equal(got.view(np.uint32)[finite], want.view(np.uint32)[finite])


@pytest.mark.parametrize("t", ALL_TYPES)
@pytest.mark.parametrize("reference", [True, False])
def test_dequantize_bit_exact_against_gguf(t: str, reference: bool) -> None:
    rng = np.random.default_rng(ALL_TYPES.index(t))
    block, _ = geometry(t)
    for n_blocks in ((1, 3, 64) if block > 1 else (1, 37, 4096)):
        raw = random_raw(t, n_blocks, rng)
        n = n_blocks * block
        assert_same_floats(quant.dequantize(raw, t, n, reference=reference), reference_dequantize(raw, t))


def test_quantize_q8_0_matches_gguf() -> None:
    """gguf rounds x * (1/d) half away from zero (np_roundf), as ggml does: bit-identical blocks."""
    rng = np.random.default_rng(1)
    parts = [rng.standard_normal(32 * 64) * s for s in (1e-3, 1.0, 300.0)]
    ties = np.array([127.0] + [k + 0.5 for k in range(-20, 10)] + [0.0], dtype=np.float32)  # d = 1: exact ties
    parts.append(np.resize(ties, 32))
    parts.append(np.zeros(32))  # d = 0
    parts.append(np.full(32, -0.0))
    x = np.concatenate(parts).astype(np.float32)
    want = gq.quantize(x, QT.Q8_0).reshape(-1)
    for reference in (True, False):
        got = quant.quantize(x, "Q8_0", reference=reference)
        np.testing.assert_array_equal(got, want)
    tie_block = got[-3 * 34:-2 * 34]
    assert list(tie_block[2:5].view(np.int8)) == [127, -20, -19]  # -19.5 -> -20, -18.5 -> -19


@pytest.mark.parametrize("t", ["Q8_1", "Q8_K"])
def test_quantize_round_trip_and_sums(t: str) -> None:
    block, size = geometry(t)
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.standard_normal(block * 20) * s for s in (1e-4, 1.0, 1e3)] + [np.zeros(block)]).astype(np.float32)
    b = quant.quantize(x, t).reshape(-1, size)
    np.testing.assert_array_equal(b.reshape(-1), quant.quantize(x, t, reference=True))
    xb = x.reshape(-1, block)
    d32 = np.abs(xb).max(axis=1) / np.float32(127)  # the float32 scale before storage
    q = b[:, 4:4 + block].view(np.int8).astype(np.int32)
    y = quant.dequantize(b.reshape(-1), t, x.size).reshape(-1, block)
    np.testing.assert_array_equal(y.reshape(-1), np_dequantize_q8(b.reshape(-1), t))
    if t == "Q8_K":
        np.testing.assert_array_equal(b[:, :4].copy().view(np.float32)[:, 0], d32)
        sums = b[:, 4 + block:].copy().view(np.int16)
        np.testing.assert_array_equal(sums, q.reshape(-1, 16, 16).sum(axis=2))
        # Half a step, plus float32 rounding: x*(1/d) (two roundings, <= 254 eps steps) and d*q.
        bound = 0.5 * d32 + 4 * EPS32 * (127 * d32)
    else:
        d16 = b[:, :2].copy().view(np.float16).astype(np.float32)[:, 0]
        s = b[:, 2:4].copy().view(np.float16)[:, 0]
        # s = fp16(d32 * sum(q)), with the float32 (unrounded) d, as ggml computes it.
        np.testing.assert_array_equal(s, (d32 * q.sum(axis=1).astype(np.float32)).astype(np.float16))
        # The quants come from d32, the stored scale is fp16(d32): half a step plus up to 127 times
        # the scale's rounding error, plus float32 rounding as above.
        bound = 0.5 * d32 + 127 * np.abs(d16.astype(np.float64) - d32) + 4 * EPS32 * (127 * d32)
    assert np.all(np.abs(y.astype(np.float64) - xb) <= bound[:, None])


def magnitude(raw: np.ndarray, t: str) -> np.ndarray:
    """|d*sc*q| + |dmin*m| per element (|w| for formats without a min): dequantize with the sign
    of d cleared and the sign of the min set (subtracted) or cleared (added); the integer parts
    are non-negative in every format with a min."""
    if t not in HALF_FIELDS or HALF_FIELDS[t][1] is None:
        return np.abs(reference_dequantize(raw, t))
    d_off, m_off = HALF_FIELDS[t]
    b = raw.reshape(-1, geometry(t)[1]).copy()
    b[:, d_off + 1] &= 0x7F
    b[:, m_off + 1] = b[:, m_off + 1] & 0x7F if t in MIN_ADDED else b[:, m_off + 1] | 0x80
    return reference_dequantize(b.reshape(-1), t)


@pytest.mark.parametrize("t", WEIGHT_TYPES)
@pytest.mark.parametrize("n_blocks", [1, 2, 7, 33])
def test_dot_matches_float64_dot_of_dequantized(t: str, n_blocks: int) -> None:
    """|dot - sum(w_i a_i in float64)| <= rel * sum(magnitude_i * |a_i|), a bound immune to
    cancellation. Block formats: rel = (B + 8) eps, B blocks: up to 4 roundings per block in the
    dot (d_w*d_a, int->float, product, difference), B-1 in the float accumulation, up to 4 per
    element when dequantizing w and a. Q4_1/Q5_1 add 2^-10: the activation's s = fp16(d32 *
    sum q) differs from the dequantized sum by two fp16 roundings (s, and d). F32/F16/BF16
    accumulate in double: 2 eps."""
    rng = np.random.default_rng(100 + n_blocks)
    act = quant.activation_type(t)
    block = geometry(t)[0] if geometry(t)[0] > 1 else 32
    n = n_blocks * block
    for _ in range(4):
        if t in ("F32", "F16", "BF16"):
            w = np.asarray(gq.quantize(rng.uniform(-1, 1, n).astype(np.float32), QT[t])).view(np.uint8).reshape(-1)
            rel = 2 * EPS32
        else:
            w = random_raw(t, n_blocks, rng, specials=False)
            rel = (n_blocks + 8) * EPS32 + (1.001 / 1024 if t in MIN_ADDED else 0.0)
        x = rng.uniform(-4, 4, n).astype(np.float32)
        a = x if act == "F32" else quant.quantize(x, act)
        af = x.astype(np.float64) if act == "F32" else reference_dequantize(a, act).astype(np.float64)
        wf = reference_dequantize(w, t).astype(np.float64)
        want = float(wf @ af)
        scale = float(magnitude(w, t).astype(np.float64) @ np.abs(af))
        for reference in (True, False):
            got = quant.dot(w, t, a, n, reference=reference)
            assert abs(got - want) <= rel * scale, (t, n_blocks, got, want, rel * scale)


def test_error_cases() -> None:
    raw = np.zeros(18, dtype=np.uint8)
    assert quant.dequantize(raw, "q4_0", 32).shape == (32,)  # names are case-insensitive
    with pytest.raises(ValueError):
        quant.dequantize(raw[:17], "Q4_0", 32)  # wrong byte length
    with pytest.raises(ValueError):
        quant.dequantize(raw, "Q4_0", 31)  # not a multiple of the block size
    with pytest.raises(ValueError):
        quant.dequantize(raw, "Q4_0", -32)
    with pytest.raises(ValueError):
        quant.dequantize(raw, "Q9_9", 32)  # unknown type
    with pytest.raises(ValueError):
        quant.dequantize(np.zeros(66, dtype=np.uint8), "IQ2_XXS", 256)  # known, not implemented
    with pytest.raises(ValueError):
        quant.quantize(np.zeros(33, dtype=np.float32), "Q8_0")
    with pytest.raises(ValueError):
        quant.quantize(np.zeros(32, dtype=np.float32), "Q4_0")  # not an activation format
    with pytest.raises(ValueError):
        quant.quantize(np.zeros(32, dtype=np.float32), "nope")
    a = quant.quantize(np.ones(32, dtype=np.float32), "Q8_0")
    with pytest.raises(ValueError):
        quant.dot(raw, "Q4_0", a[:-1], 32)  # activation too short
    with pytest.raises(ValueError):
        quant.dot(raw, "Q4_0", a, 64)  # n does not match the bytes
    with pytest.raises(ValueError):
        quant.dot(raw, "Q4_0", a.view(np.int8), 32)  # activation bytes must be uint8
    with pytest.raises(ValueError):
        quant.dot(raw, "Q4_K", a, 32)
    with pytest.raises(ValueError):
        quant.activation_type("Q9_9")


def test_misaligned_views_are_accepted() -> None:
    """Kernels need 4-byte aligned blocks; the binding copies misaligned views (e.g. raw[1:])."""
    rng = np.random.default_rng(5)
    raw = random_raw("Q4_K", 3, rng, specials=False)
    x = rng.standard_normal(768).astype(np.float32)
    a = quant.quantize(x, "Q8_K")

    def misaligned(arr: np.ndarray) -> np.ndarray:
        buf = np.empty(arr.nbytes + 1, dtype=np.uint8)
        view = buf[1:].view(arr.dtype) if arr.dtype == np.uint8 else np.frombuffer(buf, arr.dtype, offset=1)
        view[...] = arr
        assert view.ctypes.data % 2 == 1
        return view

    assert_same_floats(quant.dequantize(misaligned(raw), "Q4_K", 768), quant.dequantize(raw, "Q4_K", 768))
    np.testing.assert_array_equal(quant.quantize(misaligned(x), "Q8_K"), a)
    assert quant.dot(misaligned(raw), "Q4_K", misaligned(a), 768) == quant.dot(raw, "Q4_K", a, 768)


def test_activation_types() -> None:
    expected = {"F32": "F32", "F16": "F32", "BF16": "F32", "Q4_0": "Q8_0", "Q5_0": "Q8_0", "Q8_0": "Q8_0",
                "Q4_1": "Q8_1", "Q5_1": "Q8_1", "Q2_K": "Q8_K", "Q3_K": "Q8_K", "Q4_K": "Q8_K", "Q5_K": "Q8_K",
                "Q6_K": "Q8_K"}
    assert {t: quant.activation_type(t) for t in expected} == expected


def test_block_geometry_matches_gguf() -> None:
    """gguf-py lists Q8_1 as 40 bytes (an outdated layout with float32 d and s); ggml's current
    block_q8_1 is 36 bytes with two fp16 fields, which is what we keep."""
    for t in ALL_TYPES:
        want = (32, 36) if t == "Q8_1" else tuple(GGML_QUANT_SIZES[QT[t]])
        assert tuple(_core.quant.block_geometry(t)) == want, t
    assert tuple(GGML_QUANT_SIZES[QT.Q8_1]) == (32, 40)  # if gguf-py updates this, drop the exception


def test_smollm2_every_tensor_matches_gguf(smollm2_path) -> None:
    """Offsets, shapes and values of the real file (Q4_1, Q8_0, F32) against gguf-py. Most of the
    time (several seconds) is gguf-py parsing the vocabulary and decoding 134M values in numpy."""
    ours = ple.GGUFFile(smollm2_path)
    reader = GGUFReader(smollm2_path)
    types = set()
    assert len(reader.tensors) == len(ours.tensors)
    for t in reader.tensors:
        types.add(t.tensor_type.name)
        want = np.asarray(gq.dequantize(t.data, t.tensor_type), dtype=np.float32)
        got = ours.dequantize(t.name)
        assert got.shape == want.shape, t.name
        if not np.array_equal(got.view(np.uint32), want.view(np.uint32)):  # (assert_array_equal is slow here)
            bad = np.flatnonzero(got.view(np.uint32).ravel() != want.view(np.uint32).ravel())
            pytest.fail(f"{t.name}: {bad.size} values differ, first at flat index {bad[0]}")
    assert types == {"Q4_1", "Q8_0", "F32"}
