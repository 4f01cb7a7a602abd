"""Aggregate decode speed of batched sessions (Model.batched_sessions: the server's slots) with
1, 2, 4 streams, side by side with llama.cpp's batched decoding (llama-batched-bench: B sequences
decoded in one batch per step) on the same file, same threads, same run.

    python bench/batched_decode.py MODEL [--threads 2] [--streams 1 2 4] [--prompt 16] [--tokens 64]
                                   [--reps 3] [--llama-batched-bench PATH]

Ours: B threads, each with one of B batched sessions, evaluate a --prompt-token prompt, wait for
each other, then each decodes --tokens tokens greedily (ignore_eos); aggregate tok/s = B x tokens
/ (last stream's end - the common start). llama.cpp: llama-batched-bench -npp PROMPT -ntg TOKENS
-npl B -t THREADS, its S_TG column (the same quantity: B x TG tokens over the decode time). Runs
alternate between the two engines; medians of --reps.
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import threading
import time

import pyllama_edge as ple


def ours(model: ple.Model, streams: int, prompt: list, tokens: int) -> float:
    sessions = model.batched_sessions(streams)
    for s in sessions:  # warm: the prompt is in every cache, so each run starts from the same state
        s.generate(prompt, max_tokens=1, temperature=0)
    ready = threading.Barrier(streams)
    starts, ends = [0.0] * streams, [0.0] * streams

    def one(i: int) -> None:
        s = sessions[i]
        s._native.set_tokens(prompt)  # the prompt's pass (cached) before the clock starts
        ready.wait()
        starts[i] = time.perf_counter()
        s.generate(prompt, max_tokens=tokens, temperature=0, ignore_eos=True)
        ends[i] = time.perf_counter()
        assert s.last_usage["completion_tokens"] == tokens

    threads = [threading.Thread(target=one, args=(i,)) for i in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return streams * tokens / (max(ends) - min(starts))


def llama(binary: str, path: str, threads: int, streams: int, prompt: int, tokens: int) -> float:
    out = subprocess.run([binary, "-m", path, "-c", "2048", "-b", "512", "-ub", "512", "-npp", str(prompt),
                          "-ntg", str(tokens), "-npl", str(streams), "-t", str(threads), "-tb", str(threads)],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 10 and cells[0] == str(prompt) and cells[2] == str(streams):
            return float(cells[7])  # S_TG t/s
    raise RuntimeError("no result row in llama-batched-bench's output:\n" + out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--streams", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--llama-batched-bench", default=None)
    args = ap.parse_args()
    model = ple.Model(args.model, n_ctx=512, n_threads=args.threads)
    prompt = (model.tokenize("Count from one to a hundred: one, two, three, four, five, six, seven, eight") * 4)[:args.prompt]
    rows = []
    for streams in args.streams:
        a, b = [], []
        for _ in range(args.reps):
            a.append(ours(model, streams, prompt, args.tokens))
            if args.llama_batched_bench:
                b.append(llama(args.llama_batched_bench, args.model, args.threads, streams, args.prompt, args.tokens))
        rows.append((streams, statistics.median(a), statistics.median(b) if b else None, a, b))
    base_a = rows[0][1]
    base_b = rows[0][2]
    print(f"{args.model}, {args.threads} threads, prompt {args.prompt}, {args.tokens} tokens per stream, median of {args.reps}")
    print("| streams | ours tok/s | x 1 stream | llama.cpp tok/s | x 1 stream | ours / llama.cpp |")
    print("|---|---|---|---|---|---|")
    for streams, a, b, runs_a, runs_b in rows:
        lcpp = f"{b:.1f} | {b / base_b:.2f}x | **{a / b:.2f}**" if b else "- | - | -"
        print(f"| {streams} | {a:.1f} | {a / base_a:.2f}x | {lcpp} |")
    for streams, a, b, runs_a, runs_b in rows:
        print(f"runs, {streams} streams: ours {', '.join(f'{x:.1f}' for x in runs_a)}"
              + (f"; llama.cpp {', '.join(f'{x:.1f}' for x in runs_b)}" if runs_b else ""))


if __name__ == "__main__":
    main()
