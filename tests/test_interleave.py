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

import numpy as np
import pytest

import pyllama_edge as ple
from model_files import ENGLISH, synthetic
from reference.fast_reader import FastReader
from reference.llama_ref import ReferenceLlama

INTERLEAVED_NAMES = [name for names in ple.system_info().get("tile_kernels", {}).values() for name in names]
BLOCK_BYTES = {"Q4_0": 18, "Q4_1": 20}  # bytes per 32 columns, the same interleaved as in the file


@pytest.fixture(scope="module", params=["Q4_0", "Q4_1"])
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
