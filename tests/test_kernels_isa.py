"""Every kernel path this machine can run (system_info()["available_isas"]: x86 or ARM) against the scalar
reference, through ple.quant: quantizers byte for byte, dequantization bit for bit, dots exact in
their integer parts and within the float bound of tests/native/test_kernels_isa.cpp:
    block formats  |dot - ref| <= (2B + 16) eps A,   F32/F16/BF16  |dot - ref| <= (n/16 + 24) eps A
with eps = 2^-24, B blocks and A = sum |w_i| |a_i|. Then the choice of path (PYLLAMA_EDGE_ISA) and
the qemu guard: the native test binary must pass on an emulated Haswell (AVX2, no AVX-512) choosing
avx2, and on qemu64 choosing scalar; a stray wider instruction would die with SIGILL."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pyllama_edge as ple
from pyllama_edge import _core, quant
from support.test_data import PACKAGE_PARENT

_testing = _core._testing

ROOT = Path(__file__).resolve().parent.parent
EPS = 2.0 ** -24
ISAS = ple.system_info()["available_isas"]
BUILT_ISAS = ple.system_info()["built_isas"]
SIMD_ISAS = [i for i in ISAS if i != "scalar"]
WEIGHT_TYPES = ["F32", "F16", "BF16", "Q4_0", "Q5_0", "Q8_0", "Q4_1", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"]
FLOAT_TYPES = ("F32", "F16", "BF16")
# Byte offsets of the fp16 scale and min (None: none) in a block; Q4_1/Q5_1 add their min.
HALF_FIELDS = {"Q4_0": (0, None), "Q4_1": (0, 2), "Q5_0": (0, None), "Q5_1": (0, 2), "Q8_0": (0, None),
               "Q2_K": (80, 82), "Q3_K": (108, None), "Q4_K": (0, 2), "Q5_K": (0, 2), "Q6_K": (208, None)}
MIN_ADDED = {"Q4_1", "Q5_1"}
SHAPES = [1, 2, 7, 33, 64]
ROWS = 24  # weight rows per (type, shape) case, through dot_rows
# 65504, smallest/largest subnormal, smallest normal, +-0 (for the scale fields)
EXTREME_HALVES = np.array([0x7BFF, 0xFBFF, 0x0001, 0x8001, 0x03FF, 0x0400, 0x0000, 0x8000], dtype=np.uint16)
UNIT_HALVES = np.array([0x3C00, 0xBC00, 0x4000, 0xC000, 0x4400, 0xC400, 0x0000, 0x8000], dtype=np.uint16)  # +-1, 2, 4, 0



def geometry(t: str) -> tuple:
    return quant.block_geometry(t)


def unit(t: str) -> int:
    return 32 if t in FLOAT_TYPES else geometry(t)[0]


def make_weights(t: str, rows: int, n: int, rng: np.random.Generator, scales: str, fill: str = "random") -> np.ndarray:
    """rows x row_bytes uint8: random (or 0x00 / 0xFF) quant bytes; scale fields 'realistic'
    (normal halves in [2^-10, 2^-4)), 'extreme' (half of them from EXTREME_HALVES) or 'unit'."""
    if t in FLOAT_TYPES:
        v = rng.uniform(-1, 1, (rows, n)).astype(np.float32)
        if scales == "unit":
            v = rng.integers(-16, 17, (rows, n)).astype(np.float32)
        elif scales == "extreme":
            v[rng.random((rows, n)) < 0.2] = np.float32(65504.0)
        if t == "F32":
            return v.view(np.uint8).reshape(rows, -1)
        if t == "F16":
            return v.astype(np.float16).view(np.uint8).reshape(rows, -1)
        return (v.view(np.uint32) >> 16).astype(np.uint16).view(np.uint8).reshape(rows, -1)  # truncated to bf16
    block, size = geometry(t)
    nb = n // block
    if fill == "random":
        raw = rng.integers(0, 256, (rows, nb, size), dtype=np.uint8)
    else:
        raw = np.full((rows, nb, size), 0x00 if fill == "zeros" else 0xFF, dtype=np.uint8)
    for off in HALF_FIELDS[t]:
        if off is None:
            continue
        h = ((rng.integers(0, 2, (rows, nb)) << 15) | rng.integers(0x1400, 0x2C00, (rows, nb))).astype(np.uint16)
        if scales == "extreme":
            pick = rng.random((rows, nb)) < 0.5
            h[pick] = rng.choice(EXTREME_HALVES, int(pick.sum()))
        elif scales == "unit":
            h = rng.choice(UNIT_HALVES, (rows, nb))
        raw[:, :, off:off + 2] = h.view(np.uint8).reshape(rows, nb, 2)
    return raw.reshape(rows, -1)


def raw_activations(act: str, n: int, rng: np.random.Generator, pattern: str, limit: int = 128) -> np.ndarray:
    """Activation blocks with scale 1 and quants set directly (-128 included), derived fields
    (Q8_1's s, Q8_K's bsums) consistent with the quants."""
    block, size = geometry(act)
    nb = n // block
    if pattern == "random":
        q = rng.integers(-limit, limit, (nb, block))
    else:
        q = np.resize(np.array({"max": [127], "minus_max": [-127], "minus_128": [-128], "alternating": [127, -128]}[pattern]),
                      (nb, block))
    q = q.astype(np.int8)
    b = np.zeros((nb, size), dtype=np.uint8)
    if act == "Q8_K":
        b[:, :4] = np.ones(nb, dtype=np.float32).view(np.uint8).reshape(nb, 4)
        b[:, 4:4 + block] = q.view(np.uint8)
        b[:, 4 + block:] = q.astype(np.int16).reshape(nb, 16, 16).sum(axis=2).astype(np.int16).view(np.uint8).reshape(nb, 32)
    else:
        b[:, :2] = np.full(nb, 1.0, dtype=np.float16).view(np.uint8).reshape(nb, 2)
        start = 2 if act == "Q8_0" else 4
        b[:, start:start + block] = q.view(np.uint8)
        if act == "Q8_1":
            s = (q.astype(np.float32).sum(axis=1)).astype(np.float16)
            b[:, 2:4] = s.view(np.uint8).reshape(nb, 2)
    return b.reshape(-1)


def magnitudes(t: str, w: np.ndarray, n: int) -> np.ndarray:
    """|w_i| per element (rows x n): |d*sc*q| + |dmin*m| for formats with a min, via dequantizing
    with the sign of d cleared and that of the min set (subtracted) or cleared (added)."""
    b = w.reshape(w.shape[0], -1, geometry(t)[1]).copy() if t not in FLOAT_TYPES else w
    if t in HALF_FIELDS:
        d_off, m_off = HALF_FIELDS[t]
        b[:, :, d_off + 1] &= 0x7F
        if m_off is not None:
            b[:, :, m_off + 1] = b[:, :, m_off + 1] & 0x7F if t in MIN_ADDED else b[:, :, m_off + 1] | 0x80
    flat = b.reshape(b.shape[0], -1)
    with np.errstate(all="ignore"):
        return np.abs(np.stack([quant.dequantize(r, t, n, reference=True) for r in flat]).astype(np.float64))


def magnitude_sum(t: str, w: np.ndarray, a: np.ndarray, n: int) -> np.ndarray:
    act = quant.activation_type(t)
    af = np.abs(a.astype(np.float64) if act == "F32" else quant.dequantize(a, act, n, reference=True).astype(np.float64))
    s = magnitudes(t, w, n) @ af
    if t in MIN_ADDED:  # plus |m * s| per block: the activation's s is rounded on its own
        m = w.reshape(w.shape[0], -1, geometry(t)[1])[:, :, 2:4].copy().view(np.float16)[..., 0].astype(np.float64)
        sa = a.reshape(-1, 36)[:, 2:4].copy().view(np.float16)[:, 0].astype(np.float64)
        s = s + np.abs(m * sa).sum(axis=1)
    return s


@pytest.mark.parametrize("isa", SIMD_ISAS)
@pytest.mark.parametrize("act", ["Q8_0", "Q8_1", "Q8_K"])
def test_quantize_byte_identical(isa: str, act: str) -> None:
    rng = np.random.default_rng(7)
    block = geometry(act)[0]
    for nb in SHAPES:
        n = nb * block
        cases = [rng.standard_normal(n) * 10.0 ** rng.integers(-6, 7),
                 np.where(np.arange(n) % block == 0, 127.0, rng.integers(-127, 127, n) + 0.5),  # exact ties, d = 1
                 rng.standard_normal(n) * 1e-38,  # subnormal d: the quotient path
                 np.zeros(n), np.full(n, -0.0)]
        special = rng.standard_normal(n) * 100
        special[rng.integers(0, n, 6)] = [np.inf, -np.inf, np.nan, 3.4e38, -1e-45, -0.0]
        cases.append(special)
        for x in cases:
            x = np.asarray(x, dtype=np.float32)
            with np.errstate(all="ignore"):
                np.testing.assert_array_equal(quant.quantize(x, act, isa=isa), quant.quantize(x, act, isa="scalar"))


@pytest.mark.parametrize("isa", SIMD_ISAS)
def test_dequantize_same_as_reference(isa: str) -> None:
    rng = np.random.default_rng(8)
    for t in WEIGHT_TYPES + ["Q8_1", "Q8_K"]:
        block, size = geometry(t)
        raw = rng.integers(0, 256, 7 * size, dtype=np.uint8)
        n = 7 * block
        with np.errstate(all="ignore"):
            got, want = quant.dequantize(raw, t, n, isa=isa), quant.dequantize(raw, t, n, isa="scalar")
        np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("isa", SIMD_ISAS)
@pytest.mark.parametrize("t", WEIGHT_TYPES)
def test_dot_integer_parts_exact(isa: str, t: str) -> None:
    """Unit power-of-two scales: every float operation is exact while A <= 2^24, so the SIMD dot
    must equal the reference bit for bit (cases above 2^24 are left to the float-bound test)."""
    rng = np.random.default_rng(WEIGHT_TYPES.index(t))
    act = quant.activation_type(t)
    checked = 0
    for nb in SHAPES:
        n = nb * unit(t)
        patterns = ["random"] if t in FLOAT_TYPES else ["random", "max", "minus_max", "minus_128", "alternating"]
        for fill in (["random"] if t in FLOAT_TYPES else ["random", "zeros", "ones"]):
            w = make_weights(t, ROWS, n, rng, "unit", fill)
            for pattern in patterns:
                if act == "F32":
                    a = rng.integers(-64, 65, n).astype(np.float32)
                else:
                    a = raw_activations(act, n, rng, pattern)
                ok = magnitude_sum(t, w, a, n) <= 2.0 ** 24
                if not ok.any() and act != "F32":
                    a = raw_activations(act, n, rng, "random", limit=4)
                    ok = magnitude_sum(t, w, a, n) <= 2.0 ** 24
                got = quant.dot_rows(w, t, a, n, isa=isa)
                want = quant.dot_rows(w, t, a, n, isa="scalar")
                np.testing.assert_array_equal(got[ok], want[ok], err_msg=f"{isa} {t} blocks={nb} {fill} {pattern}")
                checked += int(ok.sum())
    assert checked >= ROWS * len(SHAPES)


@pytest.mark.parametrize("isa", SIMD_ISAS)
@pytest.mark.parametrize("t", WEIGHT_TYPES)
def test_dot_within_float_bound(isa: str, t: str) -> None:
    rng = np.random.default_rng(100 + WEIGHT_TYPES.index(t))
    act = quant.activation_type(t)
    for nb in SHAPES:
        n = nb * unit(t)
        for scales in ("realistic", "extreme"):
            w = make_weights(t, ROWS, n, rng, scales)
            for mag in (1e-3, 1.0, 1e4):
                x = (rng.uniform(-1, 1, n) * mag).astype(np.float32)
                a = x if act == "F32" else quant.quantize(x, act, isa="scalar")
                got = quant.dot_rows(w, t, a, n, isa=isa).astype(np.float64)
                want = quant.dot_rows(w, t, a, n, isa="scalar").astype(np.float64)
                rel = n / 16 + 24 if t in FLOAT_TYPES else 2 * (n // geometry(t)[0]) + 16
                with np.errstate(all="ignore"):  # Q8_1's s overflows fp16 at magnitude 1e4: inf * 0
                    bound = rel * EPS * magnitude_sum(t, w, a, n) + n * 2.0 ** -140
                    finite = np.isfinite(want)
                    assert np.all(np.abs(got - want)[finite] <= bound[finite]), (isa, t, nb, scales, mag)
                np.testing.assert_array_equal(got[~finite], want[~finite])  # same infinities, NaN where NaN


def run_python(code: str, env_isa) -> str:
    env = dict(os.environ)
    env.pop("PYLLAMA_EDGE_ISA", None)
    if env_isa is not None:
        env["PYLLAMA_EDGE_ISA"] = env_isa
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=PACKAGE_PARENT)
    return out.stdout.strip()


def test_isa_selection_and_cap() -> None:
    """Widest usable path by default; PYLLAMA_EDGE_ISA only narrows; unknown names raise."""
    code = "import pyllama_edge as p; i = p.system_info(); print(i['isa'], i['isa_cap'])"
    assert run_python(code, None) == f"{ISAS[-1]} None"
    assert run_python(code, "") == f"{ISAS[-1]} None"
    assert run_python(code, "scalar") == "scalar scalar"
    for isa in ISAS[1:]:  # case-insensitive; a usable cap is the path taken
        assert run_python(code, isa.upper()).split()[0] == isa
    other = "avx2" if "neon" in BUILT_ISAS else "neon"  # the other architecture's name: unknown here
    accepted = "scalar, neon, dotprod, i8mm" if other == "avx2" else "scalar, avx2, avx512"
    if BUILT_ISAS == ["scalar"]:  # a platform without SIMD kernels (32-bit ARM): the scalar path only
        accepted = "scalar"
    raises = "import pyllama_edge as p\ntry:\n    p.system_info()\nexcept ValueError as e:\n    print(e)"
    for bad in ("no-such-isa", other):
        message = run_python(raises, bad)
        assert f"PYLLAMA_EDGE_ISA='{bad}'" in message and f"accepted values: {accepted}" in message, message
    # A cap above what the CPU has still picks the widest usable path, never an unusable one.
    assert run_python(code, BUILT_ISAS[-1]).split()[0] == ISAS[-1]


def test_model_isa_runs_each_path_in_one_process(tiny_f32) -> None:
    """Model(isa=...) picks the table per model: every usable path in this one process, each
    matching a scalar run within the F32 dot's rounding; an unusable name raises."""
    ids = list(range(1, 9))
    want = None
    for isa in ISAS:
        with ple.Model(tiny_f32, n_ctx=64, n_threads=2, layout_cache=False, isa=isa) as m:
            assert m._native.isa == isa
            got = m.logits(ids)
        if want is None:
            want = got
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="not usable on this machine"):
        ple.Model(tiny_f32, n_ctx=64, isa="no-such-isa")


