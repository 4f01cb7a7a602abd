"""libFuzzer harness (atheris) for the chat-template path: untrusted template text from a model
file, rendered over fuzzed messages by pyllama_edge.chat_template.render.

Input: template bytes, optionally followed by a NUL and parameter bytes that choose the messages,
bos/eos tokens and add_generation_prompt. The seed corpus (tests/fuzz/corpus/chat_template) is
plain template text. Properties checked on every input:
  - render returns a str of at most MAX_OUTPUT_CHARS, or raises ChatTemplateError; nothing else
    (no other exception, no crash, no hang: the wall time stays within the render deadline plus
    a margin);
  - the sandbox holds: secrets planted in os.environ, a module global and a file never appear in
    the output (a template that reaches Python internals or the file system could copy them).

    python -m pip install atheris
    python tests/fuzz/chat_template_fuzz.py -max_total_time=600 WORKDIR tests/fuzz/corpus/chat_template

check_one(data) is the same check without atheris; tests/test_fuzz_chat_template.py replays the
corpus and tests/fuzz/regressions/chat_template through it.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time

CANARY = "ple-canary-7c1e9b0d"  # planted where an escaped template could read it
os.environ["PLE_FUZZ_SECRET"] = CANARY
SECRET_GLOBAL = CANARY
_canary_file = os.path.join(tempfile.gettempdir(), "ple_fuzz_canary.txt")
with open(_canary_file, "w") as f:
    f.write(CANARY)

ROLES = ["system", "user", "assistant", "tool", "ipython", "", "<|eot_id|>", "{{ x }}"]
DEADLINE_MARGIN_S = 3.0


class _Params:
    """Deterministic choices from the parameter bytes (cycled; zeros when empty)."""

    def __init__(self, data: bytes):
        self.data = data or b"\0"
        self.pos = 0

    def byte(self) -> int:
        b = self.data[self.pos % len(self.data)]
        self.pos += 1
        return b

    def text(self, max_len: int) -> str:
        n = self.byte() % (max_len + 1)
        start = self.pos % len(self.data)
        self.pos += n
        raw = (self.data[start:] + self.data[:start])[:n]
        return raw.decode("utf-8", errors="replace")


def split_input(data: bytes):
    template, _, params = data.partition(b"\0")
    p = _Params(params)
    messages = []
    for _ in range(1 + p.byte() % 5):
        r = p.byte()
        role = ROLES[r % len(ROLES)] if r < 200 else p.text(12)
        messages.append({"role": role, "content": p.text(64)})
    kwargs = dict(bos_token=["<|begin_of_text|>", "<s>", ""][p.byte() % 3],
                  eos_token=["<|eot_id|>", "</s>", ""][p.byte() % 3],
                  add_generation_prompt=bool(p.byte() & 1))
    return template.decode("utf-8", errors="replace"), messages, kwargs


def check_one(data: bytes) -> None:
    from pyllama_edge.chat_template import MAX_OUTPUT_CHARS, MAX_RENDER_SECONDS, ChatTemplateError, render

    template, messages, kwargs = split_input(data)
    inputs = template + "".join(m["role"] + m["content"] for m in messages)
    start = time.monotonic()
    try:
        out = render(template, messages, **kwargs)
    except ChatTemplateError:
        out = None
    elapsed = time.monotonic() - start
    if elapsed > MAX_RENDER_SECONDS + DEADLINE_MARGIN_S:
        raise AssertionError(f"render took {elapsed:.1f} s, beyond the {MAX_RENDER_SECONDS} s deadline")
    if out is None:
        return
    if not isinstance(out, str):
        raise AssertionError(f"render returned {type(out).__name__}, not str")
    if len(out) > MAX_OUTPUT_CHARS:
        raise AssertionError(f"render returned {len(out)} characters, beyond {MAX_OUTPUT_CHARS}")
    if CANARY in out and CANARY not in inputs:
        raise AssertionError("a template read a planted secret: the sandbox leaked")


def main() -> None:
    import atheris

    with atheris.instrument_imports():
        import jinja2  # noqa: F401
        import pyllama_edge.chat_template  # noqa: F401
    atheris.Setup(sys.argv, check_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
