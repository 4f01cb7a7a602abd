"""SentencePiece BPE against the `sentencepiece` library: small models trained here (identity
normalization, dummy prefix, with and without byte fallback) written into GGUF files."""
from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pytest
import sentencepiece as spm

from pyllama_edge import _core
from support.tokenizer_corpus import corpus, training_text
from support.tokenizer_util import CONTROL, sentencepiece_pieces, write_vocab

CORPUS = corpus()
CONTROL_TEXT = re.compile(r"(<s>|</s>|<unk>)")


def train(byte_fallback: bool, dummy_prefix: bool) -> bytes:
    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(training_text()), model_writer=out, model_type="bpe", vocab_size=1200,
        byte_fallback=byte_fallback, normalization_rule_name="identity", remove_extra_whitespaces=False,
        add_dummy_prefix=dummy_prefix, user_defined_symbols=["<tool>", "@@"], num_threads=1, minloglevel=2)
    return out.getvalue()


def spm_pair(tmp_path_factory, byte_fallback: bool, dummy_prefix: bool = True):
    proto = train(byte_fallback, dummy_prefix)
    pieces, scores, types = sentencepiece_pieces(proto)
    path = tmp_path_factory.mktemp("spm") / f"spm-{byte_fallback}-{dummy_prefix}.gguf"
    flags = {} if dummy_prefix else {"add_space_prefix": False}  # absent: true, the SentencePiece default
    write_vocab(path, "llama", pieces, types, scores, ids={"bos": 1, "eos": 2, "unknown": 0}, flags=flags)
    return _core.Tokenizer(_core.GGUFReader(str(path))), spm.SentencePieceProcessor(model_proto=proto)


@pytest.fixture(scope="module")
def byte_fallback(tmp_path_factory):
    return spm_pair(tmp_path_factory, True)


@pytest.fixture(scope="module")
def no_byte_fallback(tmp_path_factory):
    return spm_pair(tmp_path_factory, False)


def assert_same_ids(ours, sp, add_bos: bool, texts=CORPUS) -> None:
    bad = []
    for text in texts:
        want = ([1] if add_bos else []) + sp.encode(text)
        got = ours.encode(text, add_bos, False)
        if got != want:
            bad.append((text, got, want))
    detail = "\n".join(f"  {t!r}:\n    ours {g}\n    spm  {w}" for t, g, w in bad[:5])
    assert not bad, f"{len(bad)} of {len(texts)} strings differ:\n{detail}"


@pytest.mark.parametrize("add_bos", [False, True])
def test_ids_match_sentencepiece(byte_fallback, add_bos):
    ours, sp = byte_fallback
    assert ours.n_vocab == sp.get_piece_size() and ours.add_bos
    assert_same_ids(ours, sp, add_bos)
    assert_same_ids(ours, sp, add_bos, training_text()[:500])  # in-domain text: long merges


def test_ids_match_sentencepiece_without_byte_fallback(no_byte_fallback):
    """Characters outside the vocabulary become <unk>; a run of them is one <unk>."""
    ours, sp = no_byte_fallback
    assert_same_ids(ours, sp, False)
    assert ours.encode("x😀😀日", False, False) == sp.encode("x😀😀日")


def test_without_space_prefix(tmp_path_factory):
    """tokenizer.ggml.add_space_prefix = false: a model trained with add_dummy_prefix=False."""
    ours, sp = spm_pair(tmp_path_factory, True, dummy_prefix=False)
    assert_same_ids(ours, sp, False)
    assert ours.encode("Hello", False, False) == sp.encode("Hello")
    for text in CORPUS[:500]:
        assert ours.decode(ours.encode(text, False, False)) == sp.decode(sp.encode(text))


def test_special_tokens_in_text(byte_fallback):
    """special=True: <s>, </s>, <unk> in the text are those tokens, and the text after each gets
    the space prefix again (llama.cpp's rule), i.e. every fragment is encoded as sentencepiece
    encodes it on its own."""
    ours, sp = byte_fallback
    ids = {"<s>": 1, "</s>": 2, "<unk>": 0}
    texts = [t for t in CORPUS if CONTROL_TEXT.search(t)] + ["<s>hello</s>", "a<s>", "<s> b", "<unk><unk>"]
    assert len(texts) > 50
    for text in texts:
        want = []
        for part in CONTROL_TEXT.split(text):
            want += [ids[part]] if part in ids else sp.encode(part)
        assert ours.encode(text, False, True) == want, text


def test_round_trip_and_decode_match_sentencepiece(byte_fallback):
    ours, sp = byte_fallback
    lossless = [t for t in CORPUS if sp.decode(sp.encode(t)) == t]
    assert len(lossless) > 0.95 * len(CORPUS)
    for text in CORPUS:
        ids = ours.encode(text, False, False)
        assert ours.decode(ids) == sp.decode(ids), text
    for text in lossless:
        assert ours.decode(ours.encode(text, True, False)) == text
    # BOS is not text; rendered, it keeps the space after it (no leading space to drop).
    assert ours.decode(ours.encode("Hello", True, False), special=True) == "<s> Hello"


def test_decode_random_ids_without_bytes(byte_fallback):
    ours, sp = byte_fallback
    words = [i for i in range(ours.n_vocab) if not ours.token_text(i).startswith("<")]
    rng = random.Random(3)
    for _ in range(300):
        ids = [rng.choice(words) for _ in range(rng.randint(1, 10))]
        assert ours.decode(ids) == sp.decode(ids), ids


def test_streaming_detokenizer_with_byte_fallback(byte_fallback):
    """Characters outside the vocabulary arrive as single <0xNN> tokens: held back until complete.
    Stream pieces keep the SentencePiece space prefix (a stream continues a prompt)."""
    ours, _ = byte_fallback
    texts = ["😀👨‍👩‍👧‍👦 日本語のテキスト 🇯🇵", "ᠮᠣᠩᠭᠣᠯ 👍🏽", "漢字 x 😶‍🌫️"]
    texts += [t for t in CORPUS if any(ord(c) > 0x2E80 for c in t)][:100]
    for text in texts:
        ids = ours.encode(text, False, False)
        d = _core.StreamingDetokenizer(ours)
        pieces = [d.push(i) for i in ids] + [d.flush()]
        assert "".join(pieces) == " " + text
        if "\ufffd" not in text:
            assert all("\ufffd" not in p for p in pieces)


def test_user_defined_and_control_types(byte_fallback):
    ours, sp = byte_fallback
    assert ours.encode("a<tool>b", False, False) == sp.encode("a<tool>b")
    assert sp.piece_to_id("<tool>") == 3 and 3 in ours.encode("<tool>", False, False)
    assert ours.is_eog(2) and not ours.is_eog(1) and ours.is_control(1)
    assert ours.decode([1, 2]) == "" and ours.decode([1, 2], special=True) == "<s></s>"
