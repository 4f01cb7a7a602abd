"""Decode speed with and without a JSON-schema constraint (llguidance mask each step).

    python bench/constrained_tg.py MODEL [--threads 1 2] [--reps 5] [--tokens 128]

Each measurement decodes `--tokens` tokens after the same short prompt on a fresh session; decode
tok/s = (tokens - 1) / (time from the first text piece to the end), so prefill and the first
mask (grammar start-up) are excluded. The constrained run uses a schema whose output is long
(an array of 64 strings), so both runs decode the full count; the free run has ignore_eos.
Reports the median of `--reps`, the runs alternating, and the mean time per step spent in the
mask hook (consume token + fill mask), measured around it.
"""
from __future__ import annotations

import argparse
import statistics
import time

import pyllama_edge as ple
from pyllama_edge import constrained

SCHEMA = {"type": "array", "items": {"type": "string", "maxLength": 24}, "minItems": 64, "maxItems": 64}
PROMPT = [{"role": "user", "content": "List sixty-four animal names as a JSON array."}]


class TimedMask:
    def __init__(self, inner):
        self.inner, self.seconds, self.calls = inner, 0.0, 0

    def __call__(self, previous, allowed):
        start = time.perf_counter()
        try:
            return self.inner(previous, allowed)
        finally:
            self.seconds += time.perf_counter() - start
            self.calls += 1


def decode_rate(model: ple.Model, tokens: int, mask=None) -> float:
    session = model.session()
    kwargs = dict(max_tokens=tokens, temperature=0.8, seed=1, repeat_penalty=1.1)
    kwargs.update(dict(logits_mask=mask) if mask else dict(ignore_eos=True))
    pieces = session.chat_stream(PROMPT, **kwargs)
    next(pieces)
    start = time.perf_counter()
    for _ in pieces:
        pass
    elapsed = time.perf_counter() - start
    done = session.last_result.completion_tokens
    assert done == tokens, f"decoded {done} of {tokens} tokens"  # same work in both runs
    return (done - 1) / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=128)
    args = ap.parse_args()
    grammar = constrained.json_grammar(SCHEMA)
    print("| threads | tg free tok/s | tg constrained tok/s | ratio | mask hook per step |")
    print("|---|---|---|---|---|")
    for threads in args.threads:
        model = ple.Model(args.model, n_ctx=512, n_threads=threads)
        free, bound, hook = [], [], []
        for _ in range(args.reps):
            free.append(decode_rate(model, args.tokens))
            mask = TimedMask(constrained.GrammarMask(model, grammar))
            bound.append(decode_rate(model, args.tokens, mask))
            hook.append(mask.seconds / mask.calls)
        f, b = statistics.median(free), statistics.median(bound)
        print(f"| {threads} | {f:.1f} | {b:.1f} | {b / f:.3f} | {statistics.median(hook) * 1e6:.0f} us |")
        model.close()


if __name__ == "__main__":
    main()
