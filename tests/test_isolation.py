"""Model-level calls (generate, stream, chat, chat_stream, create_completion,
create_chat_completion, logits) are independent: however they interleave (streams consumed in
turn, a stream left open while another call runs, several threads), each gives exactly what it
gives alone, while a conversation's next turn still reuses its cached prefix. No timing: the
threads meet at a barrier."""
from __future__ import annotations

import threading
from typing import Any, Callable, Dict, List

import numpy as np
import pytest

import pyllama_edge as ple
from support.model_files import synthetic

GREEDY = dict(max_tokens=12, temperature=0.0)
PROMPTS = ["The capital of France is", "Once upon a time", "def fibonacci(n):", "My favourite colour is"]


@pytest.fixture(scope="module")
def smollm2(smollm2_path) -> ple.Model:
    return ple.Model(smollm2_path, n_ctx=256, n_threads=1)


@pytest.fixture(scope="module")
def small_path(tmp_path_factory):
    return synthetic(tmp_path_factory.mktemp("iso"), "iso_q8", weight_type="Q8_0", n_layer=2, n_embd=128, n_head=4,
                     n_head_kv=2, n_ff=256, n_ctx_train=512, rope_freqs=False)


def alone(path, call: Callable[[ple.Model], Any]) -> Any:
    """The call's result on a model of its own."""
    return call(ple.Model(path, n_ctx=256, n_threads=1))


def test_interleaved_greedy_streams_equal_serial(smollm2, smollm2_path) -> None:
    serial = [alone(smollm2_path, lambda m, p=p: m.generate(p, **GREEDY)) for p in PROMPTS]
    streams = [smollm2.stream(p, **GREEDY) for p in PROMPTS]
    outs = [""] * len(PROMPTS)
    live = set(range(len(PROMPTS)))
    while live:  # one piece from each open stream in turn
        for i in sorted(live):
            piece = next(streams[i], None)
            if piece is None:
                live.discard(i)
            else:
                outs[i] += piece
    assert outs == serial
    assert all(outs)


def test_stream_left_open_while_other_calls_run(smollm2, smollm2_path) -> None:
    chat = [{"role": "user", "content": "Name three colours."}]
    want_stream = alone(smollm2_path, lambda m: m.generate(PROMPTS[1], **GREEDY))
    want_chat = alone(smollm2_path, lambda m: m.chat(chat, **GREEDY))
    want_text = alone(smollm2_path, lambda m: m.generate(PROMPTS[0], **GREEDY))
    stream = smollm2.stream(PROMPTS[1], **GREEDY)
    first = next(stream)
    assert smollm2.generate(PROMPTS[0], **GREEDY) == want_text
    chat_stream = smollm2.chat_stream(chat, **GREEDY)
    assert smollm2.create_completion(PROMPTS[0], **GREEDY)["choices"][0]["text"] == want_text
    assert "".join(chat_stream) == want_chat
    assert first + "".join(stream) == want_stream


def test_logits_between_stream_pieces(smollm2, smollm2_path) -> None:
    ids = smollm2.tokenize(PROMPTS[2])
    want_logits = alone(smollm2_path, lambda m: m.logits(ids))
    want = alone(smollm2_path, lambda m: m.generate(PROMPTS[3], **GREEDY))
    stream = smollm2.stream(PROMPTS[3], **GREEDY)
    first = next(stream)
    np.testing.assert_array_equal(smollm2.logits(ids), want_logits)
    assert first + "".join(stream) == want


def mixed_calls(m: ple.Model, worker: int) -> List[Any]:
    """Every kind of Model-level call, sampled with a seed, so the results are reproducible."""
    sampled = dict(max_tokens=8, temperature=0.9, top_k=20, seed=worker)
    prompt = PROMPTS[worker % len(PROMPTS)]
    chat = [{"role": "user", "content": prompt}]
    out: List[Any] = [m.generate(prompt, **sampled), "".join(m.stream(prompt, max_tokens=8, temperature=0.0))]
    out.append(m.chat(chat, **sampled))
    out.append("".join(m.chat_stream(chat, **sampled)))
    c = m.create_completion(prompt, **sampled)
    out.append((c["choices"][0]["text"], c["usage"]["completion_tokens"]))
    out.append([ch["choices"][0]["delta"].get("content", "") for ch in m.create_chat_completion(chat, stream=True, **sampled)])
    out.append(m.logits(m.tokenize(prompt)).tobytes())
    return out


def test_four_threads_of_mixed_calls_equal_serial(small_path) -> None:
    m = ple.Model(small_path, n_ctx=256, n_threads=1)
    serial = [mixed_calls(ple.Model(small_path, n_ctx=256, n_threads=1), w) for w in range(4)]
    results: Dict[int, List[Any]] = {}
    errors: List[BaseException] = []
    barrier = threading.Barrier(4)

    def worker(w: int) -> None:
        try:
            barrier.wait()
            for _ in range(2):  # twice: the second round runs on sessions the pool gave back
                results[w] = mixed_calls(m, w)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [results[w] for w in range(4)] == serial


def test_next_chat_turn_reuses_the_cached_prefix(smollm2) -> None:
    turn = [{"role": "user", "content": "Hi! What is your name?"}]
    first = smollm2.create_chat_completion(turn, **GREEDY)
    n_first = first["usage"]["prompt_tokens"]
    turn += [first["choices"][0]["message"], {"role": "user", "content": "What is the capital of France?"}]
    second = smollm2.create_chat_completion(turn, **GREEDY)
    assert second["usage"]["prompt_tokens_details"]["cached_tokens"] >= n_first
    # ... and another conversation in between does not take that session from it
    smollm2.generate("Unrelated text", **GREEDY)
    turn += [second["choices"][0]["message"], {"role": "user", "content": "And of Italy?"}]
    third = smollm2.create_chat_completion(turn, **GREEDY)
    assert third["usage"]["prompt_tokens_details"]["cached_tokens"] >= second["usage"]["prompt_tokens"]


def test_bad_parameters_give_the_session_back(smollm2) -> None:
    before = len(smollm2._pool._idle)
    for _ in range(5):
        with pytest.raises(ValueError):
            smollm2.generate("Hello", top_p=2.0)
    assert len(smollm2._pool._idle) == before


def test_a_stream_left_by_break_gives_its_session_back(smollm2_path) -> None:
    m = ple.Model(smollm2_path, n_ctx=256, n_threads=1)
    want = m.generate(PROMPTS[0], **GREEDY)
    assert len(m._pool._idle) == 1
    for _ in range(3):
        for _piece in m.stream(PROMPTS[1], **GREEDY):
            break  # the dropped stream is closed, and its session goes back to the pool
    assert len(m._pool._idle) == 2
    assert m.generate(PROMPTS[0], **GREEDY) == want
