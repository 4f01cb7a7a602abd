"""`pyllama-edge serve` driven by the official `openai` client (and raw HTTP for what a client
library never sends): every endpoint streamed and not, greedy outputs equal to the Python API's
own, OpenAI error JSON with the right status, cancellation, idle connections, clean SIGTERM.
The server runs SmolLM2-135M on 127.0.0.1 on a port the OS picks."""
from __future__ import annotations

import json
import socket
import threading
import time

import numpy as np
import openai
import pytest

import pyllama_edge as ple
from support.server import ServerProcess, http

MAX_TOKENS_LIMIT = 48
BODY_LIMIT = 64 * 1024
CTX = 512
QUESTIONS = ["What is the capital of France?", "Name three colours.", "Say hello in Spanish."]


@pytest.fixture(scope="module")
def server(smollm2_path):
    s = ServerProcess(smollm2_path, ["--parallel", "2", "--ctx", str(CTX), "--threads", "2",
                                     "--max-tokens-limit", str(MAX_TOKENS_LIMIT), "--max-body-bytes", str(BODY_LIMIT)])
    yield s
    assert s.stop() == 0, "".join(s.log)


@pytest.fixture(scope="module")
def client(server):
    with openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0, timeout=120) as c:
        yield c


@pytest.fixture(scope="module")
def model_id(client):
    return client.models.list().data[0].id


@pytest.fixture(scope="module")
def local(smollm2_path):
    """The same model in this process: the oracle for what one request served alone answers."""
    with ple.Model(smollm2_path, n_ctx=CTX, n_threads=2) as m:
        yield m


def chat(question):
    return [{"role": "user", "content": question}]


def raw(server, method, path, **kwargs):
    return http(server.url, method, path, **kwargs)


def assert_error(response, status, param=None, contains=""):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert contains in error["message"]
    if param is not None:
        assert error["param"] == param
    return error


# -- models, health, page -------------------------------------------------------------------------
def test_models_list_and_retrieve(client, model_id, smollm2_path):
    assert model_id == smollm2_path.name[:-len(".gguf")]
    assert client.models.retrieve(model_id).id == model_id
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4o")


def test_health_and_page(server):
    health = raw(server, "GET", "/health").json()
    assert health["status"] == "ok" and health["slots"]["total"] == 2
    page = raw(server, "GET", "/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for name in ("chat.js", "chat.css"):  # the page's only other files: nothing comes from elsewhere
        assert f"/static/{name}" in page.text
        assert raw(server, "GET", f"/static/{name}").status_code == 200
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN


# -- chat completions -----------------------------------------------------------------------------
def test_chat_greedy_equals_python_api(client, model_id, local):
    r = client.chat.completions.create(model=model_id, messages=chat(QUESTIONS[0]), temperature=0, max_tokens=24)
    expected = local.create_chat_completion(chat(QUESTIONS[0]), temperature=0, max_tokens=24)
    assert r.choices[0].message.content == expected["choices"][0]["message"]["content"]
    assert r.choices[0].finish_reason == expected["choices"][0]["finish_reason"]
    assert r.usage.completion_tokens == expected["usage"]["completion_tokens"]
    assert r.usage.prompt_tokens == expected["usage"]["prompt_tokens"]
    assert r.model == model_id and r.object == "chat.completion"


def test_chat_stream_with_usage(client, model_id):
    kwargs = dict(model=model_id, messages=chat(QUESTIONS[1]), temperature=0, max_tokens=20)
    whole = client.chat.completions.create(**kwargs)
    chunks = list(client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **kwargs))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == whole.choices[0].finish_reason
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    assert len({c.id for c in chunks}) == 1


