"""Long chats: the oldest turns are dropped to fit n_ctx (system message and latest user turn kept,
tool call and result together), with a warning and usage["dropped_messages"];
context_overflow="error" keeps the exception."""
from __future__ import annotations

import logging

import pytest

import pyllama_edge as ple
from pyllama_edge import chat_window

SYSTEM = {"role": "system", "content": "You are a terse assistant in a test."}


@pytest.fixture(scope="module")
def small_ctx(smollm2_path):
    return ple.Model(smollm2_path, n_ctx=512, n_threads=2)


@pytest.mark.slow
def test_hundred_turns_at_n_ctx_512(small_ctx, caplog):
    m = small_ctx
    messages = [SYSTEM]
    dropped_any = False
    for turn in range(100):
        messages.append({"role": "user", "content": f"Turn {turn}: tell me one fact about the number {turn}."})
        with caplog.at_level(logging.WARNING, logger="pyllama_edge"):
            r = m.create_chat_completion(messages, max_tokens=24, temperature=0.8, seed=turn)
        usage = r["usage"]
        assert usage["prompt_tokens"] + 24 <= m.n_ctx  # the rendered prompt always fits
        dropped_any = dropped_any or usage["dropped_messages"] > 0
        messages.append(r["choices"][0]["message"])
    assert dropped_any and "dropped the" in caplog.text


def test_kept_messages_system_latest_user_and_tool_pairs():
    messages = [SYSTEM]
    for i in range(6):
        messages += [{"role": "user", "content": f"u{i}"},
                     {"role": "assistant", "content": "", "tool_calls": [{"id": f"c{i}", "type": "function",
                                                                          "function": {"name": "f", "arguments": "{}"}}]},
                     {"role": "tool", "tool_call_id": f"c{i}", "content": f"r{i}"},
                     {"role": "assistant", "content": f"a{i}"}]
    messages.append({"role": "user", "content": "latest"})
    size = lambda ms: 10 * len(ms)  # noqa: E731  (a stand-in for rendering: 10 tokens a message)
    kept, dropped = chat_window.fit(messages, size, n_ctx=150, max_tokens=20)
    assert size(kept) <= 130 and dropped == len(messages) - len(kept)
    assert kept[0] == SYSTEM and kept[-1]["content"] == "latest"
    for i, msg in enumerate(kept):  # no tool result without its call
        if msg.get("role") == "tool":
            assert kept[i - 1].get("tool_calls")
    # Even when nothing else fits, the system message and the latest user turn stay.
    kept, _ = chat_window.fit(messages, size, n_ctx=35, max_tokens=10)
    assert kept == [SYSTEM, messages[-1]]


def test_context_overflow_error_restores_the_exception(small_ctx):
    long_chat = [SYSTEM] + [{"role": "user" if i % 2 == 0 else "assistant", "content": "word " * 40} for i in range(21)]
    with pytest.raises(ple.ContextOverflowError):
        small_ctx.chat(long_chat, max_tokens=8, context_overflow="error")
    assert small_ctx.chat(long_chat, max_tokens=8, seed=1) is not None
    with pytest.raises(ValueError, match="context_overflow"):
        small_ctx.chat(long_chat, context_overflow="shift")
