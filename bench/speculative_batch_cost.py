"""What speculative decoding's verification step costs: a batch of n tokens appended after a
300-token context (Session.append_batch) against one decode step, median of --reps.

    python bench/speculative_batch_cost.py MODEL [--threads 1] [--reps 30] [--sizes 2 3 4 6 8 12 17]

A draft of k tokens pays off when the tokens it keeps are worth more decode steps than the batch
of k + 1 costs above one step.
"""
from __future__ import annotations

import argparse
import statistics
import time

import pyllama_edge as ple


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2, 3, 4, 6, 8, 12, 17])
    args = ap.parse_args()
    model = ple.Model(args.model, n_ctx=1024, n_threads=args.threads)
    session = model.session()._native
    context = model.tokenize("hello " * 300)[:300]
    token = context[-1]

    def timed(step) -> float:
        session.set_tokens(context)  # the same cache state before every measurement
        start = time.perf_counter()
        step()
        return time.perf_counter() - start

    decode = statistics.median(timed(lambda: session.append(token)) for _ in range(args.reps))
    print(f"threads {args.threads}: decode step {decode * 1e3:.2f} ms")
    print("| batch | ms | decode steps | ms per token |")
    print("|---|---|---|---|")
    for n in args.sizes:
        t = statistics.median(timed(lambda: session.append_batch([token] * n)) for _ in range(args.reps))
        print(f"| {n} | {t * 1e3:.2f} | {t / decode:.2f} | {t / n * 1e3:.2f} |")
    model.close()


if __name__ == "__main__":
    main()