def test_concurrent_streams_equal_each_served_alone(server, client, model_id, local):
    """Two slots decoding at once (their steps batched into shared passes) give what each request
    gives on its own."""
    expected = [local.chat(chat(q), temperature=0, max_tokens=32) for q in QUESTIONS]
    results = [None] * len(QUESTIONS)
    before = raw(server, "GET", "/health").json()["batching"]

    def one(i):
        stream = client.chat.completions.create(model=model_id, messages=chat(QUESTIONS[i]), temperature=0,
                                                max_tokens=32, stream=True)
        results[i] = "".join(c.choices[0].delta.content or "" for c in stream)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(QUESTIONS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == expected
    after = raw(server, "GET", "/health").json()["batching"]
    assert after["max_sessions"] == 2 and after["batched_passes"] > before["batched_passes"]


def test_speculative_lookup_in_slots(client, model_id, local):
    """Prompt lookup (a llama.cpp-style extension field) on two slots at once: the plain answers."""
    questions = ["Repeat after me: the quick brown fox jumps over the lazy dog.", QUESTIONS[1]]
    expected = [local.chat(chat(q), temperature=0, max_tokens=32) for q in questions]
    results = [None] * len(questions)

    def one(i):
        stream = client.chat.completions.create(model=model_id, messages=chat(questions[i]), temperature=0,
                                                max_tokens=32, stream=True, extra_body={"speculative": "lookup"})
        results[i] = "".join(c.choices[0].delta.content or "" for c in stream)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(questions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert results == expected
    with pytest.raises(openai.BadRequestError, match="speculative"):  # no draft-model paths over HTTP
        client.chat.completions.create(model=model_id, messages=chat("hi"), extra_body={"speculative": "/tmp/x.gguf"})


def test_logprobs_streamed_and_not_equal_the_python_api(client, model_id, local):
    messages = chat(QUESTIONS[0])
    expected = local.create_chat_completion(messages, temperature=0, max_tokens=12, logprobs=True, top_logprobs=3)
    want = expected["choices"][0]["logprobs"]["content"]
    assert len(want) == expected["usage"]["completion_tokens"]
    whole = client.chat.completions.create(model=model_id, messages=messages, temperature=0, max_tokens=12,
                                           logprobs=True, top_logprobs=3)
    got = [e.model_dump() for e in whole.choices[0].logprobs.content]
    assert got == want
    stream = client.chat.completions.create(model=model_id, messages=messages, temperature=0, max_tokens=12,
                                            logprobs=True, top_logprobs=3, stream=True)
    streamed = [e.model_dump() for c in stream if c.choices and c.choices[0].logprobs
                for e in c.choices[0].logprobs.content]
    assert streamed == want
    # Greedy: each token is its step's most likely one, and the text is the tokens' bytes.
    assert all(e["top_logprobs"][0]["token"] == e["token"] and len(e["top_logprobs"]) == 3 for e in got)
    assert b"".join(bytes(e["bytes"]) for e in got).decode() == whole.choices[0].message.content
    plain = client.chat.completions.create(model=model_id, messages=messages, temperature=0, max_tokens=12)
    assert plain.choices[0].logprobs is None and plain.choices[0].message.content == whole.choices[0].message.content


def test_sampling_fields(client, model_id):
    kwargs = dict(model=model_id, messages=chat("Write a short poem about the sea."), temperature=0.9, top_p=0.9,
                  frequency_penalty=0.5, presence_penalty=0.3, max_tokens=16)
    a = client.chat.completions.create(seed=1234, **kwargs).choices[0].message.content
    b = client.chat.completions.create(seed=1234, **kwargs).choices[0].message.content
    assert a == b  # the seed makes sampling reproducible across requests (and slots)
    capped = client.chat.completions.create(model=model_id, messages=chat("Count from 1 to 1000."), temperature=0,
                                            max_completion_tokens=10_000)
    assert capped.usage.completion_tokens <= MAX_TOKENS_LIMIT
    question = dict(model=model_id, messages=chat(QUESTIONS[1]), temperature=0, max_tokens=24)
    whole = client.chat.completions.create(**question).choices[0].message.content
    word = whole.split()[len(whole.split()) // 2]  # a stop string from the middle of the answer
    stopped = client.chat.completions.create(stop=[word, "never appears"], **question).choices[0]
    assert stopped.message.content == whole[:whole.index(word)] and stopped.finish_reason == "stop"


def test_response_format_json(client, model_id):
    schema = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20}}, "required": ["city"],
              "additionalProperties": False}
    r = client.chat.completions.create(
        model=model_id, messages=chat("Which city is the capital of France? Answer in JSON."), temperature=0,
        max_tokens=MAX_TOKENS_LIMIT,
        response_format={"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": True}})
    assert set(json.loads(r.choices[0].message.content)) == {"city"}


def test_tool_call(client, model_id):
    tools = [{"type": "function", "function": {
        "name": "get_weather", "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20}},
                       "required": ["city"], "additionalProperties": False}}}]
    kwargs = dict(model=model_id, messages=chat("What is the weather in Paris?"), tools=tools, tool_choice="required",
                  temperature=0, max_tokens=MAX_TOKENS_LIMIT)
    r = client.chat.completions.create(**kwargs)
    call = r.choices[0].message.tool_calls[0]
    assert r.choices[0].finish_reason == "tool_calls" and call.function.name == "get_weather"
    assert set(json.loads(call.function.arguments)) == {"city"}
    streamed = list(client.chat.completions.create(stream=True, **kwargs))
    deltas = [tc for c in streamed for tc in (c.choices[0].delta.tool_calls or [])]
    assert deltas[0].function.name == "get_weather"
    assert "".join(d.function.arguments or "" for d in deltas) == call.function.arguments


