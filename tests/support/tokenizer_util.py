"""Helpers for the tokenizer tests: vocabulary-only GGUF files and reading a sentencepiece model."""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import gguf

from tools.gguf_vocab import byte_alphabet

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def write_gguf(path: Path, fill: Callable[[gguf.GGUFWriter], None], arch: str = "llama") -> Path:
    """A GGUF file without tensors whose metadata `fill` adds (general.architecture is set)."""
    w = gguf.GGUFWriter(str(path), arch)
    fill(w)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def write_vocab(path: Path, model: str, tokens: Sequence[str], types: Optional[Sequence[int]] = None,
                scores: Optional[Sequence[float]] = None, merges: Optional[Sequence[str]] = None,
                pre: Optional[str] = None, ids: Optional[Dict[str, int]] = None,
                flags: Optional[Dict[str, bool]] = None) -> Path:
    """tokenizer.ggml.* keys as GGUF converters write them. ids: {"bos": 1, ...}; flags: {"add_bos_token": True}."""
    def fill(w: gguf.GGUFWriter) -> None:
        w.add_tokenizer_model(model)
        if pre is not None:
            w.add_tokenizer_pre(pre)
        w.add_token_list(list(tokens))
        if types is not None:
            w.add_token_types(list(types))
        if scores is not None:
            w.add_token_scores(list(scores))
        if merges is not None:
            w.add_token_merges(list(merges))
        for name, value in (ids or {}).items():
            w.add_uint32(f"tokenizer.ggml.{name}_token_id", value)
        for name, value in (flags or {}).items():
            w.add_bool(f"tokenizer.ggml.{name}", value)
    return write_gguf(path, fill)


gpt2_byte_alphabet = byte_alphabet  # the 256 one-character tokens, in byte order


# --- sentencepiece ModelProto, read without protobuf: field 1 = repeated SentencePiece
# {1: piece (string), 2: score (float), 3: type (enum, default NORMAL)}.

def _varint(buf: bytes, pos: int) -> Tuple[int, int]:
    value, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, pos


def _fields(buf: bytes):
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, value


def sentencepiece_pieces(model_proto: bytes) -> Tuple[List[str], List[float], List[int]]:
    """(pieces, scores, types) of a serialized sentencepiece ModelProto, in id order."""
    pieces, scores, types = [], [], []
    for field, value in _fields(model_proto):
        if field != 1:
            continue
        piece, score, kind = "", 0.0, NORMAL
        for f, v in _fields(value):
            if f == 1:
                piece = v.decode("utf-8")
            elif f == 2:
                score = struct.unpack("<f", v)[0]
            elif f == 3:
                kind = v
        pieces.append(piece)
        scores.append(score)
        types.append(kind)
    return pieces, scores, types
