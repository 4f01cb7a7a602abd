"""Side-by-side speed of pyllama_edge and llama.cpp (through llama-cpp-python) on one GGUF file.

    python bench/compare_llamacpp.py MODEL.gguf --threads 2 [--reps 3] [--llamacpp-python PATH]
                                     [--baseline-python PATH]

pp512: one 512-token prompt evaluated as a batch. tg128: 128 tokens decoded one at a time after
a short prompt (greedy ids are not needed for speed; the same fixed ids feed both engines). Each
measurement runs in a fresh worker process; engines alternate; the median of --reps is reported.
llama-cpp-python lives in its own virtualenv (see bench/README.md); --llamacpp-python names its
interpreter. --baseline-python adds a third engine: pyllama_edge as installed for another
interpreter (an earlier build in its own virtualenv), for before/after tables of a change measured
in the same run. The roofline line divides this machine's read bandwidth, measured with the same
thread count by bench/read_bandwidth.c, by the weight bytes one decoded token streams (every
matrix once, the output head included).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import shutil
import subprocess
import sys
import tempfile
import time

WORKER = r'''
import json, sys, time
engine, model, threads, n_pp, n_tg = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
ids = [(i * 7919 + 13) % 1000 + 100 for i in range(n_pp)]
if engine == "pyllama_edge":
    import pyllama_edge as ple
    m = ple.Model(model, n_ctx=n_pp + n_tg + 16, n_threads=threads, n_batch=n_pp)
    s = m.session()._native
    def prefill(tokens):
        s.reset(); s.set_tokens(tokens)
    def run_tg(prompt, n):
        prefill(prompt)
        t = time.perf_counter()
        for i in range(n):
            s.append(ids[i])
        return time.perf_counter() - t
else:
    from llama_cpp import Llama
    m = Llama(model_path=model, n_ctx=n_pp + n_tg + 16, n_threads=threads, n_threads_batch=threads, n_batch=n_pp,
              n_ubatch=n_pp, verbose=False)
    def prefill(tokens):
        m.reset(); m.eval(tokens)
    def run_tg(prompt, n):
        m.reset(); m.eval(prompt)
        t = time.perf_counter()
        for i in range(n):
            m.eval([ids[i]])
        return time.perf_counter() - t
prefill(ids[:16])  # warm-up: pages in the weights
t = time.perf_counter(); prefill(ids); pp = time.perf_counter() - t
tg = run_tg(ids[:8], n_tg)
print(json.dumps({"pp": n_pp / pp, "tg": n_tg / tg}))
'''


def run_worker(python: str, engine: str, model: str, threads: int, n_pp: int, n_tg: int) -> dict:
    out = subprocess.run([python, "-c", WORKER, engine, model, str(threads), str(n_pp), str(n_tg)],
                         capture_output=True, text=True, check=True, env={**os.environ, "OMP_NUM_THREADS": str(threads)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def read_bandwidth_gbs(threads: int) -> tuple[float, str]:
    """Streaming read bandwidth with `threads` threads, and how it was measured: bench/read_bandwidth.c
    built with the host compiler (wide loads, like the kernels), else numpy's single-threaded sum
    over 1 GiB (which reads slower: the roofline is then optimistic for both engines)."""
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "read_bandwidth.c")
    compiler = shutil.which(os.environ.get("CC", "cc"))
    if compiler:
        with tempfile.TemporaryDirectory() as tmp:
            exe = os.path.join(tmp, "read_bandwidth")
            built = subprocess.run([compiler, "-O2", "-march=native", "-pthread", source, "-o", exe],
                                   capture_output=True).returncode == 0
            if built:
                out = subprocess.run([exe, str(threads)], capture_output=True, text=True, check=True).stdout
                return float(out.split()[0]), f"read_bandwidth.c, {threads} thread(s)"
    import numpy as np
    a = np.ones(1 << 27, dtype=np.float64)
    best = 0.0
    for _ in range(3):
        t = time.perf_counter()
        a.sum()
        best = max(best, a.nbytes / (time.perf_counter() - t) / 1e9)
    return best, "numpy sum, 1 thread (no C compiler)"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--pp", type=int, default=512)
    p.add_argument("--tg", type=int, default=128)
    p.add_argument("--llamacpp-python", default=os.environ.get("LLAMACPP_PYTHON", "/var/cache/ple/llamacpp-venv/bin/python"))
    p.add_argument("--baseline-python", help="an interpreter with an earlier pyllama_edge build, run as a third engine")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()

    import pyllama_edge as ple
    m = ple.Model(a.model, n_ctx=64)
    bytes_per_token = m._native.weight_bytes_per_token
    del m
    engines = {"pyllama_edge": sys.executable, "llama.cpp": a.llamacpp_python}
    if a.baseline_python:
        engines["baseline"] = a.baseline_python
    worker_engine = {"pyllama_edge": "pyllama_edge", "llama.cpp": "llama.cpp", "baseline": "pyllama_edge"}
    results = {e: {"pp": [], "tg": []} for e in engines}
    for rep in range(a.reps):
        order = list(engines) if rep % 2 == 0 else list(reversed(engines))
        for e in order:
            r = run_worker(engines[e], worker_engine[e], a.model, a.threads, a.pp, a.tg)
            results[e]["pp"].append(r["pp"])
            results[e]["tg"].append(r["tg"])
    med = {e: {k: statistics.median(v) for k, v in results[e].items()} for e in engines}
    bw, bw_how = read_bandwidth_gbs(a.threads)
    roof = bw * 1e9 / bytes_per_token
    if a.json:
        print(json.dumps({"model": a.model, "threads": a.threads, "median": med, "runs": results,
                          "bandwidth_gbs": bw, "bandwidth_measured_by": bw_how, "weight_bytes_per_token": bytes_per_token}))
        return 0
    name = os.path.basename(a.model)
    print(f"{name}, {a.threads} thread(s), median of {a.reps} (tokens/s)")
    baseline = "baseline" in med
    print(f"{'test':<8}{'pyllama_edge':>14}{'llama.cpp':>12}{'ratio':>8}" + (f"{'baseline':>10}{'new/base':>10}" if baseline else ""))
    for k, label in (("pp", f"pp{a.pp}"), ("tg", f"tg{a.tg}")):
        ours, theirs = med["pyllama_edge"][k], med["llama.cpp"][k]
        line = f"{label:<8}{ours:>14.1f}{theirs:>12.1f}{ours / theirs:>7.2f}x"
        if baseline:
            base = med["baseline"][k]
            line += f"{base:>10.1f}{ours / base:>9.3f}x"
        print(line)
    print(f"roofline: {bw:.1f} GB/s read ({bw_how}) / {bytes_per_token / 1e6:.1f} MB per token = {roof:.0f} tok/s; "
          f"decode reaches {med['pyllama_edge']['tg'] / roof:.0%} (pyllama_edge), "
          f"{med['llama.cpp']['tg'] / roof:.0%} (llama.cpp)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