# -- completions, embeddings ----------------------------------------------------------------------
def test_completions_stream_and_not(client, model_id, local):
    prompt = "The capital of France is"
    expected = local.generate(prompt, temperature=0, max_tokens=16)
    r = client.completions.create(model=model_id, prompt=prompt, temperature=0, max_tokens=16)
    assert r.choices[0].text == expected and r.object == "text_completion"
    assert 0 < r.usage.completion_tokens <= 16
    chunks = list(client.completions.create(model=model_id, prompt=prompt, temperature=0, max_tokens=16, stream=True))
    assert "".join(c.choices[0].text for c in chunks) == expected
    ids = local.tokenize(prompt)
    assert client.completions.create(model=model_id, prompt=ids, temperature=0, max_tokens=16).choices[0].text == expected


def test_embeddings_match_the_python_api(server, client, model_id, local):
    texts = ["Water the tomatoes every second day.", "The boiler service is on the 3rd of March."]
    expected = local.embed(texts)
    r = client.embeddings.create(model=model_id, input=texts)  # the client asks for base64
    assert [d.index for d in r.data] == [0, 1] and r.usage.prompt_tokens > 0
    got = np.array([d.embedding for d in r.data], dtype=np.float32)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    plain = raw(server, "POST", "/v1/embeddings", content=json.dumps({"model": model_id, "input": texts[0], "encoding_format": "float"}))
    assert plain.status_code == 200
    np.testing.assert_allclose(np.array(plain.json()["data"][0]["embedding"], dtype=np.float32), expected[0],
                               rtol=1e-5, atol=1e-6)
    assert_error(raw(server, "POST", "/v1/embeddings", content=json.dumps({"model": model_id, "input": "x", "dimensions": 8})),
                 400, "dimensions")
    assert_error(raw(server, "POST", "/v1/embeddings", content=json.dumps({"model": model_id, "input": []})), 400, "input")


# -- errors ---------------------------------------------------------------------------------------
def test_bad_requests_get_openai_errors(server, client, model_id):
    def post(body, path="/v1/chat/completions", **kwargs):
        return raw(server, "POST", path, content=body if isinstance(body, (bytes, str)) else json.dumps(body), **kwargs)

    ok = {"model": model_id, "messages": chat("hi"), "max_tokens": 2}
    assert post(ok).status_code == 200
    assert_error(post(b'{"model": "x", "messages": ['), 400, contains="not valid JSON")
    assert_error(post(b"\xff\xfe"), 400, contains="not valid JSON")
    assert_error(post(b'{"temperature": NaN}'), 400, contains="not valid JSON")
    assert_error(post(b'[1, 2]'), 400, contains="JSON object")
    assert_error(post({**ok, "temperature": "hot"}), 400, "temperature", "must be a number")
    assert_error(post({**ok, "temperature": 3}), 400, "temperature", "between")
    assert_error(post({**ok, "max_tokens": 0}), 400, "max_tokens")
    assert_error(post({**ok, "stream": "yes"}), 400, "stream")
    assert_error(post({**ok, "messages": "hi"}), 400, "messages")
    assert_error(post({**ok, "messages": [{"content": "no role"}]}), 400, "messages[0]")
    assert_error(post({**ok, "stop": ["a", "b", "c", "d", "e"]}), 400, "stop")
    assert_error(post({**ok, "frobnicate": 1}), 400, "frobnicate", "Unrecognized request argument")
    assert_error(post({**ok, "stream_options": {"include_usage": True}}), 400, "stream_options")
    for field, value in (("n", 2), ("logit_bias", {"1": 5}), ("audio", {"voice": "x"})):
        assert_error(post({**ok, field: value}), 400, field, "not supported")
    assert_error(post({**ok, "top_logprobs": 2}), 400, "top_logprobs", "needs logprobs")
    assert_error(post({**ok, "logprobs": True, "top_logprobs": 21}), 400, "top_logprobs")
    assert_error(post({**ok, "logprobs": "yes"}), 400, "logprobs")
    assert_error(post({"model": model_id, "prompt": "x", "logprobs": 2}, "/v1/completions"), 400, "logprobs", "not supported")
    assert_error(post({**ok, "tool_choice": "required"}), 400)  # tools.py: a choice without tools
    assert_error(post({"model": model_id, "prompt": ["a", "b"]}, "/v1/completions"), 400, "prompt", "not supported")
    assert_error(post({"model": model_id, "prompt": "x", "echo": True}, "/v1/completions"), 400, "echo")
    with pytest.raises(openai.BadRequestError, match="logprobs"):
        client.chat.completions.create(model=model_id, messages=chat("hi"), top_logprobs=3)
    with pytest.raises(openai.BadRequestError, match="Unrecognized request argument supplied: nonsense"):
        client.chat.completions.create(model=model_id, messages=chat("hi"), extra_body={"nonsense": True})
    with pytest.raises(openai.NotFoundError, match="does not exist"):
        client.chat.completions.create(model="gpt-4o", messages=chat("hi"))


