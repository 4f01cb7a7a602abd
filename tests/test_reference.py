"""The numpy reference forward (tests/support/reference/llama_ref.py) and the synthetic-model generator
(tools/make_synthetic_llama.py): the reference against a real model, the synthetic models against
the reference's sensitivity to RoPE and masking bugs, the generator's output format and determinism.
Run with -s to see the measured magnitudes."""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest


import gguf  # noqa: E402
from gguf.quants import dequantize  # noqa: E402

from support.reference.llama_ref import ReferenceLlama  # noqa: E402
from tools.kquants import QUANTIZERS  # noqa: E402
from tools.make_synthetic_llama import (PRESETS, SUPPORTED_TYPES, llama3_rope_factors,  # noqa: E402
                                        make_synthetic_llama)

PROMPT = "The capital of France is"
PROMPT_IDS = [504, 3575, 282, 4649, 314]  # SmolLM2's BPE: 'The', 'Ġcapital', 'Ġof', 'ĠFrance', 'Ġis'
TEXT = ("The capital of France is Paris. It is known for the Eiffel Tower, which was built in 1889 for the "
        "World's Fair. Paris is also famous for its museums, such as the Louvre, which is the most visited "
        "museum in the world.")


def rel(a: np.ndarray, b: np.ndarray) -> float:
    """Frobenius norm of the change relative to the reference b."""
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


# --------------------------------------------------------------------------------------------------
# The reference against a real model

@pytest.fixture(scope="module")
def smollm2(smollm2_path):
    return ReferenceLlama(smollm2_path)


