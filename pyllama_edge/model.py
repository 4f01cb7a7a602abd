"""Model and Session: the Python face of the native engine. Thin: argument checking, chat
templates and result shapes live here; tokenization, the forward pass and the decode loop are C++."""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Union

import numpy as np

from . import _core, hub
from .chat_template import fallback_template, render
from .gguf_file import GGUFFile

Stop = Union[None, str, Sequence[str]]

KV_TYPES = ("f16", "q8_0")  # KV-cache element types
_SAMPLING_DEFAULTS = dict(max_tokens=256, temperature=0.8, top_k=40, top_p=0.95, min_p=0.05, repeat_penalty=1.0,
                          frequency_penalty=0.0, presence_penalty=0.0, penalty_last_n=64, seed=None, stop=None)


def _stop_list(stop: Stop) -> List[str]:
    if stop is None:
        return []
    if isinstance(stop, str):
        return [stop]
    out = list(stop)
    if not all(isinstance(s, str) for s in out):
        raise TypeError("stop must be a str or a list of str")
    return out


def _check_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return int(value)


def _check_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    return float(value)


class Session:
    """One conversation: its own KV cache, token history and sampler state, over a shared Model.

    A new prompt reuses the longest common prefix of the history, so a chat turn only evaluates
    the new tokens. Use one Session per thread."""

    def __init__(self, model: "Model", n_ctx: Optional[int] = None, n_batch: int = 512, n_threads: Optional[int] = None,
                 float_activations: bool = False, kv_type: str = "f16"):
        if n_ctx is not None:
            n_ctx = _check_int("n_ctx", n_ctx)
            if n_ctx <= 0:
                raise ValueError(f"n_ctx must be positive, got {n_ctx}")
        n_batch = _check_int("n_batch", n_batch)
        if n_batch <= 0:
            raise ValueError(f"n_batch must be positive, got {n_batch}")
        if n_threads is not None:
            n_threads = _check_int("n_threads", n_threads)
            if not 1 <= n_threads <= 1024:
                raise ValueError(f"n_threads must be between 1 and 1024, got {n_threads}")
        if not isinstance(kv_type, str) or kv_type.lower() not in KV_TYPES:
            raise ValueError(f"kv_type must be one of {', '.join(map(repr, KV_TYPES))}, got {kv_type!r}")
        self.model = model
        self._native = _core.Session(model._native, n_ctx or 0, n_batch, n_threads or 0, bool(float_activations),
                                     kv_type.lower())
        self.last_finish_reason: Optional[str] = None
        self.last_usage: Dict[str, int] = {}
        self.last_prompt_evaluated = 0  # prompt tokens the last call evaluated; the rest came from the cache

    @property
    def n_ctx(self) -> int:
        return self._native.n_ctx

    @property
    def history(self) -> List[int]:
        return list(self._native.history)

    @property
    def kv_cache_bytes(self) -> int:
        """Bytes of the KV cache at full n_ctx (committed by the OS only as the context fills)."""
        return self._native.kv_cache_bytes

    @property
    def kv_type(self) -> str:
        return self._native.kv_type

    def reset(self) -> None:
        self._native.reset()

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes the KV cache, token history and last logits to `path` (atomically)."""
        self._native.save(os.fspath(path))

    # -- generation ---------------------------------------------------------------------------
    def _generator(self, prompt_ids: List[int], max_tokens=256, temperature=0.8, top_k=40, top_p=0.95, min_p=0.05,
                   repeat_penalty=1.0, frequency_penalty=0.0, presence_penalty=0.0, penalty_last_n=64, seed=None,
                   stop: Stop = None) -> "_core.Generator":
        max_tokens = _check_int("max_tokens", max_tokens) if max_tokens is not None else -1
        if max_tokens < -1:
            raise ValueError(f"max_tokens must be >= 0 (or None/-1 for 'until the context is full'), got {max_tokens}")
        if seed is None:
            seed = int.from_bytes(os.urandom(8), "little")
        seed = _check_int("seed", seed)
        if not 0 <= seed < 2**64:
            raise ValueError(f"seed must be in [0, 2**64), got {seed}")
        return _core.Generator(
            self._native, self.model._tokenizer, prompt_ids, max_tokens, _stop_list(stop),
            _check_float("temperature", temperature), _check_int("top_k", top_k), _check_float("top_p", top_p),
            _check_float("min_p", min_p), _check_float("repeat_penalty", repeat_penalty),
            _check_float("frequency_penalty", frequency_penalty), _check_float("presence_penalty", presence_penalty),
            _check_int("penalty_last_n", penalty_last_n), seed)

    def _pieces(self, gen: "_core.Generator") -> Iterator[str]:
        try:
            for piece in gen:
                yield piece
        finally:
            self.last_finish_reason = gen.finish_reason or "stop"
            self.last_prompt_evaluated = gen.n_prompt_evaluated
            self.last_usage = {"prompt_tokens": gen.n_prompt_tokens, "completion_tokens": gen.n_generated,
                               "total_tokens": gen.n_prompt_tokens + gen.n_generated}

    def stream(self, prompt: str, **kwargs: Any) -> Iterator[str]:
        """Yields text pieces as they are generated. Parameters are checked before any work."""
        gen = self._generator(self.model._prompt_ids(prompt), **kwargs)
        return self._pieces(gen)

    def generate(self, prompt: str, **kwargs: Any) -> str:
        return "".join(self.stream(prompt, **kwargs))

    def chat_stream(self, messages: Sequence[Dict[str, Any]], **kwargs: Any) -> Iterator[str]:
        gen = self._generator(self.model._chat_ids(messages), **kwargs)
        return self._pieces(gen)

    def chat(self, messages: Sequence[Dict[str, Any]], **kwargs: Any) -> str:
        return "".join(self.chat_stream(messages, **kwargs))

    def logits(self, ids: Sequence[int]) -> np.ndarray:
        """Teacher-forced logits, float32 [len(ids), n_vocab]."""
        return self._native.evaluate_all(self.model._check_ids(ids))


def _layout_cache_dir(layout_cache: Union[bool, str, os.PathLike]) -> str:
    """The directory for layout cache files, created if needed; "" for none (the layout then stays
    in memory, as it does when the directory cannot be created or written)."""
    if layout_cache is False or layout_cache is None:
        return ""
    directory = hub.cache_dir() / "layouts" if layout_cache is True else Path(os.fspath(layout_cache))
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError:
        return ""
    return str(directory)


class Model:
    """A GGUF Llama-family model loaded for inference (memory-mapped; immutable; thread-safe to
    share). `generate`, `stream`, `chat`, ... use a default session; `session()` makes more."""

    def __init__(self, path: Union[str, os.PathLike], n_ctx: Optional[int] = None, n_threads: Optional[int] = None,
                 n_batch: int = 512, float_activations: bool = False, kv_type: str = "f16",
                 interleave_weights: bool = True, layout_cache: Union[bool, str, os.PathLike] = True):
        self.path = os.fspath(path)
        self.file = GGUFFile(self.path)
        # interleave_weights: rewrite the matrices whose type has a faster load-time layout (Q4_0,
        # Q4_1, Q8_0 and Q4_K on x86: 8 rows interleaved per block) into it; False keeps every
        # weight a view of the memory-mapped file. layout_cache: where that layout is kept: a
        # directory (True: <cache dir>/layouts, see hub.cache_dir) holding one file per model and
        # kernel path, written on the first load and memory-mapped on later ones; False: a copy in
        # this process's memory. See bench/README.md for the costs.
        self._native = _core.LlamaModel(self.file._reader, bool(interleave_weights),
                                        _layout_cache_dir(layout_cache) if interleave_weights else "")
        self._tokenizer = _core.Tokenizer(self.file._reader)
        # float_activations: matmuls multiply dequantized weights with float activations instead of
        # 8-bit quantized ones (llama.cpp's scheme, the default). Several times slower; for
        # evaluation against a float reference.
        # kv_type: "f16", or "q8_0" for half the KV-cache memory (K and V rounded to 8 bits per
        # block of 32; see bench/README.md for its perplexity cost).
        self._session_args = dict(n_ctx=n_ctx, n_batch=n_batch, n_threads=n_threads,
                                  float_activations=float_activations, kv_type=kv_type)
        self._default = Session(self, **self._session_args)  # validates the arguments now
        meta = self.file.metadata
        self.name = meta.get("general.name") or os.path.basename(self.path)
        template = meta.get("tokenizer.chat_template")
        self.chat_template: str = template if isinstance(template, str) and template else fallback_template(self._has_token)
        self.chat_template_is_builtin = not (isinstance(template, str) and template)

    # -- introspection ------------------------------------------------------------------------
    @property
    def hparams(self) -> Dict[str, Any]:
        return self._native.hparams

    @property
    def n_vocab(self) -> int:
        return self._tokenizer.n_vocab

    @property
    def n_ctx(self) -> int:
        return self._default.n_ctx

    @property
    def metadata(self) -> Dict[str, Any]:
        return self.file.metadata

    def _has_token(self, text: str) -> bool:
        ids = self._tokenizer.encode(text, False, True)
        return len(ids) == 1 and self._tokenizer.token_text(ids[0]) == text

    # -- tokens -------------------------------------------------------------------------------
    def tokenize(self, text: str, add_bos: bool = True, special: bool = False) -> List[int]:
        """Token ids of `text`. add_bos adds the BOS token when the model uses one; special=True
        lets control-token text such as "<|eot_id|>" become those tokens."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        data = text.encode("utf-8")  # UnicodeEncodeError (a ValueError) naming a lone surrogate
        return self._tokenizer.encode(data, bool(add_bos) and self._tokenizer.add_bos, bool(special))

    def detokenize(self, ids: Sequence[int], special: bool = False) -> str:
        return self._tokenizer.decode(self._check_ids(ids), bool(special))

    def _check_ids(self, ids: Sequence[int]) -> List[int]:
        out = [_check_int("token id", i) for i in ids]
        n = self.n_vocab
        for i, t in enumerate(out):
            if not 0 <= t < n:
                raise ValueError(f"token id {t} at index {i} is out of range for a vocabulary of {n}")
        return out

    def _prompt_ids(self, prompt: Union[str, Sequence[int]]) -> List[int]:
        if isinstance(prompt, str):
            return self.tokenize(prompt, add_bos=True, special=False)
        return self._check_ids(prompt)

    def render_chat(self, messages: Sequence[Dict[str, Any]], add_generation_prompt: bool = True,
                    tools: Optional[list] = None) -> str:
        bos = self._tokenizer.bos_id
        eos = self._tokenizer.eos_id
        return render(self.chat_template, messages, add_generation_prompt=add_generation_prompt, tools=tools,
                      bos_token=self._tokenizer.token_text(bos) if bos >= 0 else "",
                      eos_token=self._tokenizer.token_text(eos) if eos >= 0 else "")

    def _chat_ids(self, messages: Sequence[Dict[str, Any]]) -> List[int]:
        ids = self.tokenize(self.render_chat(messages), add_bos=True, special=True)
        bos = self._tokenizer.bos_id
        if len(ids) >= 2 and ids[0] == bos and ids[1] == bos:  # the template wrote BOS itself
            ids = ids[1:]
        return ids

    # -- generation on the default session ------------------------------------------------------
    def perplexity(self, text: str, ctx: int = 512, progress: bool = False, n_threads: Optional[int] = None):
        """Perplexity of `text` as llama.cpp's perplexity tool computes it: non-overlapping chunks of
        `ctx` tokens, the second half of each scored. Returns a PerplexityResult (ppl, stderr, ...);
        see pyllama_edge.evaluate."""
        from .evaluate import perplexity

        return perplexity(self, text, ctx=ctx, progress=progress, n_threads=n_threads)

    def session(self, **overrides: Any) -> Session:
        return Session(self, **{**self._session_args, **overrides})

    def load_session(self, path: Union[str, os.PathLike], **overrides: Any) -> Session:
        """A new session restored from `session.save(path)`. Raises GGUFError when the file was
        saved with another model, another format version, or is corrupt. The KV-cache type is
        the file's unless `kv_type` is given."""
        if "kv_type" not in overrides:
            overrides["kv_type"] = _core.session_file_kv_type(os.fspath(path))
        s = self.session(**overrides)
        s._native.load(os.fspath(path))
        return s

    def generate(self, prompt: str, **kwargs: Any) -> str:
        return self._default.generate(prompt, **kwargs)

    def stream(self, prompt: str, **kwargs: Any) -> Iterator[str]:
        return self._default.stream(prompt, **kwargs)

    def chat(self, messages: Sequence[Dict[str, Any]], **kwargs: Any) -> str:
        return self._default.chat(messages, **kwargs)

    def chat_stream(self, messages: Sequence[Dict[str, Any]], **kwargs: Any) -> Iterator[str]:
        return self._default.chat_stream(messages, **kwargs)

    def logits(self, ids: Sequence[int]) -> np.ndarray:
        return self._default.logits(ids)

    # -- OpenAI-shaped results, as llama-cpp-python returns them --------------------------------
    def create_completion(self, prompt: str, stream: bool = False, **kwargs: Any):
        sess = self._default
        pieces = sess.stream(prompt, **kwargs)
        cid, created = f"cmpl-{uuid.uuid4()}", int(time.time())

        def chunk(text: str, finish: Optional[str]) -> Dict[str, Any]:
            return {"id": cid, "object": "text_completion", "created": created, "model": self.path,
                    "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}]}

        if stream:
            def gen() -> Iterator[Dict[str, Any]]:
                for piece in pieces:
                    yield chunk(piece, None)
                yield chunk("", sess.last_finish_reason)
            return gen()
        text = "".join(pieces)
        out = chunk(text, sess.last_finish_reason)
        out["usage"] = dict(sess.last_usage)
        return out

    def create_chat_completion(self, messages: Sequence[Dict[str, Any]], stream: bool = False, **kwargs: Any):
        sess = self._default
        pieces = sess.chat_stream(messages, **kwargs)
        cid, created = f"chatcmpl-{uuid.uuid4()}", int(time.time())

        if stream:
            def gen() -> Iterator[Dict[str, Any]]:
                base = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": self.path}
                yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant"}, "logprobs": None, "finish_reason": None}]}
                for piece in pieces:
                    yield {**base, "choices": [{"index": 0, "delta": {"content": piece}, "logprobs": None, "finish_reason": None}]}
                yield {**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": sess.last_finish_reason}]}
            return gen()
        text = "".join(pieces)
        return {"id": cid, "object": "chat.completion", "created": created, "model": self.path,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None,
                             "finish_reason": sess.last_finish_reason}],
                "usage": dict(sess.last_usage)}

    def __repr__(self) -> str:
        return f"Model({self.path!r}, n_ctx={self.n_ctx})"
