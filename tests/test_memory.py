"""Memory: a mapped model costs pages actually touched, not its file size; 500 generate calls do
not grow the native heap or Python's; the KV cache is bounded by n_ctx and reported up front."""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import tracemalloc

import pytest

import pyllama_edge as ple
from support.model_files import synthetic

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return synthetic(tmp_path_factory.mktemp("mem"), "mem_q8", weight_type="Q8_0", n_layer=2, n_embd=64, n_head=2,
                     n_head_kv=1, n_ff=128, n_ctx_train=512, rope_freqs=False)


def test_rss_after_load_is_far_below_file_size(smollm2_path) -> None:
    """In a fresh process: RSS growth from Model(path) vs the 86 MB file. Loading touches the
    header, metadata (the vocabulary) and the norm vectors it copies, not the weight matrices."""
    code = (
        "import os, sys, pyllama_edge as ple\n"
        "page = os.sysconf('SC_PAGE_SIZE')\n"
        "rss = lambda: int(open('/proc/self/statm').read().split()[1]) * page\n"
        "before = rss()\n"
        "m = ple.Model(sys.argv[1], n_ctx=256, n_threads=1)\n"
        "after_load = rss()\n"
        "m.generate('Hello', max_tokens=1, temperature=0.0)\n"
        "print(before, after_load, rss(), os.path.getsize(sys.argv[1]), m.session().kv_cache_bytes)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(smollm2_path)], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(ple.__file__)))
    before, after_load, after_gen, size, kv = map(int, out.stdout.split())
    loaded = after_load - before
    print(f"\nSmolLM2 Q4_1 file {size / 2**20:.1f} MiB: RSS +{loaded / 2**20:.1f} MiB after Model(), "
          f"+{(after_gen - before) / 2**20:.1f} MiB after one token (KV cache {kv / 2**20:.1f} MiB)")
    assert loaded < 0.5 * size
    # One token reads every weight once: the file's pages become resident (shared, file-backed).
    assert after_gen - before < size + kv + 64 * 2**20


def test_no_growth_over_500_generate_calls(tiny) -> None:
    m = ple.Model(tiny, n_ctx=64, n_threads=1)
    sess = m.session()

    def batch(n: int) -> None:
        for i in range(n):
            sess.generate(f"Hello {i % 7}", max_tokens=3, temperature=0.8, seed=i)
            m.detokenize(m.tokenize("The capital of France"))

    batch(50)  # warm-up: allocator pools, caches, interned strings
    gc.collect()
    tracemalloc.start()
    snap0 = tracemalloc.take_snapshot()
    rss0 = rss_bytes()
    batch(500)
    gc.collect()
    rss1 = rss_bytes()
    snap1 = tracemalloc.take_snapshot()
    tracemalloc.stop()
    py_growth = sum(s.size_diff for s in snap1.compare_to(snap0, "filename"))
    print(f"\n500 generate calls: native RSS {(rss1 - rss0) / 1024:+.0f} KiB, Python heap {py_growth / 1024:+.1f} KiB")
    assert rss1 - rss0 < 2 * 2**20
    assert py_growth < 256 * 1024


def test_kv_cache_bounded_by_n_ctx(tiny) -> None:
    m = ple.Model(tiny, n_ctx=16, n_threads=1)
    hp = m.hparams
    kv_dim = hp["n_head_kv"] * (hp["n_embd"] // hp["n_head"])
    for n_ctx in (16, 128, 512):
        s = m.session(n_ctx=n_ctx)
        assert s.kv_cache_bytes == 2 * hp["n_layer"] * n_ctx * kv_dim * 2


def test_cli_info_reports_kv_memory_before_loading(tiny) -> None:
    out = subprocess.run([sys.executable, "-m", "pyllama_edge", "info", str(tiny), "--ctx", "512"], capture_output=True,
                         text=True, check=True, cwd=os.path.dirname(os.path.dirname(ple.__file__))).stdout
    assert "memory at n_ctx=512" in out and "KV cache 128.0 KiB" in out or "KV cache 128 KiB" in out, out
