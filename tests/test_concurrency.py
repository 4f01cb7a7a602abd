"""Concurrency: one immutable Model shared by threads, each with its own Session; the GIL is
released during compute; a Session used by two threads at once raises instead of corrupting its
KV cache; closing the GGUF file under a live model is safe. No test depends on timing: the
overlap tests wait on events, not sleeps."""
from __future__ import annotations

import threading
from typing import List

import numpy as np
import pytest

import pyllama_edge as ple
from model_files import synthetic

PROMPTS = ["The capital of France", "Hello, world!", "Numbers like 2024", "A small model reads", "I am fine"]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    # Wide enough that one generate call takes a while, so the overlap tests overlap for sure.
    return synthetic(tmp_path_factory.mktemp("conc"), "conc_q8", weight_type="Q8_0", n_layer=4, n_embd=256, n_head=4,
                     n_head_kv=2, n_ff=768, n_ctx_train=1024, rope_freqs=False)


def run(sess: ple.Session, prompt: str, seed: int) -> str:
    return sess.generate(prompt, max_tokens=12, temperature=0.9, top_k=20, seed=seed)


def test_threads_with_own_sessions_match_serial(model_path) -> None:
    m = ple.Model(model_path, n_ctx=128, n_threads=1)
    serial = [run(m.session(), p, i) for i, p in enumerate(PROMPTS)]
    results: List[str] = [""] * len(PROMPTS)
    errors: List[BaseException] = []
    barrier = threading.Barrier(len(PROMPTS))

    def worker(i: int) -> None:
        try:
            s = m.session()
            barrier.wait()
            for _ in range(2):  # twice: the second call reuses the cached prefix
                results[i] = run(s, PROMPTS[i], i)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(PROMPTS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert results == serial


def test_gil_released_during_generation(model_path) -> None:
    """A counting thread runs through a whole native call only if the call releases the GIL: with
    the GIL held it would get at most one switch interval (5 ms, far fewer than TARGET counts) per
    call, when the call returns to Python."""
    m = ple.Model(model_path, n_ctx=512, n_threads=1)
    TARGET = 300_000
    call = [0]
    per_call = {}
    done = threading.Event()

    def counter() -> None:
        while not done.is_set():
            c = call[0]
            per_call[c] = per_call.get(c, 0) + 1

    t = threading.Thread(target=counter)
    t.start()
    try:
        for i in range(1, 21):
            call[0] = i
            m.generate("The capital of France is", max_tokens=16, temperature=0.0)
            call[0] = -i
            if per_call.get(i, 0) > TARGET:
                break
    finally:
        done.set()
        t.join()
    assert max(v for k, v in per_call.items() if k > 0) > TARGET


def test_same_session_from_two_threads_raises_and_keeps_cache(model_path) -> None:
    m = ple.Model(model_path, n_ctx=512, n_threads=1)
    s = m.session()
    expected = run(m.session(), "Hello, world!", 7)
    errors: List[BaseException] = []
    hits = []
    go = threading.Event()

    def hammer() -> None:
        go.wait()
        for _ in range(200):
            try:
                s.generate("The capital of France", max_tokens=2, temperature=0.0)
            except RuntimeError as e:
                hits.append(str(e))
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

    threads = [threading.Thread(target=hammer) for _ in range(2)]
    for t in threads:
        t.start()
    go.set()
    for t in threads:
        t.join()
    assert not errors
    assert all("already in use" in h for h in hits)
    # Whatever interleaving happened, the session is consistent: same result as a fresh session.
    assert run(s, "Hello, world!", 7) == expected


def test_concurrent_use_is_detected(model_path) -> None:
    """Deterministic: a streaming generator holds the session between pieces only in C++ calls, so
    force overlap with a long evaluation in one thread and poll from another until it is seen."""
    m = ple.Model(model_path, n_ctx=1024, n_threads=1)
    s = m.session()
    seen = []
    stop = threading.Event()

    def long_eval() -> None:
        while not stop.is_set():
            s.logits([1 + i % 300 for i in range(1000)])

    t = threading.Thread(target=long_eval)
    t.start()
    try:
        for _ in range(100000):
            try:
                s.generate("Hi", max_tokens=1, temperature=0.0)
            except RuntimeError as e:
                seen.append(str(e))
                break
    finally:
        stop.set()
        t.join()
    assert seen and "already in use" in seen[0]


def test_close_file_while_model_in_use(model_path) -> None:
    m = ple.Model(model_path, n_ctx=128, n_threads=1)
    expected = m.session().generate("Hello", max_tokens=6, temperature=0.0)
    result: List[str] = []
    go = threading.Event()

    def gen() -> None:
        go.wait()
        result.append(m.session().generate("Hello", max_tokens=6, temperature=0.0))

    t = threading.Thread(target=gen)
    t.start()
    go.set()
    m.file.close()  # the native model keeps its own reference to the mapping
    t.join()
    assert result == [expected]
    assert m.generate("Hello", max_tokens=6, temperature=0.0) == expected
    with pytest.raises(ValueError, match="closed"):
        m.file.metadata
    assert isinstance(m.logits([1, 2]), np.ndarray)
