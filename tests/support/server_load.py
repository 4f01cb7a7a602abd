"""A bounded load on a running server through the official client: `clients` threads, each sending
`requests` chat requests in turn streamed, plain and cancelled (hung up after two chunks). Every
answer is checked; latencies and tokens are collected. Used by the slow load test and
bench/server_bench.py."""
from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Dict, List

import openai

PROMPTS = ["What is the capital of France?", "Write a haiku about rain.", "Name three planets.",
           "Explain what a CPU does in one sentence.", "Count from 1 to 20.", "Say hello in Spanish."]
KINDS = ("stream", "plain", "cancel")


@dataclass
class LoadResult:
    seconds: float = 0.0
    done: Dict[str, int] = field(default_factory=lambda: {k: 0 for k in KINDS})
    statuses: Dict[int, int] = field(default_factory=dict)  # error responses by HTTP status
    invalid: List[str] = field(default_factory=list)  # completed answers that were not well formed
    latencies: List[float] = field(default_factory=list)  # seconds, completed (not cancelled) requests
    completion_tokens: int = 0

    def percentile(self, q: float) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[q - 1] if len(self.latencies) > 1 else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.seconds if self.seconds else 0.0

    def summary(self) -> str:
        return (f"{sum(self.done.values())} requests ({self.done}) in {self.seconds:.1f} s; errors by status "
                f"{self.statuses or 'none'}; invalid {len(self.invalid)}; latency p50 {self.percentile(50):.2f} s "
                f"p95 {self.percentile(95):.2f} s; {self.completion_tokens} tokens, {self.tokens_per_s:.1f} tokens/s")


def run_load(base_url: str, model_id: str, clients: int = 8, requests: int = 25, max_tokens: int = 32) -> LoadResult:
    result = LoadResult()
    lock = threading.Lock()

    def check(ok: bool, what: str) -> None:
        if not ok:
            with lock:
                result.invalid.append(what)

    def one(client: openai.OpenAI, kind: str, prompt: str, seed: int) -> None:
        kwargs = dict(model=model_id, messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens,
                      temperature=0.7, seed=seed)
        start = time.monotonic()
        if kind == "plain":
            r = client.chat.completions.create(**kwargs)
            choice = r.choices[0]
            check(isinstance(choice.message.content, str) and choice.finish_reason in ("stop", "length")
                  and 0 < r.usage.completion_tokens <= max_tokens, f"plain: {r}")
            tokens = r.usage.completion_tokens
        elif kind == "stream":
            chunks = list(client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kwargs))
            finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
            usage = chunks[-1].usage if chunks else None
            check(chunks and chunks[0].choices[0].delta.role == "assistant" and finish in (["stop"], ["length"])
                  and usage is not None and 0 < usage.completion_tokens <= max_tokens, f"stream: {chunks[-2:]}")
            tokens = usage.completion_tokens if usage else 0
        else:
            stream = client.chat.completions.create(stream=True, **kwargs)
            for _ in zip(range(2), stream):
                pass
            stream.close()
            tokens = 0
        with lock:
            result.done[kind] += 1
            result.completion_tokens += tokens
            if kind != "cancel":
                result.latencies.append(time.monotonic() - start)

    def worker(index: int) -> None:
        with openai.OpenAI(base_url=base_url + "/v1", api_key="load", max_retries=0, timeout=300) as client:
            for j in range(requests):
                try:
                    one(client, KINDS[(index + j) % 3], PROMPTS[(index * 7 + j) % len(PROMPTS)], index * 1000 + j)
                except openai.APIStatusError as e:
                    with lock:
                        result.statuses[e.status_code] = result.statuses.get(e.status_code, 0) + 1
                except openai.APIError as e:  # a connection error or an error event mid-stream
                    with lock:
                        result.invalid.append(f"{type(e).__name__}: {e}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.monotonic() - start
    return result
