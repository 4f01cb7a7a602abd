"""Chat templates render in Jinja2's immutable sandbox: real templates work, templates that try
to reach Python internals, read files or build huge output fail with a clear error."""
import time
from pathlib import Path

import pytest

import pyllama_edge as ple
from pyllama_edge.chat_template import (CHATML_TEMPLATE, LLAMA3_TEMPLATE, MAX_OUTPUT_CHARS, ChatTemplateError,
                                        render)

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}]


def test_llama3_fallback_layout():
    out = render(LLAMA3_TEMPLATE, MESSAGES, bos_token="<|begin_of_text|>")
    assert out == ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                   "<|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>"
                   "<|start_header_id|>assistant<|end_header_id|>\n\n")


def test_chatml_fallback_layout():
    out = render(CHATML_TEMPLATE, MESSAGES, add_generation_prompt=False)
    assert out == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n"


def test_helpers_available():
    tpl = "{{ strftime_now('%Y') }}|{{ bos_token }}|{{ eos_token }}|{{ tools | length }}"
    out = render(tpl, MESSAGES, bos_token="<s>", eos_token="</s>", tools=[{"name": "f"}])
    assert out.endswith("|<s>|</s>|1") and len(out.split("|")[0]) == 4


def test_raise_exception_becomes_chat_template_error():
    with pytest.raises(ChatTemplateError, match="roles must alternate"):
        render("{{ raise_exception('roles must alternate') }}", MESSAGES)


@pytest.mark.parametrize("template", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ raise_exception.__globals__['os'].system('echo pwned') }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ self._TemplateReference__context }}",
    "{% set x = messages.append({'role': 'x'}) %}",
    "{{ messages.pop() }}",
    "{% import 'os' as os %}",
    "{% include '/etc/passwd' %}",
    "{{ lipsum.__globals__ }}",
    "{{ (1).__class__.__base__.__subclasses__() }}",
])
def test_escape_attempts_fail_cleanly(template):
    with pytest.raises(ChatTemplateError):
        out = render(template, MESSAGES)
        # Rendering harmlessly is acceptable only if nothing internal leaked into the output.
        assert "class" not in out and "function" not in out and "module" not in out
        raise ChatTemplateError("rendered harmlessly")


def test_huge_output_is_bounded():
    start = time.monotonic()
    with pytest.raises(ChatTemplateError, match="exceeds"):
        render("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", MESSAGES)
    assert MAX_OUTPUT_CHARS < 10**7
    assert time.monotonic() - start < 30  # generous: the check is that it stops at all


def test_bad_messages():
    with pytest.raises(TypeError):
        render(CHATML_TEMPLATE, "hello")
    with pytest.raises(ValueError):
        render(CHATML_TEMPLATE, [{"content": "no role"}])
    with pytest.raises(TypeError):
        render(CHATML_TEMPLATE, [{"role": "user", "content": 5}])


def test_syntax_error_is_chat_template_error():
    with pytest.raises(ChatTemplateError, match="TemplateSyntaxError"):
        render("{% for %}", MESSAGES)


# Output multipliers whose inputs are each small: the result size is estimated before it is built,
# so each fails at once instead of allocating gigabytes (the first was found by the atheris harness,
# tests/fuzz/regressions/chat_template/format_width_huge).
@pytest.mark.parametrize("template", [
    "{{ '{:>999999999}1'.format(1) }}", "{{ '{:>{w}}'.format(1, w=5) }}", "{{ '%999999999d' % 1 }}",
    "{{ '%*d' % (999999999, 1) }}", "{{ '%999999999d'|format(1) }}", "{{ ('x' * 4000000).join(['a'] * 1000) }}",
    "{{ (['a'] * 1000)|join('x' * 4000000) }}", "{{ 'abc'.replace('', 'x' * 4000000) }}",
    "{{ 'ab'|replace('', 'x' * 4000000) }}", "{{ ('\t' * 4000000).expandtabs(4000000) }}",
    "{{ ('\n' * 4000000)|indent(4000000) }}", "{{ ('\n' * 4000000)|indent('x' * 1000) }}",
    "{{ messages|tojson(indent=4000000) }}", "{{ ('a ' * 2000000)|wordwrap(1, true, 'x' * 1000) }}",
])
def test_output_multipliers_fail_before_building(template):
    # the message names the estimate, not the render deadline: nothing huge was built first
    with pytest.raises(ChatTemplateError, match="(format width|join result|replace result|expandtabs result|"
                                                "indent result|wordwrap result|call argument) exceeds the limit|"
                                                "tojson indent|nested field"):
        render(template, MESSAGES)


def test_ordinary_formatting_still_works():
    assert render("{{ '%d items'|format(3) }} {{ '{:>5}|{:.2f}'.format('a', 3.14159) }} {{ '%s: %s' % ('a', 'b') }}",
                  MESSAGES) == "3 items     a|3.14 a: b"
    assert render("{{ messages|map(attribute='role')|join(', ') }} {{ 'a-b'.replace('-', '+') }}", MESSAGES) == \
        "system, user a+b"
    assert render("{{ 'x\ny'|indent(2) }}|{{ 'hello world'|wordwrap(5) }}", MESSAGES) == "x\n  y|hello\nworld"
    assert '"role": "user"' in render("{{ messages|tojson(indent=4) }}", MESSAGES)


def test_python_compiler_limits_become_chat_template_error():
    # Jinja compiles templates to Python; CPython's parser refuses some deep nestings with
    # SyntaxError ("too many nested parentheses"), which must surface as ChatTemplateError. The
    # input is the one the atheris harness found. (Its compilation is slow enough that, on a busy
    # machine, the render deadline may fire first: also a ChatTemplateError.)
    found = Path(__file__).parent / "fuzz" / "regressions" / "chat_template" / "nested_parentheses_syntax_error"
    template = found.read_bytes().partition(b"\0")[0].decode("utf-8", errors="replace")
    with pytest.raises(ChatTemplateError, match="SyntaxError|longer than|nests deeper"):
        render(template, MESSAGES)
    with pytest.raises(ChatTemplateError, match="RecursionError|nests deeper"):
        render("{{ " + "(" * 300 + "1" + ")" * 300 + " }}", MESSAGES)


def test_deep_nesting_is_refused_before_python_compiles_it():
    # 200 unary minus signs: CPython's compile() of Jinja's generated code took 10 s (atheris
    # finding, tests/fuzz/regressions/chat_template/deep_unary_slow_compile).
    with pytest.raises(ChatTemplateError, match="nests deeper than 100 levels"):
        render("{{ cycler.__in" + "-" * 200 + "it__ }}", MESSAGES)
    # the built-in templates are far from the limit
    from pyllama_edge.chat_template import _depth, _environment
    assert max(_depth(_environment().parse(t)) for t in (LLAMA3_TEMPLATE, CHATML_TEMPLATE)) < 30


def test_chat_template_error_is_exported_with_the_other_errors():
    assert ple.ChatTemplateError is ChatTemplateError and issubclass(ChatTemplateError, ValueError)
    assert "ChatTemplateError" in ple.__all__ and ple.errors.ChatTemplateError is ChatTemplateError
