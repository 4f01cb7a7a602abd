"""Kernel throughput per type and ISA, one thread, 4096 x 4096 weight matrices (4096 rows of 4096
elements):
- test_dot_throughput: the one-row dot (ple.quant.dot_rows) against one activation row, GB/s of
  weight bytes streamed; checked first against the scalar reference (the float bound of
  tests/test_kernels_isa.py).
- test_decode_kernel_throughput: what decode runs, one token through every row of the matmul
  driver (ops::matmul, through the private _core._testing.Matmul): the dot, the decode tile, and
  the GEMV over rows in the load-time packed layout; GB/s.
- test_prefill_kernel_throughput: what prompt processing runs, 64 tokens through every row of the
  driver: the dot, the prefill tile and the prefill panel (packing included); weight bytes x
  tokens per second, in GB/s (the rate at which the matrix would have to be streamed to do the
  same work). Both include quantizing the activations, as the model's matmuls do.
Multi-row kernels are checked first to equal the dot bit for bit.

    python -m pytest bench/test_bench_kernels.py --benchmark-enable --benchmark-columns=mean,stddev,rounds

Benchmarks are disabled by default (pyproject addopts: --benchmark-disable); disabled, each case
still runs once and checks its result. GB/s (mean, and of the fastest round) lands in each
benchmark's extra_info (--benchmark-json).
"""
from __future__ import annotations

import functools

import numpy as np
import pytest

import pyllama_edge as ple
from pyllama_edge import _core, quant

_testing = _core._testing

ROWS = COLS = 4096
EPS = 2.0 ** -24
ISAS = ple.system_info()["available_isas"]
TYPES = ["F32", "F16", "BF16", "Q4_0", "Q5_0", "Q8_0", "Q4_1", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]
# fp16 scale/min fields per block (byte offsets), set to realistic magnitudes
HALF_FIELDS = {"Q4_0": (0,), "Q4_1": (0, 2), "Q5_0": (0,), "Q5_1": (0, 2), "Q8_0": (0,), "Q2_K": (80, 82),
               "Q3_K": (108,), "Q4_K": (0, 2), "Q5_K": (0, 2), "Q6_K": (208,)}


