"""Tool calling: the parser on recorded Llama 3.1-style answers (JSON, <|python_tag|>, <function=>),
tool_choice checks, and SmolLM2 end to end (constrained calls, streaming deltas, a round trip)."""
from __future__ import annotations

import json

import jsonschema
import pytest

import pyllama_edge as ple
from pyllama_edge.tools import check_tool_choice, check_tools, parse_tool_calls

pytest.importorskip("llguidance", reason="constrained tool calls need llguidance ([test] extra)")

LIGHT = {"type": "object", "properties": {"room": {"type": "string", "enum": ["kitchen", "bedroom", "hall"]},
                                          "on": {"type": "boolean"}}, "required": ["room", "on"]}
TOOLS = [{"type": "function", "function": {"name": "set_light", "description": "Turn a room's light on or off",
                                           "parameters": LIGHT}},
         {"type": "function", "function": {"name": "get_time", "description": "The current time",
                                           "parameters": {"type": "object", "properties": {}}}}]
SCHEMAS = {"set_light": LIGHT, "get_time": {"type": "object", "properties": {}, "additionalProperties": False}}


@pytest.fixture(scope="module")
def smollm2(smollm2_path):
    return ple.Model(smollm2_path, n_ctx=2048, n_threads=2)


# -- parser ------------------------------------------------------------------------------------
def args(call):
    return call["function"]["name"], json.loads(call["function"]["arguments"])


def test_parse_json_call():
    content, calls = parse_tool_calls('{"name": "set_light", "parameters": {"room": "hall", "on": true}}')
    assert content is None and [args(c) for c in calls] == [("set_light", {"room": "hall", "on": True})]
    assert calls[0]["id"].startswith("call_") and calls[0]["type"] == "function"


def test_parse_several_json_calls_in_one_turn():
    text = '{"name": "get_time", "parameters": {}}; {"name": "set_light", "arguments": {"room": "kitchen", "on": false}}'
    _, calls = parse_tool_calls(text)
    assert [args(c) for c in calls] == [("get_time", {}), ("set_light", {"room": "kitchen", "on": False})]
    assert calls[0]["id"] != calls[1]["id"]


def test_parse_python_tag_builtin_call():
    content, calls = parse_tool_calls('<|python_tag|>brave_search.call(query="weather in Paris")<|eom_id|>')
    assert content is None and [args(c) for c in calls] == [("brave_search", {"query": "weather in Paris"})]
    _, calls = parse_tool_calls('<|python_tag|>{"name": "get_time", "parameters": {}}')
    assert [args(c) for c in calls] == [("get_time", {})]
    _, calls = parse_tool_calls("<|python_tag|>print(2 + 2)")
    assert [args(c) for c in calls] == [("code_interpreter", {"code": "print(2 + 2)"})]


def test_parse_function_tag_calls():
    text = 'Sure.<function=set_light>{"room": "bedroom", "on": true}</function><function=get_time>{}</function>'
    content, calls = parse_tool_calls(text)
    assert content == "Sure."
    assert [args(c) for c in calls] == [("set_light", {"room": "bedroom", "on": True}), ("get_time", {})]


@pytest.mark.parametrize("text", [
    '{"name": "set_light", "parameters": {"room": "hall", "on": tru',  # cut off
    '{"parameters": {}}',  # no name
    '{"name": "set_light", "parameters": [1, 2]}',  # arguments not an object
    '<function=set_light>{"room": </function>',
    "The light is on.",
    '{"name": "x", "parameters": {}} and then some text',
])
def test_malformed_calls_are_content(text):
    content, calls = parse_tool_calls(text)
    assert calls == [] and content == text


