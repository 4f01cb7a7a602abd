"""Constrained decoding on llguidance: the vocabulary it gets from the GGUF, the API shapes
(response_format, json_schema incl. pydantic, grammar in Lark and GBNF), bad input, and the
validation set (tests/support/schema_corpus.py) sampled at temperature 0.8 on SmolLM2."""
from __future__ import annotations

import json
import sys
import time

import jsonschema
import pytest

import pyllama_edge as ple
from pyllama_edge import constrained

from support.schema_corpus import SCHEMAS

llguidance = pytest.importorskip("llguidance", reason="constrained decoding needs llguidance ([test] extra)")


@pytest.fixture(scope="module")
def smollm2(smollm2_path):
    return ple.Model(smollm2_path, n_ctx=1024, n_threads=2)


def ask(what: str):
    return [{"role": "user", "content": f"Give me an example {what} as JSON."}]


# -- the vocabulary ----------------------------------------------------------------------------
def test_vocabulary_bytes_are_the_decode_loop_output(smollm2):
    tok = constrained.llg_tokenizer(smollm2)
    core = smollm2._tokenizer
    assert tok.vocab_size == smollm2.n_vocab
    assert sorted(tok.eos_tokens) == [i for i in range(smollm2.n_vocab) if core.is_eog(i)]
    text = "Grüße, 東京! {\"a\": [1, 2.5e3]}\n\ttabs"
    ids = smollm2.tokenize(text, add_bos=False)
    assert tok.decode_bytes(ids) == text.encode("utf-8")
    for i in range(smollm2.n_vocab):
        assert tok.is_special_token(i) == core.is_control(i)
    im_end = smollm2.tokenize("<|im_end|>", add_bos=False, special=True)[0]
    assert tok.is_special_token(im_end) and tok.decode_bytes([im_end]) == b"<|im_end|>"
    # Grammars can name special tokens; text cannot spell them.
    out = smollm2.generate("Hi", grammar='start: "ok" <|im_end|>', max_tokens=5, seed=1, ignore_eos=True)
    assert out == "ok"
    assert constrained.llg_tokenizer(smollm2) is tok  # built once per model


# -- API shapes --------------------------------------------------------------------------------
def test_json_object_mode(smollm2):
    out = smollm2.chat(ask("user profile"), response_format={"type": "json_object"}, temperature=0.8, seed=5,
                       max_tokens=200, repeat_penalty=1.1)
    assert isinstance(json.loads(out), dict)


def test_openai_json_schema_shape_in_create_chat_completion(smollm2):
    schema = {"type": "object", "properties": {"room": {"enum": ["kitchen", "hall"]}, "on": {"type": "boolean"}},
              "required": ["room", "on"], "additionalProperties": False}
    r = smollm2.create_chat_completion(
        ask("light switch state"), temperature=0.8, seed=1, max_tokens=60,
        response_format={"type": "json_schema", "json_schema": {"name": "light", "schema": schema, "strict": True}})
    assert r["choices"][0]["finish_reason"] == "stop"
    jsonschema.validate(json.loads(r["choices"][0]["message"]["content"]), schema)


def test_pydantic_model_class(smollm2):
    pydantic = pytest.importorskip("pydantic")

    class Note(pydantic.BaseModel):
        title: str = pydantic.Field(max_length=30)
        stars: int = pydantic.Field(ge=1, le=5)

    out = smollm2.generate("A note about bread:", json_schema=Note, temperature=0.8, seed=2, max_tokens=80)
    note = Note.model_validate_json(out)
    assert 1 <= note.stars <= 5


@pytest.mark.parametrize("grammar", [
    'start: answer "." \nanswer: "yes" | "no"',  # Lark
    'root ::= answer "."\nanswer ::= "yes" | "no"',  # GBNF
])
def test_grammar_lark_and_gbnf(smollm2, grammar):
    for seed in range(3):
        out = smollm2.generate("Is the sky blue?", grammar=grammar, temperature=1.0, seed=seed, max_tokens=10)
        assert out in ("yes.", "no.")


def test_streaming_and_sessions_are_constrained_too(smollm2):
    schema = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 9}, "minItems": 3, "maxItems": 3}
    pieces = list(smollm2.chat_stream(ask("list of digits"), json_schema=schema, temperature=0.8, seed=3, max_tokens=30))
    assert len(pieces) > 1
    jsonschema.validate(json.loads("".join(pieces)), schema)
    s = smollm2.session()
    jsonschema.validate(json.loads(s.chat(ask("list of digits"), json_schema=schema, seed=4, max_tokens=30)), schema)
    # The next call on the same session is free text again.
    assert s.last_finish_reason == "stop"
    s.generate("Hello", max_tokens=3, seed=1)


