"""Model.embed / create_embedding on SmolLM2 against two independent oracles: the numpy reference
forward pass's final hidden states (tests/support/reference) and llama.cpp's pooled embeddings
(tests/data/embeddings_llamacpp.json, recorded by tools/record_llamacpp_embeddings.py).

Measured (8-bit activations, x86-64, 4 texts x 3 poolings): cosine to the reference 0.99957-0.99988,
to llama.cpp 0.99961-0.99999; the two oracles agree with each other to the same degree. Asserted
>= 0.999. A wrong pooling gives a visibly lower cosine (checked), so the bound can fail."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

import pyllama_edge as ple
from pyllama_edge.embeddings import default_pooling
from support.reference.fast_reader import FastReader
from support.reference.llama_ref import ReferenceLlama

FIXTURE = json.loads((Path(__file__).parent / "data" / "embeddings_llamacpp.json").read_text())
TEXTS = FIXTURE["texts"]
POOLINGS = ("mean", "cls", "last")


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def pool(hidden: np.ndarray, pooling: str) -> np.ndarray:
    return {"mean": hidden.mean(0), "cls": hidden[0], "last": hidden[-1]}[pooling]


@pytest.fixture(scope="module")
def smollm2(smollm2_path):
    # n_batch 16: every text but the first spans several prefill chunks
    with ple.Model(smollm2_path, n_ctx=512, n_batch=16) as m:
        yield m


@pytest.fixture(scope="module")
def reference_hidden(smollm2_path, smollm2):
    ref = ReferenceLlama(smollm2_path, reader=FastReader(smollm2_path))
    return [ref.hidden_states(smollm2.tokenize(t)) for t in TEXTS]


@pytest.mark.parametrize("pooling", POOLINGS)
def test_matches_reference_hidden_states(smollm2, reference_hidden, pooling):
    ours = smollm2.embed(TEXTS, pooling=pooling, normalize=False)
    assert ours.dtype == np.float32 and ours.shape == (len(TEXTS), smollm2.hparams["n_embd"])
    for i, hidden in enumerate(reference_hidden):
        assert cosine(ours[i], pool(hidden, pooling)) >= 0.999, (pooling, i)
        # not normalized: the length is the reference's too
        assert np.linalg.norm(ours[i]) == pytest.approx(np.linalg.norm(pool(hidden, pooling)), rel=0.02)
        wrong = next(p for p in POOLINGS if p != pooling)
        assert cosine(ours[i], pool(hidden, wrong)) < 0.99, (pooling, wrong, i)


def test_matches_llama_cpp(smollm2_path, smollm2):
    h = hashlib.sha256()
    with open(smollm2_path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    assert h.hexdigest() == FIXTURE["model_sha256"], "the fixture was recorded on another file"
    assert [smollm2.tokenize(t) for t in TEXTS] == FIXTURE["tokens"]
    for pooling in POOLINGS:
        ours = smollm2.embed(TEXTS, pooling=pooling, normalize=False)
        for i, theirs in enumerate(FIXTURE["embeddings"][pooling]):
            assert cosine(ours[i], theirs) >= 0.999, (pooling, i)
            assert np.linalg.norm(ours[i]) == pytest.approx(np.linalg.norm(theirs), rel=0.02)


def test_normalize_and_default_pooling(smollm2):
    raw = smollm2.embed(TEXTS, pooling="mean", normalize=False)
    unit = smollm2.embed(TEXTS)  # SmolLM2 has no llama.pooling_type: mean, normalized
    np.testing.assert_allclose(unit, raw / np.linalg.norm(raw, axis=1, keepdims=True), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-6)
    assert smollm2.embed(TEXTS[0]).shape == (1, raw.shape[1])  # a str is one text


def test_default_pooling_reads_the_gguf_key():
    assert default_pooling({"general.architecture": "llama"}) == "mean"
    assert default_pooling({"general.architecture": "llama", "llama.pooling_type": 3}) == "last"
    assert default_pooling({"general.architecture": "bert", "bert.pooling_type": 2}) == "cls"
    assert default_pooling({"general.architecture": "llama", "llama.pooling_type": 1}) == "mean"
    # none (per-token) and rank (a reranker head) have no single vector: mean
    assert default_pooling({"general.architecture": "llama", "llama.pooling_type": 0}) == "mean"
    assert default_pooling({"general.architecture": "llama", "llama.pooling_type": 4}) == "mean"


def test_texts_are_independent_and_leave_chat_sessions_alone(smollm2):
    alone = smollm2.embed([TEXTS[1]], normalize=False)[0]
    # after a longer text has filled more of the cache, and in any position of the batch
    batch = smollm2.embed([TEXTS[3], TEXTS[1], TEXTS[0], TEXTS[1]], normalize=False)
    np.testing.assert_array_equal(batch[1], alone)
    np.testing.assert_array_equal(batch[3], alone)
    # a chat's cached prefix survives embeddings in between
    prompt = "Once upon a time, in a small village by the sea,"
    smollm2.create_completion(prompt, max_tokens=4, temperature=0)
    smollm2.embed(TEXTS)
    again = smollm2.create_completion(prompt + " there", max_tokens=1, temperature=0)
    assert again["usage"]["prompt_tokens_details"]["cached_tokens"] > 0


def test_create_embedding_openai_shape(smollm2):
    out = smollm2.create_embedding(input=TEXTS[:2], model="smol")
    assert out["object"] == "list" and out["model"] == "smol"
    assert [d["index"] for d in out["data"]] == [0, 1]
    assert all(d["object"] == "embedding" for d in out["data"])
    vectors = np.array([d["embedding"] for d in out["data"]])
    np.testing.assert_allclose(vectors, smollm2.embed(TEXTS[:2]), rtol=1e-6, atol=1e-7)
    n_tokens = sum(len(smollm2.tokenize(t)) for t in TEXTS[:2])
    assert out["usage"] == {"prompt_tokens": n_tokens, "total_tokens": n_tokens}
    single = smollm2.create_embedding(TEXTS[0])
    assert len(single["data"]) == 1 and single["model"] == smollm2.path


@pytest.mark.parametrize("texts, error, match", [
    ([], ValueError, "texts is empty"),
    ("", ValueError, r"texts\[0\] is an empty string"),
    (["a note", ""], ValueError, r"texts\[1\] is an empty string"),
    (["a note", 3], TypeError, r"texts\[1\] must be a str, got int"),
    (b"bytes", TypeError, "must be a str or a list of str, got bytes"),
    (None, TypeError, "must be a str or a list of str, got NoneType"),
])
def test_bad_texts(smollm2, texts, error, match):
    with pytest.raises(error, match=match):
        smollm2.embed(texts)


def test_bad_pooling_and_too_long_text(smollm2, smollm2_path):
    with pytest.raises(ValueError, match="pooling must be one of 'mean', 'cls', 'last', got 'max'"):
        smollm2.embed(TEXTS, pooling="max")
    with pytest.raises(ValueError, match="input is empty"):
        smollm2.create_embedding(input=[])
    with ple.Model(smollm2_path, n_ctx=16) as small:
        with pytest.raises(ple.ContextOverflowError, match=r"text 1 has \d+ tokens, more than the context of 16"):
            small.embed([TEXTS[0], TEXTS[3]])
        # the failed call did no work and left nothing behind
        np.testing.assert_array_equal(small.embed([TEXTS[0]]), small.embed(TEXTS[0]))
