"""Model and Session: the Python face of the native engine. Thin: argument checking, chat
templates and result shapes live here; tokenization, the forward pass and the decode loop are C++."""
from __future__ import annotations

import functools
import os
import re
import secrets
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _core, chat_window, constrained, embeddings, hub, tools as tool_calls
from .chat_template import fallback_template, render
from .gguf_file import GGUFFile

Stop = Union[None, str, Sequence[str]]
Prompt = Union[str, Sequence[int]]

KV_TYPES = ("f16", "q8_0")  # KV-cache element types


def _native_session(model: "_core.Model", n_ctx: Optional[int] = None, n_batch: int = 512,
                    n_threads: Optional[int] = None, float_activations: bool = False,
                    kv_type: str = "f16") -> "_core.Session":
    """A native session (KV cache, scratch; the model's shared thread pool) over `model`; the core
    checks every argument."""
    return _core.Session(model, n_ctx, n_batch, n_threads, bool(float_activations), kv_type)


class Session:
    """One conversation: its own KV cache, token history and sampler state, over a shared Model.

    A new prompt reuses the longest common prefix of the history, so a chat turn only evaluates
    the new tokens. Use one Session per thread. `close()` (or a `with` block) frees the KV cache
    now; a closed session raises ValueError."""

    def __init__(self, model: "Model", n_ctx: Optional[int] = None, n_batch: int = 512, n_threads: Optional[int] = None,
                 float_activations: bool = False, kv_type: str = "f16"):
        self._init(model, _native_session(model._native, n_ctx, n_batch, n_threads, float_activations, kv_type))

    @classmethod
    def _over(cls, model: "Model", native: "_core.Session") -> "Session":
        """A Session around an existing native one (the model's pooled sessions)."""
        self = cls.__new__(cls)
        self._init(model, native)
        return self

    def _init(self, model: "Model", native: "_core.Session") -> None:
        # The Model never holds a Session (only a weak set of them), so this strong reference
        # makes no cycle: dropping both frees the mapping and the KV cache without the gc.
        self.model = model
        self._core_session: Optional[_core.Session] = native
        self.last_result: Optional[_core.GenerationResult] = None  # of the last finished call
        model._sessions.add(self)  # Model.close() closes it too

    @property
    def _native(self) -> "_core.Session":
        if self._core_session is None:
            raise ValueError("this Session is closed")
        return self._core_session

    @property
    def closed(self) -> bool:
        return self._core_session is None

    def close(self) -> None:
        """Frees the KV cache and buffers (once no open stream of this session holds them)."""
        self._core_session = None

    def __enter__(self) -> "Session":
        self._native  # refuses a closed session
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    @property
    def n_threads(self) -> int:
        return self._native.n_threads

    @property
    def batch_stats(self) -> Optional[Dict[str, int]]:
        """For sessions from Model.batched_sessions, their shared passes so far: passes,
        batched_passes (with more than one session), rows (tokens) and max_sessions; else None."""
        batcher = self._native.batcher
        return None if batcher is None else batcher.stats()

    def reset(self) -> None:
        self._native.reset()

    def time_evaluation(self, ids: Sequence[int], decode: bool = False) -> Tuple[float, bool]:
        """(seconds, last logits finite) of evaluating ``ids`` from an empty cache: one batched
        prefill, or with ``decode`` the first token untimed, then one decode step per later token.
        Timed in C++ (no Python between steps); for benchmarks (pyllama_edge.evaluate.bench)."""
        seconds, finite = _core.bench_evaluation(self._native, ids, bool(decode))
        return seconds, finite

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Writes the KV cache, token history and last logits to `path` (atomically)."""
        self._native.save(os.fspath(path))

    # -- generation ---------------------------------------------------------------------------
    @property
    def last_finish_reason(self) -> Optional[str]:
        """"stop" or "length": how the last finished call on this session ended."""
        return self.last_result.finish_reason if self.last_result else None

    @property
    def last_usage(self) -> Dict[str, Any]:
        """OpenAI's usage object of the last finished call ({} before one)."""
        return self.last_result.usage if self.last_result else {}

    @property
    def last_prompt_evaluated(self) -> int:
        """Prompt tokens the last call evaluated; the rest came from the KV cache."""
        r = self.last_result
        return r.prompt_tokens - r.prompt_cached_tokens if r else 0

    def _generator(self, prompt: Union[Prompt, "_core.Prompt"], params: Dict[str, Any]) -> "_core.Generator":
        """The native decode loop; the core checks the prompt and parameters before any work.
        Constraint arguments (response_format, json_schema, grammar) become its logits mask."""
        params = constrained.attach(self.model, params)
        if params.get("speculative") is not None:
            params["speculative"] = self.model._draft(params["speculative"])
        return self._native.generate(prompt, _core.GenerateParams(**params))

    def _pieces(self, gen: "_core.Generator") -> Iterator[str]:
        try:
            for piece in gen:
                if self._core_session is None:  # closed while streaming
                    raise ValueError("this Session is closed")
                yield piece
        finally:
            if gen.finished:
                self.last_result = gen.result

    def stream(self, prompt: Prompt, **kwargs: Any) -> Iterator[str]:
        """Yields text pieces as they are generated. Parameters are checked before any work."""
        return self._pieces(self._generator(prompt, kwargs))

    def generate(self, prompt: Prompt, **kwargs: Any) -> str:
        return "".join(self.stream(prompt, **kwargs))

    def chat_stream(self, messages: Sequence[Dict[str, Any]], special_in_messages: bool = False,
                    tools: Optional[list] = None, tool_choice: Any = None, **kwargs: Any) -> Iterator[str]:
        """special_in_messages, tools, tool_choice: see Model.chat_stream."""
        prompt, kwargs, _, _ = self.model._chat_call(messages, special_in_messages, tools, tool_choice, kwargs, self.n_ctx)
        return self._pieces(self._generator(prompt, kwargs))

    def chat(self, messages: Sequence[Dict[str, Any]], special_in_messages: bool = False, **kwargs: Any) -> str:
        return "".join(self.chat_stream(messages, special_in_messages, **kwargs))

    def logits(self, ids: Sequence[int]) -> np.ndarray:
        """Teacher-forced logits, float32 [len(ids), n_vocab]."""
        return self._native.evaluate_all(ids)

    # -- OpenAI-shaped results on this session (as Model's, with this session's prefix reuse) --
    def create_completion(self, prompt: Prompt, stream: bool = False, **kwargs: Any):
        gen = self._generator(prompt, kwargs)
        return _completion(self.model, gen, self._pieces(gen), stream)

    def create_chat_completion(self, messages: Sequence[Dict[str, Any]], stream: bool = False,
                               special_in_messages: bool = False, tools: Optional[list] = None,
                               tool_choice: Any = None, **kwargs: Any):
        kwargs, logprobs = _logprob_kwargs(kwargs)
        prompt, kwargs, plan, dropped = self.model._chat_call(messages, special_in_messages, tools, tool_choice,
                                                              kwargs, self.n_ctx)
        _check_logprobs_plan(logprobs, plan)
        gen = self._generator(prompt, kwargs)
        return _chat_completion(self.model, gen, self._pieces(gen), plan, dropped, stream, logprobs)


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    if n == 0:
        return 0
    diff = np.flatnonzero(np.asarray(a[:n], dtype=np.int64) != np.asarray(b[:n], dtype=np.int64))
    return int(diff[0]) if diff.size else n


