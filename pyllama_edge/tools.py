"""Tool calling: OpenAI-shaped tools, tool_choice and tool messages in; tool_calls out.

Two prompt forms:
- the model's own template when it takes `tools` (Llama 3.1/3.2): tools go to the template, earlier
  calls are rendered as the template expects (arguments as a mapping), results as `tool` messages
  (the template's `ipython` role). The model answers with JSON {"name": ..., "parameters": ...},
  `<|python_tag|>` built-in calls ending in <|eom_id|>, or <function=NAME>{...}</function>.
- a generic form for every other template (SmolLM2's ChatML): tool descriptions and the call format
  in the system message, calls as JSON {"name": ..., "arguments": ...}.

tool_choice "required" or a named function constrains the answer to a call valid under the tools'
JSON schemas (llguidance, see constrained.py); "auto" constrains once the answer starts as a call
(its first non-blank character is "{"), llama.cpp's "lazy grammar"; "none" renders no tools.
"""
from __future__ import annotations

import ast
import json
import re
import uuid
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from . import constrained

BUILTIN_TOOLS = ("brave_search", "wolfram_alpha", "code_interpreter")
_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


# -- inputs ------------------------------------------------------------------------------------
def check_tools(tools: Any) -> List[Dict[str, Any]]:
    """The function definitions of OpenAI-shaped `tools`; ValueError/TypeError naming the bad one."""
    if not isinstance(tools, (list, tuple)):
        raise TypeError(f"tools must be a list of {{'type': 'function', 'function': {{...}}}}, got {type(tools).__name__}")
    functions = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(tool.get("function"), dict):
            raise ValueError(f"tools[{i}] must be {{'type': 'function', 'function': {{'name': ..., 'parameters': ...}}}}")
        fn = tool["function"]
        name = fn.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"tools[{i}]: function name must be 1-64 letters, digits, '_', '.' or '-', got {name!r}")
        if name in (f["name"] for f in functions):
            raise ValueError(f"tools[{i}]: duplicate function name {name!r}")
        params = fn.get("parameters", {"type": "object", "properties": {}})
        constrained.schema_dict(params)  # bounded and a dict, or a clear error
        functions.append({"name": name, "description": fn.get("description", ""), "parameters": params})
    return functions


def check_tool_choice(tool_choice: Any, functions: List[Dict[str, Any]]) -> Tuple[str, Optional[str]]:
    """("auto" | "none" | "required", the named function or None)."""
    if tool_choice is None:
        return ("auto" if functions else "none"), None
    if tool_choice in ("auto", "none", "required"):
        if tool_choice == "required" and not functions:
            raise ValueError('tool_choice="required" needs at least one tool')
        return tool_choice, None
    if isinstance(tool_choice, dict) and tool_choice.get("type") == "function":
        name = (tool_choice.get("function") or {}).get("name")
        if name not in [f["name"] for f in functions]:
            raise ValueError(f"tool_choice names function {name!r}, which is not among the tools")
        return "required", name
    raise ValueError(f'tool_choice must be "auto", "none", "required" or {{"type": "function", "function": {{"name": ...}}}}, got {tool_choice!r}')


def template_takes_tools(template: str) -> bool:
    """Whether the chat template reads a `tools` variable (Llama 3.1/3.2 do; ChatML ones do not)."""
    from jinja2 import meta
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    try:
        return "tools" in meta.find_undeclared_variables(ImmutableSandboxedEnvironment().parse(template))
    except Exception:  # a template that does not parse fails later, when rendered, with its own error
        return False


def _arguments(call: Dict[str, Any], where: str) -> Any:
    args = call.get("arguments", {})
    if isinstance(args, str):
        try:
            return json.loads(args) if args.strip() else {}
        except json.JSONDecodeError as e:
            raise ValueError(f"{where}: arguments is not valid JSON: {e}") from None
    return args


def _call_function(call: Any, where: str) -> Dict[str, Any]:
    if not isinstance(call, dict) or not isinstance(call.get("function"), dict) or not isinstance(call["function"].get("name"), str):
        raise ValueError(f"{where} must be {{'id': ..., 'type': 'function', 'function': {{'name': ..., 'arguments': ...}}}}")
    return call["function"]