def test_bad_tools_and_tool_choice_raise():
    with pytest.raises(ValueError, match="tools\\[0\\]"):
        check_tools([{"type": "function", "function": {"name": "bad name!"}}])
    with pytest.raises(ValueError, match="duplicate"):
        check_tools(TOOLS + TOOLS[:1])
    with pytest.raises(ValueError, match="nested"):
        deep = {"type": "integer"}
        for _ in range(1000):
            deep = {"type": "object", "properties": {"a": deep}}
        check_tools([{"type": "function", "function": {"name": "f", "parameters": deep}}])
    functions = check_tools(TOOLS)
    with pytest.raises(ValueError, match="not among the tools"):
        check_tool_choice({"type": "function", "function": {"name": "nope"}}, functions)
    with pytest.raises(ValueError, match="tool_choice"):
        check_tool_choice("always", functions)
    assert check_tool_choice({"type": "function", "function": {"name": "get_time"}}, functions) == ("required", "get_time")


# -- SmolLM2 end to end (generic form: its ChatML template takes no tools) --------------------
PROMPTS = ["Turn on the kitchen light please.", "What time is it?", "Switch off the bedroom lamp.",
           "It's dark in the hall.", "Lights off in the kitchen, thanks."]


def test_required_calls_are_always_valid(smollm2):
    for prompt in PROMPTS:
        for seed in (1, 2, 3):
            r = smollm2.create_chat_completion([{"role": "user", "content": prompt}], tools=TOOLS,
                                               tool_choice="required", temperature=0.8, seed=seed, max_tokens=80)
            choice = r["choices"][0]
            assert choice["finish_reason"] == "tool_calls", choice
            (call,) = choice["message"]["tool_calls"]
            name, arguments = args(call)
            jsonschema.validate(arguments, SCHEMAS[name])


def test_named_function_and_none(smollm2):
    msgs = [{"role": "user", "content": "Hello!"}]
    r = smollm2.create_chat_completion(msgs, tools=TOOLS, tool_choice={"type": "function", "function": {"name": "set_light"}},
                                       temperature=0.8, seed=4, max_tokens=60)
    name, arguments = args(r["choices"][0]["message"]["tool_calls"][0])
    assert name == "set_light"
    jsonschema.validate(arguments, LIGHT)
    r = smollm2.create_chat_completion(msgs, tools=TOOLS, tool_choice="none", temperature=0, max_tokens=20)
    assert "tool_calls" not in r["choices"][0]["message"] and r["choices"][0]["finish_reason"] in ("stop", "length")


def test_streamed_call_arrives_as_deltas(smollm2):
    chunks = list(smollm2.create_chat_completion([{"role": "user", "content": "Turn on the hall light."}], tools=TOOLS,
                                                 tool_choice="required", temperature=0.8, seed=5, max_tokens=60, stream=True))
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0] == {"role": "assistant"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    parts = [d["tool_calls"][0] for d in deltas if "tool_calls" in d]
    assert parts[0]["id"].startswith("call_") and parts[0]["function"]["name"] in SCHEMAS
    arguments = json.loads("".join(p["function"]["arguments"] for p in parts))
    jsonschema.validate(arguments, SCHEMAS[parts[0]["function"]["name"]])


def test_round_trip_call_result_answer(smollm2):
    msgs = [{"role": "user", "content": "What time is it?"}]
    r = smollm2.create_chat_completion(msgs, tools=TOOLS, tool_choice={"type": "function", "function": {"name": "get_time"}},
                                       temperature=0, max_tokens=40)
    message = r["choices"][0]["message"]
    call = message["tool_calls"][0]
    msgs += [message, {"role": "tool", "tool_call_id": call["id"], "content": "21:07"}]
    rendered = smollm2.render_chat(__import__("pyllama_edge.tools", fromlist=["x"]).template_messages(
        msgs, False, check_tools(TOOLS), True))
    assert '{"name": "get_time", "arguments": {}}' in rendered and "<|im_start|>tool\n21:07" in rendered
    final = smollm2.create_chat_completion(msgs, tools=TOOLS, tool_choice="auto", temperature=0, max_tokens=40)
    choice = final["choices"][0]
    # Either a plain answer or another valid call; the chat went through the tool message.
    assert choice["finish_reason"] in ("stop", "length", "tool_calls")
    assert final["usage"]["prompt_tokens"] > r["usage"]["prompt_tokens"]
