"""A numpy reference of the Llama forward pass for GGUF `llama` files: the specification the C++
forward is tested against. Written from the math, for reading rather than speed.

Precision: every weight is dequantized (gguf.quants.dequantize, which yields float32 for every
GGUF type) and then cast to `dtype`; activations, matmuls, norms, RoPE and softmax all run in
`dtype`. The default float32 mirrors what an optimized CPU forward computes; pass
dtype=np.float64 for a tighter reference on small models (the cast of float32 weights is exact).

Conventions (what GGUF llama files need):
- A tensor of ggml shape [ne0, ne1] is the numpy matrix W of shape [ne1, ne0]; a layer is y = W @ x,
  written here for a batch of rows as Y = X @ W.T.
- RoPE rotates ADJACENT pairs (x[2i], x[2i+1]) of the first d_rot dims of each head: the HF->GGUF
  converter permuted the Q/K rows so this equals HF's half-split rotation. Pair i turns by
  pos * base^(-2i/d_rot) / rope_freqs[i] radians (rope_freqs.weight: Llama 3.1/3.2 scaling; 1 if absent).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def _field(reader: GGUFReader, key: str, default=None):
    f = reader.get_field(key)
    return default if f is None else f.contents()


def rms_norm(x: np.ndarray, w: np.ndarray, eps: float) -> np.ndarray:
    """x [T, D] -> x / sqrt(mean(x^2) + eps) * w, per row."""
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def silu(x: np.ndarray) -> np.ndarray:
    """x * sigmoid(x), with sigmoid(x) = (1 + tanh(x/2)) / 2: no exp overflow for large |x|."""
    return x * (0.5 + 0.5 * np.tanh(0.5 * x))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def rope(x: np.ndarray, pos: np.ndarray, inv_freq: np.ndarray, pairing: str) -> np.ndarray:
    """Rotates the first 2*len(inv_freq) dims of each head; the rest pass through.
    x [T, H, head_dim]; pos [T] (token positions); inv_freq [d_rot/2] float64 (radians per position).
    Angles are formed in float64 (pos * inv_freq reaches 1e5 rad at long contexts, where float32
    would be off by ~1e-2 rad); cos/sin are then cast to x's dtype.
    pairing "adjacent": pair i is (x[2i], x[2i+1])  (GGUF llama: LLAMA_ROPE_TYPE_NORM)
    pairing "neox":     pair i is (x[i], x[i + d_rot/2])  (deliberately wrong for llama files)"""
    n_pairs = inv_freq.shape[0]
    d_rot = 2 * n_pairs
    angle = pos[:, None].astype(np.float64) * inv_freq[None, :]       # [T, n_pairs]
    cos = np.cos(angle).astype(x.dtype)[:, None, :]                  # [T, 1, n_pairs]
    sin = np.sin(angle).astype(x.dtype)[:, None, :]
    out = x.copy()
    if pairing == "adjacent":
        a, b = x[..., 0:d_rot:2], x[..., 1:d_rot:2]
        out[..., 0:d_rot:2] = a * cos - b * sin
        out[..., 1:d_rot:2] = a * sin + b * cos
    elif pairing == "neox":
        a, b = x[..., :n_pairs], x[..., n_pairs:d_rot]
        out[..., :n_pairs] = a * cos - b * sin
        out[..., n_pairs:d_rot] = a * sin + b * cos
    else:
        raise ValueError(f"unknown RoPE pairing {pairing!r}")
    return out


class ReferenceLlama:
    """Full-precision (per `dtype`) Llama forward over a GGUF file with general.architecture = llama.

    rope_freqs: None uses the file's rope_freqs.weight (or all ones when absent); an array of
        length d_rot/2 overrides it (np.ones(...) switches Llama 3 rope scaling off).
    rope_pairing: "adjacent" (correct for GGUF llama) or "neox" (half-split; for negative tests).
    """

    def __init__(self, path: str | Path, *, dtype=np.float32, rope_freqs: Optional[Sequence[float]] = None,
                 rope_pairing: str = "adjacent", reader=None):
        # reader: anything shaped like gguf.GGUFReader (get_field, tensors); GGUFReader parses a
        # 128k-token vocabulary in pure Python for ~40 s, so tests may pass a faster adapter.
        self.reader = r = reader if reader is not None else GGUFReader(str(path))
        arch = _field(r, "general.architecture")
        if arch != "llama":
            raise ValueError(f"{path}: general.architecture is {arch!r}, expected 'llama'")
        self.dtype = np.dtype(dtype)
        self.n_layer = int(_field(r, "llama.block_count"))
        self.n_embd = int(_field(r, "llama.embedding_length"))
        self.n_head = int(_field(r, "llama.attention.head_count"))
        self.n_head_kv = int(_field(r, "llama.attention.head_count_kv", self.n_head))
        self.head_dim = int(_field(r, "llama.attention.key_length", self.n_embd // self.n_head))
        self.d_rot = int(_field(r, "llama.rope.dimension_count", self.head_dim))
        self.rope_base = float(_field(r, "llama.rope.freq_base", 10000.0))
        self.eps = float(_field(r, "llama.attention.layer_norm_rms_epsilon", 1e-5))
        if self.n_head % self.n_head_kv or self.d_rot % 2 or self.d_rot > self.head_dim:
            raise ValueError(f"{path}: inconsistent head counts / rope dims")

        self.w: Dict[str, np.ndarray] = {}
        for t in r.tensors:
            shape = tuple(int(n) for n in reversed(t.shape))  # ggml [ne0, ne1] -> numpy [ne1, ne0]
            self.w[t.name] = np.asarray(dequantize(t.data, t.tensor_type), dtype=np.float32) \
                .reshape(shape).astype(self.dtype, copy=False)
        self.output = self.w.get("output.weight", self.w["token_embd.weight"])  # [n_vocab, n_embd]
        self.n_vocab = self.output.shape[0]

        # RoPE angular frequency of pair i: base^(-2i/d_rot) / rope_freqs[i]
        n_pairs = self.d_rot // 2
        if rope_freqs is None:
            rope_freqs = self.w.get("rope_freqs.weight", np.ones(n_pairs))
        rope_freqs = np.asarray(rope_freqs, dtype=np.float64)
        if rope_freqs.shape != (n_pairs,):
            raise ValueError(f"rope_freqs has shape {rope_freqs.shape}, expected ({n_pairs},)")
        self.rope_freqs = rope_freqs
        inv_freq = self.rope_base ** (-np.arange(n_pairs, dtype=np.float64) * 2.0 / self.d_rot)
        self.inv_freq = inv_freq / rope_freqs                    # float64 [d_rot/2], radians per position
        self.rope_pairing = rope_pairing
        self.attention: List[np.ndarray] = []  # per layer [n_head, T, T], filled when recorded

    def layer_weights(self, layer: int):
        """W("attn_q") -> the matrix blk.{layer}.attn_q.weight."""
        return lambda name: self.w[f"blk.{layer}.{name}.weight"]

    def logits(self, token_ids: Sequence[int], *, record_attention: bool = False,
               attention_rounding: Optional[Callable[[np.ndarray], np.ndarray]] = None) -> np.ndarray:
        """Causal prefill from position 0. Returns logits [n_tokens, n_vocab] in `dtype`.

        attention_rounding: applied to the rotated q and k and to v (arrays [..., head_dim]) before
        attention, to model a quantized KV cache (e.g. a Q8_0 round trip of each head)."""
        h = self.hidden_states(token_ids, record_attention=record_attention, attention_rounding=attention_rounding)
        return h @ self.output.T                          # [T, n_vocab]

    def hidden_states(self, token_ids: Sequence[int], *, record_attention: bool = False,
                      attention_rounding: Optional[Callable[[np.ndarray], np.ndarray]] = None) -> np.ndarray:
        """The final hidden states after the output norm, [n_tokens, n_embd] (what embeddings pool);
        arguments as for logits()."""
        ids = np.asarray(token_ids, dtype=np.int64)
        T, H, Hkv, hd = len(ids), self.n_head, self.n_head_kv, self.head_dim
        group = H // Hkv                                 # query heads per KV head
        pos = np.arange(T)
        mask = np.triu(np.full((T, T), -np.inf, dtype=self.dtype), k=1)  # key j > query i: hidden
        scale = self.dtype.type(1.0 / np.sqrt(hd))
        self.attention = []

        x = self.w["token_embd.weight"][ids]             # [T, D]
        for l in range(self.n_layer):
            W = self.layer_weights(l)
            h = rms_norm(x, W("attn_norm"), self.eps)
            q = (h @ W("attn_q").T).reshape(T, H, hd)
            k = (h @ W("attn_k").T).reshape(T, Hkv, hd)
            v = (h @ W("attn_v").T).reshape(T, Hkv, hd)
            q = rope(q, pos, self.inv_freq, self.rope_pairing)
            k = rope(k, pos, self.inv_freq, self.rope_pairing)
            if attention_rounding is not None:
                q, k, v = (attention_rounding(a).astype(self.dtype, copy=False) for a in (q, k, v))
            # query head h reads KV head h // group
            k = np.repeat(k, group, axis=1).transpose(1, 0, 2)  # [H, T, hd]
            v = np.repeat(v, group, axis=1).transpose(1, 0, 2)  # [H, T, hd]
            scores = q.transpose(1, 0, 2) @ k.transpose(0, 2, 1) * scale + mask  # [H, Tq, Tk]
            p = softmax(scores, axis=-1)
            if record_attention:
                self.attention.append(p)
            attn = (p @ v).transpose(1, 0, 2).reshape(T, H * hd)             # [T, D]
            x = x + attn @ W("attn_output").T

            h = rms_norm(x, W("ffn_norm"), self.eps)
            ff = silu(h @ W("ffn_gate").T) * (h @ W("ffn_up").T)  # [T, n_ff]
            x = x + ff @ W("ffn_down").T

        return rms_norm(x, self.w["output_norm.weight"], self.eps)  # [T, D]

    def greedy(self, token_ids: Sequence[int], n_new: int, stop: Sequence[int] = ()) -> List[int]:
        """Greedy continuation by re-running the whole prefix each step (no KV cache: O(n^2), for short tests)."""
        ids = list(token_ids)
        for _ in range(n_new):
            nxt = int(np.argmax(self.logits(ids)[-1]))
            ids.append(nxt)
            if nxt in stop:
                break
        return ids[len(token_ids):]