def template_messages(messages: Sequence[Dict[str, Any]], takes_tools: bool,
                      functions: List[Dict[str, Any]], show_tools: bool) -> List[Dict[str, Any]]:
    """OpenAI messages in the conventions the template expects: tool-call arguments as mappings
    (Hugging Face's convention) for templates that take tools; for the generic form, calls as the
    JSON text the model is asked to write, results as `tool` messages, and the tool descriptions
    in the system message."""
    out: List[Dict[str, Any]] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict):
            out.append(m)  # render() names the bad message
            continue
        calls = m.get("tool_calls")
        if calls:
            if not isinstance(calls, list):
                raise ValueError(f"messages[{i}]['tool_calls'] must be a list")
            functions_called = [_call_function(c, f"messages[{i}]['tool_calls'][{j}]") for j, c in enumerate(calls)]
            if takes_tools:
                m = {**m, "content": m.get("content") or "", "tool_calls": [
                    {**c, "function": {"name": f["name"], "arguments": _arguments(f, f"messages[{i}]['tool_calls'][{j}]")}}
                    for j, (c, f) in enumerate(zip(calls, functions_called))]}
            else:
                text = "\n".join(json.dumps({"name": f["name"], "arguments": _arguments(f, f"messages[{i}]['tool_calls']")})
                                 for f in functions_called)
                m = {"role": "assistant", "content": ((m.get("content") or "") + "\n" + text).strip()}
        elif m.get("role") == "tool" and not isinstance(m.get("content", ""), str):
            m = {**m, "content": json.dumps(m["content"])}
        out.append(m)
    if show_tools and not takes_tools:
        prompt = generic_tool_prompt(functions)
        if out and isinstance(out[0], dict) and out[0].get("role") == "system":
            out[0] = {**out[0], "content": (out[0].get("content") or "") + "\n\n" + prompt}
        else:
            out.insert(0, {"role": "system", "content": prompt})
    return out


def generic_tool_prompt(functions: List[Dict[str, Any]]) -> str:
    lines = ["You can call these functions:"]
    for f in functions:
        lines.append(json.dumps({"name": f["name"], "description": f["description"], "parameters": f["parameters"]}))
    lines.append('To call a function, reply with only a JSON object: {"name": <function name>, "arguments": '
                 '<an object of argument names and values>}. Results come back in messages from "tool".')
    return "\n".join(lines)


def call_schema(functions: List[Dict[str, Any]], args_key: str, only: Optional[str] = None) -> Dict[str, Any]:
    """JSON schema of one call to one of the functions (or the `only` one). Arguments get no
    properties beyond the declared ones unless the schema says otherwise (OpenAI's strict mode):
    a small model otherwise fills them with whatever JSON comes to mind."""
    def strict(params: Dict[str, Any]) -> Dict[str, Any]:
        if params.get("type") == "object" and "additionalProperties" not in params:
            return {**params, "properties": params.get("properties", {}), "additionalProperties": False}
        return params

    options = [{"type": "object", "properties": {"name": {"const": f["name"]}, args_key: strict(f["parameters"])},
                "required": ["name", args_key], "additionalProperties": False}
               for f in functions if only is None or f["name"] == only]
    return options[0] if len(options) == 1 else {"anyOf": options}


