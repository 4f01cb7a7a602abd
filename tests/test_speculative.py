"""Speculative decoding (issue 18): the batched verification step's logits equal the decode step's
bit for bit, so prompt lookup and a draft model change how fast tokens come, never which ones
(greedy, and sampled with the same seed when the draft is deterministic); rejected drafts leave
the cache as if they were never evaluated; the acceptance rule for sampled drafts keeps the
target's distribution (a chi-square test on a tiny vocabulary)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import pyllama_edge as ple

from support.model_files import ENGLISH, synthetic

KV_TYPES = ("f16", "q8_0")

# Chats a model answers by copying from them, and one it does not.
COPYING = [
    [{"role": "user", "content": "Rewrite this paragraph, changing 'river' to 'lake':\n\n" + ENGLISH[:500]}],
    [{"role": "user", "content": "Repeat this code, renaming total_price to sum_prices:\n\n"
                                 "def total_price(items):\n    return sum(item.price * item.count for item in items)\n"}],
]
FREE = [[{"role": "user", "content": "Tell me a story about a dragon."}]]


@pytest.fixture(scope="module")
def smollm2(smollm2_path):
    return ple.Model(smollm2_path, n_ctx=512, n_threads=2)


@pytest.fixture(scope="module")
def smollm2_q8kv(smollm2_path):
    return ple.Model(smollm2_path, n_ctx=512, n_threads=2, kv_type="q8_0")


def _model(request, kv_type):
    return request.getfixturevalue("smollm2" if kv_type == "f16" else "smollm2_q8kv")


def _run(model, prompt, **kwargs):
    """Generated ids, finish reason, the text and (drafted, accepted) of one call on a fresh session
    (a chat for a list of messages)."""
    s = model.session()
    text = s.chat(prompt, **kwargs) if isinstance(prompt, list) else s.generate(prompt, **kwargs)
    r = s.last_result
    return list(r.tokens), r.finish_reason, text, (r.draft_tokens, r.accepted_draft_tokens)


# -- the verification step ------------------------------------------------------------------------
@pytest.mark.parametrize("kv_type", KV_TYPES)
@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("weights", ["smollm2", "tiny_llama3_q8"])
def test_batch_logits_equal_decode_logits(request, weights, kv_type, n_threads):
    """Every position of a batched append (prefill tiles/panels, grouped attention) equals a
    one-token decode step (GEMV, per-head attention) bit for bit."""
    path = request.getfixturevalue(weights + "_path" if weights == "smollm2" else weights)
    m = ple.Model(path, n_ctx=128, n_threads=n_threads, kv_type=kv_type)
    ids = m.tokenize(ENGLISH)[:40]
    for batch in (2, 5, 17):
        batched, stepped = m.session()._native, m.session()._native
        batched.set_tokens(ids[:20])
        stepped.set_tokens(ids[:20])
        got = batched.append_batch(ids[20:20 + batch])
        want = []
        for t in ids[20:20 + batch]:
            stepped.append(t)
            want.append(stepped.last_logits())
        np.testing.assert_array_equal(got.view(np.uint32), np.array(want).view(np.uint32))
        np.testing.assert_array_equal(batched.last_logits(), want[-1])
    m.close()


@pytest.mark.parametrize("kv_type", KV_TYPES)
def test_rejected_positions_are_overwritten(request, kv_type):
    """Dropping the tail of a batch and going on is the same as never having evaluated it."""
    m = _model(request, kv_type)
    ids = m.tokenize(ENGLISH)[:30]
    s, plain = m.session()._native, m.session()._native
    s.set_tokens(ids[:10])
    s.append_batch(ids[10:13] + [7, 8, 9, 10])  # three right, four wrong
    s.keep_batch_prefix(3)
    assert s.history == ids[:13]
    plain.set_tokens(ids[:13])
    np.testing.assert_array_equal(s.last_logits(), plain.last_logits())
    for t in ids[13:20]:
        s.append(t)
        plain.append(t)
        np.testing.assert_array_equal(s.last_logits(), plain.last_logits())
    got = s.append_batch(ids[20:25])
    want = plain.append_batch(ids[20:25])
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="keep_batch_prefix"):
        s.keep_batch_prefix(6)
    s.append(ids[25])
    with pytest.raises(ValueError, match="keep_batch_prefix"):
        s.keep_batch_prefix(1)  # not right after a batch


# -- prompt lookup ---------------------------------------------------------------------------------
@pytest.mark.parametrize("kv_type", KV_TYPES)
def test_greedy_lookup_equals_plain_greedy(request, kv_type):
    m = _model(request, kv_type)
    accepted = 0
    for prompt in COPYING + FREE:
        plain = _run(m, prompt, temperature=0, max_tokens=48)
        spec = _run(m, prompt, temperature=0, max_tokens=48, speculative="lookup")
        assert spec[:3] == plain[:3], prompt
        assert plain[3] == (0, 0)
        accepted += spec[3][1]
    assert accepted > 20  # the copying prompts were copied through drafts


def test_sampled_lookup_keeps_the_tokens_of_the_seed(smollm2):
    """A lookup draft is deterministic: a drafted token stands when the target samples it, with
    the target's own RNG stream, so a seed gives the same tokens as without it."""
    for seed in (1, 2, 3):
        kw = dict(temperature=0.7, top_k=40, top_p=0.95, repeat_penalty=1.1, seed=seed, max_tokens=40)
        assert _run(smollm2, COPYING[0], speculative="lookup", **kw)[:3] == _run(smollm2, COPYING[0], **kw)[:3]


