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
from support.model_files import synthetic

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


def test_same_session_from_two_threads_raises_and_keeps_cache(model_path) -> None:
    m = ple.Model(model_path, n_ctx=512, n_threads=1)
    s = m.session()
    expected = run(m.session(), "Hello, world!", 7)
    errors: List[BaseException] = []
    hits = []
    go = threading.Event()

    def hammer() -> None:
        go.wait()
        for _ in range(100):
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


def test_gil_released_and_concurrent_use_detected(model_path) -> None:
    """One thread evaluates long prompts on a session; the main thread calls the same session
    until it is refused with "already in use". That refusal can only happen while the other
    thread is inside native code, so it also proves the GIL is released there: with the GIL held
    for the whole call the main thread could never run Python code at that moment. No timing:
    the loop ends on the first refusal (bounded attempts)."""
    m = ple.Model(model_path, n_ctx=1024, n_threads=1)
    s = m.session()
    seen: List[str] = []
    stop = threading.Event()
    long_prompt = [1 + i % 300 for i in range(300)]

    def long_eval() -> None:
        while not stop.is_set():
            try:
                s.logits(long_prompt)
            except RuntimeError as e:  # the main thread held the session at that moment
                assert "already in use" in str(e)

    t = threading.Thread(target=long_eval)
    t.start()
    try:
        for _ in range(20000):
            try:
                s.logits([1, 2])
            except RuntimeError as e:
                seen.append(str(e))
                break
    finally:
        stop.set()
        t.join()
    assert seen and "already in use" in seen[0]
    ref = m.session().logits(long_prompt)
    assert np.array_equal(s.logits(long_prompt), ref)  # the cache was not corrupted


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
