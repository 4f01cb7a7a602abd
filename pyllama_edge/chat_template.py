"""Chat templates: the model file's Jinja template, rendered only inside Jinja2's immutable
sandbox (templates come from downloaded files and must not reach Python internals), with
built-in Llama 3 and ChatML fallbacks for files that carry none."""
from __future__ import annotations

import datetime
import functools
import json
import re
import string
import sys
import time
from typing import Any, Dict, List, Optional, Sequence

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from .errors import ChatTemplateError

# Bounds for untrusted templates: rendering stops with ChatTemplateError past these. Output size
# alone does not bound a template: loops that print nothing, `'x' * 10**10`, `2 ** 10**9` or
# `'x' | center(10**9)` would hang or exhaust memory, so repetition, powers and size arguments of
# calls and filters are checked too, and a deadline is checked on every Python call made while
# rendering (each loop iteration is one).
MAX_OUTPUT_CHARS = 4 * 1024 * 1024
MAX_RENDER_SECONDS = 5.0
MAX_EXPONENT = 256
MAX_JSON_INDENT = 64
# Jinja compiles a template to Python source, and CPython's compiler slows down steeply on deep
# nesting (a chain of 200 unary minus signs takes seconds inside compile(), where no deadline can
# interrupt it; found by the atheris harness). Real templates nest about 20 levels.
MAX_TEMPLATE_DEPTH = 100

LLAMA3_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def _raise_exception(message: str) -> None:
    raise ChatTemplateError(f"chat template raised: {message}")


def _strftime_now(fmt: str) -> str:
    return datetime.datetime.now().strftime(fmt)


def _too_big(what: str) -> ChatTemplateError:
    return ChatTemplateError(f"chat template {what} exceeds the limit of {MAX_OUTPUT_CHARS} characters")


def _check_size_args(args: Sequence[Any], kwargs: Dict[str, Any]) -> None:
    for a in (*args, *kwargs.values()):
        if isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_OUTPUT_CHARS:
            raise _too_big("call argument")


def _check_result(value: Any) -> Any:
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_OUTPUT_CHARS:
        raise _too_big("value")
    return value


def _check_estimate(n: int, what: str) -> None:
    if n > MAX_OUTPUT_CHARS:
        raise _too_big(what)


def _check_width(digits: str) -> None:
    if len(digits) > 12 or int(digits) > MAX_OUTPUT_CHARS:
        raise _too_big("format width")


def _check_brace_format(fmt: str) -> None:
    """str.format / format_map: widths and precisions are bounded; nested replacement fields in a
    spec ('{:>{w}}') would hide a width from this check, so they are refused."""
    for _, field, spec, _ in string.Formatter().parse(fmt):
        if field is None or not spec:
            continue
        if "{" in spec:
            raise ChatTemplateError("chat template format spec with a nested field is not supported")
        for digits in re.findall(r"\d+", spec):
            _check_width(digits)


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_percent_format(fmt: Any, values: Any) -> None:
    """printf-style formatting ('%9d' % x, the format filter): the same bound on widths; a '*'
    width comes from the values, whose integers are then bounded too."""
    if not isinstance(fmt, str):
        return
    star = False
    for m in _PERCENT_SPEC.finditer(fmt):
        for g in m.groups():
            if g == "*":
                star = True
            elif g:
                _check_width(g)
    if star:
        _check_size_args(values if isinstance(values, (tuple, list)) else (values,), {})


def _str_len(items: Sequence[Any]) -> int:
    return sum(len(x) if isinstance(x, str) else 16 for x in items)


def _check_str_method(s: str, name: str, args: Sequence[Any], kwargs: Dict[str, Any]) -> Sequence[Any]:
    """Bounds the output of str methods whose result can be far larger than their inputs (the
    arguments themselves are bounded by _check_size_args). Returns args, with an iterator passed to
    join materialized so it can be measured."""
    if name == "join" and len(args) == 1:
        items = args[0] if isinstance(args[0], (list, tuple)) else list(args[0])
        _check_estimate(len(s) * max(len(items) - 1, 0) + _str_len(items), "join result")
        return (items,)
    if name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        old, new = args[0], args[1]
        if len(new) > len(old):
            hits = len(s) + 1 if not old else len(s) // len(old)
            if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
                hits = min(hits, args[2])
            _check_estimate(len(s) + hits * (len(new) - len(old)), "replace result")
    if name == "expandtabs":
        size = (args[0] if args else kwargs.get("tabsize", 8))
        if isinstance(size, int):
            _check_estimate(len(s) + s.count("\t") * max(size, 0), "expandtabs result")
    return args