def test_lookup_with_stops_limits_and_eos(smollm2):
    prompt = COPYING[0]
    for kw in (dict(max_tokens=1), dict(max_tokens=7), dict(stop=["river"]), dict(stop=["city", "\n"]),
               dict(max_tokens=200)):
        plain = _run(smollm2, prompt, temperature=0, **kw)
        spec = _run(smollm2, prompt, temperature=0, speculative="lookup", **kw)
        assert spec[:3] == plain[:3], kw
    # End of generation: a chat answer that ends with <|im_end|>.
    msgs = [{"role": "user", "content": "Repeat after me: the cat sat on the mat."}]
    a = smollm2.create_chat_completion(msgs, temperature=0, max_tokens=60)
    b = smollm2.create_chat_completion(msgs, temperature=0, max_tokens=60, speculative="lookup")
    assert a["choices"][0] == b["choices"][0]
    assert a["choices"][0]["finish_reason"] == "stop"


def test_drafts_end_at_the_end_of_generation(smollm2):
    """Generation stops at an end-of-generation token, so a draft never goes past one: with the
    target as its own draft every drafted token is kept, the last draft ending at <|im_end|>."""
    stopped = 0
    for prompt in COPYING + [[{"role": "user", "content": "Repeat after me: the cat sat on the mat."}]]:
        plain = _run(smollm2, prompt, temperature=0, max_tokens=120)
        ids, finish, text, (drafted, accepted) = _run(smollm2, prompt, temperature=0, max_tokens=120, speculative=smollm2)
        assert (ids, finish, text) == plain[:3]
        assert drafted > 0 and drafted == accepted, prompt
        stopped += finish == "stop"
    assert stopped >= 2


def test_lookup_continues_a_session(smollm2):
    """A second call on the same session reuses a cache that speculative decoding wrote."""
    spec, plain = smollm2.session(), smollm2.session()
    outputs = []
    for s, kw in ((spec, dict(speculative="lookup")), (plain, {})):
        msgs = [{"role": "user", "content": "Copy this sentence: " + ENGLISH[:200]}]
        first = s.chat(msgs, temperature=0, max_tokens=40, **kw)
        msgs += [{"role": "assistant", "content": first}, {"role": "user", "content": "Once more."}]
        outputs.append((first, s.chat(msgs, temperature=0, max_tokens=40, **kw), s.last_prompt_evaluated))
    assert outputs[0] == outputs[1]


def test_lookup_checks_drafts_against_the_logits_mask(smollm2):
    """A drafted token the mask forbids is rejected: the output is the constrained one."""
    forbidden = smollm2.tokenize(" river", add_bos=False)
    assert len(forbidden) == 1

    def mask(previous, allowed):
        allowed[forbidden[0] // 32] &= ~np.uint32(1 << (forbidden[0] % 32))
        return True

    plain = _run(smollm2, COPYING[0], temperature=0, max_tokens=40, logits_mask=mask)
    spec = _run(smollm2, COPYING[0], temperature=0, max_tokens=40, logits_mask=mask, speculative="lookup")
    assert spec[:3] == plain[:3]
    assert forbidden[0] not in spec[0]
    assert spec[3][1] > 0


def test_lookup_with_constrained_json(smollm2):
    pytest.importorskip("llguidance")
    text = "Name: Ada Lovelace. Born: 1815. City: London."
    msgs = [{"role": "user", "content": f"Extract name, born and city from this text as JSON: {text}"}]
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "born": {"type": "integer"},
                                               "city": {"type": "string"}},
              "required": ["name", "born", "city"], "additionalProperties": False}
    plain = smollm2.chat(msgs, json_schema=schema, temperature=0, max_tokens=60)
    spec = smollm2.chat(msgs, json_schema=schema, temperature=0, max_tokens=60, speculative="lookup")
    assert spec == plain


