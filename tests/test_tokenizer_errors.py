"""Bad tokenizer metadata raises the right exception, naming the key; tiny synthetic vocabularies."""
from __future__ import annotations

import struct

import pytest

from pyllama_edge import GGUFError, UnsupportedModelError, _core
from support.tokenizer_util import BYTE, CONTROL, NORMAL, UNKNOWN, gpt2_byte_alphabet, write_gguf, write_vocab

ALPHABET = gpt2_byte_alphabet()
BPE_TOKENS = ALPHABET + ["ab", "abc", "<|eot|>"]
BPE_TYPES = [NORMAL] * (len(BPE_TOKENS) - 1) + [CONTROL]
SPM_TOKENS = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)] + ["▁", "a", "b", "▁a"]
SPM_TYPES = [UNKNOWN, CONTROL, CONTROL] + [BYTE] * 256 + [NORMAL] * 4


def tokenizer(path):
    return _core.Tokenizer(_core.GGUFReader(str(path)))


def bpe(tmp_path, **kw):
    args = dict(tokens=BPE_TOKENS, types=BPE_TYPES, merges=["a b", "ab c"], pre="gpt2", ids={"bos": 256, "eos": 258})
    args.update(kw)
    return tokenizer(write_vocab(tmp_path / "v.gguf", "gpt2", **args))


def test_small_bpe_vocabulary_works(tmp_path):
    tok = bpe(tmp_path)
    assert tok.encode("abc ab", False, False) == [257, ALPHABET.index("Ġ"), 256]
    assert tok.encode("<|eot|>", False, True) == [258] and tok.is_eog(258)
    assert tok.decode([257, 258]) == "abc" and not tok.add_bos
    assert tok.encode("ab", True, False) == [256]  # add_bos_token absent: a gpt2 BPE adds no BOS
    tok = bpe(tmp_path, flags={"add_bos_token": True})
    assert tok.add_bos and tok.encode("ab", True, False) == [256, 256]


def test_missing_model_or_tokens(tmp_path):
    path = write_gguf(tmp_path / "none.gguf", lambda w: w.add_string("general.name", "x"))
    with pytest.raises(GGUFError, match="tokenizer.ggml.model"):
        tokenizer(path)
    path = write_gguf(tmp_path / "notokens.gguf", lambda w: w.add_tokenizer_model("gpt2"))
    with pytest.raises(GGUFError, match="tokenizer.ggml.tokens"):
        tokenizer(path)


def test_empty_vocabulary(tmp_path):
    # gguf.GGUFWriter skips empty arrays: write the file by hand (GGUF v3, no tensors).
    def string(s: str) -> bytes:
        return struct.pack("<Q", len(s)) + s.encode()
    kv = string("tokenizer.ggml.model") + struct.pack("<I", 8) + string("llama")
    kv += string("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 0)  # ARRAY of STRING, 0 entries
    path = tmp_path / "empty.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 2) + kv)
    with pytest.raises(GGUFError, match="'tokenizer.ggml.tokens' is empty"):
        tokenizer(path)


def test_unknown_model_and_pre(tmp_path):
    with pytest.raises(UnsupportedModelError, match="'bert'"):
        tokenizer(write_vocab(tmp_path / "m.gguf", "bert", ["a"]))
    with pytest.raises(UnsupportedModelError, match="'qwen2'"):
        bpe(tmp_path, pre="qwen2")


def test_array_lengths_must_match(tmp_path):
    with pytest.raises(GGUFError, match="tokenizer.ggml.token_type"):
        bpe(tmp_path, types=BPE_TYPES[:-1])
    with pytest.raises(GGUFError, match="tokenizer.ggml.scores"):
        bpe(tmp_path, scores=[0.0] * 3)


def test_token_type_out_of_range(tmp_path):
    with pytest.raises(GGUFError, match="tokenizer.ggml.token_type"):
        bpe(tmp_path, types=BPE_TYPES[:-1] + [9])


def test_special_ids_in_range(tmp_path):
    with pytest.raises(GGUFError, match="tokenizer.ggml.eos_token_id"):
        bpe(tmp_path, ids={"eos": len(BPE_TOKENS)})
    with pytest.raises(GGUFError, match="tokenizer.ggml.padding_token_id"):
        bpe(tmp_path, ids={"padding": 100000})


def test_bad_merges_are_errors(tmp_path):
    with pytest.raises(GGUFError, match="tokenizer.ggml.merges entry 1 'a zz'"):
        bpe(tmp_path, merges=["a b", "a zz"])
    with pytest.raises(GGUFError, match="not in the vocabulary"):
        bpe(tmp_path, merges=["b c"])  # "bc" is not a token
    with pytest.raises(GGUFError, match="left right"):
        bpe(tmp_path, merges=["ab"])
    with pytest.raises(GGUFError, match="tokenizer.ggml.merges"):
        bpe(tmp_path, merges=None)


def test_spm_without_unknown_token(tmp_path):
    types = [NORMAL] + SPM_TYPES[1:]
    with pytest.raises(GGUFError, match="unknown token"):
        tokenizer(write_vocab(tmp_path / "s.gguf", "llama", SPM_TOKENS, types, [0.0] * len(types)))


def test_spm_defaults_and_bad_byte_token(tmp_path):
    scores = [0.0] * len(SPM_TOKENS)
    tok = tokenizer(write_vocab(tmp_path / "s.gguf", "llama", SPM_TOKENS, SPM_TYPES, scores, ids={"bos": 1}))
    assert tok.add_bos and tok.eos_id == -1
    assert tok.encode("a b", True, False) == [1, SPM_TOKENS.index("▁a"), SPM_TOKENS.index("▁"), SPM_TOKENS.index("b")]
    tokens = SPM_TOKENS[:3] + ["<0xZZ>"] + SPM_TOKENS[4:]
    with pytest.raises(GGUFError, match="<0xZZ>"):
        tokenizer(write_vocab(tmp_path / "b.gguf", "llama", tokens, SPM_TYPES, scores))


def test_out_of_range_ids(tmp_path):
    tok = bpe(tmp_path)
    for bad in (-1, len(BPE_TOKENS)):
        with pytest.raises(ValueError):
            tok.decode([0, bad])
        with pytest.raises(ValueError):
            tok.token_text(bad)
        with pytest.raises(ValueError):
            _core.StreamingDetokenizer(tok).push(bad)
    assert not tok.is_eog(-1)


def test_not_a_reader():
    with pytest.raises(TypeError):
        _core.Tokenizer("path.gguf")