def test_isa_argument_and_report() -> None:
    x = np.zeros(32, dtype=np.float32)
    with pytest.raises(ValueError, match="not usable"):
        quant.quantize(x, "Q8_0", isa="no-such-isa")
    for isa in SIMD_ISAS:
        with pytest.raises(ValueError, match="reference=True"):
            quant.quantize(x, "Q8_0", reference=True, isa=isa)
    np.testing.assert_array_equal(quant.quantize(x, "Q8_0", reference=True, isa="scalar"), quant.quantize(x, "Q8_0", isa="scalar"))
    info = ple.system_info()
    assert info["isa"] in info["available_isas"] and set(info["available_isas"]) <= set(info["built_isas"])
    suffix = {"scalar": "__ref", "avx2": "__avx2", "avx512": "__avx512", "neon": "__neon", "dotprod": "__dotprod",
              "i8mm": "__dotprod"}[info["isa"]]
    # ARM tiers above NEON re-implement the integer dots only; float dots and attention stay NEON's.
    arm_upper = info["isa"] in ("dotprod", "i8mm")
    for t, name in info["dot_kernels"].items():
        assert name.endswith("__neon" if arm_upper and t in FLOAT_TYPES else suffix), info["dot_kernels"]
    assert all(name.endswith("__neon" if arm_upper else suffix) for name in info["attention_kernels"])
    # Tiles, panels and packed GEMVs: the ISA's own; i8mm keeps dotprod's GEMVs and k-quant panels.
    tiles = info["tile_kernels"]
    tile_suffixes = {"avx2": ("__avx2",), "avx512": ("__avx512",), "neon": ("__neon",), "dotprod": ("__dotprod",),
                     "i8mm": ("__i8mm", "__dotprod")}.get(info["isa"])
    assert all(name.endswith(tile_suffixes) for names in tiles.values() for name in names) if tile_suffixes else not tiles, tiles
    if info["isa"] in ("neon", "dotprod", "i8mm"):
        gemv = "__neon" if info["isa"] == "neon" else "__dotprod"
        for t in ("Q4_0", "Q4_1", "Q8_0", "Q4_K", "Q5_K", "Q6_K"):
            assert any(n.startswith("qgemv_") and n.endswith(gemv) for n in tiles[t]), tiles
    if info["isa"] in ("neon", "dotprod", "i8mm"):
        # Every block type prefills through a panel on ARM; Q5_0, Q5_1 and Q5_K also have a decode
        # tile (Q5_K's serves models loaded with interleave_weights=False).
        for t in ("Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"):
            assert any(n.startswith("qpanel_") for n in tiles[t]), tiles
        for t in ("Q5_0", "Q5_1", "Q5_K"):
            assert any(n.startswith("qtile_") and "_4x1__" in n for n in tiles[t]), tiles
    if info["isa"] == "i8mm":
        for t in ("Q4_0", "Q8_0"):
            assert {f"qtile_{t.lower()}_q8_0_2x2__i8mm", f"qpanel_{t.lower()}_q8_0__i8mm"} <= set(tiles[t]), tiles


