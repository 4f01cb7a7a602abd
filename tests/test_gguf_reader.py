"""GGUF reader round trips: files written by gguf.GGUFWriter (and by the test byte builder for
what the writer cannot express) read back with the same metadata, tensor table and bytes as
gguf.GGUFReader sees, for GGUF v2 and v3 and several alignments."""
from __future__ import annotations

import gc
import math
import struct
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

import gguf
import numpy as np
import pytest
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType

import pyllama_edge as ple
from support.gguf_builder import GGUF, KV, Arr, Tensor

T = GGUFValueType
Q = GGMLQuantizationType


def f32(x: float) -> float:
    """x as the nearest float32, the value a FLOAT32 field holds."""
    return float(np.float32(x))


# (key, value type, value written, array element type, value expected back)
METADATA_CASES: List[Tuple[str, T, Any, Optional[T], Any]] = [
    ("t.u8", T.UINT8, 255, None, 255),
    ("t.i8", T.INT8, -128, None, -128),
    ("t.u16", T.UINT16, 65535, None, 65535),
    ("t.i16", T.INT16, -32768, None, -32768),
    ("t.u32", T.UINT32, 2**32 - 1, None, 2**32 - 1),
    ("t.i32", T.INT32, -(2**31), None, -(2**31)),
    ("t.u64", T.UINT64, 2**64 - 1, None, 2**64 - 1),
    ("t.u64_small", T.UINT64, 7, None, 7),
    ("t.i64", T.INT64, -(2**63), None, -(2**63)),
    ("t.f32", T.FLOAT32, 0.1, None, f32(0.1)),
    ("t.f32_inf", T.FLOAT32, -math.inf, None, -math.inf),
    ("t.f64", T.FLOAT64, 1e300, None, 1e300),
    ("t.bool_true", T.BOOL, True, None, True),
    ("t.bool_false", T.BOOL, False, None, False),
    ("t.str", T.STRING, "hello", None, "hello"),
    ("t.str_empty", T.STRING, "", None, ""),
    ("t.str_unicode", T.STRING, "héllo wörld, 世界, 🦙 \u200d\n\t\x00", None, "héllo wörld, 世界, 🦙 \u200d\n\t\x00"),
    ("t.a_u8", T.ARRAY, [0, 1, 255], T.UINT8, [0, 1, 255]),
    ("t.a_i8", T.ARRAY, [-128, 0, 127], T.INT8, [-128, 0, 127]),
    ("t.a_u16", T.ARRAY, [0, 65535], T.UINT16, [0, 65535]),
    ("t.a_i16", T.ARRAY, [-32768, 32767], T.INT16, [-32768, 32767]),
    ("t.a_u32", T.ARRAY, [0, 2**32 - 1], T.UINT32, [0, 2**32 - 1]),
    ("t.a_i32", T.ARRAY, [-(2**31), 2**31 - 1], T.INT32, [-(2**31), 2**31 - 1]),
    ("t.a_u64", T.ARRAY, [0, 2**64 - 1], T.UINT64, [0, 2**64 - 1]),
    ("t.a_i64", T.ARRAY, [-(2**63), 2**63 - 1], T.INT64, [-(2**63), 2**63 - 1]),
    ("t.a_f32", T.ARRAY, [0.5, -2.25, 1e-8], T.FLOAT32, [0.5, -2.25, f32(1e-8)]),
    ("t.a_f64", T.ARRAY, [0.1, -1e-300], T.FLOAT64, [0.1, -1e-300]),
    ("t.a_bool", T.ARRAY, [True, False, True], T.BOOL, [True, False, True]),
    ("t.a_str", T.ARRAY, ["a", "", "ünïcødé", "🦙"], T.STRING, ["a", "", "ünïcødé", "🦙"]),
    ("t.a_long", T.ARRAY, list(range(1000)), T.INT32, list(range(1000))),
    ("t.nested", T.ARRAY, [[1, 2, 3], [4]], T.ARRAY, [[1, 2, 3], [4]]),
    ("t.nested_str", T.ARRAY, [["x"], ["y", "zé"]], T.ARRAY, [["x"], ["y", "zé"]]),
    ("t.nested3", T.ARRAY, [[[1]], [[2, 3], [4]]], T.ARRAY, [[[1]], [[2, 3], [4]]]),
]


