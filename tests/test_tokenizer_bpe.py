"""Byte-level BPE against Hugging Face `tokenizers`: the real Llama 3 and SmolLM2 vocabularies,
exact ids on a corpus of >= 2,000 strings, round trips, decode of arbitrary ids, streaming."""
from __future__ import annotations

import json
import random
from pathlib import Path
from typing import List

import pytest
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

from pyllama_edge import _core
from tools.gguf_vocab import add_llama3_vocab
from support.tokenizer_corpus import corpus
from support.tokenizer_util import CONTROL, USER_DEFINED, gpt2_byte_alphabet, write_gguf, write_vocab

CORPUS = corpus()


def assert_same_ids(ours, oracle, texts: List[str], add_bos: bool, special: bool) -> None:
    expected = [e.ids for e in oracle.encode_batch(texts, add_special_tokens=add_bos)]
    bad = []
    for text, want in zip(texts, expected):
        got = ours.encode(text, add_bos, special)
        if got != want:
            bad.append((text, got, want))
    detail = "\n".join(f"  {t!r}:\n    ours   {g}\n    oracle {w}" for t, g, w in bad[:5])
    assert not bad, f"{len(bad)} of {len(texts)} strings differ (add_bos={add_bos}, special={special}):\n{detail}"


def assert_round_trips(tok, texts: List[str], special: bool) -> None:
    bad = [t for t in texts if tok.decode(tok.encode(t, False, special), special) != t]
    assert not bad, f"{len(bad)} strings do not round-trip, e.g. {bad[:5]!r}"


# --- Llama 3 ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def llama3_gguf(tmp_path_factory, llama3_tokenizer_json) -> Path:
    path = tmp_path_factory.mktemp("llama3") / "llama3-vocab.gguf"
    return write_gguf(path, lambda w: add_llama3_vocab(w, llama3_tokenizer_json))


@pytest.fixture(scope="module")
def llama3(llama3_gguf):
    return _core.Tokenizer(_core.GGUFReader(str(llama3_gguf)))


def llama3_oracle(tokenizer_json: Path, special: bool) -> Tokenizer:
    j = json.loads(Path(tokenizer_json).read_text(encoding="utf-8"))
    j["model"]["ignore_merges"] = True  # what Llama 3 does (later tokenizer.json files say so)
    hf = Tokenizer.from_str(json.dumps(j))
    hf.encode_special_tokens = not special  # special=False: control-token text is plain text
    return hf


@pytest.mark.parametrize("special", [False, True])
@pytest.mark.parametrize("add_bos", [False, True])
def test_llama3_ids_match_hf(llama3, llama3_tokenizer_json, add_bos, special):
    assert len(CORPUS) >= 2000
    assert_same_ids(llama3, llama3_oracle(llama3_tokenizer_json, special), CORPUS, add_bos, special)


@pytest.mark.parametrize("special", [False, True])
def test_llama3_round_trip(llama3, special):
    assert_round_trips(llama3, CORPUS, special)


def test_llama3_vocabulary_facts(llama3):
    assert llama3.n_vocab == 128256
    assert llama3.bos_id == 128000 and llama3.token_text(128000) == "<|begin_of_text|>"
    assert llama3.eos_id == 128009 and llama3.add_bos
    for text in ("<|eot_id|>", "<|eom_id|>", "<|end_of_text|>"):
        (eog,) = llama3.encode(text, False, True)
        assert llama3.is_eog(eog), text
    assert not llama3.is_eog(llama3.bos_id) and not llama3.is_eog(9906)
    assert llama3.encode("", True, False) == [128000] and llama3.encode("", False, False) == []
    assert llama3.decode([128000, 9906], special=True) == "<|begin_of_text|>Hello"
    assert llama3.decode([128000, 9906]) == "Hello"
    with pytest.raises(ValueError):
        llama3.decode([128256])
    with pytest.raises(ValueError):
        llama3.token_text(-1)


def test_llama3_decode_matches_hf_on_random_ids(llama3, llama3_tokenizer_json):
    """Arbitrary id sequences split UTF-8 anywhere: invalid bytes become U+FFFD as HF does."""
    hf = llama3_oracle(llama3_tokenizer_json, special=False)
    rng = random.Random(5)
    for _ in range(300):
        ids = [rng.randrange(128000) for _ in range(rng.randint(1, 12))]
        assert llama3.decode(ids) == hf.decode(ids, skip_special_tokens=True), ids


def test_streaming_detokenizer_holds_back_partial_utf8(llama3):
    texts = ["😀👨‍👩‍👧‍👦🏳️‍🌈 日本語のテキスト 🇯🇵", "漢字かな交じり文 emoji🫠 中文", "ᠮᠣᠩᠭᠣᠯ 👍🏽👍🏿 한국어"]
    texts += [t for t in CORPUS if any(ord(c) > 0x2E80 for c in t)][:200]
    for text in texts:
        ids = llama3.encode(text, False, False)
        d = _core.StreamingDetokenizer(llama3)
        pieces = [d.push(i) for i in ids]
        pieces.append(d.flush())
        assert "".join(pieces) == text
        if "\ufffd" not in text:
            assert all("\ufffd" not in p for p in pieces), (text, pieces)
    # The byte pieces of one emoji arrive in separate tokens: nothing comes out until the last.
    ids = llama3.encode("😀", False, False)
    assert len(ids) > 1
    d = _core.StreamingDetokenizer(llama3)
    assert [d.push(i) for i in ids] == [""] * (len(ids) - 1) + ["😀"]