def test_unbounded_numbers_get_the_interoperable_range():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}, "x": {"type": ["number", "null"], "minimum": 0},
                                               "k": {"const": {"type": "integer"}}, "e": {"enum": [{"type": "number"}]}}}
    bounded = constrained._bound_numbers(schema)
    assert bounded["properties"]["n"] == {"type": "integer", "minimum": -constrained.SAFE_INTEGER,
                                          "maximum": constrained.SAFE_INTEGER}
    assert bounded["properties"]["x"]["minimum"] == 0 and bounded["properties"]["x"]["maximum"] == constrained.SAFE_INTEGER
    assert bounded["properties"]["k"] == {"const": {"type": "integer"}}  # values are not schemas
    assert bounded["properties"]["e"] == {"enum": [{"type": "number"}]}
    assert "minimum" not in schema["properties"]["n"]  # the caller's schema is untouched


# -- bad input: ValueError naming the problem, before any generation ---------------------------
def deep_schema(levels: int):
    schema = {"type": "integer"}
    for _ in range(levels):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


@pytest.mark.parametrize("kwargs, message", [
    (dict(json_schema={"type": "strnig"}), "strnig"),
    (dict(json_schema={"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}), "missing"),
    (dict(json_schema="{not json"), "not valid JSON"),
    (dict(json_schema=deep_schema(100_000)), "nested"),
    (dict(json_schema={"enum": list(range(50_000))}), "too large"),
    (dict(json_schema={"type": "string", "pattern": "(unclosed"}), "unclosed"),
    (dict(grammar="start: undefined_rule"), "undefined_rule"),
    (dict(grammar="root ::= ("), "grammar"),
    (dict(grammar="x" * (constrained.MAX_GRAMMAR_CHARS + 1)), "too large"),
    (dict(response_format={"type": "xml"}), "xml"),
    (dict(response_format={"type": "json_schema"}), "json_schema"),
    (dict(response_format={"type": "json_object"}, grammar='start: "a"'), "at most one"),
])
def test_bad_constraints_raise_value_error_before_generation(smollm2, kwargs, message):
    s = smollm2.session()
    started = time.monotonic()
    with pytest.raises(ValueError, match=message):
        s.generate("Hi", max_tokens=5, **kwargs)
    assert time.monotonic() - started < 30  # bounded: never minutes of compile time
    assert s.history == []  # nothing was evaluated


def test_wrong_types_raise_type_error(smollm2):
    with pytest.raises(TypeError, match="json_schema"):
        smollm2.generate("Hi", json_schema=42)
    with pytest.raises(TypeError, match="grammar"):
        smollm2.generate("Hi", grammar=b"start: 'a'")
    with pytest.raises(ValueError, match="logits_mask"):
        smollm2.generate("Hi", grammar='start: "a"', logits_mask=lambda p, a: True)


def test_missing_llguidance_says_how_to_install(smollm2, monkeypatch):
    monkeypatch.setitem(sys.modules, "llguidance", None)
    with pytest.raises(ModuleNotFoundError, match=r"pyllama_edge\[constrained\]"):
        smollm2.generate("Hi", json_schema={"type": "object"})


# -- the validation set ------------------------------------------------------------------------
SEEDS = (1, 2, 3)


@pytest.mark.slow
def test_every_schema_output_parses_and_validates(smollm2):
    """52 schemas x 3 seeds at temperature 0.8 (repeat_penalty 1.1, as llama.cpp's samplers long
    defaulted to): every output finishes, parses and validates. bench/README.md has the rate
    without the penalty."""
    failures = []
    for name, schema in SCHEMAS:
        for seed in SEEDS:
            r = smollm2.create_chat_completion(ask(name), json_schema=schema, temperature=0.8, seed=seed,
                                               max_tokens=300, repeat_penalty=1.1)
            text = r["choices"][0]["message"]["content"]
            try:
                assert r["choices"][0]["finish_reason"] == "stop", "ran to max_tokens"
                jsonschema.validate(json.loads(text), schema)
            except (AssertionError, ValueError, jsonschema.ValidationError) as e:
                failures.append(f"{name} seed {seed}: {str(e)[:80]}: {text[:120]!r}")
    assert len(SCHEMAS) >= 50
    assert not failures, "\n".join(failures)
