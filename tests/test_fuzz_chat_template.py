"""Property-based fuzzing of the chat-template path (a hypothesis stand-in for an atheris harness):
random templates, built from Jinja fragments that real templates use plus hostile ones (attribute
walks, huge repetition, unbounded loops), over random messages, either render to a str or raise
ChatTemplateError, within a bounded time. Nothing else may escape."""
from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyllama_edge.chat_template import CHATML_TEMPLATE, LLAMA3_TEMPLATE, MAX_RENDER_SECONDS, ChatTemplateError, render

EXPRS = [
    "message['role']", "message['content']", "message.content", "bos_token", "eos_token", "messages|length",
    "messages[0]['content']|trim", "messages[-1]", "loop.index", "add_generation_prompt", "tools", "'x' * 3",
    "'x' * 10**9", "2 ** 10**6", "range(10**9)|list", "message['content']|center(10**9)", "'%s'|format(message)",
    "message.__class__", "message.__class__.__mro__[1].__subclasses__()", "cycler.__init__.__globals__",
    "raise_exception('bad')", "strftime_now('%Y')", "messages.append(1)", "messages.pop()", "1/0", "none.x",
    "message['content'][::-1]", "(message['content'] ~ eos_token)|upper", "namespace(a=1).a", "lipsum(2)",
    "self", "range(5)|join(',')", "message['content']|tojson", "tools[0]", "'{:>999999999}'.format(1)",
]
STMTS = [
    "{{{{ {e} }}}}", "{{% if {e} %}}A{{% else %}}B{{% endif %}}", "{{% set v = {e} %}}{{{{ v }}}}",
    "{{% for message in messages %}}{body}{{% endfor %}}", "{{% for i in range(100000) %}}{body}{{% endfor %}}",
    "{{% for m in messages %}}{{% for i in range(100000) %}}{body}{{% endfor %}}{{% endfor %}}",
    "{{% macro f(x) %}}{body}{{% endmacro %}}{{{{ f(1) }}}}", "{{% raw %}}{{{{ x }}}}{{% endraw %}}",
    "{{% include 'x' %}}", "{{% import 'os' as os %}}", "{{{{ {e}", "{{% endfor %}}",
]


@st.composite
def templates(draw, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            parts.append(draw(st.text(max_size=20)))
        elif kind == 1:
            parts.append(draw(st.sampled_from([CHATML_TEMPLATE, LLAMA3_TEMPLATE])))
        else:
            stmt = draw(st.sampled_from(STMTS))
            body = draw(templates(depth + 1)) if depth < 2 and "{body}" in stmt else "{{ message }}"
            parts.append(stmt.format(e=draw(st.sampled_from(EXPRS)), body=body))
    return "".join(parts)


messages = st.lists(st.fixed_dictionaries({"role": st.sampled_from(["system", "user", "assistant", "tool", ""]),
                                           "content": st.one_of(st.text(max_size=50), st.none())}), max_size=4)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template=templates(), msgs=messages, gen=st.booleans(), tools=st.one_of(st.none(), st.just([{"name": "f"}])))
def test_random_templates_render_or_raise_chat_template_error(template, msgs, gen, tools) -> None:
    start = time.monotonic()
    try:
        out = render(template, msgs, bos_token="<s>", eos_token="</s>", add_generation_prompt=gen, tools=tools)
        assert isinstance(out, str)
        assert "__globals__" not in out and "<class '" not in out and "<module" not in out
    except ChatTemplateError:
        pass
    assert time.monotonic() - start < MAX_RENDER_SECONDS + 5


def test_loop_that_prints_nothing_is_stopped_in_bounded_time() -> None:
    start = time.monotonic()
    try:
        render("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", [])
        raise AssertionError("10**10 iterations finished")
    except ChatTemplateError as e:
        assert "longer than" in str(e)
    assert time.monotonic() - start < MAX_RENDER_SECONDS + 5


def test_size_arguments_and_repetition_are_bounded() -> None:
    for template in ("{{ 'x' * 10**10 }}", "{{ ['a'] * 10**8 }}", "{{ 'x'|center(10**9) }}", "{{ 'x'.ljust(10**9) }}",
                     "{% set ns = namespace(s='a') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}"):
        start = time.monotonic()
        try:
            render(template, [])
            raise AssertionError(template)
        except ChatTemplateError as e:
            assert "limit" in str(e), template
        assert time.monotonic() - start < MAX_RENDER_SECONDS + 5, template  # generous: it stops early