@functools.lru_cache(maxsize=2)
def operands(t: str):
    rng = np.random.default_rng(TYPES.index(t))
    if t in ("F32", "F16", "BF16"):
        v = rng.uniform(-1, 1, (ROWS, COLS)).astype(np.float32)
        if t == "F32":
            w = v.view(np.uint8)
        elif t == "F16":
            w = v.astype(np.float16).view(np.uint8)
        else:
            w = (v.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8)
        a = rng.uniform(-1, 1, COLS).astype(np.float32)
        return np.ascontiguousarray(w), a
    block, size = quant.block_geometry(t)
    raw = rng.integers(0, 256, (ROWS, COLS // block, size), dtype=np.uint8)
    for off in HALF_FIELDS[t]:
        h = (rng.integers(0x1400, 0x2C00, raw.shape[:2]) | (rng.integers(0, 2, raw.shape[:2]) << 15)).astype(np.uint16)
        raw[:, :, off:off + 2] = h.view(np.uint8).reshape(*raw.shape[:2], 2)
    if t == "Q8_0":  # quants of -128 are never written by quantizers (the interleaved GEMV refuses them)
        q = raw[:, :, 2:]
        q[q == 0x80] = 0x81
    a = quant.quantize(rng.uniform(-1, 1, COLS).astype(np.float32), quant.activation_type(t), isa="scalar")
    return raw.reshape(ROWS, -1), a


def magnitude_sum(t: str, w: np.ndarray, a: np.ndarray) -> np.ndarray:
    """A = sum |w_i| |a_i| per row, |w_i| = |d*sc*q| + |dmin*m| (sign of d cleared, of the min set
    or, for Q4_1/Q5_1, cleared), plus |m * s| per block for Q4_1/Q5_1."""
    b = w.copy()
    if t in HALF_FIELDS:
        size = quant.block_geometry(t)[1]
        b = b.reshape(b.shape[0], -1, size)
        b[:, :, HALF_FIELDS[t][0] + 1] &= 0x7F
        if len(HALF_FIELDS[t]) > 1:
            m = HALF_FIELDS[t][1] + 1
            b[:, :, m] = b[:, :, m] & 0x7F if t in ("Q4_1", "Q5_1") else b[:, :, m] | 0x80
        b = b.reshape(w.shape)
    act = quant.activation_type(t)
    af = np.abs(a.astype(np.float64) if act == "F32" else quant.dequantize(a, act, COLS, isa="scalar").astype(np.float64))
    mags = np.abs(np.stack([quant.dequantize(r, t, COLS, isa="scalar") for r in b]).astype(np.float64))
    total = mags @ af
    if t in ("Q4_1", "Q5_1"):
        m = w.reshape(w.shape[0], -1, 20 if t == "Q4_1" else 24)[:, :, 2:4].copy().view(np.float16)[..., 0].astype(np.float64)
        s = a.reshape(-1, 36)[:, 2:4].copy().view(np.float16)[:, 0].astype(np.float64)
        total += np.abs(m * s).sum(axis=1)
    return total


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("t", TYPES)
def test_dot_throughput(benchmark, t: str, isa: str) -> None:
    w, a = operands(t)
    got = quant.dot_rows(w, t, a, COLS, isa=isa).astype(np.float64)
    want = quant.dot_rows(w, t, a, COLS, isa="scalar").astype(np.float64)
    rel = COLS / 16 + 24 if t in ("F32", "F16", "BF16") else 2 * COLS // quant.block_geometry(t)[0] + 16
    rows = slice(0, ROWS, 128)  # the bound on every 128th row (A costs a dequantization per row)
    assert np.all(np.abs(got[rows] - want[rows]) <= rel * EPS * magnitude_sum(t, w[rows], a)), (t, isa)

    benchmark.pedantic(quant.dot_rows, args=(w, t, a, COLS), kwargs={"isa": isa}, rounds=5, iterations=1, warmup_rounds=1)
    if benchmark.stats is not None:  # None when benchmarks are disabled
        benchmark.extra_info["GB/s"] = round(w.nbytes / benchmark.stats.stats.mean / 1e9, 2)
        benchmark.extra_info["GB/s best"] = round(w.nbytes / benchmark.stats.stats.min / 1e9, 2)  # least disturbed round
        benchmark.extra_info["weight_bytes"] = int(w.nbytes)


MATRIX_TYPES = [t for t in TYPES if quant.activation_type(t) != "F32"]
PREFILL_TOKENS = 64


def _record(benchmark, weight_bytes: int) -> None:
    if benchmark.stats is not None:  # None when benchmarks are disabled
        benchmark.extra_info["GB/s"] = round(weight_bytes / benchmark.stats.stats.mean / 1e9, 2)
        benchmark.extra_info["GB/s best"] = round(weight_bytes / benchmark.stats.stats.min / 1e9, 2)


def float_activations(tokens: int) -> np.ndarray:
    """float32 [tokens, COLS]: the driver quantizes them itself, as the model's matmuls do."""
    return np.random.default_rng(7).uniform(-1, 1, (tokens, COLS)).astype(np.float32)


@pytest.mark.parametrize("kernel", ["dot", "tile", "packed"])
@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("t", MATRIX_TYPES)
def test_decode_kernel_throughput(benchmark, t: str, isa: str, kernel: str) -> None:
    """One token through the matmul driver (_core._testing.Matmul, one thread) with only the
    dot, the decode tile, or the packed GEMV; the time includes quantizing the one activation row."""
    w, _ = operands(t)
    x = float_activations(1)
    try:
        matmul = _testing.Matmul(w, t, isa=isa, kernels="all" if kernel == "packed" else kernel, packed=kernel == "packed")
    except ValueError as e:
        pytest.skip(str(e))  # this ISA has no such kernel for the type
    got = matmul.run(x)[0]
    assert np.array_equal(got, quant.dot_rows(w, t, quant.quantize(x[0], quant.activation_type(t), isa=isa), COLS, isa=isa))
    benchmark.pedantic(functools.partial(matmul.run, x), rounds=5, iterations=1, warmup_rounds=1)
    _record(benchmark, w.nbytes)


@pytest.mark.parametrize("kernel", ["dot", "tile", "panel"])
@pytest.mark.parametrize("isa", [i for i in ISAS if i != "scalar"])
@pytest.mark.parametrize("t", MATRIX_TYPES)
def test_prefill_kernel_throughput(benchmark, t: str, isa: str, kernel: str) -> None:
    w, _ = operands(t)
    x = float_activations(PREFILL_TOKENS)
    try:
        matmul = _testing.Matmul(w, t, isa=isa, kernels=kernel)
    except ValueError as e:
        pytest.skip(str(e))
    want = _testing.Matmul(w, t, isa=isa, kernels="dot").run(x)
    assert np.array_equal(matmul.run(x), want), (t, isa, kernel)
    benchmark.pedantic(functools.partial(matmul.run, x), rounds=3, iterations=1, warmup_rounds=1)
    _record(benchmark, w.nbytes * PREFILL_TOKENS)
