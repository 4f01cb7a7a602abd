"""Property-based fuzzing of the chat-template path (a hypothesis stand-in for an atheris harness):
random templates, built from Jinja fragments that real templates use plus hostile ones (attribute
walks, huge repetition, unbounded loops), over random messages, either render to a str or raise
ChatTemplateError, within a bounded time. Nothing else may escape."""
from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyllama_edge.chat_template import CHATML_TEMPLATE, LLAMA3_TEMPLATE, MAX_RENDER_SECONDS, ChatTemplateError, render

pytestmark = pytest.mark.fuzz

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


def _harness():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parent / "fuzz" / "chat_template_fuzz.py"
    spec = importlib.util.spec_from_file_location("chat_template_fuzz", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, path.parent


def test_chat_template_fuzz_corpus_and_regressions_replay():
    """The atheris harness's own check over its seed corpus and every committed finding."""
    harness, fuzz_dir = _harness()
    files = sorted((fuzz_dir / "corpus" / "chat_template").iterdir()) + \
        sorted(p for p in (fuzz_dir / "regressions" / "chat_template").iterdir() if p.name != ".gitkeep")
    assert len(files) >= 16
    for p in files:
        harness.check_one(p.read_bytes())


def test_chat_template_fuzz_check_catches_a_leak(monkeypatch):
    """The harness's sandbox property can fail: an unsandboxed render that reads os.environ is caught."""
    import pytest
    from jinja2 import Environment

    import pyllama_edge.chat_template as ct

    harness, _ = _harness()
    monkeypatch.setattr(ct, "_environment", lambda: Environment())
    data = b"{% for k, v in env.items() %}{{ v }}{% endfor %}"
    monkeypatch.setattr(ct, "render", lambda t, m, **kw: Environment().from_string(t).render(env=__import__("os").environ))
    with pytest.raises(AssertionError, match="sandbox leaked"):
        harness.check_one(data)
