"""Tools through a model's own Llama 3.1 chat template: the prompt our tools path builds (OpenAI
messages and tools in, Hugging Face's conventions to the template) is exactly what Meta's Llama 3.1
template renders when given the same conversation directly, and the parser reads the call forms that
template writes. The template is Meta's, as llama.cpp vendors it (fetched from PyPI once, see
support/test_data.py); the synthetic model carries it in tokenizer.chat_template.

The oracle renders with plain jinja2 and the conventions the template is written for (Hugging
Face's apply_chat_template): trim_blocks and lstrip_blocks, raise_exception, and tojson as
json.dumps with keys in order and no HTML escaping; tool-call arguments as mappings."""
from __future__ import annotations

import json

import jinja2
import pytest

import pyllama_edge as ple
from pyllama_edge.tools import ToolPlan, parse_tool_calls
from support.model_files import synthetic
from support.test_data import LLAMA31_TEMPLATE, fetch_sdist_member

LIGHT = {"type": "object", "properties": {"room": {"type": "string", "enum": ["kitchen", "bedroom"]},
                                          "on": {"type": "boolean"}}, "required": ["room", "on"]}
TOOLS = [{"type": "function", "function": {"name": "set_light", "description": "Turn a room's light on or off",
                                           "parameters": LIGHT}},
         {"type": "function", "function": {"name": "get_time", "description": "The time <local> & now",
                                           "parameters": {"type": "object", "properties": {}}}}]
# OpenAI shapes: arguments as a JSON string, results as `tool` messages with tool_call_id
MESSAGES = [
    {"role": "system", "content": "You are a home assistant."},
    {"role": "user", "content": "Turn on the kitchen light, please."},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "set_light", "arguments": '{"room": "kitchen", "on": true}'}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": '{"ok": true, "note": "café lights"}'},
    {"role": "assistant", "content": "The kitchen light is on."},
    {"role": "user", "content": "What time is it?"},
]


def hf_conventions(messages):
    """MESSAGES as Hugging Face's templating takes them: tool-call arguments as mappings."""
    out = []
    for m in messages:
        if m.get("tool_calls"):
            m = {**m, "content": "", "tool_calls": [
                {**c, "function": {**c["function"], "arguments": json.loads(c["function"]["arguments"])}}
                for c in m["tool_calls"]]}
        out.append(m)
    return out


def oracle_render(template: str, messages, tools, **extra) -> str:
    def raise_exception(message):
        raise jinja2.TemplateError(message)

    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = lambda v, indent=None, separators=None, sort_keys=False: json.dumps(
        v, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)
    env.globals["raise_exception"] = raise_exception
    return env.from_string(template).render(messages=messages, tools=tools, bos_token="<|begin_of_text|>",
                                            eos_token="<|eot_id|>", add_generation_prompt=True, **extra)


@pytest.fixture(scope="module")
def template() -> str:
    return fetch_sdist_member(*LLAMA31_TEMPLATE).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def llama31(tmp_path_factory, llama3_tokenizer_json, template):
    path = synthetic(tmp_path_factory.mktemp("llama31"), "llama31_tools", weight_type="Q8_0", vocab="llama3",
                     n_ctx_train=4096, tokenizer_json=llama3_tokenizer_json, chat_template=template)
    with ple.Model(path, n_ctx=2048) as m:
        assert m.chat_template == template and not m.chat_template_is_builtin
        yield m


def test_tools_prompt_is_what_the_llama31_template_renders(llama31, template):
    expected = oracle_render(template, hf_conventions(MESSAGES), TOOLS)
    # the oracle's rendering shows the template did the work: tools as JSON in the first user
    # message, the call in Llama 3.1's JSON form, the result in the ipython role
    assert '"name": "set_light"' in expected and "Turn a room's light on or off" in expected
    assert '{"name": "set_light", "parameters": {"room": "kitchen", "on": true}}<|eot_id|>' in expected
    assert "<|start_header_id|>ipython<|end_header_id|>" in expected
    plan = ToolPlan(llama31, MESSAGES, TOOLS, "auto")
    assert llama31.render_chat(plan.render_messages(MESSAGES), tools=plan.template_tools) == expected
    for tool_choice in ("auto", "required", {"type": "function", "function": {"name": "get_time"}}):
        prompt, _, _, _ = llama31._chat_call(MESSAGES, False, TOOLS, tool_choice, {})
        assert llama31._native.tokenize(prompt) == llama31.tokenize(expected, add_bos=False, special=True), tool_choice


def answer_after_last_header(rendered: str) -> str:
    """The text of the last assistant turn that a template rendered, as the model would write it."""
    return rendered.rsplit("<|start_header_id|>assistant<|end_header_id|>\n\n", 2)[1]


def test_parser_reads_the_calls_the_template_writes(template):
    rendered = oracle_render(template, hf_conventions(MESSAGES[:3]), TOOLS)
    content, calls = parse_tool_calls(answer_after_last_header(rendered).removesuffix("<|eot_id|>"))
    assert content is None
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in calls] == \
        [("set_light", {"room": "kitchen", "on": True})]
    # a built-in tool: <|python_tag|>name.call(...) ending in <|eom_id|>
    builtin = [{"role": "user", "content": "Weather in Lisbon?"},
               {"role": "assistant", "tool_calls": [{"type": "function", "function": {
                   "name": "brave_search", "arguments": {"query": "weather in Lisbon"}}}]}]
    rendered = oracle_render(template, builtin, None, builtin_tools=["brave_search", "wolfram_alpha"])
    answer = answer_after_last_header(rendered)
    assert answer.startswith("<|python_tag|>brave_search.call(") and answer.rstrip().endswith("<|eom_id|>")
    content, calls = parse_tool_calls(answer)
    assert content is None
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in calls] == \
        [("brave_search", {"query": "weather in Lisbon"})]
