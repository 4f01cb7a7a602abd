"""Decode speed with speculative decoding (issue 18) against plain decoding, greedy.

    python bench/speculative_tg.py MODEL [--draft DRAFT] [--threads 1 2] [--reps 5] [--tokens 160] [--per-prompt]

Two task sets of chat prompts: copying (rewrite a paragraph with one word changed, extract fields
from a text as JSON, repeat a code snippet with a rename), whose answers copy from the prompt, and
free-form ones. Each run decodes up to `--tokens` tokens on a fresh session; decode tok/s =
(tokens - 1) / (time from the first text piece to the end), so prefill is excluded. Greedy output
is the same with and without speculation (checked here, every run), so both modes decode the
same tokens. Runs alternate between the modes; a prompt's time is the median of `--reps`; a set's
tok/s is its tokens over its summed median times. Acceptance: kept / drafted tokens.
"""
from __future__ import annotations

import argparse
import statistics
import time

import pyllama_edge as ple

PARAGRAPH = (
    "The history of the city begins in the Roman era, when a small settlement grew up on the banks of the "
    "river. Over the centuries it became an important centre of trade, linking the farms of the surrounding "
    "countryside with merchants from distant ports. In the Middle Ages the town built its first stone walls, a "
    "cathedral and a market square that still forms the heart of the old quarter today."
)
RECORD = (
    "Order 4471 was placed on 12 March 2024 by Maria Gonzalez (maria.gonzalez@example.com, +34 612 345 678). "
    "She ordered two boxes of green tea and one ceramic teapot, to be delivered to Calle Mayor 15, 28013 Madrid, "
    "Spain. Payment: credit card ending in 4242. Total: 58.90 EUR."
)
CODE = (
    "def load_settings(path):\n"
    "    with open(path) as handle:\n"
    "        settings = json.load(handle)\n"
    "    for key, value in DEFAULTS.items():\n"
    "        settings.setdefault(key, value)\n"
    "    if settings['threads'] < 1:\n"
    "        raise ValueError('threads must be positive')\n"
    "    return settings\n"
)
COPYING = {
    "rewrite": f"Rewrite this paragraph, changing the word 'river' to 'lake'. Keep everything else the same.\n\n{PARAGRAPH}",
    "extract": f"Extract the order number, date, customer name, email, phone, address and total from this text as "
               f"JSON.\n\n{RECORD}",
    "rename": f"Repeat this Python function, renaming the variable 'settings' to 'config'.\n\n{CODE}",
}
FREE = {
    "story": "Write a short story about a lighthouse keeper who finds a message in a bottle.",
    "explain": "Explain how a refrigerator keeps food cold.",
    "ideas": "Give me some ideas for a weekend trip with children.",
}


def run(model: ple.Model, prompt: str, tokens: int, speculative):
    session = model.session()
    kwargs = dict(max_tokens=tokens, temperature=0)
    if speculative is not None:
        kwargs["speculative"] = speculative
    pieces = session.chat_stream([{"role": "user", "content": prompt}], **kwargs)
    next(pieces)
    start = time.perf_counter()
    for _ in pieces:
        pass
    elapsed = time.perf_counter() - start
    r = session.last_result
    return list(r.tokens), elapsed, r.draft_tokens, r.accepted_draft_tokens


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--draft", help="a draft model's GGUF file, measured as a third mode")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--tokens", type=int, default=160)
    ap.add_argument("--per-prompt", action="store_true", help="also each prompt's speed-up and kept/drafted")
    args = ap.parse_args()
    modes = {"plain": None, "lookup": "lookup"}
    print("| threads | set | mode | tokens | tok/s | speed-up | acceptance |")
    print("|---|---|---|---|---|---|---|")
    for threads in args.threads:
        model = ple.Model(args.model, n_ctx=1024, n_threads=threads)
        if args.draft:
            modes["draft"] = ple.Model(args.draft, n_ctx=1024, n_threads=threads)
        for set_name, prompts in (("copying", COPYING), ("free", FREE)):
            times = {m: {p: [] for p in prompts} for m in modes}
            counts = {m: {p: (0, 0, 0) for p in prompts} for m in modes}
            for _ in range(args.reps):
                for name, prompt in prompts.items():
                    reference = None
                    for mode, speculative in modes.items():
                        ids, elapsed, drafted, accepted = run(model, prompt, args.tokens, speculative)
                        if reference is None:
                            reference = ids
                        assert ids == reference, f"{mode} changed the output of {name}"
                        times[mode][name].append(elapsed)
                        counts[mode][name] = (len(ids) - 1, drafted, accepted)
            if args.per_prompt:
                for name in prompts:
                    base = statistics.median(times["plain"][name])
                    cells = [f"{m} {base / statistics.median(times[m][name]):.2f}x ({counts[m][name][2]}/{counts[m][name][1]})"
                             for m in modes if m != "plain"]
                    print(f"|   | {name} | {counts['plain'][name][0]} tokens | {', '.join(cells)} |||", flush=True)
            plain_rate = None
            for mode in modes:
                decoded = sum(c[0] for c in counts[mode].values())
                seconds = sum(statistics.median(t) for t in times[mode].values())
                drafted = sum(c[1] for c in counts[mode].values())
                accepted = sum(c[2] for c in counts[mode].values())
                rate = decoded / seconds
                plain_rate = plain_rate or rate
                acceptance = f"{accepted}/{drafted} ({accepted / drafted:.0%})" if drafted else "-"
                print(f"| {threads} | {set_name} | {mode} | {decoded} | {rate:.1f} | {rate / plain_rate:.2f}x | {acceptance} |",
                      flush=True)
        model.close()
        if args.draft:
            modes.pop("draft").close()


if __name__ == "__main__":
    main()