def test_streaming_detokenizer_matches_decode_on_random_ids(llama3):
    """Held-back and invalid bytes come out as the same U+FFFD that decode() gives."""
    rng = random.Random(11)
    for _ in range(300):
        ids = [rng.randrange(128000) for _ in range(rng.randint(1, 12))]
        d = _core.StreamingDetokenizer(llama3)
        streamed = "".join(d.push(i) for i in ids) + d.flush()
        assert streamed == llama3.decode(ids), ids


def test_token_piece_concatenates_to_decode(llama3):
    for text in CORPUS[:300]:
        ids = llama3.encode(text, True, True)
        assert b"".join(llama3.token_piece(i, True) for i in ids) == llama3.decode_bytes(ids, True)


# --- SmolLM2 ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def smollm2_vocab(smollm2_path):
    meta = _core.GGUFReader(str(smollm2_path)).metadata()
    return meta["tokenizer.ggml.tokens"], meta["tokenizer.ggml.token_type"], meta["tokenizer.ggml.merges"]


@pytest.fixture(scope="module")
def smollm2(smollm2_path):
    return _core.Tokenizer(_core.GGUFReader(str(smollm2_path)))


def smollm2_oracle(tokens, types, merges, special: bool, user_defined=()) -> Tokenizer:
    """SmolLM2's HF pipeline: Digits(individual_digits) then ByteLevel; control tokens are added
    special tokens, `user_defined` ids added non-special tokens."""
    bpe = models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=[tuple(m.split(" ")) for m in merges])
    hf = Tokenizer(bpe)
    hf.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    hf.decoder = decoders.ByteLevel()
    hf.add_special_tokens([AddedToken(t, special=True, normalized=False)
                           for t, k in zip(tokens, types) if k == CONTROL])
    hf.add_tokens([AddedToken(tokens[i], special=False, normalized=False) for i in user_defined])
    hf.encode_special_tokens = not special
    return hf


@pytest.mark.parametrize("special", [False, True])
@pytest.mark.parametrize("add_bos", [False, True])
def test_smollm2_ids_match_hf(smollm2, smollm2_vocab, add_bos, special):
    """add_bos=True adds nothing: SmolLM2 says add_bos_token = false (HF adds no BOS either)."""
    assert not smollm2.add_bos and smollm2.bos_id == 1
    assert_same_ids(smollm2, smollm2_oracle(*smollm2_vocab, special), CORPUS, add_bos, special)


@pytest.mark.parametrize("special", [False, True])
def test_smollm2_round_trip(smollm2, smollm2_vocab, special):
    # SmolLM2 has no token for some bytes (0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, and leads of
    # planes 4-15): text containing them cannot round-trip, and HF drops those bytes too.
    tokens = set(smollm2_vocab[0])
    alphabet = gpt2_byte_alphabet()
    spellable = [t for t in CORPUS if all(alphabet[b] in tokens for b in t.encode("utf-8"))]
    assert len(spellable) > 0.9 * len(CORPUS)
    assert_round_trips(smollm2, spellable, special)
    assert smollm2.decode(smollm2.encode("a\x04b", False, False)) == "ab"


def test_smollm2_end_of_generation(smollm2):
    (im_end,) = smollm2.encode("<|im_end|>", False, True)
    (eot,) = smollm2.encode("<|endoftext|>", False, True)
    (im_start,) = smollm2.encode("<|im_start|>", False, True)
    assert smollm2.is_eog(im_end) and smollm2.is_eog(eot) and not smollm2.is_eog(im_start)


def test_user_defined_tokens_always_match(tmp_path, smollm2_vocab):
    """USER_DEFINED tokens are Hugging Face's non-special added tokens: matched in the text even
    when special tokens are not parsed; CONTROL tokens only when they are."""
    tokens, types, merges = smollm2_vocab
    types = list(types)
    types[3] = USER_DEFINED  # <repo_name>
    path = write_vocab(tmp_path / "ud.gguf", "gpt2", tokens, types, merges=merges, pre="smollm")
    tok = _core.Tokenizer(_core.GGUFReader(str(path)))
    texts = ["a<repo_name>b", "<repo_name><|im_start|>x", " <repo_name> 12<|im_end|>", "<repo_name"]
    for special in (False, True):
        hf = smollm2_oracle(tokens, types, merges, special, user_defined=[3])
        assert_same_ids(tok, hf, texts, False, special)
    assert tok.encode("<repo_name>", False, False) == [3]


def test_concurrent_use_of_one_tokenizer(llama3):
    """A Tokenizer is immutable: threads (the GIL released in encode/decode) get the same answers."""
    from concurrent.futures import ThreadPoolExecutor
    texts = CORPUS[:600]
    expected = [llama3.encode(t, True, True) for t in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda t: llama3.encode(t, True, True), texts))
        decoded = list(pool.map(lambda ids: llama3.decode(ids, True), got))
    assert got == expected
    assert decoded == [llama3.decode(ids, True) for ids in expected]
