"""Generation behaviour: determinism, seeds, stops, limits, parameter checks, interruption,
OpenAI-shaped results, chat templates from the file."""
from __future__ import annotations

import pytest

import pyllama_edge as ple


@pytest.fixture(scope="module")
def smollm2(smollm2_path):
    return ple.Model(smollm2_path, n_ctx=512)


def test_greedy_is_deterministic_and_sensible(smollm2):
    a = smollm2.generate("The capital of France is", max_tokens=8, temperature=0)
    b = smollm2.session().generate("The capital of France is", max_tokens=8, temperature=0)
    assert a == b
    assert "Paris" in a


def test_seeded_sampling_is_reproducible(smollm2):
    kw = dict(max_tokens=16, temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, seed=1234)
    a = smollm2.session().generate("Once upon a time", **kw)
    b = smollm2.session().generate("Once upon a time", **kw)
    c = smollm2.session().generate("Once upon a time", **{**kw, "seed": 99})
    assert a == b
    assert a != c


def test_stream_pieces_join_to_generate(smollm2):
    pieces = list(smollm2.stream("The capital of France is", max_tokens=10, temperature=0))
    assert len(pieces) > 1 and all(isinstance(p, str) and p for p in pieces)
    assert "".join(pieces) == smollm2.generate("The capital of France is", max_tokens=10, temperature=0)


def test_stop_string_ends_generation_and_is_not_emitted(smollm2):
    full = smollm2.generate("The capital of France is", max_tokens=10, temperature=0)
    assert "Paris" in full
    cut = smollm2.create_completion("The capital of France is", max_tokens=10, temperature=0, stop=["aris"])
    assert cut["choices"][0]["text"] == full[: full.index("aris")]
    assert cut["choices"][0]["finish_reason"] == "stop"


def test_max_tokens_and_usage(smollm2):
    r = smollm2.create_completion("Count: 1, 2, 3,", max_tokens=5, temperature=0)
    assert r["object"] == "text_completion"
    assert r["choices"][0]["finish_reason"] == "length"
    assert r["usage"]["completion_tokens"] == 5
    assert r["usage"]["prompt_tokens"] == len(smollm2.tokenize("Count: 1, 2, 3,"))
    assert r["usage"]["total_tokens"] == r["usage"]["prompt_tokens"] + 5


def test_end_of_generation_token_stops(smollm2):
    r = smollm2.create_chat_completion([{"role": "user", "content": "Say hi."}], max_tokens=200, temperature=0)
    assert r["object"] == "chat.completion"
    assert r["choices"][0]["finish_reason"] == "stop"  # <|im_end|> ended it
    assert r["choices"][0]["message"]["role"] == "assistant"
    assert "<|im_end|>" not in r["choices"][0]["message"]["content"]
    assert r["usage"]["completion_tokens"] < 200


def test_streaming_chunks(smollm2):
    chunks = list(smollm2.create_chat_completion([{"role": "user", "content": "Hi"}], stream=True, max_tokens=4,
                                                 temperature=0))
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant"}
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    text_chunks = list(smollm2.create_completion("Hello", stream=True, max_tokens=3, temperature=0))
    assert text_chunks[-1]["choices"][0]["finish_reason"] == "length"


def test_full_context_finishes_with_length(smollm2_path):
    m = ple.Model(smollm2_path, n_ctx=16)
    s = m.session()
    out = s.generate("One two three four five", max_tokens=100, temperature=0)
    assert s.last_finish_reason == "length"
    assert s.last_usage["total_tokens"] <= 17  # the last sampled token is never fed back
    assert isinstance(out, str)
    with pytest.raises(ple.ContextOverflowError):
        s.generate("word " * 40, max_tokens=1)


@pytest.mark.parametrize("kwargs", [
    dict(temperature=-1.0), dict(top_k=-1), dict(top_p=0.0), dict(top_p=1.5), dict(min_p=-0.1), dict(min_p=2.0),
    dict(repeat_penalty=0.0), dict(max_tokens=-5), dict(seed=-1), dict(temperature=float("nan")),
    dict(penalty_last_n=-2), dict(stop=[""]),
])
def test_bad_parameters_raise_before_any_work(smollm2, kwargs):
    s = smollm2.session()
    with pytest.raises(ValueError):
        s.stream("Hello", **kwargs)  # raises at the call, not at the first next()
    assert s.history == []


@pytest.mark.parametrize("kwargs", [dict(temperature="hot"), dict(top_k=1.5), dict(max_tokens="3"), dict(stop=[1])])
def test_bad_parameter_types(smollm2, kwargs):
    with pytest.raises(TypeError):
        smollm2.generate("Hello", **kwargs)


def test_interrupted_stream_leaves_session_usable(smollm2):
    s = smollm2.session()
    it = s.stream("The capital of France is", max_tokens=50, temperature=0)
    next(it)
    it.close()  # what a KeyboardInterrupt in the consumer's loop amounts to
    assert s.generate("The capital of France is", max_tokens=8, temperature=0) == \
        smollm2.session().generate("The capital of France is", max_tokens=8, temperature=0)


def test_repeat_penalty_changes_output(smollm2):
    kw = dict(max_tokens=24, temperature=0)
    plain = smollm2.session().generate("la la la la la la", **kw)
    penalized = smollm2.session().generate("la la la la la la", repeat_penalty=1.5, **kw)
    assert plain != penalized


def test_chat_uses_file_template_without_doubled_bos(tiny_llama3_q8):
    m = ple.Model(tiny_llama3_q8, n_ctx=256)
    ids = m.tokenize_chat([{"role": "user", "content": "Hi"}])
    assert ids[0] == 128000 and ids[1] != 128000
    assert not m.chat_template_is_builtin
    text = m.detokenize(ids, special=True)
    assert "<|start_header_id|>user<|end_header_id|>" in text


def test_hostile_template_in_file_raises_cleanly(tmp_path):
    import gguf
    import sys
    from tools.make_synthetic_llama import make_synthetic_llama

    path = make_synthetic_llama(tmp_path / "evil.gguf", n_layer=1, n_embd=64, n_head=2, n_head_kv=1, n_ff=128,
                                n_ctx_train=256, weight_type="F32")
    # Rewrite with a hostile template: copy every field but the template.
    r = gguf.GGUFReader(str(path))
    out = tmp_path / "evil2.gguf"
    w = gguf.GGUFWriter(str(out), "llama")
    for key, field in r.fields.items():
        if key.startswith("GGUF.") or key in ("general.architecture", "tokenizer.chat_template"):
            continue
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        w.add_key_value(key, field.contents(), vtype, sub_type=sub)
    w.add_chat_template("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    for t in r.tensors:
        w.add_tensor(t.name, t.data, raw_shape=list(reversed([int(x) for x in t.shape])), raw_dtype=t.tensor_type)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    m = ple.Model(out, n_ctx=64)
    with pytest.raises(ValueError, match="chat template"):
        m.chat([{"role": "user", "content": "hi"}], max_tokens=2)


def test_chat_turn_evaluates_only_new_tokens(smollm2):
    s = smollm2.session()
    messages = [{"role": "user", "content": "Hi! What is your name?"}]
    first = s.chat(messages, max_tokens=16, temperature=0)
    assert first and s.last_prompt_evaluated == s.last_usage["prompt_tokens"]
    messages += [{"role": "assistant", "content": first}, {"role": "user", "content": "What is the capital of France?"}]
    second = s.chat(messages, max_tokens=16, temperature=0)
    assert "Paris" in second
    # Everything up to the first reply was in the cache already.
    assert s.last_prompt_evaluated < s.last_usage["prompt_tokens"] - 30
