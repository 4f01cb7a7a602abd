"""A short end-to-end run: the sanitizer stage (tools/ci_sanitize.sh) runs it with the extension
built with ASan+UBSan; in the ordinary suite it is a quick check of the same path."""
from __future__ import annotations

import pyllama_edge as ple


def test_smollm2_tokenize_and_generate(smollm2_path) -> None:
    m = ple.Model(smollm2_path, n_ctx=64, n_threads=2)
    ids = m.tokenize("Hello, world! Café 東京")
    assert m.detokenize(ids) == "Hello, world! Café 東京"
    out = m.create_completion("The capital of France is", max_tokens=4, temperature=0.0)
    assert isinstance(out["choices"][0]["text"], str) and out["usage"]["completion_tokens"] <= 4
    chat = m.chat([{"role": "user", "content": "Hi"}], max_tokens=3, temperature=0.7, seed=1)
    assert isinstance(chat, str)


def test_synthetic_generate_logits_and_sessions(tiny_f32) -> None:
    m = ple.Model(tiny_f32, n_ctx=32, n_threads=2)
    ids = m.tokenize("The capital of France")
    logits = m.logits(ids)
    assert logits.shape == (len(ids), m.n_vocab)
    a = m.session().generate("The capital", max_tokens=5, temperature=0.0)
    b = m.session().generate("The capital", max_tokens=5, temperature=0.0)
    assert a == b
    pieces = list(m.stream("Hello", max_tokens=3, temperature=1.0, top_k=5, seed=3))
    assert all(isinstance(p, str) for p in pieces)


def test_gguf_reader_walk(tiny_f32) -> None:
    with ple.GGUFFile(tiny_f32) as g:
        assert g.metadata["general.architecture"] == "llama"
        for name in g.tensors:
            assert g.dequantize(name).size == g.raw(name).size // 4
