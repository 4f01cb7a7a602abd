"""Model evaluation: perplexity (llama.cpp's perplexity tool method) and speed (llama-bench's pp/tg).

Perplexity: the text is tokenized once (with BOS when the model uses one), cut into non-overlapping
chunks of ``ctx`` tokens (a trailing partial chunk is dropped); in each chunk the first token is
replaced by BOS when the model uses one, the chunk is evaluated from an empty KV cache, and the
second half is scored: the logits at positions ctx/2 .. ctx-2 predict the tokens at ctx/2+1 .. ctx-1
(ctx - 1 - ctx/2 tokens per chunk, exactly as llama.cpp counts them). The earlier half only gives
context. PPL = exp(mean NLL); its standard error is propagated from the standard error of the mean
NLL: se(PPL) = PPL * sqrt((mean(nll^2) - mean(nll)^2) / (N - 1)).

The teacher-forced logits of each chunk come from ``Session.logits`` as a float32
[ctx, n_vocab] array (ctx * n_vocab * 4 bytes, e.g. 262 MB for ctx 512 and Llama 3's 128k vocabulary;
one chunk at a time); the log-softmax of the scored rows is computed in numpy, vectorized over
blocks of 32 rows in float64 (no per-token Python loop).
"""
from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Dict, List, Optional

import numpy as np

from .progress import ProgressBar

if TYPE_CHECKING:  # pragma: no cover
    from .model import Model


@dataclass(frozen=True)
class PerplexityResult:
    ppl: float          # exp(mean NLL)
    stderr: float       # standard error of ppl (propagated from that of the mean NLL)
    nll: float          # mean negative log-likelihood per scored token, nats
    n_tokens: int       # scored tokens
    n_chunks: int
    ctx: int

    def __str__(self) -> str:
        return f"PPL = {self.ppl:.4f} +/- {self.stderr:.4f} ({self.n_chunks} chunks of {self.ctx}, {self.n_tokens} tokens scored)"

    def as_dict(self) -> Dict[str, Any]:
        return asdict(self)


def chunk_nll(logits: np.ndarray, targets: np.ndarray, rows_per_block: int = 32) -> np.ndarray:
    """NLL (nats, float64) of targets[i] under the softmax of logits[i]; logits [n, vocab].
    Done in float64 over blocks of rows, so the temporary stays small (32 x vocab doubles)."""
    out = np.empty(len(targets), dtype=np.float64)
    for b in range(0, len(targets), rows_per_block):
        x = logits[b:b + rows_per_block].astype(np.float64)
        m = x.max(axis=1, keepdims=True)
        lse = np.log(np.exp(x - m).sum(axis=1)) + m[:, 0]
        t = targets[b:b + rows_per_block]
        out[b:b + len(t)] = lse - x[np.arange(len(t)), t]
    return out


def perplexity(model: "Model", text: str, ctx: int = 512, progress: bool = False,
               n_threads: Optional[int] = None) -> PerplexityResult:
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if isinstance(ctx, bool) or not isinstance(ctx, int) or ctx < 4:
        raise ValueError(f"ctx must be an int >= 4, got {ctx!r}")
    ids = model.tokenize(text, add_bos=True)
    n_chunks = len(ids) // ctx
    if n_chunks == 0:
        raise ValueError(f"the text has {len(ids)} tokens; perplexity with ctx={ctx} needs at least {ctx}")
    bos_only = model.tokenize("", add_bos=True)  # [bos] when the model uses one, else []
    session = model.session(n_ctx=max(ctx, 16), n_threads=n_threads)
    first = ctx // 2
    nlls: List[np.ndarray] = []
    with ProgressBar(n_chunks, progress, "chunks", lambda done, total: f"{done}/{total}") as bar:
        bar.update(0)
        for c in range(n_chunks):
            chunk = list(ids[c * ctx:(c + 1) * ctx])
            if bos_only:
                chunk[0] = bos_only[0]
            session.reset()
            logits = session.logits(chunk)         # [ctx, n_vocab]
            targets = np.asarray(chunk[first + 1:], dtype=np.int64)
            nlls.append(chunk_nll(logits[first:ctx - 1], targets))
            del logits
            bar.update(1, f"chunks, PPL so far {math.exp(float(np.concatenate(nlls).mean())):.4f}")
    nll = np.concatenate(nlls)
    mean = float(nll.mean())
    n = int(nll.size)
    var = max(0.0, float((nll ** 2).mean()) - mean * mean) / (n - 1) if n > 1 else 0.0
    ppl = math.exp(mean)
    return PerplexityResult(ppl=ppl, stderr=ppl * math.sqrt(var), nll=mean, n_tokens=n, n_chunks=n_chunks, ctx=ctx)


# ---- speed -----------------------------------------------------------------------------------

def bench(model: "Model", n_prompt: int = 512, n_gen: int = 128, reps: int = 3, n_threads: Optional[int] = None,
          progress: bool = False) -> List[Dict[str, Any]]:
    """llama-bench-style throughput: pp<n_prompt> (one batched prefill of n_prompt tokens from an
    empty cache) and tg<n_gen> (n_gen single-token decode steps after one token of context).
    Tokens are fixed pseudo-random ids; one untimed warm-up run, whose logits must be finite,
    precedes the ``reps`` timed ones.
    Returns rows {test, n_tokens, reps, threads, tokens_per_s (mean), std, samples}."""
    for name, v in (("n_prompt", n_prompt), ("n_gen", n_gen), ("reps", reps)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"{name} must be a non-negative int, got {v!r}")
    if reps < 1:
        raise ValueError("reps must be >= 1")
    rng = np.random.default_rng(1234)
    vocab = model.n_vocab
    need = max(n_prompt, n_gen + 1, 16)
    session = model.session(n_ctx=need, n_threads=n_threads)
    rows: List[Dict[str, Any]] = []
    tests = []
    if n_prompt > 0:
        tests.append(("pp", n_prompt))
    if n_gen > 0:
        tests.append(("tg", n_gen))
    for kind, n in tests:
        ids = [int(t) for t in rng.integers(0, vocab, size=n + 1)]
        samples = []
        with ProgressBar(reps, progress, f"{kind}{n}", lambda done, total: f"{done}/{total}") as bar:
            for rep in range(reps + 1):  # rep 0 warms caches and pages in the weights
                if kind == "pp":
                    dt, finite = session.time_evaluation(ids[:n])
                else:  # ids[0] is the one token of context; n decode steps are timed
                    dt, finite = session.time_evaluation(ids[:n + 1], decode=True)
                if rep == 0 and not finite:
                    # check the result before timing it: a broken kernel path must not report a speed
                    raise RuntimeError(f"{kind}{n}: the model produced non-finite logits")
                if rep > 0:
                    samples.append(n / dt)
                bar.update(0 if rep == 0 else 1)
        rows.append(dict(test=f"{kind}{n}", n_tokens=n, reps=reps, threads=session.n_threads,
                         tokens_per_s=statistics.fmean(samples),
                         std=statistics.stdev(samples) if len(samples) > 1 else 0.0, samples=samples))
    return rows