def _check_filter(name: str, args: Sequence[Any], kwargs: Dict[str, Any]) -> Sequence[Any]:
    """The same for the built-in filters that can multiply their input (args[0] is the value)."""
    value = args[0] if args else None
    if name == "format":
        _check_percent_format(value, (*args[1:], *kwargs.values()))
    elif name == "join" and len(args) >= 1 and not isinstance(value, str):
        items = value if isinstance(value, (list, tuple)) else list(value)
        sep = args[1] if len(args) > 1 else kwargs.get("d", "")
        _check_estimate(len(str(sep)) * max(len(items) - 1, 0) + _str_len(items), "join result")
        return (items, *args[1:])
    elif name == "replace" and len(args) >= 3:
        _check_str_method(str(value), "replace", args[1:], {})
    elif name == "indent" and isinstance(value, str):
        width = args[1] if len(args) > 1 else kwargs.get("width", 4)
        pad = len(width) if isinstance(width, str) else width if isinstance(width, int) else 0
        _check_estimate(len(value) + (value.count("\n") + 1) * pad, "indent result")
    elif name == "wordwrap" and isinstance(value, str):
        width = args[1] if len(args) > 1 else kwargs.get("width", 79)
        wrap = args[3] if len(args) > 3 else kwargs.get("wrapstring") or "\n"
        if isinstance(width, int) and isinstance(wrap, str):
            _check_estimate(len(value) + (len(value) // max(width, 1) + value.count("\n") + 1) * len(wrap),
                            "wordwrap result")
    elif name == "tojson":
        indent = args[1] if len(args) > 1 else kwargs.get("indent")
        if isinstance(indent, int) and indent > MAX_JSON_INDENT:
            raise ChatTemplateError(f"chat template tojson indent {indent} exceeds the limit of {MAX_JSON_INDENT}")
    return args


def _bounded_filter(name: str, f: Any) -> Any:
    @functools.wraps(f)  # keeps Jinja's pass_context/pass_environment marks
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # filters marked pass_context / pass_eval_context / pass_environment get that first
        lead = 1 if getattr(f, "jinja_pass_arg", None) is not None else 0
        _check_size_args(args[lead + 1:], kwargs)
        checked = _check_filter(name, args[lead:], kwargs)
        return _check_result(f(*args[:lead], *checked, **kwargs))
    return wrapper


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**", "+", "%"])

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT \
                and isinstance(left, (int, float)) and abs(left) > 1:
            raise ChatTemplateError(f"chat template exponent {right} exceeds the limit of {MAX_EXPONENT}")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_OUTPUT_CHARS:
                    raise _too_big("repetition")
        if operator == "%":
            _check_percent_format(left, right)
        return _check_result(super().call_binop(context, operator, left, right))

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:  # value is a str's format / format_map
            _check_brace_format(value.__self__)
        return wrapped

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _check_size_args(args, kwargs)
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            args = tuple(_check_str_method(owner, getattr(__obj, "__name__", ""), args, kwargs))
        return _check_result(super().call(__context, __obj, *args, **kwargs))


def _tojson(value: Any, indent: Optional[int] = None, separators: Any = None, sort_keys: bool = False) -> str:
    """JSON as the templates' authors render it (Hugging Face's chat templating): keys in their
    order and text unescaped. Jinja's own tojson sorts keys and escapes <, >, & and ', so a tool's
    parameters would reach the model reordered and with \\u0027 for every apostrophe."""
    return json.dumps(value, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)


def _environment() -> ImmutableSandboxedEnvironment:
    env = _BoundedSandbox(trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["tojson"] = _tojson
    env.filters = {name: _bounded_filter(name, f) for name, f in env.filters.items()}
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


def _depth(tree: Any) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in node.iter_child_nodes())
    return deepest


def fallback_template(vocab_has: "callable") -> str:
    """Llama 3 headers when the vocabulary has them, else ChatML."""
    return LLAMA3_TEMPLATE if vocab_has("<|start_header_id|>") else CHATML_TEMPLATE


def validate_messages(messages: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise TypeError("messages must be a list of {'role': ..., 'content': ...} dicts")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m:
            raise ValueError(f"messages[{i}] must be a dict with 'role' and 'content'")
        if not isinstance(m["role"], str):
            raise TypeError(f"messages[{i}]['role'] must be a str")
        content = m.get("content", "")
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise TypeError(f"messages[{i}]['content'] must be a str")
        out.append({**m, "content": content})
    return out


def render(template: str, messages: Sequence[Dict[str, Any]], *, bos_token: str = "", eos_token: str = "",
           add_generation_prompt: bool = True, tools: Optional[list] = None, **extra: Any) -> str:
    """Renders `template` in the sandbox. Raises ChatTemplateError (a ValueError) on failure."""
    msgs = validate_messages(messages)
    deadline = time.monotonic() + MAX_RENDER_SECONDS

    def on_call(frame: Any, event: str, arg: Any) -> None:  # a sys.settrace hook, 'call' events only
        if event == "call" and time.monotonic() > deadline:
            raise ChatTemplateError(f"chat template took longer than {MAX_RENDER_SECONDS} s to render")
        return None

    previous = sys.gettrace()
    sys.settrace(on_call)
    try:
        env = _environment()
        tree = env.parse(template)
        if _depth(tree) > MAX_TEMPLATE_DEPTH:
            raise ChatTemplateError(f"chat template nests deeper than {MAX_TEMPLATE_DEPTH} levels")
        compiled = env.from_string(tree)
        chunks = []
        size = 0
        for chunk in compiled.generate(messages=msgs, bos_token=bos_token, eos_token=eos_token,
                                       add_generation_prompt=add_generation_prompt, tools=tools, **extra):
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                raise ChatTemplateError(f"chat template output exceeds {MAX_OUTPUT_CHARS} characters")
            chunks.append(chunk)
        return "".join(chunks)
    except ChatTemplateError:
        raise
    except TemplateError as e:  # includes SecurityError from the sandbox
        raise ChatTemplateError(f"chat template failed: {type(e).__name__}: {e}") from None
    # SyntaxError: Jinja compiles a template to Python source, which CPython's parser can refuse
    # (deeply nested expressions: "too many nested parentheses"); found by the atheris harness.
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError, RecursionError,
            ZeroDivisionError, MemoryError, SyntaxError) as e:
        raise ChatTemplateError(f"chat template failed: {type(e).__name__}: {e}") from None
    finally:
        sys.settrace(previous)
