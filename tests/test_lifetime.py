"""Lifetime: a Model and its sessions form no reference cycle, so dropping the last reference
frees the mapping and the KV caches at once, without the cyclic garbage collector; close() and
`with` blocks free them explicitly, and a closed object refuses further use with ValueError."""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref

import pytest

import pyllama_edge as ple
from support.test_data import PACKAGE_PARENT
from support.model_files import synthetic


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return synthetic(tmp_path_factory.mktemp("life"), "life_q8", weight_type="Q8_0", n_layer=2, n_embd=64, n_head=2,
                     n_head_kv=1, n_ff=128, n_ctx_train=256, rope_freqs=False)


def test_dropped_model_is_freed_without_the_gc(tiny) -> None:
    gc.disable()
    try:
        m = ple.Model(tiny, n_ctx=64, n_threads=1)
        s = m.session()
        m.generate("Hello", max_tokens=2, temperature=0.0)
        m.chat([{"role": "user", "content": "Hi <|eot_id|>"}], max_tokens=2)
        stream = m.stream("Hi", max_tokens=2)
        next(stream)
        refs = [weakref.ref(m), weakref.ref(s)]
        del m, s, stream
        assert [r() for r in refs] == [None, None]
    finally:
        gc.enable()


def test_twenty_loads_with_gc_disabled_keep_rss_flat(smollm2_path) -> None:
    """RSS after 20 more load/generate/drop cycles of SmolLM2 (86 MB file, its weights all read by
    one token) against after the first two. A model kept alive by a cycle holds its mapped
    pages, layout and KV cache: 100+ MiB per cycle."""
    code = (
        "import gc, os, sys, pyllama_edge as ple\n"
        "gc.disable()\n"
        "page = os.sysconf('SC_PAGE_SIZE')\n"
        "rss = lambda: int(open('/proc/self/statm').read().split()[1]) * page\n"
        "def cycle():\n"
        "    m = ple.Model(sys.argv[1], n_ctx=256, n_threads=1)\n"
        "    m.generate('Hello', max_tokens=2, temperature=0.0)\n"
        "    m.chat([{'role': 'user', 'content': 'Hi'}], max_tokens=2, temperature=0.0)\n"
        "cycle(); cycle()\n"
        "base = rss()\n"
        "for _ in range(20):\n"
        "    cycle()\n"
        "print(base, rss())\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(smollm2_path)], capture_output=True, text=True, check=True,
                         cwd=PACKAGE_PARENT)
    base, after = map(int, out.stdout.split())
    print(f"\nRSS after 2 cycles {base / 2**20:.1f} MiB, after 20 more {after / 2**20:.1f} MiB")
    assert after - base < 48 * 2**20


def test_close_frees_and_refuses_further_use(tiny) -> None:
    m = ple.Model(tiny, n_ctx=64, n_threads=1)
    s = m.session()
    open_stream = m.stream("Hello", max_tokens=8, temperature=0.0)
    next(open_stream)
    m.close()
    assert m.closed and s.closed
    for call in (lambda: m.generate("Hi"), lambda: m.tokenize("Hi"), lambda: m.session(), lambda: m.logits([1]),
                 lambda: m.chat([{"role": "user", "content": "Hi"}]), lambda: s.generate("Hi"), lambda: s.n_ctx,
                 lambda: next(open_stream)):
        with pytest.raises(ValueError, match="is closed"):
            call()
    m.close()  # twice is fine
    assert "closed" in repr(m)


def test_session_close_keeps_the_model(tiny) -> None:
    m = ple.Model(tiny, n_ctx=64, n_threads=1)
    with m.session() as s:
        s.generate("Hello", max_tokens=2)
    assert s.closed and not m.closed
    with pytest.raises(ValueError, match="Session is closed"):
        s.generate("Hello")
    with pytest.raises(ValueError, match="closed"):
        with s:
            pass
    assert isinstance(m.generate("Hello", max_tokens=2), str)


def test_model_as_context_manager(tiny) -> None:
    with ple.Model(tiny, n_ctx=64, n_threads=1) as m:
        assert isinstance(m.generate("Hello", max_tokens=2), str)
    assert m.closed
    with pytest.raises(ValueError, match="is closed"):
        m.stream("Hello")
