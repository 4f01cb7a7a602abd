"""Load-time interleaved weights (Model(interleave_weights=True), the default; Q4_0, Q4_1 and Q4_K
on x86).

The interleaved GEMV (decode) and the prefill panel built from interleaved groups promise the same
float32 results as the file-layout kernels, bit for bit (tests/native/test_kernels_isa.cpp checks
the kernels); here the whole model is checked: logits of every position and of decoded tokens are
identical with and without interleaving, at several thread counts, with row counts that leave
rows outside the 8-row groups. The engine's Q4_0 and Q4_1 paths are also held against the numpy
reference.
"""
from __future__ import annotations

import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import pyllama_edge as ple
from support.model_files import ENGLISH, synthetic
from support.reference.fast_reader import FastReader
from support.reference.llama_ref import ReferenceLlama

INTERLEAVED_NAMES = [name for names in ple.system_info().get("tile_kernels", {}).values() for name in names]
BLOCK_BYTES = {"Q4_0": 18, "Q4_1": 20, "Q8_0": 34}  # bytes per 32 columns, the same interleaved as in the file


@pytest.fixture(scope="module", params=["Q4_0", "Q4_1", "Q8_0"])
def model_path(request, tmp_path_factory):
    # K and V have 44 rows (n_head_kv 1 x head_dim 44): five 8-row groups and 4 rows outside them.
    return synthetic(tmp_path_factory.mktemp("il"), request.param.lower(), weight_type=request.param, n_layer=2,
                     n_embd=352, n_head=8, n_head_kv=1, n_ff=640, n_ctx_train=4096), request.param