def test_every_entry_point_takes_the_option(smollm2):
    msgs = [{"role": "user", "content": "Say: hello hello hello"}]
    kw = dict(temperature=0, max_tokens=12)
    assert smollm2.generate("a b a b a b", speculative="lookup", **kw) == smollm2.generate("a b a b a b", **kw)
    assert "".join(smollm2.stream("a b a b", speculative="lookup", **kw)) == smollm2.generate("a b a b", **kw)
    assert smollm2.chat(msgs, speculative="lookup", **kw) == smollm2.chat(msgs, **kw)
    assert "".join(smollm2.chat_stream(msgs, speculative="lookup", **kw)) == smollm2.chat(msgs, **kw)
    assert smollm2.create_completion("a b a", speculative="lookup", **kw)["choices"][0]["text"] == \
        smollm2.create_completion("a b a", **kw)["choices"][0]["text"]


def test_bad_arguments(smollm2, tiny_f32):
    with pytest.raises(ValueError, match="speculative"):
        smollm2.generate("Hi", speculative="lookahead", max_tokens=2)
    with pytest.raises(TypeError, match="speculative"):
        smollm2.generate("Hi", speculative=3, max_tokens=2)
    with pytest.raises(ValueError, match="draft_max"):
        smollm2.generate("Hi", speculative="lookup", draft_max=0, max_tokens=2)
    with pytest.raises(ValueError, match="draft_max"):
        smollm2.generate("Hi", speculative="lookup", draft_max=17, max_tokens=2)
    with pytest.raises(ValueError, match="vocabulary differs"):
        smollm2.generate("Hi", speculative=tiny_f32, max_tokens=2)


# -- a draft model ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def llama3_pair(synthetic_dir, llama3_tokenizer_json):
    """A 4-layer target and a 2-layer draft made of the target's first two layers (the synthetic
    generator seeds each tensor by its name), sharing the real Llama 3 tokenizer."""
    kw = dict(weight_type="Q8_0", vocab="llama3", n_ctx_train=4096, tokenizer_json=llama3_tokenizer_json)
    target = synthetic(synthetic_dir, "spec_target_4l", n_layer=4, **kw)
    draft = synthetic(synthetic_dir, "spec_draft_2l", n_layer=2, **kw)
    return target, draft


@pytest.mark.parametrize("kv_type", KV_TYPES)
def test_greedy_draft_model_equals_plain_greedy(llama3_pair, kv_type):
    target_path, draft_path = llama3_pair
    target = ple.Model(target_path, n_ctx=256, n_threads=2, kv_type=kv_type)
    draft = ple.Model(draft_path, n_ctx=256, n_threads=2, kv_type=kv_type)
    accepted = 0
    for prompt in ["The history of the city", "def f(x):\n    return", ENGLISH[:300]]:
        plain = _run(target, prompt, temperature=0, max_tokens=40)
        spec = _run(target, prompt, temperature=0, max_tokens=40, speculative=draft)
        assert spec[:3] == plain[:3]
        assert spec == _run(target, prompt, temperature=0, max_tokens=40, speculative=str(draft_path))
        accepted += spec[3][1]
    assert accepted > 0
    target.close()
    draft.close()


def test_draft_with_a_shorter_context_stops_drafting_past_it(synthetic_dir, tiny_f32):
    target = ple.Model(tiny_f32, n_ctx=256, n_threads=1)
    draft = ple.Model(synthetic(synthetic_dir, "spec_short_draft", weight_type="F32", n_ctx_train=48, n_layer=1),
                      n_threads=1)
    prompt = tuple(target.tokenize(ENGLISH[:50]))  # ids (a list would be chat messages here)
    assert len(prompt) < 48
    plain = _run(target, prompt, temperature=0, max_tokens=100, ignore_eos=True)
    spec = _run(target, prompt, temperature=0, max_tokens=100, ignore_eos=True, speculative=draft)
    assert spec[:3] == plain[:3] and len(spec[0]) == 100
    assert spec[3][0] > 0
    target.close()
    draft.close()


