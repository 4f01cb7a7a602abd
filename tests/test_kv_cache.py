"""The quantized KV cache (kv_type="q8_0"): K and V rows stored as Q8_0 blocks of 32, half the
memory of F16 (34 bytes per 32 elements against 64).

Oracle: the numpy reference with each head of q, k and v rounded through gguf's own Q8_0
quantize/dequantize, which is what the engine computes (the K dot is Q8_0 x Q8_0 against the
query quantized once per head, as llama.cpp does; V is read as Q8_0 blocks).
Quality cost, measured on SmolLM2 (perplexity of the English test text, ctx 128): see
test_smollm2_perplexity_cost_is_small; bench/README.md has the longer-text numbers.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from gguf import GGMLQuantizationType, quants

import pyllama_edge as ple
from support.model_files import ENGLISH, synthetic
from pyllama_edge.cli import main
from support.reference.fast_reader import FastReader
from support.reference.llama_ref import ReferenceLlama


def q8_0_round_trip(a: np.ndarray) -> np.ndarray:
    rows = np.ascontiguousarray(a, dtype=np.float32).reshape(-1, a.shape[-1])
    q = quants.quantize(rows, GGMLQuantizationType.Q8_0)
    return quants.dequantize(q, GGMLQuantizationType.Q8_0).reshape(a.shape)


def relative_diff(engine: np.ndarray, ref: np.ndarray) -> float:
    return float(np.abs(engine - ref).max() / np.abs(ref).max())


@pytest.fixture(scope="module")
def english(tiny_f32):
    m = ple.Model(tiny_f32, n_ctx=512)
    return m.tokenize(ENGLISH * 2)[:300]


def test_q8_0_cache_matches_reference_with_q8_0_attention(tiny_f32, english):
    # float activations: the KV cache is the only quantized step left, so the comparison isolates it.
    q8 = ple.Model(tiny_f32, n_ctx=512, kv_type="q8_0", float_activations=True).logits(english)
    f16 = ple.Model(tiny_f32, n_ctx=512, float_activations=True).logits(english)
    ref = ReferenceLlama(tiny_f32, reader=FastReader(tiny_f32), dtype=np.float64)
    rounded = ref.logits(english, attention_rounding=q8_0_round_trip)
    plain = ref.logits(english)
    rel_q8 = relative_diff(q8, rounded)
    rel_q8_plain = relative_diff(q8, plain)
    rel_f16 = relative_diff(f16, plain)
    agree = float((q8.argmax(1) == rounded.argmax(1)).mean())
    print(f"q8_0 cache vs rounded reference {rel_q8:.2e} (argmax {agree:.3f}); vs plain reference "
          f"{rel_q8_plain:.2e}; f16 cache vs plain reference {rel_f16:.2e}")
    assert rel_q8 < 1e-2 and agree >= 0.99
    # The cache really is 8-bit: the rounding-aware reference explains it far better than the plain one.
    assert rel_q8 * 3 < rel_q8_plain


def test_q8_0_cache_default_path_and_threads(tiny_llama3_q8):
    m = ple.Model(tiny_llama3_q8, n_ctx=256, kv_type="q8_0")
    ids = m.tokenize(ENGLISH)[:120]
    one = m.session(n_threads=1).logits(ids)
    two = m.session(n_threads=2, n_batch=7).logits(ids)
    np.testing.assert_array_equal(one, two)
    f16 = ple.Model(tiny_llama3_q8, n_ctx=256).logits(ids)
    assert not np.array_equal(one, f16)  # the cache type is honoured (closeness: the oracle test above)
    # prefix reuse over a Q8_0 cache equals recomputing
    s = m.session()
    s._native.set_tokens(ids[:60])
    assert s._native.set_tokens(ids) == 60
    np.testing.assert_array_equal(s._native.last_logits(), one[-1])


def test_q8_0_halves_kv_memory(tiny_f32):
    m = ple.Model(tiny_f32, n_ctx=512)
    hp = m.hparams
    kv_dim = hp["n_head_kv"] * hp["head_dim"]
    f16 = m.session().kv_cache_bytes
    q8 = m.session(kv_type="q8_0").kv_cache_bytes
    assert f16 == 2 * hp["n_layer"] * 512 * kv_dim * 2
    assert q8 == 2 * hp["n_layer"] * 512 * kv_dim // 32 * 34
    assert m.session(kv_type="Q8_0").kv_type == "q8_0" and m.session().kv_type == "f16"


def test_smollm2_perplexity_cost_is_small(smollm2_path):
    text = ENGLISH * 2
    f16 = ple.Model(smollm2_path, n_ctx=128).perplexity(text, ctx=128)
    q8 = ple.Model(smollm2_path, n_ctx=128, kv_type="q8_0").perplexity(text, ctx=128)
    change = q8.ppl / f16.ppl - 1
    print(f"SmolLM2 ctx 128: PPL f16 {f16.ppl:.4f}, q8_0 {q8.ppl:.4f} ({change:+.3%})")
    assert f16.n_tokens == q8.n_tokens
    assert q8.ppl != f16.ppl
    assert abs(change) < 0.01


def test_q8_0_session_saves_and_restores(tiny_llama3_q8, tmp_path):
    m = ple.Model(tiny_llama3_q8, n_ctx=256)
    prompt = "The river runs through the old town"
    original = m.session(kv_type="q8_0")
    original.generate(prompt, max_tokens=1, temperature=0)
    path = tmp_path / "q8.ples"
    original.save(path)
    f16_path = tmp_path / "f16.ples"
    f16 = m.session()
    f16.generate(prompt, max_tokens=1, temperature=0)
    f16.save(f16_path)
    assert path.stat().st_size < f16_path.stat().st_size
    restored = m.load_session(path)  # the file's KV type is used
    assert restored.kv_type == "q8_0" and restored.history == original.history
    assert original.generate(prompt, max_tokens=20, temperature=0) == restored.generate(prompt, max_tokens=20,
                                                                                         temperature=0)
    assert restored.last_prompt_evaluated == 1
    with pytest.raises(ple.GGUFError, match="q8_0.*kv_type='q8_0'"):
        m.load_session(path, kv_type="f16")
    with pytest.raises(ple.GGUFError, match="f16"):
        m.load_session(f16_path, kv_type="q8_0")
    data = bytearray(path.read_bytes())
    data[12] = 2  # Q4_1: not a KV type
    bad = tmp_path / "bad.ples"
    bad.write_bytes(bytes(data))
    with pytest.raises(ple.GGUFError, match="unknown KV cache type 2"):
        m.load_session(bad)


def test_kv_type_errors(tiny_f32, synthetic_dir):
    m = ple.Model(tiny_f32, n_ctx=64)
    for bad in ("q4_0", "", "f32", 8, None):
        with pytest.raises(ValueError, match="kv_type"):
            m.session(kv_type=bad)
    with pytest.raises(ValueError, match="kv_type"):
        ple.Model(tiny_f32, kv_type="q8")
    narrow = synthetic(synthetic_dir, "head_dim_16", weight_type="F32", n_embd=64, n_head=4, n_head_kv=2, n_ff=128)
    with pytest.raises(ValueError, match="multiple of 32; this model's is 16"):
        ple.Model(narrow, n_ctx=64, kv_type="q8_0")
    assert ple.Model(narrow, n_ctx=64).generate("hi", max_tokens=2, temperature=0) is not None


def test_cli_kv_type(tiny_f32, tmp_path, capsys):
    assert main(["run", "hello", "--model", str(tiny_f32), "-n", "4", "--temp", "0", "--kv-type", "q8_0"]) == 0
    capsys.readouterr()
    text = tmp_path / "t.txt"
    text.write_text(ENGLISH)
    assert main(["perplexity", str(tiny_f32), str(text), "--ctx", "32", "--json", "--quiet", "--kv-type", "q8_0"]) == 0
    assert json.loads(capsys.readouterr().out)["ppl"] > 1
    assert main(["bench", str(tiny_f32), "--json", "-p", "16", "-n", "4", "--reps", "1", "--kv-type", "q8_0"]) == 0
    assert all(r["kv_type"] == "q8_0" for r in json.loads(capsys.readouterr().out))
    with pytest.raises(SystemExit):
        main(["run", "hello", "--model", str(tiny_f32), "--kv-type", "q4_0"])
    assert main(["info", str(tiny_f32), "--ctx", "1024"]) == 0
    assert "(q8_0)" in capsys.readouterr().out