# -- the "auto" constraint -------------------------------------------------------------------
class LazyCallMask:
    """Free text unless the answer starts as a call: once its first non-blank character is "{",
    the call grammar takes over (fed the tokens so far), llama.cpp's "lazy grammar". A call the
    grammar cannot follow from there (never from a valid start) is left unconstrained, and the
    parser returns it as text."""

    def __init__(self, model: Any, grammar: str):
        self._model, self._grammar = model, grammar
        self._piece = model._tokenizer.token_piece
        self._tokens: List[int] = []
        self._state = "waiting"  # -> "constrained" | "free"
        self._mask: Optional[constrained.GrammarMask] = None
        constrained.GrammarMask(model, grammar)  # compile errors now, before generation

    def __call__(self, previous: int, allowed: np.ndarray) -> bool:
        if self._state == "free":
            return False
        if self._state == "constrained":
            return self._mask(previous, allowed)
        if previous >= 0:
            self._tokens.append(previous)
        text = b"".join(self._piece(t, False) for t in self._tokens).lstrip()
        if not text:
            return False
        if not text.startswith(b"{"):
            self._state = "free"
            return False
        mask = constrained.GrammarMask(self._model, self._grammar)
        if not mask.matcher.consume_tokens(self._tokens):
            self._state = "free"
            return False
        self._state, self._mask = "constrained", mask
        return mask(-1, allowed)


# -- outputs -----------------------------------------------------------------------------------
def _call(name: str, arguments: Any) -> Dict[str, Any]:
    return {"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)}}


def _json_calls(text: str) -> Optional[List[Dict[str, Any]]]:
    """Calls from text that is only JSON call objects, separated by blanks, ';' or ','."""
    decoder, pos, calls = json.JSONDecoder(), 0, []
    while True:
        while pos < len(text) and text[pos] in " \t\r\n;,":
            pos += 1
        if pos == len(text):
            return calls or None
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError):
            return None
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
            return None
        args = obj.get("parameters", obj.get("arguments", {}))
        if isinstance(args, str):  # some models write the arguments as a JSON string
            try:
                args = json.loads(args)
            except json.JSONDecodeError:
                return None
        if not isinstance(args, dict):
            return None
        calls.append(_call(obj["name"], args))


_BUILTIN_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\.call\((.*)\)\s*$", re.DOTALL)
_FUNCTION_TAG = re.compile(r"<function=([^>]+)>(.*?)</function>", re.DOTALL)


