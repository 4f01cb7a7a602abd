"""Perplexity (llama.cpp's method) and the bench command."""
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import pyllama_edge as ple
from pyllama_edge.cli import main

TEXT_FILE = Path(__file__).parent / "data" / "perplexity_en.txt"
CTX = 40


@pytest.fixture(scope="module")
def smollm2(smollm2_path):
    return ple.Model(smollm2_path, n_ctx=64)


@pytest.fixture(scope="module")
def short_text():
    return TEXT_FILE.read_text(encoding="utf-8").split("\n\n")[0]  # one paragraph, ~90 tokens


@pytest.fixture(scope="module")
def smollm2_ppl(smollm2, short_text):
    return smollm2.perplexity(short_text, ctx=CTX)


def test_perplexity_is_sensible(smollm2_ppl):
    r = smollm2_ppl
    assert r.n_chunks == 2 and r.ctx == CTX
    assert r.n_tokens == r.n_chunks * (CTX - 1 - CTX // 2)  # 19 scored per chunk, as llama.cpp counts
    assert math.isfinite(r.ppl) and 3 < r.ppl < 200, r
    assert 0 < r.stderr < r.ppl
    assert r.ppl == pytest.approx(math.exp(r.nll))
    assert "PPL = " in str(r) and "+/-" in str(r)


def test_perplexity_matches_numpy_over_model_logits(smollm2, short_text, smollm2_ppl):
    ids = smollm2.tokenize(short_text, add_bos=True)
    assert smollm2.metadata.get("tokenizer.ggml.add_bos_token") is not True  # SmolLM2: no BOS to put in
    nll = []
    for c in range(len(ids) // CTX):
        chunk = ids[c * CTX:(c + 1) * CTX]
        logits = smollm2.logits(chunk).astype(np.float64)
        for pos in range(CTX // 2, CTX - 1):
            row = logits[pos]
            lse = row.max() + np.log(np.exp(row - row.max()).sum())
            nll.append(lse - row[chunk[pos + 1]])
    nll = np.array(nll)
    assert smollm2_ppl.ppl == pytest.approx(math.exp(nll.mean()), rel=1e-5)
    se = math.exp(nll.mean()) * nll.std(ddof=1) / math.sqrt(len(nll))
    assert smollm2_ppl.stderr == pytest.approx(se, rel=1e-3)


def test_perplexity_replaces_chunk_start_with_bos(tiny_f32):
    # the synthetic model uses BOS: every chunk starts with it, so a text shifted by a token within
    # the first position of a chunk scores the same
    m = ple.Model(tiny_f32, n_ctx=32)
    bos = m._tokenizer.bos_id
    assert m.tokenize("a", add_bos=True)[0] == bos
    text = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
    r = m.perplexity(text, ctx=8)
    ids = m.tokenize(text, add_bos=True)
    nll = []
    for c in range(len(ids) // 8):
        chunk = [bos] + ids[c * 8 + 1:(c + 1) * 8]
        lg = m.logits(chunk).astype(np.float64)
        for pos in range(4, 7):
            row = lg[pos]
            nll.append(row.max() + np.log(np.exp(row - row.max()).sum()) - row[chunk[pos + 1]])
    assert r.ppl == pytest.approx(math.exp(np.mean(nll)), rel=1e-5)


def test_perplexity_errors(smollm2):
    with pytest.raises(ValueError, match="needs at least"):
        smollm2.perplexity("too short", ctx=32)
    with pytest.raises(ValueError, match="ctx"):
        smollm2.perplexity("text", ctx=2)
    with pytest.raises(TypeError):
        smollm2.perplexity(b"bytes", ctx=32)


def test_perplexity_cli(tiny_f32, tmp_path, capsys, monkeypatch):
    text = tmp_path / "t.txt"
    text.write_text("one two three four five six seven eight nine ten eleven twelve thirteen fourteen")
    assert main(["perplexity", str(tiny_f32), str(text), "--ctx", "8", "--json", "--quiet"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d) == {"ppl", "stderr", "nll", "n_tokens", "n_chunks", "ctx"} and d["ctx"] == 8
    assert main(["perplexity", str(tiny_f32), str(text), "--ctx", "8"]) == 0
    cap = capsys.readouterr()
    assert cap.out.startswith("PPL = ") and cap.err == ""  # a progress bar only when stderr is a terminal
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["perplexity", str(tiny_f32), str(text), "--ctx", "8"]) == 0
    assert "chunks" in capsys.readouterr().err
    assert main(["perplexity", str(tiny_f32), str(tmp_path / "missing.txt")]) == 1


def test_bench_cli_json(tiny_f32, capsys):
    assert main(["bench", str(tiny_f32), "--json", "-p", "16", "-n", "4", "--reps", "2", "--threads", "1"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["test"] for r in rows] == ["pp16", "tg4"]
    for r in rows:
        assert {"test", "n_tokens", "reps", "threads", "tokens_per_s", "std", "samples", "model", "isa"} <= set(r)
        assert r["threads"] == 1 and r["reps"] == 2 and len(r["samples"]) == 2
        assert r["tokens_per_s"] > 0 and r["std"] >= 0


def test_bench_cli_table(tiny_f32, capsys):
    assert main(["bench", str(tiny_f32), "-p", "8", "-n", "2", "--reps", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("| model") and "t/s" in out[0]
    assert any("pp8" in l for l in out) and any("tg2" in l for l in out)


def test_time_evaluation_times_prefill_and_decode(tiny_f32):
    m = ple.Model(tiny_f32, n_ctx=64)
    with m.session() as s:
        seconds, finite = s.time_evaluation(list(range(1, 17)))
        assert seconds > 0 and finite and len(s.history) == 16
        seconds, finite = s.time_evaluation(list(range(1, 9)), decode=True)
        assert seconds > 0 and finite and s.history == list(range(1, 9))
        with pytest.raises(ValueError, match="at least 2 tokens"):
            s.time_evaluation([1], decode=True)


def test_memory_estimate_is_what_a_session_allocates(tiny_f32):
    m = ple.Model(tiny_f32, n_ctx=96)
    with ple.GGUFFile(tiny_f32) as g:
        for kv_type in ("f16", "q8_0"):
            e = g.memory_estimate(96, kv_type)
            assert e["n_ctx"] == 96
            assert e["kv_cache_bytes"] == m.session(kv_type=kv_type).kv_cache_bytes
        assert e["weight_bytes"] == sum(t.nbytes for t in g.tensors.values())
        assert g.memory_estimate()["n_ctx"] == min(4096, g.metadata["llama.context_length"])


def test_bench_rejects_bad_arguments(tiny_f32):
    from pyllama_edge.evaluate import bench
    m = ple.Model(tiny_f32, n_ctx=32)
    with pytest.raises(ValueError):
        bench(m, reps=0)
    with pytest.raises(ValueError):
        bench(m, n_prompt=-1)
