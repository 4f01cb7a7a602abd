"""Aggregate decode speed of `pyllama-edge serve` with 1, 2, 4 concurrent streams, and the load
test's latency and throughput.

    python bench/server_bench.py MODEL [--threads 2] [--streams 1 2 4] [--tokens 128] [--reps 3] [--load]

For each stream count N a server with --parallel N is started on 127.0.0.1; N clients (the
official openai package) each stream the same greedy request (a counting prompt that does not stop
early) of --tokens tokens. Aggregate decode tok/s = all streams' completion tokens / (last stream's
end - first stream's first token), so the prompts' prefill is mostly excluded. Median of --reps.
--load also runs the load test's driver (8 clients x 25 requests, streamed / plain / cancelled,
--parallel 4) and prints p50/p95 latency, tokens/s and the server's RSS.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import openai

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the test helpers: server, load driver
from support.server import ServerProcess  # noqa: E402
from support.server_load import run_load  # noqa: E402

PROMPT = [{"role": "user", "content": "Count from 1 to 1000, one number per line."}]


def aggregate_rate(url: str, model_id: str, streams: int, tokens: int) -> float:
    firsts, ends, counts = [0.0] * streams, [0.0] * streams, [0] * streams

    def one(i: int) -> None:
        with openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0, timeout=600) as client:
            for chunk in client.chat.completions.create(model=model_id, messages=PROMPT, temperature=0, max_tokens=tokens,
                                                        stream=True, stream_options={"include_usage": True}):
                if chunk.choices and chunk.choices[0].delta.content and not firsts[i]:
                    firsts[i] = time.monotonic()
                if chunk.usage:
                    counts[i] = chunk.usage.completion_tokens
            ends[i] = time.monotonic()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(streams)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (max(ends) - min(firsts))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--streams", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--tokens", type=int, default=128)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--load", action="store_true")
    a = p.parse_args()
    print(f"| streams | aggregate decode tok/s (median of {a.reps}) | runs |")
    print("|---|---|---|")
    for n in a.streams:
        s = ServerProcess(Path(a.model), ["--parallel", str(n), "--threads", str(a.threads), "--ctx", "1024",
                                          "--max-tokens-limit", str(a.tokens)])
        try:
            with openai.OpenAI(base_url=s.url + "/v1", api_key="x") as client:
                model_id = client.models.list().data[0].id
            aggregate_rate(s.url, model_id, n, 8)  # warm-up: every slot touched
            runs = [aggregate_rate(s.url, model_id, n, a.tokens) for _ in range(a.reps)]
        finally:
            s.stop()
        print(f"| {n} | {statistics.median(runs):.1f} | {', '.join(f'{r:.1f}' for r in runs)} |")
    if a.load:
        s = ServerProcess(Path(a.model), ["--parallel", "4", "--threads", str(a.threads), "--ctx", "512",
                                          "--queue-timeout", "300"])
        try:
            with openai.OpenAI(base_url=s.url + "/v1", api_key="x") as client:
                model_id = client.models.list().data[0].id
            run_load(s.url, model_id, clients=4, requests=3)
            before = s.rss_bytes()
            result = run_load(s.url, model_id, clients=8, requests=25)
            print(f"load: {result.summary()}; server RSS {before / 2**20:.1f} -> {s.rss_bytes() / 2**20:.1f} MiB")
        finally:
            s.stop()


if __name__ == "__main__":
    main()
