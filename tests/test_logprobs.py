"""Log probabilities of generated tokens (OpenAI's `logprobs` / `top_logprobs` on
create_chat_completion): each token's log-softmax under the model's logits at its step, against
a numpy oracle over the teacher-forced logits of the same tokens; streamed chunks carry the same
entries as the whole answer."""
from __future__ import annotations

import numpy as np
import pytest

import pyllama_edge as ple

MESSAGES = [{"role": "user", "content": "Name three colours."}]


@pytest.fixture(scope="module")
def smollm2(smollm2_path):
    with ple.Model(smollm2_path, n_ctx=512, n_threads=2) as m:
        yield m


def log_softmax(row):
    row = row.astype(np.float64)
    m = row.max()
    return row - (m + np.log(np.exp(row - m).sum()))


@pytest.mark.parametrize("sampling", [dict(temperature=0), dict(temperature=0.9, seed=3, top_k=20)])
def test_logprobs_equal_the_log_softmax_of_each_steps_logits(smollm2, sampling):
    session = smollm2.session()
    out = session.create_chat_completion(MESSAGES, max_tokens=10, logprobs=True, top_logprobs=4, ignore_eos=True,
                                         **sampling)
    entries = out["choices"][0]["logprobs"]["content"]
    generated = list(session.last_result.tokens)
    assert len(entries) == len(generated) == out["usage"]["completion_tokens"] == 10
    prompt = smollm2.tokenize_chat(MESSAGES)
    logits = smollm2.logits(prompt + generated)
    piece = lambda t: list(smollm2._tokenizer.token_piece(int(t), True))  # noqa: E731
    for i, e in enumerate(entries):
        oracle = log_softmax(logits[len(prompt) - 1 + i])
        assert e["bytes"] == piece(generated[i])
        assert bytes(e["bytes"]).decode("utf-8", "replace") == e["token"]
        assert e["logprob"] == pytest.approx(oracle[generated[i]], abs=1e-4)  # temperature does not enter
        top = np.argsort(-oracle, kind="stable")[:4]
        assert [t["bytes"] for t in e["top_logprobs"]] == [piece(t) for t in top]
        assert [t["logprob"] for t in e["top_logprobs"]] == pytest.approx(oracle[top], abs=1e-4)
    if sampling["temperature"] == 0:
        assert all(e["token"] == e["top_logprobs"][0]["token"] for e in entries)
    else:  # sampled: not always the most likely token
        assert any(e["logprob"] < e["top_logprobs"][0]["logprob"] for e in entries)


def test_streamed_chunks_carry_the_same_entries(smollm2):
    whole = smollm2.create_chat_completion(MESSAGES, max_tokens=16, temperature=0, logprobs=True, top_logprobs=2)
    chunks = list(smollm2.create_chat_completion(MESSAGES, max_tokens=16, temperature=0, logprobs=True, top_logprobs=2,
                                                 stream=True))
    streamed = [e for c in chunks if c["choices"][0]["logprobs"] for e in c["choices"][0]["logprobs"]["content"]]
    assert streamed == whole["choices"][0]["logprobs"]["content"]
    session = smollm2.session()  # a session's create_chat_completion takes them too
    assert session.create_chat_completion(MESSAGES, max_tokens=16, temperature=0, logprobs=True,
                                          top_logprobs=2)["choices"][0]["logprobs"] == whole["choices"][0]["logprobs"]
    plain = smollm2.create_chat_completion(MESSAGES, max_tokens=16, temperature=0)
    assert plain["choices"][0]["logprobs"] is None
    no_top = smollm2.create_chat_completion(MESSAGES, max_tokens=4, temperature=0, logprobs=True)
    assert all(e["top_logprobs"] == [] for e in no_top["choices"][0]["logprobs"]["content"])


def test_bad_logprob_arguments(smollm2):
    with pytest.raises(ValueError, match="needs logprobs"):
        smollm2.create_chat_completion(MESSAGES, max_tokens=2, top_logprobs=2)
    with pytest.raises(ValueError, match="top_logprobs"):
        smollm2.create_chat_completion(MESSAGES, max_tokens=2, logprobs=True, top_logprobs=21)
    with pytest.raises(ValueError, match="logprobs must be"):
        smollm2.create_chat_completion(MESSAGES, max_tokens=2, logprobs="yes")
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]
    with pytest.raises(ValueError, match="not returned with tools"):
        smollm2.create_chat_completion(MESSAGES, max_tokens=2, logprobs=True, tools=tools, tool_choice="required")