class _SessionPool:
    """Native sessions for the Model-level calls: each call takes one for itself, so interleaved
    streams and threads never share a KV cache; a finished call gives it back, and the next call
    takes the idle one whose history shares the longest prefix with its prompt (a chat's next
    turn evaluates only the new tokens). A session held by an open stream is never handed out.
    Holds native sessions only, never the Model: no reference cycle."""

    MAX_IDLE = 2  # each idle session keeps its KV cache and scratch buffers allocated

    def __init__(self, make: Callable[[], "_core.Session"]):
        self._make = make
        # Reentrant, and `_busy` marks the critical section: a stream dropped by the garbage
        # collector inside take()/give_back() gives its session back re-entrantly; it is then
        # dropped instead of corrupting the list being changed.
        self._lock = threading.RLock()
        self._busy = False
        self._idle: List[_core.Session] = []  # oldest first
        self._closed = False

    def take(self, prompt: Sequence[int]) -> "_core.Session":
        with self._lock:
            if self._closed:
                raise ValueError("this Model is closed")
            if self._idle and not self._busy:
                self._busy = True
                try:
                    histories = [s.history for s in self._idle]
                    shared = [_common_prefix(h, prompt) for h in histories]
                    best = shared.index(max(shared))  # the oldest on ties: the latest conversation stays
                    # A prompt sharing nothing (or just BOS) with any idle session takes a blank
                    # one, or a new one while the pool has room, rather than overwrite another
                    # conversation's cache.
                    if shared[best] <= 1 and len(self._idle) < self.MAX_IDLE:
                        best = next((i for i, h in enumerate(histories) if not h), -1)
                    if best >= 0:
                        return self._idle.pop(best)
                finally:
                    self._busy = False
        return self._make()

    def give_back(self, session: "_core.Session") -> None:
        with self._lock:
            if self._closed or self._busy:
                return
            self._busy = True
            try:
                self._idle.append(session)
                del self._idle[:-self.MAX_IDLE]
            finally:
                self._busy = False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._idle.clear()