def flatten(v: Any) -> Any:
    """gguf.GGUFReader flattens nested arrays; so does this, to compare with it."""
    if isinstance(v, list) and any(isinstance(x, list) for x in v):
        return [y for x in v for y in (flatten(x) if isinstance(x, list) else [x])]
    return v


def write_gguf(path: Path, kvs: Sequence[Tuple[str, T, Any, Optional[T]]] = (),
               tensors: Sequence[Tuple[str, np.ndarray, Optional[Q]]] = (),
               alignment: Optional[int] = None, version: int = 3) -> Path:
    """Writes a file with gguf.GGUFWriter; version 2 is the same layout with the field patched."""
    w = gguf.GGUFWriter(str(path), arch="test")
    if alignment is not None:
        w.add_custom_alignment(alignment)
    for key, vtype, value, sub in kvs:
        w.add_key_value(key, value, vtype, sub_type=sub)
    for name, array, raw_dtype in tensors:
        w.add_tensor(name, array, raw_dtype=raw_dtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    if version != 3:
        with open(path, "r+b") as f:
            f.seek(4)
            f.write(struct.pack("<I", version))
    return path


def reader_metadata(path: Path) -> dict:
    """gguf.GGUFReader's view of the key-value pairs (header pseudo-fields dropped)."""
    r = gguf.GGUFReader(path)
    return {name: (f.types[0], f.contents()) for name, f in r.fields.items() if not name.startswith("GGUF.")}


@pytest.mark.parametrize("version", [2, 3])
def test_metadata_round_trip(tmp_path: Path, version: int) -> None:
    path = write_gguf(tmp_path / "m.gguf", [(k, t, v, s) for k, t, v, s, _ in METADATA_CASES], version=version)
    with ple.GGUFFile(path) as g:
        assert g.version == version
        meta = g.metadata
    expected = {"general.architecture": "test", **{k: e for k, _, _, _, e in METADATA_CASES}}
    assert list(meta) == list(expected)  # file order
    for key, value in expected.items():
        got = meta[key]
        assert got == value, key
        assert type(got) is type(value), key  # bool stays bool, float stays float
        if isinstance(value, list) and value and not isinstance(value[0], list):
            assert all(type(a) is type(b) for a, b in zip(got, value)), key

    theirs = reader_metadata(path)
    assert list(theirs) == list(meta)
    for key, (vtype, contents) in theirs.items():
        assert flatten(meta[key]) == contents, key


def test_metadata_pairs_are_the_raw_bytes_of_each_pair(tmp_path: Path) -> None:
    """What the quantizer's writer copies: each pair's bytes, in file order, back to back after
    the 24-byte header."""
    path = write_gguf(tmp_path / "m.gguf", [(k, t, v, s) for k, t, v, s, _ in METADATA_CASES])
    data = path.read_bytes()
    with ple.GGUFFile(path) as g:
        pairs = g.metadata_pairs()
        assert [k for k, _ in pairs] == list(g.metadata)
    section = b"".join(raw for _, raw in pairs)
    assert data[24:24 + len(section)] == section
    for key, raw in pairs:
        assert raw[8:8 + len(key.encode())] == key.encode()


def test_byte_builder_matches_gguf_writer(tmp_path: Path) -> None:
    """The test byte builder (used for what the writer cannot write) lays files out as the writer does."""
    x = np.arange(40, dtype=np.float32).reshape(5, 8)
    h = np.ones(3, dtype=np.float16)
    path = write_gguf(tmp_path / "w.gguf", [("a", T.UINT16, 7, None), ("b", T.ARRAY, ["p", "q"], T.STRING)],
                      [("x", x, None), ("h", h, None)], alignment=64)
    built = GGUF(kvs=[KV("general.architecture", T.STRING, "test"), KV("general.alignment", T.UINT32, 64),
                      KV("a", T.UINT16, 7), KV("b", T.ARRAY, Arr(T.STRING, ["p", "q"]))],
                 tensors=[Tensor("x", [8, 5], Q.F32, x.tobytes()), Tensor("h", [3], Q.F16, h.tobytes())],
                 alignment=64).build()
    assert built == path.read_bytes()


def test_metadata_builder_only_values(tmp_path: Path) -> None:
    """Values gguf.GGUFWriter refuses to write: empty arrays (of every kind) and nested empties."""
    g = GGUF(kvs=[
        KV("e.u8", T.ARRAY, Arr(T.UINT8, [])),
        KV("e.f64", T.ARRAY, Arr(T.FLOAT64, [])),
        KV("e.str", T.ARRAY, Arr(T.STRING, [])),
        KV("e.arr", T.ARRAY, Arr(T.ARRAY, [])),
        KV("e.inner", T.ARRAY, Arr(T.ARRAY, [Arr(T.INT32, []), Arr(T.INT32, [5]), Arr(T.BOOL, [True])])),
        KV("e.deep", T.ARRAY, Arr(T.ARRAY, [Arr(T.ARRAY, [Arr(T.ARRAY, [Arr(T.ARRAY, [Arr(T.STRING, ["d"])])])])])),
        KV("after", T.UINT8, 9),
    ])
    path = tmp_path / "e.gguf"
    path.write_bytes(g.build())
    meta = ple.GGUFFile(path).metadata
    assert meta == {"e.u8": [], "e.f64": [], "e.str": [], "e.arr": [], "e.inner": [[], [5], [True]],
                    "e.deep": [[[[["d"]]]]], "after": 9}


def test_non_utf8_string_value_comes_back_as_bytes(tmp_path: Path) -> None:
    """Keys and tensor names must be UTF-8; values need not be, and are returned unchanged."""
    path = tmp_path / "b.gguf"
    path.write_bytes(GGUF(kvs=[KV("s", T.STRING, b"ab\xff"), KV("a", T.ARRAY, Arr(T.STRING, [b"\xc3", "ok"]))]).build())
    assert ple.GGUFFile(path).metadata == {"s": b"ab\xff", "a": [b"\xc3", "ok"]}


# ---- tensors -------------------------------------------------------------------------------------

RNG_SEED = 1234
K_QUANTS = [Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K]
LEGACY = [Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0]


def tensor_cases() -> List[Tuple[str, np.ndarray, Optional[Q], Tuple[int, ...]]]:
    """(name, array handed to the writer, raw_dtype, logical numpy shape)."""
    rng = np.random.default_rng(RNG_SEED)
    out: List[Tuple[str, np.ndarray, Optional[Q], Tuple[int, ...]]] = []
    for shape in [(7,), (3, 5), (2, 3, 4), (2, 1, 3, 8)]:
        out.append((f"f32.{len(shape)}d", rng.standard_normal(shape).astype(np.float32), None, shape))
    for shape in [(33,), (4, 9), (2, 2, 2, 3)]:
        out.append((f"f16.{len(shape)}d", rng.standard_normal(shape).astype(np.float16), None, shape))
    bf = rng.standard_normal((3, 2, 16)).astype(np.float32)
    out.append(("bf16.3d", gguf.quants.quantize(bf, Q.BF16), Q.BF16, bf.shape))
    for i, qt in enumerate(LEGACY):
        shape = [(64,), (3, 32), (2, 2, 96), (2, 1, 2, 64), (5, 128)][i]
        x = rng.standard_normal(shape).astype(np.float32)
        out.append((f"{qt.name.lower()}.{len(shape)}d", gguf.quants.quantize(x, qt), qt, shape))
    for i, qt in enumerate(K_QUANTS):  # raw bytes: the writer cannot quantize k-quants
        shape = [(256,), (2, 512), (3, 1, 256), (1, 2, 2, 256), (4, 256)][i]
        block, size = GGML_QUANT_SIZES[qt]
        raw = rng.integers(0, 256, size=(*shape[:-1], shape[-1] // block * size), dtype=np.uint8)
        # The fp16 scales sit at even offsets of even-sized blocks: clearing bit 6 of every high
        # byte keeps them finite and below 2, so the values compare without inf * 0 = NaN.
        raw[..., 1::2] &= 0xBF
        out.append((f"{qt.name.lower()}.{len(shape)}d", raw, qt, shape))
    block, size = GGML_QUANT_SIZES[Q.IQ4_NL]
    out.append(("iq4_nl.2d", rng.integers(0, 256, size=(2, 64 // block * size), dtype=np.uint8), Q.IQ4_NL, (2, 64)))
    block, size = GGML_QUANT_SIZES[Q.IQ2_XXS]
    out.append(("iq2_xxs.1d", rng.integers(0, 256, size=(256 // block * size,), dtype=np.uint8), Q.IQ2_XXS, (256,)))
    return out


@pytest.fixture(scope="module", params=[(3, None), (2, None), (3, 8), (3, 64), (2, 128)], ids=lambda p: f"v{p[0]}-align{p[1]}")
def tensor_file(request, tmp_path_factory) -> Tuple[Path, list, int]:
    version, alignment = request.param
    cases = tensor_cases()
    path = tmp_path_factory.mktemp("tensors") / "t.gguf"
    write_gguf(path, [("t.marker", T.STRING, "x", None)], [(n, a, q) for n, a, q, _ in cases],
               alignment=alignment, version=version)
    return path, cases, alignment or 32


def test_tensor_table_matches_gguf_reader(tensor_file) -> None:
    path, cases, alignment = tensor_file
    theirs = gguf.GGUFReader(path)
    with ple.GGUFFile(path) as g:
        assert g.alignment == alignment
        assert g.file_size == path.stat().st_size
        tensors = g.tensors
    assert list(tensors) == [n for n, *_ in cases] == [t.name for t in theirs.tensors]
    for t in theirs.tensors:
        mine = tensors[t.name]
        assert mine.shape == tuple(reversed(t.shape.tolist()))
        assert mine.type == Q(t.tensor_type).name
        assert mine.offset == t.data_offset
        assert mine.nbytes == t.n_bytes
        assert mine.offset % alignment == 0
    for name, _, qt, shape in cases:
        assert tensors[name].shape == shape
        assert tensors[name].type == (qt.name if qt is not None else ("F32" if name.startswith("f32") else "F16"))


def test_raw_bytes_equal_written_arrays(tensor_file) -> None:
    path, cases, _ = tensor_file
    with ple.GGUFFile(path) as g:
        for name, array, _, _ in cases:
            raw = g.raw(name)
            assert raw.dtype == np.uint8 and raw.ndim == 1
            assert raw.nbytes == g.tensors[name].nbytes == array.nbytes
            assert raw.tobytes() == array.tobytes(), name


@pytest.mark.parametrize("qt", ["F32", "F16", "BF16"] + [q.name for q in LEGACY + K_QUANTS])
def test_dequantize_equals_gguf_quants(tensor_file, qt: str) -> None:
    path, cases, _ = tensor_file
    seen = 0
    with ple.GGUFFile(path) as g:
        for name, array, _, shape in cases:
            info = g.tensors[name]
            if info.type != qt:
                continue
            seen += 1
            got = g.dequantize(name)
            assert got.dtype == np.float32 and got.shape == shape and got.flags.c_contiguous
            rows = g.raw(name).reshape(-1, info.nbytes // int(np.prod(shape[:-1])))
            expected = gguf.quants.dequantize(rows, Q[qt]).astype(np.float32).reshape(shape)
            np.testing.assert_array_equal(got, expected, err_msg=name)
            if qt in ("F32", "F16"):
                np.testing.assert_array_equal(got, array.astype(np.float32))
    assert seen > 0


def test_unsupported_type_parses_but_does_not_dequantize(tensor_file) -> None:
    path, _, _ = tensor_file
    with ple.GGUFFile(path) as g:
        for name in ("iq4_nl.2d", "iq2_xxs.1d"):
            assert g.raw(name).nbytes == g.tensors[name].nbytes
            with pytest.raises(ple.UnsupportedModelError, match=name):
                g.dequantize(name)
    assert issubclass(ple.UnsupportedModelError, ple.GGUFError)


# ---- raw(): zero copy, read-only, lifetime ------------------------------------------------------

@pytest.fixture()
def small_file(tmp_path: Path) -> Path:
    x = np.arange(64, dtype=np.float32).reshape(2, 32)
    return write_gguf(tmp_path / "s.gguf", [("k", T.UINT32, 5, None)], [("w", x, None), ("v", x[0].copy(), None)])


def test_raw_is_a_zero_copy_view(small_file: Path) -> None:
    g = ple.GGUFFile(small_file)
    a, b = g.raw("w"), g.raw("w")
    assert np.shares_memory(a, b)  # both views of the same mapped bytes
    assert not a.flags.owndata and a.base is not None
    assert not np.shares_memory(a, g.raw("v"))
    # The view starts at the tensor's offset in the mapping: its distance from another tensor's
    # view is the distance between their offsets.
    assert b.ctypes.data - g.raw("v").ctypes.data == g.tensors["w"].offset - g.tensors["v"].offset


def test_raw_is_read_only(small_file: Path) -> None:
    a = ple.GGUFFile(small_file).raw("w")
    assert not a.flags.writeable
    with pytest.raises(ValueError):
        a[0] = 1
    with pytest.raises(ValueError):
        a.flags.writeable = True  # the mapping is PROT_READ: this must never be allowed
    with pytest.raises(ValueError):
        np.copyto(a, 0)


def test_raw_survives_close(small_file: Path) -> None:
    g = ple.GGUFFile(small_file)
    a = g.raw("w")
    g.close()
    del g
    gc.collect()
    np.testing.assert_array_equal(a.view(np.float32), np.arange(64, dtype=np.float32))


def test_closed_file_raises_value_error(small_file: Path) -> None:
    g = ple.GGUFFile(small_file)
    _ = g.metadata, g.tensors  # cached before close: must still refuse afterwards
    g.close()
    for use in (lambda: g.raw("w"), lambda: g.dequantize("w"), lambda: g.metadata, lambda: g.tensors,
                lambda: g.version, lambda: g.path):
        with pytest.raises(ValueError, match="closed"):
            use()
    g.close()  # closing twice is fine
    assert "closed" in repr(g)


def test_context_manager_closes(small_file: Path) -> None:
    with ple.GGUFFile(small_file) as g:
        assert g.metadata["k"] == 5
        assert g.dequantize("v").tolist() == list(range(32))
    with pytest.raises(ValueError):
        g.raw("w")


def test_missing_tensor_raises_key_error(small_file: Path) -> None:
    g = ple.GGUFFile(small_file)
    with pytest.raises(KeyError, match="nope"):
        g.raw("nope")
    with pytest.raises(KeyError, match="nope"):
        g.dequantize("nope")


def test_missing_path_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ple.GGUFFile(tmp_path / "absent.gguf")


def test_accepts_str_and_pathlike(small_file: Path) -> None:
    assert ple.GGUFFile(str(small_file)).path == ple.GGUFFile(small_file).path == str(small_file)


# ---- a real model ---------------------------------------------------------------------------------

def test_smollm2_matches_gguf_reader(smollm2_path: Path) -> None:
    theirs = gguf.GGUFReader(smollm2_path)
    with ple.GGUFFile(smollm2_path) as g:
        meta, tensors = g.metadata, g.tensors
        assert g.alignment == theirs.alignment
        first = next(iter(tensors.values()))
        assert first.offset >= theirs.data_offset
    fields = {k: f for k, f in theirs.fields.items() if not k.startswith("GGUF.")}
    assert list(meta) == list(fields)
    for key, f in fields.items():
        assert meta[key] == f.contents(), key
    assert meta["general.architecture"] == "llama"
    assert len(meta["tokenizer.ggml.tokens"]) == len(meta["tokenizer.ggml.token_type"]) > 0

    assert [t.name for t in theirs.tensors] == list(tensors)
    for t in theirs.tensors:
        mine = tensors[t.name]
        assert (mine.shape, mine.type, mine.offset, mine.nbytes) == \
            (tuple(reversed(t.shape.tolist())), Q(t.tensor_type).name, t.data_offset, t.n_bytes), t.name
