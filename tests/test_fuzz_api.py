"""Property-based test of the Python API on a tiny synthetic model: random sampling parameters,
n_ctx, token id lists and text (including lone surrogates) give a valid result or a
ValueError/TypeError, never a crash or another exception."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyllama_edge as ple
from support.model_files import synthetic

pytestmark = pytest.mark.fuzz

ANY_NUMBER = st.one_of(st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                       st.none(), st.text(max_size=3))
TEXT = st.one_of(st.text(max_size=40), st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
                                               max_size=3).map(lambda s: "a" + s + "b"))
IDS = st.lists(st.one_of(st.integers(-5, 600), st.integers(-2**70, 2**70), st.floats(), st.text(max_size=1)), max_size=12)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                             HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = synthetic(tmp_path_factory.mktemp("api"), "api_f32", weight_type="F32", n_layer=1, n_embd=32, n_head=2,
                     n_head_kv=1, n_ff=64, n_ctx_train=64, rope_freqs=False)
    return ple.Model(path, n_ctx=48, n_threads=1)


# Mostly valid values (so generation really runs), sometimes anything.
VALID = dict(max_tokens=st.integers(-1, 4), temperature=st.floats(0, 5), top_k=st.integers(0, 400),
             top_p=st.floats(0.01, 1), min_p=st.floats(0, 1), repeat_penalty=st.floats(0.1, 3),
             frequency_penalty=st.floats(-2, 2), presence_penalty=st.floats(-2, 2), penalty_last_n=st.integers(-1, 100),
             seed=st.integers(0, 2**64 - 1))


@SETTINGS
@given(kwargs=st.fixed_dictionaries({}, optional={k: st.one_of(v, v, v, ANY_NUMBER) for k, v in VALID.items()}),
       prompt=st.one_of(TEXT, IDS), stop=st.one_of(st.none(), TEXT, st.lists(TEXT, max_size=2)))
def test_generate_random_parameters(model, kwargs, prompt, stop) -> None:
    if "max_tokens" in kwargs and isinstance(kwargs["max_tokens"], int) and not isinstance(kwargs["max_tokens"], bool):
        kwargs["max_tokens"] = max(-1, min(kwargs["max_tokens"], 4)) if kwargs["max_tokens"] >= -1 else kwargs["max_tokens"]
    sess = model.session()
    try:
        out = sess.generate(prompt, stop=stop, **kwargs)
    except (ValueError, TypeError):
        return
    assert isinstance(out, str)
    limit = kwargs.get("max_tokens", 256)
    assert sess.last_usage["completion_tokens"] <= (sess.n_ctx if limit in (None, -1) else limit)


@SETTINGS
@given(n_ctx=ANY_NUMBER, n_batch=ANY_NUMBER)
def test_session_random_sizes(model, n_ctx, n_batch) -> None:
    if isinstance(n_ctx, int) and not isinstance(n_ctx, bool) and 0 < n_ctx:
        n_ctx = min(n_ctx, 10**6)
    try:
        s = model.session(n_ctx=n_ctx, n_batch=n_batch)
    except (ValueError, TypeError):
        return
    assert 1 <= s.n_ctx <= 64


@SETTINGS
@given(ids=IDS, special=st.booleans())
def test_detokenize_and_logits_random_ids(model, ids, special) -> None:
    try:
        text = model.detokenize(ids, special=special)
        assert isinstance(text, str)
    except (ValueError, TypeError):
        pass
    try:
        out = model.logits(ids)
    except (ValueError, TypeError):
        return
    assert out.shape == (len(ids), model.n_vocab) and np.isfinite(out).all()


@SETTINGS
@given(text=TEXT, add_bos=st.booleans(), special=st.booleans())
def test_tokenize_random_text(model, text, add_bos, special) -> None:
    try:
        ids = model.tokenize(text, add_bos=add_bos, special=special)
    except (ValueError, TypeError):
        assert any(0xD800 <= ord(c) <= 0xDFFF for c in text)  # only unencodable text may fail
        return
    assert all(0 <= i < model.n_vocab for i in ids)
    if not special:
        body = ids[1:] if add_bos and ids and ids[0] == model._tokenizer.bos_id else ids
        assert model.detokenize(body) == text
    assert not math.isnan(len(ids))