def _defuse(value: Any, control_token_spans: Callable[[bytes], List[Tuple[int, int]]],
            placeholder: Callable[[str], str]) -> Any:
    """`value` (a message, or any str, dict or list in it) with the control-token text in its
    strings swapped for placeholders. A module function, not a closure: a recursive closure is a
    reference cycle, and this one would hold the Model until the next gc run."""
    if isinstance(value, str):
        data = value.encode("utf-8")
        spans = control_token_spans(data)
        if not spans:
            return value
        parts, pos = [], 0
        for begin, end in spans:
            parts += [data[pos:begin].decode("utf-8"), placeholder(data[begin:end].decode("utf-8"))]
            pos = end
        parts.append(data[pos:].decode("utf-8"))
        return "".join(parts)
    if isinstance(value, dict):
        return {k: _defuse(v, control_token_spans, placeholder) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_defuse(v, control_token_spans, placeholder) for v in value]
    return value


def _giving_back(pool: _SessionPool, session: Session, pieces: Iterator[str]) -> Iterator[str]:
    try:
        yield from pieces
    finally:
        native, session._core_session = session._core_session, None  # the pool's again
        if native is not None:
            pool.give_back(native)


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
    share). `generate`, `stream`, `chat`, ... each run on a session of their own from a small pool
    (so calls never see each other's context); `session()` makes one to keep. `close()` (or a
    `with` block) releases the mapping and every session now; a closed model raises ValueError."""

    def __init__(self, path: Union[str, os.PathLike], n_ctx: Optional[int] = None, n_threads: Optional[int] = None,
                 n_batch: int = 512, float_activations: bool = False, kv_type: str = "f16",
                 interleave_weights: bool = True, layout_cache: Union[bool, str, os.PathLike] = True,
                 isa: Optional[str] = None):
        self.path = os.fspath(path)
        self._sessions: "weakref.WeakSet[Session]" = weakref.WeakSet()
        self.file = GGUFFile(self.path)
        # interleave_weights: rewrite the matrices whose type has a faster load-time layout (Q4_0,
        # Q4_1, Q8_0, Q4_K, and Q6_K on ARM: 8 rows interleaved per block) into it; False keeps every
        # weight a view of the memory-mapped file. layout_cache: where that layout is kept: a
        # directory (True: <cache dir>/layouts, see hub.cache_dir) holding one file per model and
        # kernel path, written on the first load and memory-mapped on later ones; False: a copy in
        # this process's memory. See bench/README.md for the costs.
        # isa: the kernel path ("scalar", "avx2", ...; one of system_info()["available_isas"]);
        # None: the widest this CPU runs, capped by PYLLAMA_EDGE_ISA.
        self._core_model: Optional[_core.Model] = _core.Model(
            self.file._reader, bool(interleave_weights), _layout_cache_dir(layout_cache) if interleave_weights else "", isa)
        self._core_tokenizer: Optional[_core.Tokenizer] = self._core_model.tokenizer
        # float_activations: matmuls multiply dequantized weights with float activations instead of
        # 8-bit quantized ones (llama.cpp's scheme, the default). Several times slower; for
        # evaluation against a float reference.
        # kv_type: "f16", or "q8_0" for half the KV-cache memory (K and V rounded to 8 bits per
        # block of 32; see bench/README.md for its perplexity cost).
        self._session_args = dict(n_ctx=n_ctx, n_batch=n_batch, n_threads=n_threads,
                                  float_activations=float_activations, kv_type=kv_type)
        make = functools.partial(_native_session, self._core_model, **self._session_args)  # not self: no cycle
        first = make()  # checks the arguments and the memory now, not at the first call
        self._n_ctx = first.n_ctx
        self._pool = _SessionPool(make)
        self._pool.give_back(first)
        # embed() runs on sessions of its own (made on first use), so it never evicts a chat's
        # cached prefix from the pool above.
        self._embed_pool = _SessionPool(make)
        self._drafts: Dict[str, "Model"] = {}  # draft models loaded from a path, by path
        self.name = self._core_model.name or os.path.basename(self.path)
        template = self._core_model.chat_template
        self.chat_template: str = template or fallback_template(self._has_token)
        self.chat_template_is_builtin = not template

    @classmethod
    def default(cls, **kwargs: Any) -> "Model":
        """The default model (SmolLM2-135M-Instruct Q4_1), fetched into the cache on first use;
        keyword arguments as for Model()."""
        return cls(hub.pull(), **kwargs)

    @classmethod
    def from_pretrained(cls, repo_id: str, filename: Optional[str] = None, quant: Optional[str] = None,
                        revision: Optional[str] = None, cache_dir: Optional[str] = None, **kwargs: Any) -> "Model":
        """A GGUF file from a Hugging Face Hub repository (or a short name such as "llama3.2:1b"),
        by file name or quant tag, downloaded into huggingface_hub's cache on first use and checked
        (sha256, architecture, memory); keyword arguments as for Model(). Needs the `hub` extra."""
        from .hub_pull import pretrained_path

        return cls(pretrained_path(repo_id, filename=filename, quant=quant, revision=revision, cache_dir=cache_dir),
                   **kwargs)

    # -- lifetime -----------------------------------------------------------------------------
    @property
    def _native(self) -> "_core.Model":
        if self._core_model is None:
            raise ValueError(f"Model {self.path!r} is closed")
        return self._core_model

    @property
    def _tokenizer(self) -> "_core.Tokenizer":
        if self._core_tokenizer is None:
            raise ValueError(f"Model {self.path!r} is closed")
        return self._core_tokenizer

    @property
    def closed(self) -> bool:
        return self._core_model is None

    def close(self) -> None:
        """Closes every session of this model and releases the weights' mapping, the layout and
        the KV caches now, rather than when the last reference goes. Arrays from
        `model.file.raw()` keep the file's mapping alive, as they would after GGUFFile.close()."""
        if self._core_model is None:
            return
        for session in list(self._sessions):
            session.close()
        self._pool.close()
        self._embed_pool.close()
        for draft in self._drafts.values():
            draft.close()
        self._core_model = None
        self._core_tokenizer = None
        self.file.close()

    def __enter__(self) -> "Model":
        self._native  # refuses a closed model
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- introspection ------------------------------------------------------------------------
    @property
    def hparams(self) -> Dict[str, Any]:
        return self._native.hparams

    @property
    def n_vocab(self) -> int:
        return self._tokenizer.n_vocab

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

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
        return self._tokenizer.decode(ids, bool(special))

    def render_chat(self, messages: Sequence[Dict[str, Any]], add_generation_prompt: bool = True,
                    tools: Optional[list] = None) -> str:
        return render(self.chat_template, messages, add_generation_prompt=add_generation_prompt, tools=tools,
                      bos_token=self._native.bos_text, eos_token=self._native.eos_text)

    def _render_chat_literal(self, messages: Sequence[Dict[str, Any]],
                             tools: Optional[list] = None) -> Tuple[bytes, List[Tuple[int, int]]]:
        """The rendered chat as UTF-8 and the byte ranges in it of control-token text that came
        from the messages, not from the template. Before rendering, each such text in a message
        string is swapped for an ASCII placeholder (survives trim, tojson and case filters),
        swapped back afterwards; tokenizing the same bytes with those ranges kept plain gives
        exactly the usual tokens for messages without control-token text."""
        if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
            return self.render_chat(messages, tools=tools).encode("utf-8"), []  # render() raises the TypeError
        nonce = secrets.token_hex(8)
        pattern = re.compile(f"ple{nonce}x([0-9]+)x", re.IGNORECASE)
        token_texts: List[str] = []  # placeholder number -> control-token text

        def placeholder(text: str) -> str:
            if text not in token_texts:
                token_texts.append(text)
            return f"ple{nonce}x{token_texts.index(text)}x"

        spans = self._tokenizer.control_token_spans
        rendered = self.render_chat([_defuse(m, spans, placeholder) for m in messages],
                                    tools=_defuse(tools, spans, placeholder) if tools else tools)
        if not token_texts:
            return rendered.encode("utf-8"), []
        out, literal, pos = bytearray(), [], 0
        for m in pattern.finditer(rendered):
            out += rendered[pos:m.start()].encode("utf-8")
            text = token_texts[int(m.group(1))].encode("utf-8")
            literal.append((len(out), len(out) + len(text)))
            out += text
            pos = m.end()
        out += rendered[pos:].encode("utf-8")
        return bytes(out), literal

    def tokenize_chat(self, messages: Sequence[Dict[str, Any]], special_in_messages: bool = False) -> List[int]:
        """The prompt ids `chat(messages)` evaluates: the chat template rendered and tokenized, with
        control tokens only from the template's markup unless special_in_messages (see chat_stream)."""
        return self._native.tokenize(self._chat_prompt(messages, special_in_messages))

    def _chat_prompt(self, messages: Sequence[Dict[str, Any]], special_in_messages: bool = False,
                     tools: Optional[list] = None) -> "_core.Prompt":
        """The rendered chat (the template runs here, in the sandbox) as a prompt whose markup makes
        control tokens and whose messages' own text does not, unless special_in_messages."""
        if special_in_messages:
            data, literal = self.render_chat(messages, tools=tools).encode("utf-8"), []
        else:
            data, literal = self._render_chat_literal(messages, tools)
        return _core.Prompt.from_text(data, True, literal)

    def _chat_call(self, messages: Sequence[Dict[str, Any]], special_in_messages: bool, tools: Optional[list],
                   tool_choice: Any, kwargs: Dict[str, Any], n_ctx: Optional[int] = None
                   ) -> Tuple["_core.Prompt", Dict[str, Any], Optional[tool_calls.ToolPlan], int]:
        """The prompt and generation kwargs of a chat call, with its tools (see tools.py) and, with
        context_overflow="truncate" (the default), its oldest turns dropped to fit (chat_window.py;
        how many were dropped is the last item, for create_chat_completion's usage)."""
        kwargs = dict(kwargs)
        overflow = kwargs.pop("context_overflow", "truncate")
        if overflow not in chat_window.MODES:
            raise ValueError(f'context_overflow must be "truncate" or "error", got {overflow!r}')
        plan = tool_calls.ToolPlan(self, messages, tools, tool_choice) if tools is not None or tool_choice is not None else None
        template_tools = plan.template_tools if plan else None

        def prompt_of(msgs: Sequence[Dict[str, Any]]) -> "_core.Prompt":
            if plan is not None:
                msgs = plan.render_messages(msgs)
            return self._chat_prompt(msgs, special_in_messages, template_tools)

        dropped = 0
        if overflow == "truncate" and isinstance(messages, Sequence) and not isinstance(messages, (str, bytes)):
            max_tokens = kwargs.get("max_tokens", 256)
            max_tokens = 0 if max_tokens is None or not isinstance(max_tokens, int) else max_tokens
            messages, dropped = chat_window.fit(messages, lambda m: len(self._native.tokenize(prompt_of(m))),
                                                n_ctx or self.n_ctx, max_tokens)
        prompt = prompt_of(messages)
        kwargs = plan.generation_kwargs(kwargs) if plan else kwargs
        return prompt, kwargs, plan, dropped

    # -- sessions ---------------------------------------------------------------------------------
    def perplexity(self, text: str, ctx: int = 512, progress: bool = False, n_threads: Optional[int] = None):
        """Perplexity of `text` as llama.cpp's perplexity tool computes it: non-overlapping chunks of
        `ctx` tokens, the second half of each scored. Returns a PerplexityResult (ppl, stderr, ...);
        see pyllama_edge.evaluate."""
        from .evaluate import perplexity

        return perplexity(self, text, ctx=ctx, progress=progress, n_threads=n_threads)

    def session(self, **overrides: Any) -> Session:
        return Session(self, **{**self._session_args, **overrides})

    def batched_sessions(self, n: int, prefill_chunk: int = 64, **overrides: Any) -> List[Session]:
        """`n` sessions whose forward passes run together: used from `n` threads at once (a server's
        slots), the decode steps of all of them are one batched pass that reads the weights once,
        and a prompt is evaluated `prefill_chunk` tokens per pass so it does not hold the others'
        decoding up. Each session's results are the ones it would get alone, bit for bit."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        sessions = [self.session(**overrides) for _ in range(n)]
        batcher = _core.SessionBatcher(self._native, n_threads=sessions[0].n_threads, prefill_chunk=prefill_chunk)
        for s in sessions:
            s._native.set_batcher(batcher)
        return sessions

    def load_session(self, path: Union[str, os.PathLike], **overrides: Any) -> Session:
        """A new session restored from `session.save(path)`. Raises GGUFError when the file was
        saved with another model, another format version, or is corrupt. The KV-cache type is
        the file's unless `kv_type` is given."""
        if "kv_type" not in overrides:
            overrides["kv_type"] = _core.session_file_kv_type(os.fspath(path))
        s = self.session(**overrides)
        s._native.load(os.fspath(path))
        return s

    def _draft(self, speculative: Any) -> Any:
        """`speculative` as the core takes it: "lookup", or a draft Model (given, or loaded once
        from a path and kept while this model is open) as its native model. The core checks that
        the vocabularies match."""
        if isinstance(speculative, Model):
            return speculative._native
        if isinstance(speculative, str) and speculative == "lookup":
            return speculative
        if isinstance(speculative, (str, os.PathLike)):
            path = os.fspath(speculative)
            if not os.path.isfile(path):
                raise ValueError(f"speculative must be 'lookup', a Model or the path of a GGUF file; {path!r} is not a file")
            if path not in self._drafts:
                self._drafts[path] = Model(path, n_threads=self._session_args["n_threads"],
                                           kv_type=self._session_args["kv_type"])
            return self._drafts[path]._native
        raise TypeError(f"speculative must be 'lookup', a Model or a path, got {type(speculative).__name__}")

    # -- calls on pooled sessions -------------------------------------------------------------
    def _start(self, prompt: Union[Prompt, "_core.Prompt"], kwargs: Dict[str, Any]) -> Tuple["_core.Generator", Iterator[str]]:
        """Takes a pooled session for one call (the one sharing the longest prefix with the prompt);
        the returned pieces give it back when they end. The generator's `result` is the call's."""
        ids = self._native.tokenize(prompt)
        native = self._pool.take(ids)
        try:
            session = Session._over(self, native)
            gen = session._generator(ids, kwargs)  # the core checks everything before any work
        except BaseException:
            self._pool.give_back(native)
            raise
        return gen, _giving_back(self._pool, session, session._pieces(gen))

    def generate(self, prompt: Prompt, **kwargs: Any) -> str:
        return "".join(self.stream(prompt, **kwargs))

    def stream(self, prompt: Prompt, **kwargs: Any) -> Iterator[str]:
        return self._start(prompt, kwargs)[1]

    def chat(self, messages: Sequence[Dict[str, Any]], special_in_messages: bool = False, **kwargs: Any) -> str:
        return "".join(self.chat_stream(messages, special_in_messages, **kwargs))

    def chat_stream(self, messages: Sequence[Dict[str, Any]], special_in_messages: bool = False,
                    tools: Optional[list] = None, tool_choice: Any = None, **kwargs: Any) -> Iterator[str]:
        """special_in_messages: False (default) tokenizes control-token text inside the messages
        ("<|im_end|>", "<|eot_id|>") as plain text, so only the chat template's own markup makes
        control tokens; True lets message text make them too (for callers writing markup).
        tools, tool_choice: OpenAI's (see tools.py); the text is the model's raw answer, a call
        included. create_chat_completion parses calls into `tool_calls`."""
        prompt, kwargs, _, _ = self._chat_call(messages, special_in_messages, tools, tool_choice, kwargs)
        return self._start(prompt, kwargs)[1]

    def logits(self, ids: Sequence[int]) -> np.ndarray:
        ids = _core.Prompt.from_ids(ids).ids  # TypeError / ValueError for what cannot be token ids
        native = self._pool.take(ids)
        try:
            return native.evaluate_all(ids)
        finally:
            self._pool.give_back(native)

    # -- embeddings -----------------------------------------------------------------------------
    def embed(self, texts: embeddings.Texts, pooling: Optional[str] = None, normalize: bool = True) -> np.ndarray:
        """Embeddings of `texts` (a str or a list of str), float32 [len(texts), n_embd]: each text's
        final hidden states (after the output norm; no logits computed) pooled by "mean" over its
        tokens, "cls" (the first token) or "last" (the last token); None takes the file's
        <arch>.pooling_type, else "mean". normalize: scale each vector to unit length. Each text is
        evaluated on its own; a text longer than n_ctx raises ContextOverflowError."""
        return embeddings.embed(self, texts, pooling, normalize)[0]

    def _embed_ids(self, ids: List[List[int]], pooling: str, normalize: bool) -> np.ndarray:
        native = self._embed_pool.take([])
        try:
            return native.embed(ids, pooling, normalize)
        finally:
            self._embed_pool.give_back(native)

    def create_embedding(self, input: embeddings.Texts, model: Optional[str] = None) -> Dict[str, Any]:
        """OpenAI's embeddings response for `input` (a str or a list of str): unit-length vectors
        pooled as embed() pools by default; "model" is `model`, else this model's path."""
        return embeddings.embedding_response(self, input, model)

    # -- OpenAI-shaped results, as llama-cpp-python returns them --------------------------------
    def create_completion(self, prompt: Prompt, stream: bool = False, **kwargs: Any):
        gen, pieces = self._start(prompt, kwargs)
        return _completion(self, gen, pieces, stream)

    def create_chat_completion(self, messages: Sequence[Dict[str, Any]], stream: bool = False,
                               special_in_messages: bool = False, tools: Optional[list] = None,
                               tool_choice: Any = None, **kwargs: Any):
        kwargs, logprobs = _logprob_kwargs(kwargs)
        prompt, kwargs, plan, dropped = self._chat_call(messages, special_in_messages, tools, tool_choice, kwargs)
        _check_logprobs_plan(logprobs, plan)
        gen, pieces = self._start(prompt, kwargs)
        return _chat_completion(self, gen, pieces, plan, dropped, stream, logprobs)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"n_ctx={self.n_ctx}"
        return f"Model({self.path!r}, {state})"