def test_interleaved_bytes_and_switch(model_path):
    path, weight_type = model_path
    on = ple.Model(path, n_ctx=64)
    off = ple.Model(path, n_ctx=64, interleave_weights=False)
    assert off._native.interleaved_bytes == 0
    if any(f"{weight_type.lower()}x8" in name for name in INTERLEAVED_NAMES):
        # Every matrix of the type, whole 8-row groups only, same bytes as in the file.
        hp = on.hparams
        d, q, kv, f, v = hp["n_embd"], hp["n_head"] * hp["head_dim"], hp["n_head_kv"] * hp["head_dim"], hp["n_ff"], hp["n_vocab"]
        assert kv % 8 != 0  # the K and V matrices keep rows outside the groups
        expected = 0
        for _ in range(hp["n_layer"]):
            for cols, rows in ((d, q), (d, kv), (d, kv), (q, d), (d, f), (d, f), (f, d)):
                expected += (rows // 8) * 8 * (cols // 32) * BLOCK_BYTES[weight_type]
        expected += (v // 8) * 8 * (d // 32) * BLOCK_BYTES[weight_type]
        assert on._native.interleaved_bytes == expected
    else:
        assert on._native.interleaved_bytes == 0


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_prefill_and_decode_identical_to_file_layout(model_path, n_threads):
    path, _ = model_path
    on = ple.Model(path, n_ctx=128, n_threads=n_threads)
    off = ple.Model(path, n_ctx=128, n_threads=n_threads, interleave_weights=False)
    ids = on.tokenize(ENGLISH)[:70]
    # Every position: prefill in one batch (panel kernel, 64-token chunks plus a partial one).
    a, b = on.logits(ids), off.logits(ids)
    assert np.array_equal(a, b)
    # Decode: one token at a time after a prompt (the GEMV).
    sa, sb = on.session()._native, off.session()._native
    sa.set_tokens(ids[:5])
    sb.set_tokens(ids[:5])
    for t in ids[5:15]:
        sa.append(t)
        sb.append(t)
        assert np.array_equal(np.asarray(sa.last_logits()), np.asarray(sb.last_logits()))


def test_engine_tracks_reference(model_path):
    path, weight_type = model_path
    m = ple.Model(path, n_ctx=128)
    ids = m.tokenize(ENGLISH)[:64]
    engine = m.logits(ids)
    ref = ReferenceLlama(path, reader=FastReader(path)).logits(ids)
    rel = float(np.abs(engine - ref).max() / np.abs(ref).max())
    agree = float((engine.argmax(1) == ref.argmax(1)).mean())
    print(f"\n{weight_type} synthetic, 8-bit activations: rel {rel:.2e}, argmax {agree:.3f}")
    # Same bound as the Q8_0 synthetic model in test_model.py (activation rounding compounds).
    assert agree >= 0.85


# ---- the layout cache file (Model(layout_cache=...), io/layout_cache.h) ----

def _logits(model: ple.Model) -> np.ndarray:
    return model.logits(model.tokenize(ENGLISH)[:40])


@pytest.fixture(scope="module")
def q4_0_model(tmp_path_factory):
    return synthetic(tmp_path_factory.mktemp("layout"), "layout_q4_0", weight_type="Q4_0", n_layer=2, n_embd=256,
                     n_head=4, n_head_kv=2, n_ff=512, n_ctx_train=4096)


@pytest.mark.skipif(not any("q4_0x8" in name for name in INTERLEAVED_NAMES), reason="no interleaved Q4_0 kernels")
def test_layout_cache_written_once_then_mapped(q4_0_model, tmp_path):
    want = _logits(ple.Model(q4_0_model, n_ctx=64, interleave_weights=False))
    first = ple.Model(q4_0_model, n_ctx=64, layout_cache=tmp_path)
    path = Path(first._native.layout_cache_path)
    assert path.parent == tmp_path and path.name.startswith("layout_q4_0-") and path.suffix == ".layout"
    # 64-byte header, the model record, one inclusion flag and one checksum per candidate matrix
    # (2 layers x 7 + output), each section padded to 64 bytes, then the groups
    header = _layout_header(path)
    assert header["data_bytes"] == first._native.interleaved_bytes and header["n_targets"] == 15
    assert path.stat().st_size == 64 + header["record_bytes"] + 64 + 128 + first._native.interleaved_bytes
    written = path.stat().st_mtime_ns
    second = ple.Model(q4_0_model, n_ctx=64, layout_cache=tmp_path)
    assert second._native.layout_cache_path == str(path) and path.stat().st_mtime_ns == written  # mapped, not rewritten
    in_memory = ple.Model(q4_0_model, n_ctx=64, layout_cache=False)
    assert in_memory._native.layout_cache_path == "" and in_memory._native.interleaved_bytes == first._native.interleaved_bytes
    for m in (first, second, in_memory):
        assert np.array_equal(_logits(m), want)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


def _layout_header(path: Path) -> dict:
    magic, version, header_bytes, key, data_bytes, n_targets, record_bytes, checksum = struct.unpack_from(
        "<8sIIQQIIQ", path.read_bytes()[:64])
    return dict(magic=magic, version=version, key=key, data_bytes=data_bytes, n_targets=n_targets,
                record_bytes=record_bytes, checksum=checksum)


@pytest.mark.skipif(not any("q4_0x8" in name for name in INTERLEAVED_NAMES), reason="no interleaved Q4_0 kernels")
@pytest.mark.parametrize("damage", ["truncate", "magic", "key", "record", "flags", "checksums", "data", "last_byte",
                                    "extend"])
def test_damaged_layout_cache_is_rebuilt(q4_0_model, tmp_path, damage):
    want = _logits(ple.Model(q4_0_model, n_ctx=64, interleave_weights=False))
    path = Path(ple.Model(q4_0_model, n_ctx=64, layout_cache=tmp_path)._native.layout_cache_path)
    good = path.read_bytes()
    header = _layout_header(path)
    flags_at = 64 + header["record_bytes"]
    data_at = flags_at + 64 + 128
    data = bytearray(good)
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "magic":
        data[0] ^= 0xFF
    elif damage == "key":
        data[16] ^= 0x01
    elif damage == "record":
        data[64 + 40] ^= 0x01  # the model's path
    elif damage == "flags":
        data[flags_at] ^= 0x01  # the first matrix's inclusion
    elif damage == "checksums":
        data[flags_at + 64 + 3] ^= 0x10
    elif damage == "data":  # header intact, one weight byte changed in the middle of the groups
        data[data_at + header["data_bytes"] // 2] ^= 0x04
    elif damage == "last_byte":
        data[-1] ^= 0x80
    else:
        data += b"\0" * 64
    path.write_bytes(bytes(data))
    m = ple.Model(q4_0_model, n_ctx=64, layout_cache=tmp_path)
    assert m._native.layout_cache_path == str(path)
    assert path.read_bytes() == good  # rebuilt before use, never run
    assert np.array_equal(_logits(m), want)


@pytest.mark.skipif(not any("q4_0x8" in name for name in INTERLEAVED_NAMES), reason="no interleaved Q4_0 kernels")
def test_models_equal_in_name_size_header_and_time_never_share_a_layout(q4_0_model, tmp_path):
    # Two different models with the same file name, size, GGUF header, tensor table and mtime (a
    # `cp -p` then an edit, tar, Nix): neither may be served the other's weights.
    source = Path(q4_0_model).read_bytes()
    other = bytearray(source)
    for at in range(len(other) // 2, len(other) // 2 + 4096):  # weights in the middle of the file
        other[at] ^= 0x5A
    first, second = tmp_path / "a" / "m.gguf", tmp_path / "b" / "m.gguf"
    for path, data in ((first, source), (second, other)):
        path.parent.mkdir()
        path.write_bytes(bytes(data))
        os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    cache = tmp_path / "cache"
    want = {p: _logits(ple.Model(p, n_ctx=64, interleave_weights=False)) for p in (first, second)}
    assert not np.array_equal(want[first], want[second])
    layouts = {}
    for p in (first, second, first, second):
        m = ple.Model(p, n_ctx=64, layout_cache=cache)
        assert np.array_equal(_logits(m), want[p])
        layouts.setdefault(p, (m._native.layout_cache_path, Path(m._native.layout_cache_path).stat().st_mtime_ns))
        # the same folder-and-name keeps its own file: not evicted by the other, not rewritten
        assert (m._native.layout_cache_path, Path(m._native.layout_cache_path).stat().st_mtime_ns) == layouts[p]
    assert layouts[first][0] != layouts[second][0] and len(list(cache.iterdir())) == 2
    # The same path, replaced by the other model with the same size and time (a restore over it).
    replacement = tmp_path / "a" / "incoming"
    replacement.write_bytes(bytes(other))
    os.utime(replacement, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    os.replace(replacement, first)
    m = ple.Model(first, n_ctx=64, layout_cache=cache)
    assert np.array_equal(_logits(m), want[second])
    assert m._native.layout_cache_path != layouts[first][0] and not Path(layouts[first][0]).exists()


@pytest.mark.skipif(not any("q4_0x8" in name for name in INTERLEAVED_NAMES), reason="no interleaved Q4_0 kernels")
def test_changed_model_gets_a_new_layout_and_the_old_one_goes(q4_0_model, tmp_path):
    copy = tmp_path / "model" / "layout_q4_0.gguf"
    copy.parent.mkdir()
    copy.write_bytes(Path(q4_0_model).read_bytes())
    cache = tmp_path / "cache"
    old = Path(ple.Model(copy, n_ctx=64, layout_cache=cache)._native.layout_cache_path)
    os.utime(copy, ns=(copy.stat().st_atime_ns, copy.stat().st_mtime_ns + 10**9))  # the file changed
    new = Path(ple.Model(copy, n_ctx=64, layout_cache=cache)._native.layout_cache_path)
    assert new != old and new.exists() and not old.exists()
    # A cap to another kernel path keys a separate file (checked in a subprocess: the path is
    # chosen once per process); scalar has no interleaved layout at all.
    code = ("import sys, pyllama_edge as ple\n"
            "m = ple.Model(sys.argv[1], n_ctx=64, layout_cache=sys.argv[2])\n"
            "print(m._native.interleaved_bytes, repr(m._native.layout_cache_path))\n")
    out = subprocess.run([sys.executable, "-c", code, str(copy), str(cache)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYLLAMA_EDGE_ISA": "scalar"},
                         cwd=os.path.dirname(os.path.dirname(ple.__file__)))  # the package under test
    assert out.stdout.split() == ["0", "''"]
    assert new.exists()


@pytest.mark.skipif(not any("q4_0x8" in name for name in INTERLEAVED_NAMES), reason="no interleaved Q4_0 kernels")
def test_unusable_cache_directory_falls_back_to_memory(q4_0_model, tmp_path):
    want = _logits(ple.Model(q4_0_model, n_ctx=64, interleave_weights=False))
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    for where in (not_a_dir, not_a_dir / "sub"):
        m = ple.Model(q4_0_model, n_ctx=64, layout_cache=where)
        assert m._native.layout_cache_path == "" and m._native.interleaved_bytes > 0
        assert np.array_equal(_logits(m), want)


@pytest.mark.skipif(not any("q4_0x8" in name for name in INTERLEAVED_NAMES), reason="no interleaved Q4_0 kernels")
def test_layout_cache_changed_under_a_loaded_model_raises(q4_0_model, tmp_path):
    m = ple.Model(q4_0_model, n_ctx=64, layout_cache=tmp_path)
    path = Path(m._native.layout_cache_path)
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)
    with pytest.raises(OSError, match="modified on disk"):
        m.generate("Hello", max_tokens=2, temperature=0.0)