def test_prompt_beyond_context_names_the_sizes(client, model_id):
    with pytest.raises(openai.BadRequestError, match=f"does not fit the context of {CTX}"):
        client.completions.create(model=model_id, prompt="word " * (CTX + 10), max_tokens=4)


def test_huge_body_and_unknown_route(server):
    body = json.dumps({"messages": [{"role": "user", "content": "x" * (BODY_LIMIT + 1)}]})
    assert_error(raw(server, "POST", "/v1/chat/completions", content=body), 413, contains="exceeds the limit")

    def chunked():  # no content-length: counted as it arrives
        for _ in range(BODY_LIMIT // 1024 + 2):
            yield b" " * 1024
    assert_error(raw(server, "POST", "/v1/chat/completions", content=chunked()), 413)
    assert_error(raw(server, "GET", "/v1/nothing"), 404, contains="no route")
    assert_error(raw(server, "GET", "/v1/chat/completions"), 405)
    assert raw(server, "GET", "/health").status_code == 200  # still serving


# -- cancellation, idle connections ---------------------------------------------------------------
def test_disconnect_mid_stream_frees_the_slot(server, client, model_id):
    start = len(server.log)
    stream = client.chat.completions.create(model=model_id, messages=chat("Tell me a long story about a dragon."),
                                            temperature=0, max_tokens=MAX_TOKENS_LIMIT, stream=True)
    for _ in zip(range(3), stream):  # a few chunks, then hang up
        pass
    stream.close()
    server.wait_for_log(r"POST /v1/chat/completions 200 .*\(stream closed early\)", start=start)
    for _ in range(600):  # polls for at most 30 s
        if raw(server, "GET", "/health").json()["slots"]["busy"] == 0:
            break
        time.sleep(0.05)
    assert raw(server, "GET", "/health").json()["slots"]["busy"] == 0
    r = client.chat.completions.create(model=model_id, messages=chat("hi"), max_tokens=4)
    assert r.choices[0].message.content is not None


def test_idle_and_slow_connections_do_not_stop_service(server, client, model_id):
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:  # this process holds the idle sockets: room for 1,000 of them
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(1200, hard), hard))
    idle = min(1000, resource.getrlimit(resource.RLIMIT_NOFILE)[0] - 100)
    sockets = []
    try:
        for i in range(idle):  # idle: connected, never a byte
            sockets.append(socket.create_connection(("127.0.0.1", server.port), timeout=10))
        for s in sockets[:50]:  # slow: a request line and half a header, then nothing
            s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Le")
        r = client.chat.completions.create(model=model_id, messages=chat("hi"), max_tokens=4)
        assert r.choices[0].finish_reason in ("stop", "length")
        assert raw(server, "GET", "/health").status_code == 200
    finally:
        for s in sockets:
            s.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_one_log_line_per_request(server, client, model_id):
    start = len(server.log)
    client.chat.completions.create(model=model_id, messages=chat("hi"), max_tokens=3)
    line = server.wait_for_log(r"POST /v1/chat/completions 200 tokens=\d+\+\d+ \d+\.\d+s", start=start)
    assert "tokens=" in line


# -- the README's examples, as written (the port swapped for the test server's) -------------------
def readme_server_section():
    import re

    from support.test_data import ROOT

    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Local server (OpenAI-compatible) and chat page\n"):]
    section = section[:section.index("\n## ")]
    return [b for b in re.findall(r"```bash\n(.*?)```", section, re.S) if "curl" in b][0], \
        re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_examples_run_as_written(server, model_id, tmp_path):
    import shutil
    import subprocess
    import sys

    curl, python = readme_server_section()
    assert f'"model": "{model_id}"' in curl  # the default model's id, as the server names it
    assert shutil.which("curl"), "the README's curl example needs curl (.ci/run installs it)"
    r = subprocess.run(curl.replace("8080", str(server.port)), shell=True, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["choices"][0]["message"]["content"]
    script = tmp_path / "client.py"
    script.write_text(python.replace("8080", str(server.port)))
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()
