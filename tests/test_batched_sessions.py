"""Model.batched_sessions: sessions used from several threads at once share forward passes (one
pass per step for all of them, prompts a chunk per pass). What each session computes must be what
it computes alone, bit for bit, whatever else is in its passes; and a long prompt must not stop
the other sessions' decoding."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import pyllama_edge as ple

PROMPTS = [
    "The capital of France is",
    "Write a short poem about the sea.\n",
    "1, 2, 3, 4, 5,",
    "def fibonacci(n):\n    " * 12,  # longer than the prefill chunk: several chunked passes
]


def run_in_threads(fn, n):
    errors = []

    def guarded(i):
        try:
            fn(i)
        except BaseException as e:  # re-raised on the test's thread
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not any(t.is_alive() for t in threads), "a batched session hung"
    if errors:
        raise errors[0]


@pytest.fixture(scope="module", params=["f16", "q8_0"])
def smollm2(request, smollm2_path):
    with ple.Model(smollm2_path, n_ctx=512, n_threads=2, kv_type=request.param) as m:
        yield m


@pytest.mark.parametrize("prefill_chunk", [7, 64])
def test_greedy_outputs_equal_each_session_alone(smollm2, prefill_chunk):
    expected = [smollm2.session().generate(p, max_tokens=24, temperature=0) for p in PROMPTS]
    sessions = smollm2.batched_sessions(len(PROMPTS), prefill_chunk=prefill_chunk)
    got = [None] * len(PROMPTS)

    def one(i):
        got[i] = sessions[i].generate(PROMPTS[i], max_tokens=24, temperature=0)

    run_in_threads(one, len(PROMPTS))
    assert got == expected
    stats = sessions[0].batch_stats
    assert stats == sessions[3].batch_stats  # one batcher for all of them
    assert stats["batched_passes"] > 0 and stats["max_sessions"] >= 2, stats
    # Every token of every prompt and decode step went through the batcher.
    prompt_tokens = sum(s.last_usage["prompt_tokens"] for s in sessions)
    completion_tokens = sum(s.last_usage["completion_tokens"] for s in sessions)
    assert stats["rows"] >= prompt_tokens + completion_tokens - len(PROMPTS)


def test_logits_equal_alone_with_sampling_lookup_and_a_continued_prompt(smollm2):
    """Other entry points through the batcher: the teacher-forced logits (evaluate_all), sampling
    with a seed, prompt-lookup speculation (its verification batches) and a session that keeps its
    prefix from an earlier call."""
    text = "The quick brown fox jumps over the lazy dog. " * 6
    ids = smollm2.tokenize(text)
    alone = smollm2.session()
    expected_logits = alone._native.evaluate_all(ids)
    expected_sampled = smollm2.session().generate(PROMPTS[1], max_tokens=20, temperature=0.8, seed=7)
    expected_lookup = smollm2.session().generate(text + "Repeat it:", max_tokens=30, temperature=0)
    continued = smollm2.session()
    continued.generate(PROMPTS[0], max_tokens=8, temperature=0)
    expected_continued = continued.generate(PROMPTS[0] + " Paris. And of Spain?", max_tokens=12, temperature=0)

    sessions = smollm2.batched_sessions(4, prefill_chunk=16)
    got = {}

    def one(i):
        s = sessions[i]
        if i == 0:
            got["logits"] = s._native.evaluate_all(ids)
        elif i == 1:
            got["sampled"] = s.generate(PROMPTS[1], max_tokens=20, temperature=0.8, seed=7)
        elif i == 2:
            got["lookup"] = s.generate(text + "Repeat it:", max_tokens=30, temperature=0, speculative="lookup")
        else:
            s.generate(PROMPTS[0], max_tokens=8, temperature=0)
            got["continued"] = s.generate(PROMPTS[0] + " Paris. And of Spain?", max_tokens=12, temperature=0)
            got["cached"] = s.last_usage["prompt_tokens_details"]["cached_tokens"]

    run_in_threads(one, 4)
    assert np.array_equal(got["logits"], expected_logits)
    assert got["sampled"] == expected_sampled
    assert got["lookup"] == expected_lookup
    assert got["continued"] == expected_continued and got["cached"] > 0


def test_a_long_prompt_does_not_stop_the_others_decoding(smollm2):
    """While one session evaluates a long prompt (chunk by chunk), the other keeps producing
    tokens: unchunked, it would wait for the whole prompt."""
    chunk = 8
    a, b = smollm2.batched_sessions(2, prefill_chunk=chunk)
    long_prompt = "Once upon a time, in a land far away, there lived a curious fox. " * 20
    n_chunks = len(smollm2.tokenize(long_prompt)) // chunk
    produced = []
    started = threading.Event()
    b_times = {}

    def decode_a():
        for _ in a.stream("Count from one to a hundred: one, two,", max_tokens=400, temperature=0, ignore_eos=True):
            produced.append(1)
            if len(produced) == 3:
                started.set()

    def prefill_b():
        started.wait(60)
        b_times["before"] = len(produced)
        for _ in b.stream(long_prompt, max_tokens=1, temperature=0):
            pass
        b_times["after"] = len(produced)

    run_in_threads(lambda i: (decode_a, prefill_b)[i](), 2)
    assert n_chunks >= 20
    # a's decode steps rode along with b's prompt chunks (each pass holds one of each).
    assert b_times["after"] - b_times["before"] >= n_chunks // 2, (b_times, n_chunks)


def test_set_batcher_checks_what_it_joins(smollm2, smollm2_path, tiny_f32):
    s = smollm2.batched_sessions(1)[0]
    batcher = s._native.batcher
    with ple.Model(tiny_f32) as other:
        with pytest.raises(ValueError, match="another model"):
            other.session()._native.set_batcher(batcher)
    with pytest.raises(ValueError, match="threads"):
        smollm2.session(n_threads=1)._native.set_batcher(batcher)
    with pytest.raises(ValueError, match="float activations"):
        smollm2.session(float_activations=True)._native.set_batcher(batcher)
    with pytest.raises(ValueError, match="prefill_chunk"):
        smollm2.batched_sessions(2, prefill_chunk=0)
    with pytest.raises(ValueError, match="n must be"):
        smollm2.batched_sessions(0)
    # Detached, the session evaluates on its own again.
    s._native.set_batcher(None)
    assert s.batch_stats is None
    assert s.generate(PROMPTS[0], max_tokens=4, temperature=0) == smollm2.session().generate(PROMPTS[0], max_tokens=4, temperature=0)
