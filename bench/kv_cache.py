"""KV-cache type benchmark: decode speed deep into the context and KV memory, F16 against Q8_0,
for pyllama_edge and for llama.cpp (through llama-cpp-python) on the same file and threads.

    python bench/kv_cache.py MODEL.gguf --threads 2 [--depth 2048] [--tg 32] [--reps 3]

For each (engine, kv type): a prompt of --depth tokens is prefilled, then --tg tokens are decoded
one at a time and timed (each step attends over depth + i cached positions, where the KV type
matters). Fresh worker process per measurement, engines and types alternate, median of --reps.
llama.cpp quantizes V only with flash attention, so its rows run with flash_attn=True for both
types (stated in the output). KV bytes are pyllama_edge's session.kv_cache_bytes at n_ctx.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

WORKER = r'''
import json, sys, time
engine, model, threads, depth, n_tg, kv = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
ids = [(i * 7919 + 13) % 1000 + 100 for i in range(depth + n_tg)]
n_ctx = depth + n_tg + 16
if engine == "pyllama_edge":
    import pyllama_edge as ple
    m = ple.Model(model, n_ctx=n_ctx, n_threads=threads, kv_type=kv)
    s = m.session()._native
    s.set_tokens(ids[:depth])
    t = time.perf_counter()
    for i in range(n_tg):
        s.append(ids[depth + i])
    dt = time.perf_counter() - t
    kv_bytes = s.kv_cache_bytes
else:
    import llama_cpp
    type_id = {"f16": llama_cpp.GGML_TYPE_F16, "q8_0": llama_cpp.GGML_TYPE_Q8_0}[kv]
    m = llama_cpp.Llama(model_path=model, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads, n_batch=512,
                        type_k=type_id, type_v=type_id, flash_attn=True, verbose=False)
    m.eval(ids[:depth])
    t = time.perf_counter()
    for i in range(n_tg):
        m.eval([ids[depth + i]])
    dt = time.perf_counter() - t
    kv_bytes = None
print(json.dumps({"tg": n_tg / dt, "kv_bytes": kv_bytes}))
'''


def run_worker(python: str, engine: str, model: str, threads: int, depth: int, n_tg: int, kv: str) -> dict:
    out = subprocess.run([python, "-c", WORKER, engine, model, str(threads), str(depth), str(n_tg), kv],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--depth", type=int, default=2048)
    p.add_argument("--tg", type=int, default=32)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--no-llamacpp", action="store_true")
    p.add_argument("--llamacpp-python", default=os.environ.get("LLAMACPP_PYTHON", "/var/cache/ple/llamacpp-venv/bin/python"))
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    engines = {"pyllama_edge": sys.executable}
    if not a.no_llamacpp:
        engines["llama.cpp"] = a.llamacpp_python
    cells = [(e, kv) for kv in ("f16", "q8_0") for e in engines]
    runs = {c: [] for c in cells}
    kv_bytes = {}
    for rep in range(a.reps):
        for c in (cells if rep % 2 == 0 else list(reversed(cells))):
            r = run_worker(engines[c[0]], c[0], a.model, a.threads, a.depth, a.tg, c[1])
            runs[c].append(r["tg"])
            if r["kv_bytes"] is not None:
                kv_bytes[c[1]] = r["kv_bytes"]
    med = {c: statistics.median(v) for c, v in runs.items()}
    if a.json:
        print(json.dumps({"model": a.model, "threads": a.threads, "depth": a.depth, "tg": a.tg,
                          "median": {f"{e}/{kv}": v for (e, kv), v in med.items()},
                          "runs": {f"{e}/{kv}": v for (e, kv), v in runs.items()}, "kv_bytes": kv_bytes}))
        return 0
    n_ctx = a.depth + a.tg + 16
    print(f"{os.path.basename(a.model)}, {a.threads} thread(s), tg{a.tg} after a {a.depth}-token prompt, "
          f"median of {a.reps} (tokens/s); llama.cpp with flash_attn=True")
    print(f"{'kv type':<9}{'KV MiB @' + str(n_ctx):>14}{'pyllama_edge':>14}" + (f"{'llama.cpp':>12}{'ratio':>8}" if len(engines) > 1 else ""))
    for kv in ("f16", "q8_0"):
        ours = med[("pyllama_edge", kv)]
        line = f"{kv:<9}{kv_bytes[kv] / 2**20:>14.1f}{ours:>14.1f}"
        if len(engines) > 1:
            theirs = med[("llama.cpp", kv)]
            line += f"{theirs:>12.1f}{ours / theirs:>7.2f}x"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
