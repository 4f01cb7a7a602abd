"""Request bodies → keyword arguments of Session.create_completion / create_chat_completion.

Every field is checked here, before a slot is taken: a wrong type or range is a 400 naming the
field; a field OpenAI does not know is rejected as OpenAI rejects it; a field OpenAI knows but this
server cannot honour yet (logprobs, n > 1, audio, ...) is a 400 saying so, never silently ignored."""
from __future__ import annotations

import numbers
from typing import Any, Callable, Dict, Optional, Tuple

from .errors import APIError, bad_request, unsupported

Check = Callable[[str, Any], Any]


def _number(low: float, high: float) -> Check:
    def check(name: str, v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise bad_request(f"{name} must be a number, got {type(v).__name__}", name, "invalid_type")
        if not low <= v <= high:
            raise bad_request(f"{name} must be between {low:g} and {high:g}, got {v}", name, "invalid_value")
        return float(v)
    return check


def _integer(low: int, high: int = 2**63 - 1) -> Check:
    def check(name: str, v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise bad_request(f"{name} must be an integer, got {type(v).__name__}", name, "invalid_type")
        if not low <= v <= high:
            raise bad_request(f"{name} must be between {low} and {high}, got {v}", name, "invalid_value")
        return v
    return check


def _of_type(kind: type, label: str) -> Check:
    def check(name: str, v: Any) -> Any:
        if isinstance(v, bool) and kind is not bool or not isinstance(v, kind):
            raise bad_request(f"{name} must be {label}, got {type(v).__name__}", name, "invalid_type")
        return v
    return check


def _stop(name: str, v: Any) -> Any:
    if isinstance(v, str):
        return [v]
    if isinstance(v, list) and len(v) <= 4 and all(isinstance(s, str) for s in v):
        return v
    raise bad_request(f"{name} must be a string or a list of at most 4 strings", name, "invalid_type")


def _stream_options(name: str, v: Any) -> Dict[str, Any]:
    if not isinstance(v, dict):
        raise bad_request(f"{name} must be an object", name, "invalid_type")
    for key, value in v.items():
        if key != "include_usage":
            raise unsupported(f"{name}.{key}")
        _of_type(bool, "a boolean")(f"{name}.{key}", value)
    return v


def _speculative(name: str, v: Any) -> str:
    # Prompt lookup only: a draft model is a file on the server, which a request must not choose.
    if v != "lookup":
        raise bad_request(f'{name} must be "lookup", got {v!r}', name, "invalid_value")
    return v


# Sampling fields shared by both endpoints: request name -> (check, Python API keyword).
_SAMPLING: Dict[str, Tuple[Check, Optional[str]]] = {
    "temperature": (_number(0, 2), "temperature"),
    "top_p": (_number(0, 1), "top_p"),
    "frequency_penalty": (_number(-2, 2), "frequency_penalty"),
    "presence_penalty": (_number(-2, 2), "presence_penalty"),
    "seed": (_integer(-2**63, 2**64 - 1), "seed"),
    "stop": (_stop, "stop"),
    "max_tokens": (_integer(1), None),
    "stream": (_of_type(bool, "a boolean"), None),
    "stream_options": (_stream_options, None),
    "model": (_of_type(str, "a string"), None),
    "user": (_of_type(str, "a string"), None),  # an end-user id for the caller's records; no effect
    # Not OpenAI's: llama.cpp-style extensions the web page and local clients use.
    "top_k": (_integer(0, 1 << 20), "top_k"),
    "min_p": (_number(0, 1), "min_p"),
    "repeat_penalty": (_number(0.01, 10), "repeat_penalty"),
    "speculative": (_speculative, "speculative"),  # prompt-lookup decoding: same output, faster copying
}

# Fields OpenAI accepts that this server cannot honour yet, with the values that ask for nothing
# (clients send those by default).
_NOT_YET = {
    "n": (1,), "best_of": (1,), "logit_bias": ({},), "echo": (False,), "suffix": ("",),
    "logprobs": (False,),
    "functions": (), "function_call": (), "audio": (), "modalities": (["text"],), "prediction": (),
    "reasoning_effort": (), "service_tier": ("auto", "default"), "store": (False,), "metadata": (),
    "web_search_options": (), "verbosity": (), "prompt_cache_key": (), "safety_identifier": (),
}

_CHAT_ONLY: Dict[str, Tuple[Check, Optional[str]]] = {
    "messages": (_of_type(list, "an array of messages"), None),
    "max_completion_tokens": (_integer(1), None),
    "response_format": (_of_type(dict, "an object"), "response_format"),
    "tools": (_of_type(list, "an array"), "tools"),
    "tool_choice": (lambda name, v: v, "tool_choice"),  # "none" | "auto" | "required" | object: tools.py checks
    "parallel_tool_calls": (_of_type(bool, "a boolean"), None),
    "logprobs": (_of_type(bool, "a boolean"), "logprobs"),
    "top_logprobs": (_integer(0, 20), "top_logprobs"),
}
_COMPLETION_ONLY: Dict[str, Tuple[Check, Optional[str]]] = {
    "prompt": (lambda name, v: v, None),  # checked by _prompt
}
_NOT_YET_CHAT = {k for k in _NOT_YET if k not in ("best_of", "echo", "suffix", "logprobs")}
_NOT_YET_COMPLETION = {"n", "best_of", "logit_bias", "echo", "suffix", "logprobs"}


def _read(body: Any, fields: Dict[str, Tuple[Check, Optional[str]]], not_yet: set) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(Python API kwargs, the checked request values) of a body, or an APIError."""
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object", None, "invalid_type")
    kwargs: Dict[str, Any] = {}
    values: Dict[str, Any] = {}
    for name, value in body.items():
        if name in not_yet:
            if value is None or any(value == ok and type(value) is type(ok) for ok in _NOT_YET[name]):
                continue
            raise unsupported(name)
        if name not in fields:
            raise bad_request(f"Unrecognized request argument supplied: {name}", name, "unknown_parameter")
        if value is None:  # OpenAI's clients send null for "not given"
            continue
        check, keyword = fields[name]
        values[name] = check(name, value)
        if keyword:
            kwargs[keyword] = values[name]
    if "stream_options" in values and not values.get("stream"):
        raise bad_request("stream_options is only allowed when stream is true", "stream_options")
    return kwargs, values


def _max_tokens(values: Dict[str, Any], limit: int) -> int:
    """The request's max_tokens (or max_completion_tokens), capped by the server's limit."""
    given = [values[k] for k in ("max_completion_tokens", "max_tokens") if k in values]
    if len(given) == 2 and given[0] != given[1]:
        raise bad_request("give max_tokens or max_completion_tokens, not both", "max_tokens")
    return min(given[0], limit) if given else limit


def _message_content(i: int, content: Any) -> Any:
    """Text parts (OpenAI's content arrays) joined into one string; other parts are not supported."""
    if content is None or isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise bad_request(f"messages[{i}].content must be a string or an array of content parts",
                          f"messages[{i}].content", "invalid_type")
    texts = []
    for j, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
            kind = part.get("type") if isinstance(part, dict) else type(part).__name__
            raise unsupported(f"messages[{i}].content[{j}]", f"only text parts are, got {kind!r}")
        texts.append(part["text"])
    return "".join(texts)


def _messages(messages: Any) -> list:
    if not isinstance(messages, list) or not messages:
        raise bad_request("messages must be a non-empty array", "messages", "invalid_value")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise bad_request(f"messages[{i}] must be an object with a string role", f"messages[{i}]", "invalid_type")
        out.append({**m, "content": _message_content(i, m.get("content"))} if "content" in m else m)
    return out


def chat_request(body: Any, max_tokens_limit: int) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(kwargs for Session.create_chat_completion without stream, checked values)."""
    kwargs, values = _read(body, {**_SAMPLING, **_CHAT_ONLY}, _NOT_YET_CHAT)
    if "messages" not in values:
        raise bad_request("messages is required", "messages", "missing_required_parameter")
    if values.get("parallel_tool_calls") is False:
        raise unsupported("parallel_tool_calls", "false (the model may answer with several calls)")
    if "top_logprobs" in values and not values.get("logprobs"):
        raise bad_request("top_logprobs needs logprobs: true", "top_logprobs", "invalid_value")
    kwargs["messages"] = _messages(values["messages"])
    kwargs["max_tokens"] = _max_tokens(values, max_tokens_limit)
    return kwargs, values


def _prompt(prompt: Any) -> Any:
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], (str, list)):
        return _prompt(prompt[0])  # a batch of one
    if isinstance(prompt, list) and prompt and all(isinstance(t, int) and not isinstance(t, bool) for t in prompt):
        return prompt  # token ids; the core checks their range
    if isinstance(prompt, list) and len(prompt) > 1 and all(isinstance(p, (str, list)) for p in prompt):
        raise unsupported("prompt", "a batch of several prompts (send one request per prompt)")
    raise bad_request("prompt must be a string or a non-empty array of token ids", "prompt", "invalid_type")


def completion_request(body: Any, max_tokens_limit: int) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(kwargs for Session.create_completion without stream, checked values)."""
    kwargs, values = _read(body, {**_SAMPLING, **_COMPLETION_ONLY}, _NOT_YET_COMPLETION)
    if "prompt" not in values:
        raise bad_request("prompt is required", "prompt", "missing_required_parameter")
    kwargs["prompt"] = _prompt(values["prompt"])
    kwargs["max_tokens"] = _max_tokens(values, max_tokens_limit)
    return kwargs, values


def embedding_request(body: Any) -> Dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object", None, "invalid_type")
    for name in body:
        if name not in ("input", "model", "encoding_format", "dimensions", "user"):
            raise bad_request(f"Unrecognized request argument supplied: {name}", name, "unknown_parameter")
    text = body.get("input")
    if not (isinstance(text, str) or isinstance(text, list) and text and all(isinstance(t, str) for t in text)):
        raise bad_request("input must be a string or a non-empty array of strings", "input", "invalid_type")
    if body.get("encoding_format") not in (None, "float", "base64"):
        raise bad_request('encoding_format must be "float" or "base64"', "encoding_format", "invalid_value")
    if body.get("dimensions") is not None:
        raise unsupported("dimensions")
    return {"input": text, "base64": body.get("encoding_format") == "base64"}


__all__ = ["APIError", "chat_request", "completion_request", "embedding_request"]
