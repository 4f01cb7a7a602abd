"""Prompt-lookup decoding, ours against llama.cpp's (`llama-lookup`), on the prompts of
bench/speculative_tg.py: same file, same threads, same run, greedy.

    python bench/speculative_llamacpp.py MODEL --llama-lookup PATH [--threads 1 2] [--reps 3] [--tokens 160]

Each chat prompt is rendered by our chat template and given to llama-lookup as text with its
control tokens (`-p`, which it tokenizes with special tokens parsed). llama.cpp's plain rate is the
same program with `--spec-draft-n-max 0` (no drafts: one token per pass), its lookup rate `--spec-draft-n-max 16`
(our longest draft); its "decoded N tokens in T seconds" excludes the prompt, like ours (tok/s
from the first piece to the end). A set's rate is its tokens over its prompts' summed median
times. The two engines may decode slightly different greedy tokens (different arithmetic); each
is compared with its own plain run.
"""
from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pyllama_edge as ple

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speculative_tg import COPYING, FREE, run  # noqa: E402

DECODED = re.compile(r"decoded\s+(\d+) tokens in\s+([\d.]+) seconds")
DRAFTED = re.compile(r"n_drafted\s*=\s*(\d+)")
ACCEPTED = re.compile(r"n_accept\s*=\s*(\d+)")


def prompt_text(model: ple.Model, prompt: str) -> str:
    ids = model.tokenize_chat([{"role": "user", "content": prompt}])
    tokenizer = model._tokenizer
    if ids and tokenizer.add_bos and ids[0] == tokenizer.bos_id:
        ids = ids[1:]  # llama.cpp adds it itself
    return b"".join(tokenizer.token_piece(i, True) for i in ids).decode("utf-8")


def llama_lookup(binary: str, path: str, text: str, threads: int, tokens: int, draft_max: int):
    out = subprocess.run([binary, "-m", path, "-p", text, "-n", str(tokens), "--temp", "0", "-t", str(threads),
                          "-tb", str(threads), "-c", "1024", "--spec-draft-n-max", str(draft_max)],
                         capture_output=True, text=True, check=True)
    log = out.stdout + out.stderr
    decoded = DECODED.search(log)
    if decoded is None:
        raise RuntimeError("no timing in llama-lookup's output:\n" + log[-2000:])
    drafted, accepted = DRAFTED.search(log), ACCEPTED.search(log)
    return (int(decoded.group(1)), float(decoded.group(2)), int(drafted.group(1)) if drafted else 0,
            int(accepted.group(1)) if accepted else 0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--llama-lookup", required=True)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=160)
    args = ap.parse_args()
    print("| threads | set | ours plain | ours lookup | ours speed-up | llama.cpp plain | llama.cpp lookup "
          "| llama.cpp speed-up | lookup, ours / llama.cpp |")
    print("|---|---|---|---|---|---|---|---|---|")
    for threads in args.threads:
        model = ple.Model(args.model, n_ctx=1024, n_threads=threads)
        for set_name, prompts in (("copying", COPYING), ("free", FREE)):
            times = {m: {p: [] for p in prompts} for m in ("ours", "ours_lookup", "llama", "llama_lookup")}
            tokens = {m: {} for m in times}
            kept = {"ours_lookup": [0, 0], "llama_lookup": [0, 0]}
            for rep in range(args.reps):
                for name, prompt in prompts.items():
                    text = prompt_text(model, prompt)
                    for mode, speculative in (("ours", None), ("ours_lookup", "lookup")):
                        ids, elapsed, drafted, accepted = run(model, prompt, args.tokens, speculative)
                        times[mode][name].append(elapsed)
                        tokens[mode][name] = len(ids) - 1
                        if mode == "ours_lookup" and rep == 0:
                            kept[mode][0] += accepted
                            kept[mode][1] += drafted
                    for mode, draft_max in (("llama", 0), ("llama_lookup", 16)):
                        n, seconds, drafted, accepted = llama_lookup(args.llama_lookup, args.model, text, threads,
                                                                     args.tokens, draft_max)
                        times[mode][name].append(seconds)
                        tokens[mode][name] = n
                        if mode == "llama_lookup" and rep == 0:
                            kept[mode][0] += accepted
                            kept[mode][1] += drafted
            rate = {m: sum(tokens[m].values()) / sum(statistics.median(t) for t in times[m].values()) for m in times}
            print(f"| {threads} | {set_name} | {rate['ours']:.1f} | {rate['ours_lookup']:.1f} "
                  f"({kept['ours_lookup'][0]}/{kept['ours_lookup'][1]} kept) | **{rate['ours_lookup'] / rate['ours']:.2f}x** "
                  f"| {rate['llama']:.1f} | {rate['llama_lookup']:.1f} ({kept['llama_lookup'][0]}/{kept['llama_lookup'][1]} kept) "
                  f"| **{rate['llama_lookup'] / rate['llama']:.2f}x** | **{rate['ours_lookup'] / rate['llama_lookup']:.2f}** |",
                  flush=True)
        model.close()


if __name__ == "__main__":
    main()
