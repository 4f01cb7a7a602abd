"""The server's set-up and shutdown: the API key (constant-time compared, required off loopback),
SIGTERM in the middle of a stream (the stream gets an error event, the process exits 0)."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import openai
import pytest

from support.server import ServerProcess, http
from support.test_data import PACKAGE_PARENT

KEY = "sk-local-test-key"


def test_api_key_is_required(smollm2_path):
    s = ServerProcess(smollm2_path, ["--api-key", KEY, "--ctx", "256"])
    try:
        with openai.OpenAI(base_url=s.url + "/v1", api_key="sk-wrong", max_retries=0) as bad:
            with pytest.raises(openai.AuthenticationError, match="Incorrect API key"):
                bad.models.list()
            with pytest.raises(openai.AuthenticationError):
                bad.chat.completions.create(model="x", messages=[{"role": "user", "content": "hi"}])
        r = http(s.url, "POST", "/v1/completions", '{"prompt": "hi"}')  # no key at all
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
        with openai.OpenAI(base_url=s.url + "/v1", api_key=KEY, max_retries=0) as good:
            model_id = good.models.list().data[0].id
            r = good.chat.completions.create(model=model_id, messages=[{"role": "user", "content": "hi"}], max_tokens=3)
            assert r.usage.completion_tokens <= 3
        assert http(s.url, "GET", "/health").status_code == 200  # health and the page need no key
    finally:
        assert s.stop() == 0


def test_non_loopback_host_needs_a_key(smollm2_path):
    run = subprocess.run([sys.executable, "-m", "pyllama_edge", "serve", "--model", str(smollm2_path),
                          "--host", "0.0.0.0", "--port", "0"], cwd=PACKAGE_PARENT, capture_output=True, text=True,
                         timeout=120, env={k: v for k, v in os.environ.items() if k != "PYLLAMA_EDGE_API_KEY"})
    assert run.returncode == 1
    assert "not a loopback address" in run.stderr and "--api-key" in run.stderr


def test_sigterm_mid_stream_sends_an_error_event_and_exits_0(smollm2_path):
    s = ServerProcess(smollm2_path, ["--ctx", "512", "--max-tokens-limit", "400"])
    try:
        with openai.OpenAI(base_url=s.url + "/v1", api_key="x", max_retries=0, timeout=60) as client:
            model_id = client.models.list().data[0].id
            stream = client.chat.completions.create(
                model=model_id, messages=[{"role": "user", "content": "Count from 1 to 500, one number a line."}],
                temperature=0, max_tokens=400, stream=True)
            received = []
            with pytest.raises(openai.APIError, match="shutting down"):
                for chunk in stream:
                    received.append(chunk)
                    if len(received) == 3:
                        s.proc.terminate()  # SIGTERM while the answer streams
            assert len(received) >= 3
    finally:
        code = s.stop()
    assert code == 0, "".join(s.log)


def test_all_slots_busy_past_the_queue_timeout_is_a_503(smollm2_path):
    s = ServerProcess(smollm2_path, ["--parallel", "1", "--queue-timeout", "0", "--ctx", "2048",
                                     "--max-tokens-limit", "1500"])
    try:
        with openai.OpenAI(base_url=s.url + "/v1", api_key="x", max_retries=0, timeout=60) as client:
            model_id = client.models.list().data[0].id
            long = client.chat.completions.create(
                model=model_id, messages=[{"role": "user", "content": "Count from 1 to 1000, one number per line."}],
                temperature=0, max_tokens=1500, stream=True)
            for _ in zip(range(3), long):  # the only slot is now decoding this answer
                pass
            with pytest.raises(openai.InternalServerError, match="slots stayed busy") as raised:
                client.chat.completions.create(model=model_id, messages=[{"role": "user", "content": "hi"}],
                                               max_tokens=2)
            assert raised.value.status_code == 503
            long.close()
            for _ in range(600):  # polls for at most 30 s
                if http(s.url, "GET", "/health").json()["slots"]["busy"] == 0:
                    break
                time.sleep(0.05)
            r = client.chat.completions.create(model=model_id, messages=[{"role": "user", "content": "hi"}], max_tokens=2)
            assert r.usage.completion_tokens <= 2
    finally:
        assert s.stop() == 0