def _chi_square_critical(df: int, z: float = 3.09) -> float:
    """The chi-square quantile at the normal quantile z (3.09: p = 0.001), Wilson-Hilferty."""
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def _chi_square(counts: np.ndarray, probs: np.ndarray) -> tuple[float, int]:
    """Pearson's statistic over the categories expected at least 5 times, the rest pooled."""
    n = counts.sum()
    expected = probs * n
    big = expected >= 5
    obs = np.append(counts[big], counts[~big].sum())
    exp = np.append(expected[big], expected[~big].sum())
    keep = exp > 0
    return float(((obs[keep] - exp[keep]) ** 2 / exp[keep]).sum()), int(keep.sum()) - 1


def test_sampled_draft_keeps_the_target_distribution(synthetic_dir):
    """Speculative sampling with a draft whose distribution differs from the target's: the second
    token, sampled through the acceptance rule against the draft's first token, follows the
    target's distribution given the first (small vocabulary, fixed seeds)."""
    target = ple.Model(synthetic(synthetic_dir, "spec_tiny_target", weight_type="F32", n_ctx_train=256, seed=1),
                       n_ctx=32, n_threads=1)
    draft = ple.Model(synthetic(synthetic_dir, "spec_tiny_draft", weight_type="F32", n_ctx_train=256, n_layer=1,
                                seed=2), n_ctx=32, n_threads=1)
    prompt = target.tokenize("the")
    kw = dict(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, max_tokens=2, ignore_eos=True, speculative=draft)
    firsts, seconds, drafted, accepted = [], [], 0, 0
    s = target.session()
    for seed in range(3000):
        s.generate(prompt, seed=seed, **kw)
        r = s.last_result
        firsts.append(r.tokens[0])
        seconds.append(r.tokens[1])
        drafted += r.draft_tokens
        accepted += r.accepted_draft_tokens
    assert drafted >= 3000 and 0 < accepted < drafted  # drafts were checked, some rejected
    first = max(set(firsts), key=firsts.count)
    given = np.array([b for a, b in zip(firsts, seconds) if a == first])
    assert len(given) > 500
    n_vocab = target.n_vocab
    counts = np.bincount(given, minlength=n_vocab).astype(float)

    def softmax(x):
        e = np.exp(x - x.max())
        return e / e.sum()

    p = softmax(target.logits(prompt + [first])[-1].astype(np.float64))
    q = softmax(draft.logits(prompt + [first])[-1].astype(np.float64))
    stat, df = _chi_square(counts, p)
    assert stat < _chi_square_critical(df), (stat, df)
    # The test can tell: the draft's own distribution is far off.
    stat_q, df_q = _chi_square(counts, q)
    assert stat_q > _chi_square_critical(df_q), (stat_q, df_q)
    target.close()
    draft.close()


def test_cli_option(smollm2_path, capsys):
    from pyllama_edge.cli import main

    prompt = "Repeat: one two three four five, one two three four five, one two"
    outputs = []
    for extra in ([], ["--speculative", "lookup"], ["--speculative", str(smollm2_path)]):
        assert main(["run", prompt, "--model", str(smollm2_path), "-n", "16", "--temp", "0", "-c", "256", *extra]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0].strip() and outputs[1] == outputs[0] and outputs[2] == outputs[0]
    assert main(["run", prompt, "--model", str(smollm2_path), "-n", "4", "--speculative", "nope"]) == 1
    assert "speculative" in capsys.readouterr().err


def test_layer_draft_of_smollm2(smollm2, smollm2_path, tmp_path):
    """A real-weights draft: SmolLM2's first 10 of 30 blocks (tools/make_layer_draft.py)."""
    from tools.make_layer_draft import make_layer_draft

    draft_path = make_layer_draft(smollm2_path, tmp_path / "draft10.gguf", 10)
    draft = ple.Model(draft_path, n_ctx=512, n_threads=2)
    assert draft.hparams["n_layer"] == 10
    for prompt in COPYING[:1] + FREE:
        plain = _run(smollm2, prompt, temperature=0, max_tokens=32)
        spec = _run(smollm2, prompt, temperature=0, max_tokens=32, speculative=draft)
        assert spec[:3] == plain[:3]
        assert spec[3][0] > 0
    draft.close()
    with pytest.raises(ValueError, match="layers"):
        make_layer_draft(smollm2_path, tmp_path / "bad.gguf", 30)