# ---- matrix kernels through the matmul driver (_core._testing.Matmul) ----

@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("t", ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"])
def test_matrix_kernels_equal_dot(t: str, isa: str) -> None:
    """Every kernel the table has, through the driver the model runs (ops::matmul), with rows and
    tokens the kernels' shapes leave over (21 rows, 5 and 1 tokens), on one and three threads:
    the same float32 as the dot of each pair, bit for bit."""
    rng = np.random.default_rng(5)
    n = 512
    w = quant.quantize_weights(rng.standard_normal((21, n)).astype(np.float32), t)
    act = quant.activation_type(t)
    x = rng.standard_normal((5, n)).astype(np.float32)
    want = _testing.Matmul(w, t, isa=isa, kernels="dot").run(x)
    for token in range(5):
        assert np.array_equal(want[token], quant.dot_rows(w, t, quant.quantize(x[token], act, isa=isa), n, isa=isa))
    ran = 0
    for kernels in ("tile", "panel"):
        try:
            matmul = _testing.Matmul(w, t, isa=isa, kernels=kernels)
        except ValueError as e:
            assert "no " in str(e)  # this table has no such kernel for the type
            continue
        for tokens in (x, x[:1]):
            assert np.array_equal(matmul.run(tokens), want[: len(tokens)]), (t, isa, kernels, len(tokens))
        ran += 1
    try:
        packed = _testing.Matmul(w, t, isa=isa, packed=True)
    except ValueError as e:
        assert "no packed layout" in str(e)
    else:
        assert packed.packed_rows == 16  # two groups of 8; rows 16..20 stay plain
        for tokens in (x, x[:1]):  # the packed GEMV (decode) and the panel packed from groups (prefill)
            assert np.array_equal(packed.run(tokens), want[: len(tokens)]), (t, isa, "packed", len(tokens))
        ran += 1
    for n_threads in (1, 3):
        assert np.array_equal(_testing.Matmul(w, t, isa=isa, n_threads=n_threads).run(x), want)
    if isa in ("avx2", "avx512") and t in ("Q4_0", "Q8_0", "Q4_K"):
        assert ran == 3  # tiles, the panel, the packed layout
    if isa in ("neon", "dotprod", "i8mm"):
        # The panel, and a packed layout or a decode tile for every type but Q2_K and Q3_K.
        assert ran >= (1 if t in ("Q2_K", "Q3_K") else 2)


def test_matrix_kernel_arguments_are_checked() -> None:
    rng = np.random.default_rng(6)
    w = quant.quantize_weights(rng.standard_normal((8, 64)).astype(np.float32), "Q8_0")
    x = rng.standard_normal((1, 64)).astype(np.float32)
    with pytest.raises(ValueError, match="kernels must be"):
        _testing.Matmul(w, "Q8_0", kernels="gemm")
    with pytest.raises(ValueError, match="activations must be"):
        _testing.Matmul(w, "Q8_0").run(x[:, :-2])
    with pytest.raises(ValueError, match="not whole Q8_0 blocks"):
        _testing.Matmul(w[:, :-2], "Q8_0")
    with pytest.raises(ValueError, match="not usable on this machine"):
        _testing.Matmul(w, "Q8_0", isa="no-such-isa")
    with pytest.raises(ValueError, match="no tile"):
        _testing.Matmul(np.zeros((8, 256), np.uint8), "F32", kernels="tile")
    if "q8_0x8" in " ".join(n for names in ple.system_info()["tile_kernels"].values() for n in names):
        bad = w.copy()
        bad[3, 2 + 7] = 0x80  # a -128 quant: x86's packed Q8_0 GEMV (maddubs) cannot take the matrix
        if ple.system_info()["isa"] in ("avx2", "avx512"):
            with pytest.raises(ValueError, match="cannot take the packed layout"):
                _testing.Matmul(bad, "Q8_0", packed=True)
        else:  # ARM's sdot / widening multiplies take every int8
            packed = _testing.Matmul(bad, "Q8_0", packed=True)
            assert packed.packed_rows == 8
            assert np.array_equal(packed.run(x), _testing.Matmul(bad, "Q8_0", kernels="dot").run(x))
        assert _testing.Matmul(w, "Q8_0", packed=True).packed_rows == 8
    assert not hasattr(quant, "matmul_rows") and not hasattr(quant, "interleave_rows")  # private now


# ---- qemu guard ----

QEMU = shutil.which("qemu-x86_64-static")


@pytest.fixture(scope="module")
def native_tests_binary(request, tmp_path_factory) -> Path:
    """$PYLLAMA_EDGE_NATIVE_TESTS, or ple_native_tests built from this checkout (Python off) in a
    build folder kept in pytest's cache (a temporary one without the cache plugin), so later runs
    rebuild only what changed."""
    given = os.environ.get("PYLLAMA_EDGE_NATIVE_TESTS")
    if given:
        return Path(given)
    if shutil.which("cmake") is None:
        pytest.skip("cmake not found: cannot build the native test binary")
    cache = getattr(request.config, "cache", None)
    build = Path(cache.mkdir("ple-native-qemu")) if cache is not None else tmp_path_factory.mktemp("ple-native-qemu")
    generator = ["-G", "Ninja"] if shutil.which("ninja") and not (build / "Makefile").exists() else []
    subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build), *generator, "-DPYLLAMA_EDGE_PYTHON=OFF",
                    "-DCMAKE_BUILD_TYPE=Release"], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "--target", "ple_native_tests", "-j", str(os.cpu_count() or 1)],
                   check=True, capture_output=True)
    return build / "ple_native_tests"