def _completion(model: Model, gen: "_core.Generator", pieces: Iterator[str], stream: bool):
    """create_completion's result (a dict, or with stream an iterator of chunks) over a started call."""
    cid, created = f"cmpl-{uuid.uuid4()}", int(time.time())

    def chunk(text: str, finish: Optional[str]) -> Dict[str, Any]:
        return {"id": cid, "object": "text_completion", "created": created, "model": model.path,
                "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}]}

    if stream:
        def chunks() -> Iterator[Dict[str, Any]]:
            for piece in pieces:
                yield chunk(piece, None)
            yield chunk("", gen.result.finish_reason)
        return chunks()
    text = "".join(pieces)
    out = chunk(text, gen.result.finish_reason)
    out["usage"] = gen.result.usage
    return out


def _logprob_kwargs(kwargs: Dict[str, Any]) -> Tuple[Dict[str, Any], bool]:
    """OpenAI's `logprobs` (bool) and `top_logprobs` (0-20, needs logprobs) as the core's
    `top_logprobs` (None: none); ValueError naming the argument otherwise."""
    kwargs = dict(kwargs)
    logprobs = kwargs.pop("logprobs", None)
    top = kwargs.pop("top_logprobs", None)
    if logprobs is not None and not isinstance(logprobs, bool):
        raise ValueError(f"logprobs must be true or false, got {logprobs!r}")
    if top is not None:
        if isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= 20:
            raise ValueError(f"top_logprobs must be an integer from 0 to 20, got {top!r}")
        if not logprobs:
            raise ValueError("top_logprobs needs logprobs=True")
    if logprobs:
        kwargs["top_logprobs"] = top or 0
    return kwargs, bool(logprobs)


def _check_logprobs_plan(logprobs: bool, plan: Optional[tool_calls.ToolPlan]) -> None:
    if logprobs and plan is not None and plan.active:
        raise ValueError("logprobs are not returned with tools; call without tools, or without logprobs")


def _logprob_entries(model: Model, gen: "_core.Generator", first: int) -> List[Dict[str, Any]]:
    """OpenAI's logprobs content entries of the tokens generated from index `first` on."""
    tokenizer = model._tokenizer

    def entry(token: int, logprob: float) -> Dict[str, Any]:
        raw = tokenizer.token_piece(token, True)
        return {"token": raw.decode("utf-8", "replace"), "logprob": logprob, "bytes": list(raw)}

    return [{**entry(token, logprob), "top_logprobs": [entry(t, lp) for t, lp in top]}
            for token, logprob, top in gen.logprobs_since(first)]


def _chat_completion(model: Model, gen: "_core.Generator", pieces: Iterator[str],
                     plan: Optional[tool_calls.ToolPlan], dropped: int, stream: bool, logprobs: bool = False):
    """create_chat_completion's result over a started call; `dropped` messages were truncated;
    with `logprobs`, each chunk carries the log probabilities of the tokens generated since the
    last one."""
    cid, created = f"chatcmpl-{uuid.uuid4()}", int(time.time())
    if plan is not None and plan.active:
        out = tool_calls.completion_with_tools(model, gen, pieces, stream, cid, created)
        if not stream:
            out["usage"] = {**out["usage"], "dropped_messages": dropped}
        return out

    if stream:
        def chunks() -> Iterator[Dict[str, Any]]:
            base = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model.path}
            sent = 0

            def new_logprobs() -> Optional[Dict[str, Any]]:
                nonlocal sent
                if not logprobs:
                    return None
                entries = _logprob_entries(model, gen, sent)
                sent += len(entries)
                return {"content": entries}

            yield {**base, "choices": [{"index": 0, "delta": {"role": "assistant"}, "logprobs": None, "finish_reason": None}]}
            for piece in pieces:
                yield {**base, "choices": [{"index": 0, "delta": {"content": piece}, "logprobs": new_logprobs(),
                                            "finish_reason": None}]}
            yield {**base, "choices": [{"index": 0, "delta": {}, "logprobs": new_logprobs(),
                                        "finish_reason": gen.result.finish_reason}]}
        return chunks()
    text = "".join(pieces)
    return {"id": cid, "object": "chat.completion", "created": created, "model": model.path,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "logprobs": {"content": _logprob_entries(model, gen, 0)} if logprobs else None,
                         "finish_reason": gen.result.finish_reason}],
            "usage": {**gen.result.usage, "dropped_messages": dropped}}
