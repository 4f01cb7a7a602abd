"""The generation call's one parameter object (GenerateParams), its result (GenerationResult), the
logits-mask hook constrained decoding builds on, and the thread pool a model's sessions share."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import pyllama_edge as ple
from pyllama_edge import _core

from support.test_data import PACKAGE_PARENT


@pytest.fixture(scope="module")
def smollm2(smollm2_path):
    return ple.Model(smollm2_path, n_ctx=256, n_threads=2)


def allow_only(allowed_ids):
    """A mask allowing just these ids; records each call's `previous` token."""
    calls = []

    def mask(previous, allowed):
        calls.append(previous)
        allowed[:] = 0
        for t in allowed_ids:
            allowed[t // 32] |= np.uint32(1 << (t % 32))
        return True

    return mask, calls


def test_mask_restricts_every_sampled_token(smollm2):
    digits = [smollm2.tokenize(str(d), add_bos=False)[0] for d in range(10)]
    mask, calls = allow_only(digits)
    s = smollm2.session()
    text = s.generate("My phone number is", max_tokens=12, temperature=1.0, seed=3, logits_mask=mask)
    assert text and set(text) <= set("0123456789")
    tokens = s.last_result.tokens
    assert len(tokens) == 12 and set(tokens) <= set(digits)
    # One call per sampled token; each gets the token sampled before it (-1 at the first).
    assert calls == [-1] + tokens[:-1]


def test_mask_can_force_the_end(smollm2):
    eos = smollm2._tokenizer.eos_id
    mask, _ = allow_only([eos])
    s = smollm2.session()
    assert s.generate("Hello", max_tokens=20, logits_mask=mask) == ""
    assert s.last_finish_reason == "stop" and s.last_usage["completion_tokens"] == 0


def test_mask_returning_false_leaves_sampling_unchanged(smollm2):
    free = smollm2.generate("The capital of France is", max_tokens=8, temperature=0)
    seen = []
    masked = smollm2.generate("The capital of France is", max_tokens=8, temperature=0,
                              logits_mask=lambda prev, allowed: seen.append(allowed.shape) or False)
    assert masked == free
    assert seen and all(shape == ((smollm2.n_vocab + 31) // 32,) for shape in seen)


def test_mask_allowing_nothing_and_mask_errors(smollm2):
    with pytest.raises(ValueError, match="allows no token"):
        smollm2.generate("Hello", max_tokens=3, logits_mask=lambda prev, allowed: allowed.fill(0) or True)

    def broken(prev, allowed):
        raise KeyError("grammar state lost")

    with pytest.raises(KeyError, match="grammar state lost"):
        smollm2.generate("Hello", max_tokens=3, logits_mask=broken)
    with pytest.raises(TypeError, match="logits_mask must be callable"):
        smollm2.generate("Hello", logits_mask=42)
    assert smollm2.generate("Hello", max_tokens=2, temperature=0)  # the model is still usable


def test_mask_runs_on_one_helper_thread_that_keeps_its_python_state(smollm2):
    """One helper thread per generation, not the caller's; its Python thread state lives as long
    as the thread (a thread-local set in the first call is still there in the last)."""
    local, threads, marks = threading.local(), [], []

    def mask(previous, allowed):
        threads.append(threading.get_ident())
        marks.append(getattr(local, "mark", None))
        local.mark = previous
        return False

    smollm2.generate("Hello", max_tokens=6, ignore_eos=True, logits_mask=mask)
    assert len(threads) == 6 and len(set(threads)) == 1 and threads[0] != threading.get_ident()
    assert marks[0] is None and all(m is not None for m in marks[1:])


def test_generators_with_a_mask_dropped_or_left_running_at_exit(smollm2_path):
    """A generator destroyed mid-generation joins its mask thread (no deadlock on the GIL), and one
    still open when the interpreter exits does not keep the process alive."""
    code = (
        "import sys, pyllama_edge as ple\n"
        "m = ple.Model(sys.argv[1], n_ctx=256, n_threads=2)\n"
        "calls = []\n"
        "mask = lambda previous, allowed: calls.append(previous) or False\n"
        "it = m.stream('Hello', max_tokens=50, ignore_eos=True, logits_mask=mask)\n"
        "next(it); next(it)\n"
        "del it\n"
        "left = m.stream('Hello', max_tokens=50, ignore_eos=True, logits_mask=mask)\n"
        "next(left)\n"
        "print(len(calls))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(smollm2_path)], capture_output=True, text=True,
                         cwd=PACKAGE_PARENT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 3


def test_generate_params_and_result_objects(smollm2):
    p = _core.GenerateParams(max_tokens=None, temperature=0.5, stop="x", seed=7)
    assert (p.max_tokens, p.temperature, p.stop, p.seed, p.has_logits_mask) == (-1, 0.5, ["x"], 7, False)
    with pytest.raises(TypeError):
        _core.GenerateParams(5)  # keyword-only
    s = smollm2.session()
    gen = s._native.generate("The capital of France is", _core.GenerateParams(max_tokens=4, temperature=0))
    assert gen.result is None and not gen.finished
    text = "".join(gen)
    r = gen.result
    assert gen.finished and r.finish_reason == "length" and r.completion_tokens == 4 == len(r.tokens)
    assert r.usage == {"prompt_tokens": r.prompt_tokens, "completion_tokens": 4, "total_tokens": r.prompt_tokens + 4,
                       "prompt_tokens_details": {"cached_tokens": 0}}
    assert smollm2.detokenize(r.tokens) == text
    # The same prompt again on the same session: everything but the last prompt token is reused.
    gen2 = s._native.generate("The capital of France is", _core.GenerateParams(max_tokens=1, temperature=0))
    list(gen2)
    assert gen2.result.prompt_cached_tokens == r.prompt_tokens - 1


def test_prompt_forms_tokenize_once_in_the_core(smollm2):
    text = "Hello there"
    ids = smollm2.tokenize(text)
    assert smollm2._native.tokenize(text) == ids
    assert smollm2._native.tokenize(ids) == ids
    assert smollm2._native.tokenize(_core.Prompt.from_text(text.encode())) == ids
    assert smollm2._native.tokenize(np.array(ids)) == ids
    for bad in (b"Hello", 3.5, None):
        with pytest.raises(TypeError, match="prompt must be a str"):
            smollm2._native.tokenize(bad)


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through /proc (Linux)")
def test_sessions_share_the_models_thread_pool(smollm2_path):
    m = ple.Model(smollm2_path, n_ctx=64, n_threads=2)
    before = _threads()
    sessions = [m.session() for _ in range(6)]
    for s in sessions:
        s.generate("Hi", max_tokens=1, temperature=0)
    assert _threads() <= before + 1  # at most the pool's one worker, not one per session
    assert all(s._native.n_threads == 2 for s in sessions)
    other = m.session(n_threads=1)  # another count: its own pool (no worker threads)
    other.generate("Hi", max_tokens=1, temperature=0)
    assert _threads() <= before + 1