@pytest.mark.emulation
@pytest.mark.skipif(QEMU is None, reason="qemu-x86_64-static is not installed (apt-get install qemu-user-static)")
@pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86-64 guard")
@pytest.mark.parametrize("cpu,expected", [("Haswell", "avx2"), ("qemu64", "scalar")])
def test_qemu_guard(native_tests_binary: Path, cpu: str, expected: str) -> None:
    """qemu 7.2 emulates AVX2/FMA/F16C but no AVX-512: the whole native suite passes on a Haswell
    choosing avx2, and on qemu64 (SSE2 only) choosing scalar; an instruction the model lacks dies
    with SIGILL."""
    env = dict(os.environ)
    env.pop("PYLLAMA_EDGE_ISA", None)
    env["PLE_EXPECT_ISA"] = expected  # tests/native/test_kernels_path.cpp checks the choice too
    out = subprocess.run([QEMU, "-cpu", cpu, str(native_tests_binary)], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, f"{cpu}: exit {out.returncode}\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
    chosen = re.search(r"chosen isa=(\w+)", out.stdout)
    assert chosen and chosen.group(1) == expected, out.stdout
    assert re.search(r"\b0 failed", out.stdout), out.stdout


@pytest.mark.native
def test_isa_objects_export_only_kernels(native_tests_binary: Path) -> None:
    """A per-ISA object may define nothing the linker could merge with baseline code (no weak or
    COMDAT symbols from inline or template helpers), only its own __<isa> kernels."""
    kernels = native_tests_binary.parent / "CMakeFiles" / "ple_core.dir" / "csrc" / "kernels"
    objects = sorted((kernels / "x86").glob("*.o")) + sorted((kernels / "arm").glob("*.o"))
    if not objects or shutil.which("nm") is None:
        pytest.skip("ISA object files or nm not found next to the native test binary")
    for obj in objects:
        isa = next(isa for isa in ("avx512", "avx2", "dotprod", "i8mm", "neon") if f"_{isa}." in obj.name)  # files end _<isa>.cpp
        out = subprocess.run(["nm", "-C", "--defined-only", "--extern-only", str(obj)], capture_output=True, text=True, check=True)
        for line in out.stdout.splitlines():
            kind, name = line.split()[1], " ".join(line.split()[2:])
            assert kind == "T" and f"__{isa}(" in name, f"{obj.name}: {line}"
