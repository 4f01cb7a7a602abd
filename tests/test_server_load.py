"""A bounded load on the server (slow tier): 8 clients x 25 requests, streamed, plain and cancelled
in turn, on SmolLM2 over 4 slots. No 5xx, no error at all, every completed answer well formed;
the server's RSS before and after is reported and must not grow by more than a bound."""
from __future__ import annotations

import openai
import pytest

from support.server import ServerProcess
from support.server_load import run_load

RSS_GROWTH_BOUND = 64 << 20  # bytes: a leak of a few kB per request would show over 200 requests


@pytest.mark.slow
def test_load_8_clients_x_25_requests(smollm2_path):
    s = ServerProcess(smollm2_path, ["--parallel", "4", "--ctx", "512", "--threads", "2", "--queue-timeout", "300"])
    try:
        with openai.OpenAI(base_url=s.url + "/v1", api_key="x", max_retries=0) as client:
            model_id = client.models.list().data[0].id
        run_load(s.url, model_id, clients=4, requests=3)  # every slot warm: KV pages and buffers touched
        before = s.rss_bytes()
        result = run_load(s.url, model_id, clients=8, requests=25)
        after = s.rss_bytes()
        print(f"\n{result.summary()}\nserver RSS {before / 2**20:.1f} MiB before, {after / 2**20:.1f} MiB after")
        assert sum(result.done.values()) == 200, result.summary()
        assert not result.statuses and not result.invalid, (result.statuses, result.invalid[:3])
        assert after - before < RSS_GROWTH_BOUND
    finally:
        assert s.stop() == 0