@pytest.fixture(scope="module")
def smollm2_tokenizer(smollm2):
    """SmolLM2's byte-level BPE rebuilt from the GGUF tokens and merges (pre-tokenizer 'smollm')."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    tokens = smollm2.reader.get_field("tokenizer.ggml.tokens").contents()
    merges = [tuple(m.split(" ", 1)) for m in smollm2.reader.get_field("tokenizer.ggml.merges").contents()]
    tk = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    tk.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                                pre_tokenizers.ByteLevel(add_prefix_space=False)])
    tk.decoder = decoders.ByteLevel()
    return tk


def test_smollm2_prompt_ids(smollm2_tokenizer):
    assert smollm2_tokenizer.encode(PROMPT).ids == PROMPT_IDS


def test_smollm2_greedy_continuation_says_paris(smollm2, smollm2_tokenizer):
    t0 = time.perf_counter()
    new = smollm2.greedy(PROMPT_IDS, 6)
    text = smollm2_tokenizer.decode(new)
    print(f"\nSmolLM2 greedy: {PROMPT!r} -> {text!r}  ids {new}  ({time.perf_counter() - t0:.1f} s)")
    assert "Paris" in text


def mean_nll(logits: np.ndarray, ids) -> float:
    """Mean negative log-likelihood (nats) of ids[1:] under teacher forcing."""
    z = logits.astype(np.float64)
    lse = np.log(np.exp(z - z.max(-1, keepdims=True)).sum(-1)) + z.max(-1)
    return float(np.mean(lse[:-1] - z[np.arange(len(ids) - 1), ids[1:]]))


def test_smollm2_adjacent_rope_pairs_fit_real_text(smollm2, smollm2_tokenizer):
    """The converter permuted Q/K for adjacent pairs: that convention must explain real text far better."""
    ids = smollm2_tokenizer.encode(TEXT).ids
    nll = {}
    try:
        for pairing in ("adjacent", "neox"):
            smollm2.rope_pairing = pairing
            nll[pairing] = mean_nll(smollm2.logits(ids), ids)
    finally:
        smollm2.rope_pairing = "adjacent"
    print(f"\nSmolLM2 NLL over {len(ids)} tokens: adjacent {nll['adjacent']:.3f}, neox {nll['neox']:.3f} nats/token")
    assert nll["adjacent"] < 2.0
    assert nll["neox"] > nll["adjacent"] + 0.5


# --------------------------------------------------------------------------------------------------
# The reference on synthetic Llama-3.1-shaped models

@pytest.fixture(scope="module")
def synth_path(tmp_path_factory) -> Path:
    """F32 weights (no quantization noise), GQA 4/2 heads of 64 dims: several RoPE pairs interpolated."""
    t0 = time.perf_counter()
    p = make_synthetic_llama(tmp_path_factory.mktemp("synth") / "tiny.gguf", n_embd=256, n_head=4, n_head_kv=2,
                             n_ff=768, weight_type="F32")
    print(f"\nsynthetic tiny F32 generated in {time.perf_counter() - t0:.2f} s")
    return p


@pytest.fixture(scope="module")
def synth(synth_path) -> ReferenceLlama:
    return ReferenceLlama(synth_path)


def token_ids(model: ReferenceLlama, n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, model.n_vocab, n)


def test_reference_is_deterministic(synth, synth_path):
    ids = token_ids(synth, 64)
    a = synth.logits(ids)
    assert np.array_equal(a, synth.logits(ids))
    assert np.array_equal(a, ReferenceLlama(synth_path).logits(ids))


def test_reference_is_causal(synth):
    ids = token_ids(synth, 48)
    full = synth.logits(ids)
    changed = ids.copy()
    changed[30:] = (changed[30:] + 1) % synth.n_vocab
    np.testing.assert_allclose(synth.logits(ids[:30]), full[:30], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(synth.logits(changed)[:30], full[:30], rtol=1e-4, atol=1e-4)
    assert rel(synth.logits(changed)[30:], full[30:]) > 0.1


def test_float32_matches_float64(synth, synth_path):
    ids = token_ids(synth, 256)
    r = rel(synth.logits(ids), ReferenceLlama(synth_path, dtype=np.float64).logits(ids))
    print(f"\nfloat32 vs float64 reference, 256 tokens: relative change {r:.2e}")
    assert r < 1e-4


def test_attention_is_far_from_uniform(synth):
    """Mean entropy of each query's attention row against the entropy of a uniform row over the same keys."""
    for n in (64, 512):
        synth.logits(token_ids(synth, n), record_attention=True)
        p = np.stack(synth.attention)                                    # [layer, head, query, key]
        entropy = -(p * np.log(np.where(p > 0, p, 1.0))).sum(-1)         # [layer, head, query]
        uniform = np.log(np.arange(1, n + 1))                            # query i sees i+1 keys
        q = slice(n // 4, None)
        ratio = entropy[..., q].mean() / uniform[q].mean()
        print(f"\nattention entropy over {n} tokens: {entropy[..., q].mean():.2f} nats vs uniform "
              f"{uniform[q].mean():.2f} (ratio {ratio:.2f}); max weight per row (median) "
              f"{np.median(p.max(-1)[..., q]):.2f}")
        assert ratio < 0.5
    synth.attention = []


def test_wrong_rope_freqs_and_pairing_change_logits(synth, synth_path):
    """llama3 rope scaling slows only long wavelengths, so it shows at long distances: 512 tokens."""
    ids = token_ids(synth, 512)
    base = synth.logits(ids)
    assert synth.rope_freqs.max() == 8.0 and synth.rope_freqs.min() == 1.0
    ones = ReferenceLlama(synth_path, rope_freqs=np.ones(synth.d_rot // 2)).logits(ids)
    neox = ReferenceLlama(synth_path, rope_pairing="neox").logits(ids)
    r_ones, r_neox = rel(ones, base), rel(neox, base)
    r_ones_short = rel(ones[:16], base[:16])
    print(f"\nlogit change, 512 tokens: rope_freqs=1 {r_ones:.3f} (first 16 positions {r_ones_short:.4f}), "
          f"neox pairing {r_neox:.3f}; max|dlogit| {np.abs(ones - base).max():.2f} / {np.abs(neox - base).max():.2f}"
          f" vs max|logit| {np.abs(base).max():.2f}")
    assert r_ones > 0.05
    assert r_neox > 0.3


@pytest.mark.parametrize("weight_type", SUPPORTED_TYPES)
def test_every_weight_type_runs_and_tracks_f32(tmp_path, weight_type):
    """Files of every writable type load in the reference; their logits stay near the F32 model's."""
    kw = dict(n_embd=256, n_head=4, n_head_kv=2, n_ff=512, n_layer=1)
    ref = ReferenceLlama(make_synthetic_llama(tmp_path / "f32.gguf", weight_type="F32", **kw))
    q = ReferenceLlama(make_synthetic_llama(tmp_path / "q.gguf", weight_type=weight_type, **kw))
    ids = token_ids(ref, 32)
    r = rel(q.logits(ids), ref.logits(ids))
    print(f"\n{weight_type}: logits relative to F32 {r:.4f}")
    assert np.isfinite(r) and r < 0.5


# --------------------------------------------------------------------------------------------------
# The generator

def read_gguf(path):
    """(reader, non-tokenizer metadata as Python values)."""
    r = gguf.GGUFReader(str(path))
    return r, {k: f.contents() for k, f in r.fields.items() if not k.startswith("tokenizer.ggml.")}


def test_synthetic_keys_and_shapes(tmp_path):
    p = make_synthetic_llama(tmp_path / "m.gguf", weight_type="Q8_0")
    r, kv = read_gguf(p)
    d = PRESETS["tiny"]
    assert kv["general.architecture"] == "llama"
    assert kv["llama.block_count"] == d["n_layer"] and kv["llama.embedding_length"] == d["n_embd"]
    assert kv["llama.attention.head_count"] == d["n_head"] and kv["llama.attention.head_count_kv"] == d["n_head_kv"]
    assert kv["llama.feed_forward_length"] == d["n_ff"] and kv["llama.context_length"] == 131072
    assert kv["llama.rope.freq_base"] == 500000.0 and kv["llama.rope.dimension_count"] == 32
    assert kv["llama.attention.layer_norm_rms_epsilon"] == pytest.approx(1e-5)
    assert "<|start_header_id|>" in kv["tokenizer.chat_template"]
    n_vocab = kv["llama.vocab_size"]
    assert len(r.fields["tokenizer.ggml.tokens"].data) == n_vocab
    assert r.get_field("tokenizer.ggml.model").contents() == "gpt2"
    t = {x.name: x for x in r.tensors}
    H, Hkv, D, F, hd = d["n_head"], d["n_head_kv"], d["n_embd"], d["n_ff"], d["n_embd"] // d["n_head"]
    expect = {"token_embd.weight": [D, n_vocab], "output.weight": [D, n_vocab], "output_norm.weight": [D],
              "rope_freqs.weight": [hd // 2], "blk.0.attn_q.weight": [D, H * hd], "blk.0.attn_k.weight": [D, Hkv * hd],
              "blk.0.attn_v.weight": [D, Hkv * hd], "blk.0.attn_output.weight": [H * hd, D],
              "blk.0.ffn_gate.weight": [D, F], "blk.0.ffn_up.weight": [D, F], "blk.0.ffn_down.weight": [F, D],
              "blk.1.attn_norm.weight": [D], "blk.1.ffn_norm.weight": [D]}
    for name, shape in expect.items():
        assert list(t[name].shape) == shape, name  # ggml order [ne0, ne1]
    assert len(t) == 3 + 9 * d["n_layer"] + 1
    assert t["blk.0.attn_q.weight"].tensor_type.name == "Q8_0" and t["blk.0.attn_norm.weight"].tensor_type.name == "F32"
    np.testing.assert_array_equal(dequantize(t["rope_freqs.weight"].data, t["rope_freqs.weight"].tensor_type),
                                  llama3_rope_factors(hd, 500000.0))
    tied, _ = read_gguf(make_synthetic_llama(tmp_path / "tied.gguf", tied=True, rope_freqs=False))
    names = {x.name for x in tied.tensors}
    assert "output.weight" not in names and "rope_freqs.weight" not in names
    assert ReferenceLlama(tmp_path / "tied.gguf").logits([1, 2, 3]).shape == (3, n_vocab)


def test_small_vocab_is_a_working_byte_level_bpe(tmp_path):
    """The small vocabulary's merges are consistent: a BPE built from the file round-trips any text."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    r = gguf.GGUFReader(str(make_synthetic_llama(tmp_path / "v.gguf")))
    tokens = r.get_field("tokenizer.ggml.tokens").contents()
    merges = [tuple(m.split(" ", 1)) for m in r.get_field("tokenizer.ggml.merges").contents()]
    tk = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    tk.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tk.decoder = decoders.ByteLevel()
    for text in (TEXT, "h\u00e9llo w\u00f6rld \U0001f642 2024\n\tend"):
        ids = tk.encode(text).ids
        assert tk.decode(ids) == text
    assert len(tk.encode(PROMPT).ids) < len(PROMPT.encode())  # merges apply
    assert tokens[r.get_field("tokenizer.ggml.bos_token_id").contents()] == "<|begin_of_text|>"
    assert tokens[r.get_field("tokenizer.ggml.eos_token_id").contents()] == "<|eot_id|>"


def test_synthetic_files_are_byte_identical(tmp_path):
    kw = dict(weight_type="Q4_K", n_embd=256, n_ff=512, tensor_types={"output": "Q6_K", "attn_v": "Q5_K"})
    a = make_synthetic_llama(tmp_path / "a.gguf", seed=7, **kw).read_bytes()
    b = make_synthetic_llama(tmp_path / "b.gguf", seed=7, **kw).read_bytes()
    c = make_synthetic_llama(tmp_path / "c.gguf", seed=8, **kw).read_bytes()
    assert a == b
    assert a != c and len(a) == len(c)


@pytest.mark.slow  # gguf.GGUFReader parses 128,256 tokens and 280,147 merges in Python: ~40 s
def test_llama3_vocab(tmp_path, llama3_tokenizer_json):
    t0 = time.perf_counter()
    p = make_synthetic_llama(tmp_path / "l3.gguf", vocab="llama3", tokenizer_json=llama3_tokenizer_json)
    dt = time.perf_counter() - t0
    r = gguf.GGUFReader(str(p))
    print(f"\nllama3-vocab tiny model: {p.stat().st_size / 1e6:.1f} MB in {dt:.1f} s")
    assert r.get_field("llama.vocab_size").contents() == 128256
    assert r.get_field("tokenizer.ggml.pre").contents() == "llama-bpe"
    assert r.get_field("tokenizer.ggml.bos_token_id").contents() == 128000
    assert r.get_field("tokenizer.ggml.eos_token_id").contents() == 128009
    emb = {x.name: x for x in r.tensors}["token_embd.weight"]
    assert list(emb.shape) == [128, 128256]


def test_unwritable_types_fail_clearly(tmp_path):
    with pytest.raises(ValueError, match="supported are"):
        make_synthetic_llama(tmp_path / "x.gguf", weight_type="Q2_K")
    with pytest.raises(ValueError, match="multiples of 256"):
        make_synthetic_llama(tmp_path / "y.gguf", weight_type="Q4_K")  # n_embd 128 < one super-block


@pytest.mark.parametrize("type_name", sorted(QUANTIZERS))
def test_kquant_writer_roundtrips_through_gguf(type_name):
    """tools/kquants.py bytes, read back by gguf's own dequantizer, give the input within one step
    (a layout error would cost a large fraction of the block's max |x|)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 512)).astype(np.float32) * np.linspace(0.05, 2.0, 512, dtype=np.float32)
    x[0, :256] = 0.0
    x[1, :256] = np.abs(x[1, :256])
    x[2, :256] = -np.abs(x[2, :256])
    y = dequantize(QUANTIZERS[type_name](x), gguf.GGMLQuantizationType[type_name])
    levels = {"Q4_K": 15, "Q5_K": 31, "Q6_K": 63}[type_name]
    amax = np.abs(x.reshape(-1, 256)).max(axis=1)            # per super-block
    err = np.abs(y - x).reshape(-1, 256).max(axis=1)
    print(f"\n{type_name}: max error / (block max|x|) {np.max(err / np.maximum(amax, 1e-30)):.4f}")
    assert np.all(err <= 2 * amax / levels), (err, amax)


def test_llama3_rope_factors():
    f = llama3_rope_factors(128, 500000.0)                   # Llama 3.1 8B/70B head_dim
    assert f.shape == (64,) and f.dtype == np.float32
    assert np.all(np.diff(f) >= 0) and f[0] == 1.0 and f[-1] == 8.0
    wavelen = 2 * np.pi * 500000.0 ** (np.arange(64) * 2 / 128)
    assert np.all(f[wavelen < 2048] == 1.0) and np.all(f[wavelen > 8192] == 8.0)
    mid = (wavelen >= 2048) & (wavelen <= 8192)
    assert mid.sum() > 0 and np.all((f[mid] > 1.0) & (f[mid] < 8.0))