def _builtin_call(code: str) -> Dict[str, Any]:
    """A `<|python_tag|>` body: `name.call(key="value", ...)`, JSON calls, or code for the
    code interpreter."""
    json_calls = _json_calls(code)
    if json_calls:
        return {"calls": json_calls}
    m = _BUILTIN_CALL.match(code)
    if m:
        try:
            call = ast.parse(f"f({m.group(2)})", mode="eval").body
            if isinstance(call, ast.Call) and not call.args:
                args = {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
                return {"calls": [_call(m.group(1), args)]}
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass
    return {"calls": [_call("code_interpreter", {"code": code})]}


def parse_tool_calls(text: str) -> Tuple[Optional[str], List[Dict[str, Any]]]:
    """(content, tool_calls) of a model's answer, `text` decoded with its special tokens: JSON
    calls, `<|python_tag|>` calls and `<function=NAME>{...}</function>` calls. Text that is none
    of these (or a malformed call) is content with no calls."""
    head, tag, body = text.partition("<|python_tag|>")
    if tag:
        body = body.split("<|eom_id|>")[0].split("<|eot_id|>")[0]
        return (head.strip() or None), _builtin_call(body.strip())["calls"]
    matches = list(_FUNCTION_TAG.finditer(text))
    if matches:
        calls = []
        for m in matches:
            try:
                args = json.loads(m.group(2)) if m.group(2).strip() else {}
            except (json.JSONDecodeError, RecursionError):
                return text, []
            if not isinstance(args, dict):
                return text, []
            calls.append(_call(m.group(1).strip(), args))
        rest = _FUNCTION_TAG.sub("", text).strip()
        return (rest or None), calls
    calls = _json_calls(text.strip())
    if calls:
        return None, calls
    return text, []


def tool_call_deltas(calls: List[Dict[str, Any]]) -> Iterator[Dict[str, Any]]:
    """OpenAI streaming deltas for finished calls: per call, one delta with id, type and name,
    then one with the arguments."""
    for index, call in enumerate(calls):
        yield {"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                               "function": {"name": call["function"]["name"], "arguments": ""}}]}
        yield {"tool_calls": [{"index": index, "function": {"arguments": call["function"]["arguments"]}}]}


# -- one call's plan ----------------------------------------------------------------------------
class ToolPlan:
    """How one chat call with tools renders and constrains: the messages and `tools` for the
    template, and the generation kwargs (a constraint for "required", named and "auto")."""

    def __init__(self, model: Any, messages: Sequence[Dict[str, Any]], tools: Any, tool_choice: Any):
        functions = check_tools(tools) if tools is not None else []
        self.mode, only = check_tool_choice(tool_choice, functions)
        self.active = self.mode != "none"
        takes_tools = template_takes_tools(model.chat_template)
        self.template_tools = ([{"type": "function", "function": f} for f in functions]
                               if takes_tools and self.active else None)
        self._takes_tools, self._functions = takes_tools, functions
        self.messages = self.render_messages(messages)
        self.schema = (call_schema(functions, "parameters" if takes_tools else "arguments", only)
                       if self.active else None)
        self._model = model

    def render_messages(self, messages: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """`messages` in the template's conventions for this call (see template_messages)."""
        return template_messages(messages, self._takes_tools, self._functions, show_tools=self.active)

    def generation_kwargs(self, kwargs: Dict[str, Any]) -> Dict[str, Any]:
        if not self.active:
            return kwargs
        if any(kwargs.get(k) is not None for k in constrained.CONSTRAINT_ARGS + ("logits_mask",)):
            raise ValueError("tools with tool_choice other than 'none' cannot be combined with "
                             "response_format, json_schema, grammar or logits_mask")
        if self.mode == "required":
            return {**kwargs, "json_schema": self.schema}
        return {**kwargs, "logits_mask": LazyCallMask(self._model, constrained.json_grammar(self.schema))}


def _answer_text(model: Any, gen: Any) -> str:
    """The generated answer with its special tokens (<|python_tag|>) as text."""
    return model._tokenizer.decode(gen.result.tokens, True)


def _may_be_call(head: str) -> Optional[bool]:
    """True when the answer so far (left-stripped) starts a call, False when it cannot, None
    when it is too short to tell."""
    if not head:
        return None
    if head.startswith("{") or head.startswith("<function=") or head.startswith("<|python_tag|>"):
        return True
    if "<function=".startswith(head) or "<|python_tag|>".startswith(head):
        return None
    return False


def completion_with_tools(model: Any, gen: Any, pieces: Iterator[str], stream: bool, cid: str, created: int):
    """create_chat_completion's result when tools are offered: `tool_calls` and finish_reason
    "tool_calls" when the answer is a call; streamed as OpenAI deltas (text streams as it comes;
    a call is held until complete, then sent as tool_calls deltas)."""
    base = {"id": cid, "created": created, "model": model.path}

    def message_of(text: str) -> Tuple[Dict[str, Any], str]:
        content, calls = parse_tool_calls(text)
        if calls:
            return {"role": "assistant", "content": content, "tool_calls": calls}, "tool_calls"
        return {"role": "assistant", "content": text}, gen.result.finish_reason

    if not stream:
        for _ in pieces:
            pass
        message, finish = message_of(_answer_text(model, gen))
        return {**base, "object": "chat.completion",
                "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
                "usage": gen.result.usage}

    def chunk(delta: Dict[str, Any], finish: Optional[str] = None) -> Dict[str, Any]:
        return {**base, "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

    def chunks() -> Iterator[Dict[str, Any]]:
        yield chunk({"role": "assistant"})
        held: List[str] = []
        call: Optional[bool] = None
        for piece in pieces:
            if call is False:
                yield chunk({"content": piece})
                continue
            held.append(piece)
            if call is None:  # decided once: a call is held to the end
                call = _may_be_call(model._tokenizer.decode(gen.tokens_so_far, True).lstrip())
            if call is False:
                yield chunk({"content": "".join(held)})
        message, finish = message_of(_answer_text(model, gen))
        if call is not False:
            if finish == "tool_calls":
                if message["content"]:
                    yield chunk({"content": message["content"]})
                yield from (chunk(d) for d in tool_call_deltas(message["tool_calls"]))
            elif held:
                yield chunk({"content": "".join(held)})
        yield chunk({}, finish)

    return chunks()
