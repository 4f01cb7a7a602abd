"""The `pyllama-edge` command: run | chat | serve | info | pull | list | rm | quantize | perplexity | bench."""
from __future__ import annotations

import argparse
import collections
import os
import sys
from typing import Any, Dict, List, Optional

from .gguf_file import GGUFFile


def _human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def _human_count(n: int) -> str:
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= div:
            return f"{n / div:.2f}{suffix}"
    return str(n)


def describe(path: str, n_ctx: Optional[int] = None) -> List[str]:
    """The lines `pyllama-edge info` prints."""
    with GGUFFile(path) as g:
        meta, tensors = g.metadata, g.tensors
        arch = meta.get("general.architecture", "?")
        n_params = 0
        mix: Dict[str, List[int]] = collections.defaultdict(lambda: [0, 0])
        for t in tensors.values():
            count = 1
            for d in t.shape:
                count *= d
            n_params += count
            mix[t.type][0] += 1
            mix[t.type][1] += t.nbytes
        lines = [
            f"file:          {path}",
            f"format:        GGUF v{g.version}, {_human_bytes(g.file_size)} ({g.file_size} bytes)",
            f"name:          {meta.get('general.name', '?')}",
            f"architecture:  {arch}",
            f"parameters:    {_human_count(n_params)} ({n_params})",
            "tensor types:  " + ", ".join(f"{k} x{v[0]} ({_human_bytes(v[1])})"
                                          for k, v in sorted(mix.items(), key=lambda kv: -kv[1][1])),
            "hyper-parameters:",
        ]
        prefix = f"{arch}."
        for key, value in meta.items():
            if key.startswith(prefix):
                lines.append(f"  {key[len(prefix):]:<36} {value}")
        tokens = meta.get("tokenizer.ggml.tokens") or []
        kind = meta.get("tokenizer.ggml.model", "none")
        pre = meta.get("tokenizer.ggml.pre")
        lines.append(f"tokenizer:     {kind}{f' (pre: {pre})' if pre else ''}, {len(tokens)} tokens")
        specials = []
        for name in ("bos", "eos", "eot", "eom", "unknown", "padding"):
            tid = meta.get(f"tokenizer.ggml.{name}_token_id")
            if isinstance(tid, int) and 0 <= tid < len(tokens):
                specials.append(f"{name}={tid} {tokens[tid]!r}")
        lines.append("special tokens: " + (", ".join(specials) if specials else "none"))
        for flag in ("add_bos_token", "add_eos_token", "add_space_prefix"):
            if f"tokenizer.ggml.{flag}" in meta:
                lines.append(f"  {flag}: {meta[f'tokenizer.ggml.{flag}']}")
        template = meta.get("tokenizer.chat_template")
        first = template.strip().splitlines()[0] if isinstance(template, str) and template.strip() else None
        lines.append(f"chat template: {first[:100] if first else 'none (a built-in fallback is used)'}")
        f16 = g.memory_estimate(n_ctx, "f16")
        if f16 is not None:
            kv = f"{_human_bytes(f16['kv_cache_bytes'])} (f16)"
            q8 = g.memory_estimate(n_ctx, "q8_0")["kv_cache_bytes"]
            if q8 is not None:
                kv += f" or {_human_bytes(q8)} (q8_0)"
            lines.append(f"memory at n_ctx={f16['n_ctx']}: weights {_human_bytes(f16['weight_bytes'])} (mapped) "
                         f"+ KV cache {kv}")
    return lines


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def _add_model(p: argparse.ArgumentParser, positional: bool = False) -> None:
    if positional:  # kept for the older `info FILE` / `bench MODEL` / `perplexity MODEL TEXT` spellings
        p.add_argument("model_file", nargs="?", metavar="MODEL", help="GGUF file (same as --model)")
    p.add_argument("--model", "-m", help="GGUF file, short name (llama3.2:1b; `list --known`) or Hugging Face Hub "
                   "OWNER/REPO[:QUANT], pulled on first use (default: SmolLM2-135M-Instruct Q4_1, fetched once)")


def _add_sampling(p: argparse.ArgumentParser) -> None:
    _add_model(p)
    p.add_argument("--max-tokens", "-n", type=int, default=256,
                   help="most tokens to generate; -1 until the context is full (default 256)")
    p.add_argument("--temperature", "--temp", type=float, default=0.8,
                   help="sampling temperature; 0 picks the most likely token every time (default 0.8)")
    p.add_argument("--top-k", type=int, default=40, help="sample among the K most likely tokens; 0 disables (default 40)")
    p.add_argument("--top-p", type=float, default=0.95,
                   help="sample among the most likely tokens whose probabilities sum to P; 1 disables (default 0.95)")
    p.add_argument("--min-p", type=float, default=0.05,
                   help="drop tokens less likely than P times the most likely one; 0 disables (default 0.05)")
    p.add_argument("--repeat-penalty", type=float, default=1.0,
                   help="divide the logits of recently seen tokens by this; 1 disables (default 1.0)")
    p.add_argument("--seed", type=int, default=None, help="random seed for reproducible sampling (default: random)")
    p.add_argument("--speculative", metavar="lookup|PATH", default=None,
                   help="speculative decoding: 'lookup' drafts from text already in the context, PATH is a smaller "
                   "draft model with the same vocabulary; the output is unchanged, only faster (default off)")
    p.add_argument("--threads", "-t", type=_positive_int, default=None, help="threads (default: one per core)")
    p.add_argument("--ctx", "-c", type=_positive_int, default=None,
                   help="context size in tokens (default min(4096, model's))")
    _add_kv_type(p)


def _add_kv_type(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kv-type", choices=("f16", "q8_0"), default="f16",
                   help="KV-cache element type; q8_0 halves its memory (default f16)")


def _sampling_kwargs(a: argparse.Namespace) -> Dict[str, Any]:
    return dict(max_tokens=a.max_tokens, temperature=a.temperature, top_k=a.top_k, top_p=a.top_p, min_p=a.min_p,
                repeat_penalty=a.repeat_penalty, seed=a.seed, speculative=a.speculative)


def _model_path(a: argparse.Namespace) -> str:
    """--model, the positional MODEL where the command has one, else the cached default model."""
    given = [m for m in (getattr(a, "model_file", None), a.model) if m]
    if len(given) == 2 and given[0] != given[1]:
        raise ValueError(f"two models given: {given[0]} and --model {given[1]}")
    if given:
        from .cli_hub import resolve_model_argument

        return resolve_model_argument(given[0])
    from .hub import pull

    return str(pull())


def _load(a: argparse.Namespace):
    from .model import Model

    return Model(_model_path(a), n_ctx=a.ctx, n_threads=a.threads, kv_type=a.kv_type)


def _read_prompt(a: argparse.Namespace) -> str:
    if a.prompt is not None:
        return a.prompt
    if sys.stdin.isatty():
        print("Reading the prompt from stdin; end it with Ctrl-D (or pass it as an argument).", file=sys.stderr)
    text = sys.stdin.read()
    # The newline that ends the last line of a file or `echo` is not part of the prompt.
    return text[:-1] if text.endswith("\n") else text


def _cmd_run(a: argparse.Namespace) -> int:
    from .cli_hub import separate_model_and_prompt

    a.model_file, a.prompt = separate_model_and_prompt(a.model_file, a.prompt)
    prompt = _read_prompt(a)
    model = _load(a)
    for piece in model.stream(prompt, **_sampling_kwargs(a)):
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0


def _cmd_chat(a: argparse.Namespace) -> int:
    model = _load(a)
    session = model.session()
    messages: List[Dict[str, str]] = []
    if a.system:
        messages.append({"role": "system", "content": a.system})
    interactive = sys.stdin.isatty()
    if interactive:
        print("Chat with the model. Empty line or Ctrl-D to quit; Ctrl-C stops an answer.", file=sys.stderr)
    while True:
        if interactive:
            sys.stderr.write("> ")
            sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:  # end of input
            return 0
        if not line.strip():
            if interactive:
                return 0
            continue  # piped input: a blank line separates nothing
        messages.append({"role": "user", "content": line.rstrip("\n")})
        reply = []
        try:
            for piece in session.chat_stream(messages, **_sampling_kwargs(a)):
                reply.append(piece)
                sys.stdout.write(piece)
                sys.stdout.flush()
        except KeyboardInterrupt:
            sys.stdout.write(" [stopped]")
        sys.stdout.write("\n")
        sys.stdout.flush()
        messages.append({"role": "assistant", "content": "".join(reply)})


def _cmd_serve(a: argparse.Namespace) -> int:
    from .server import check_setup, serve

    check_setup(a.host, a.api_key)  # before the model loads: a wrong flag fails at once
    return serve(_load(a), host=a.host, port=a.port, parallel=a.parallel, api_key=a.api_key,
                 max_tokens_limit=a.max_tokens_limit, max_body_bytes=a.max_body_bytes, queue_timeout=a.queue_timeout,
                 prefill_chunk=a.prefill_chunk)


def _cmd_info(a: argparse.Namespace) -> int:
    print("\n".join(describe(_model_path(a), a.ctx)))
    return 0


def _cmd_cache(a: argparse.Namespace) -> int:
    from . import cache, hub

    if a.action == "clean":
        removed = cache.clean()
        for e in removed:
            print(f"removed {e.path} ({_human_bytes(e.size)}): {e.reason}")
        print(f"freed {_human_bytes(sum(e.size for e in removed))} in {len(removed)} file(s)")
        return 0
    found = cache.entries()
    print(f"cache: {hub.cache_dir()}")
    for e in found:
        note = f"  [stale: {e.reason}]" if e.stale else (f"  [{e.reason}]" if e.reason else "")
        of = f"  for {e.model}" if e.model else ""
        print(f"{e.kind:<9} {_human_bytes(e.size):>10}  {e.path.name}{of}{note}")
    print(f"total {_human_bytes(sum(e.size for e in found))} in {len(found)} file(s); "
          f"{sum(e.stale for e in found)} stale (`pyllama-edge cache clean` removes them)")
    return 0


def _cmd_quantize(a: argparse.Namespace) -> int:
    from .quantizer import quantize_model

    types = quantize_model(a.input, a.output, a.type, threads=a.threads, progress=not a.quiet and sys.stderr.isatty(),
                           pure=a.pure)
    counts = collections.Counter(types.values())
    print(f"{a.output}: " + ", ".join(f"{n} x {t}" for t, n in sorted(counts.items())))
    return 0


def _cmd_perplexity(a: argparse.Namespace) -> int:
    from .model import Model

    with open(a.textfile, encoding="utf-8") as f:
        text = f.read()
    model = Model(_model_path(a), n_ctx=a.ctx, n_threads=a.threads, kv_type=a.kv_type)
    result = model.perplexity(text, ctx=a.ctx, progress=not a.quiet and sys.stderr.isatty())
    if a.json:
        import json

        print(json.dumps(result.as_dict()))
    else:
        print(result)
    return 0


def _cmd_bench(a: argparse.Namespace) -> int:
    from .evaluate import bench
    from .model import Model

    path = _model_path(a)
    model = Model(path, n_ctx=max(a.n_prompt, a.n_gen + 1, 16), n_threads=a.threads, kv_type=a.kv_type)
    rows = bench(model, n_prompt=a.n_prompt, n_gen=a.n_gen, reps=a.reps, n_threads=a.threads,
                 progress=not a.json and sys.stderr.isatty())
    if a.json:
        import json

        from . import system_info

        info = system_info()
        for r in rows:
            r.update(model=os.path.basename(path), isa=info.get("isa"), kv_type=a.kv_type)
        print(json.dumps(rows))
        return 0
    size = os.path.getsize(path)
    name = os.path.basename(path)
    w = max(5, len(name))
    print(f"| {'model':{w}} | {'size':>9} | {'threads':>7} | {'test':>6} | {'t/s':>18} |")
    print(f"| {'-' * w} | {'-' * 9}:| {'-' * 7}:| {'-' * 6}:| {'-' * 18}:|")
    for r in rows:
        ts = f"{r['tokens_per_s']:.2f} ± {r['std']:.2f}"
        print(f"| {name:{w}} | {_human_bytes(size):>9} | {r['threads']:>7} | {r['test']:>6} | {ts:>18} |")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pyllama-edge", description="Run GGUF Llama-family models on this CPU.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="generate a continuation of PROMPT, streamed to stdout")
    p.add_argument("model_file", nargs="?", metavar="MODEL", help="as --model (`run llama3.2:1b PROMPT`)")
    p.add_argument("prompt", nargs="?", help="prompt text (default: read stdin, without its final newline)")
    _add_sampling(p)
    p.set_defaults(func=_cmd_run)
    p = sub.add_parser("chat", help="interactive multi-turn chat")
    p.add_argument("model_file", nargs="?", metavar="MODEL", help="as --model (`chat llama3.2:1b`)")
    p.add_argument("--system", help="system message")
    _add_sampling(p)
    p.set_defaults(func=_cmd_chat)
    p = sub.add_parser("serve", help="an OpenAI-compatible HTTP server and a chat page (needs the server extra)")
    _add_model(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; any other "
                   "needs --api-key)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 picks a free one)")
    p.add_argument("--parallel", "-np", type=_positive_int, default=1,
                   help="requests decoded at once, each in a slot with its own KV cache; their decode steps "
                   "run as one batched pass (default 1)")
    p.add_argument("--prefill-chunk", type=_positive_int, default=64,
                   help="prompt tokens evaluated per batched pass, so a new prompt does not stall the "
                   "other slots' decoding (default 64)")
    p.add_argument("--ctx", "-c", type=_positive_int, default=None,
                   help="context size of each slot in tokens (default min(4096, model's))")
    p.add_argument("--threads", "-t", type=_positive_int, default=None, help="threads (default: one per core)")
    _add_kv_type(p)
    p.add_argument("--api-key", default=os.environ.get("PYLLAMA_EDGE_API_KEY") or None,
                   help="clients must send it as a Bearer token (default: $PYLLAMA_EDGE_API_KEY; none on loopback)")
    p.add_argument("--max-tokens-limit", type=_positive_int, default=2048,
                   help="caps every request's max_tokens, and is the default for requests without one (default 2048)")
    p.add_argument("--max-body-bytes", type=_positive_int, default=1 << 20,
                   help="larger request bodies get a 413 (default 1 MiB)")
    p.add_argument("--queue-timeout", type=float, default=30.0,
                   help="seconds a request waits for a free slot before a 503 (default 30)")
    p.set_defaults(func=_cmd_serve)
    p = sub.add_parser("info", help="describe a GGUF file (default: the default model)")
    _add_model(p, positional=True)
    p.add_argument("--ctx", type=_positive_int, default=None, help="context size for the memory estimate")
    p.set_defaults(func=_cmd_info)
    from .cli_hub import add_commands as add_hub_commands

    add_hub_commands(sub)  # pull, list, rm
    p = sub.add_parser("cache", help="list the cached models and layout files, or remove the stale ones")
    p.add_argument("action", choices=["list", "clean"], help="list: what is cached, with sizes; clean: remove "
                   "layouts of deleted or changed models, damaged layouts and files of interrupted writes")
    p.set_defaults(func=_cmd_cache)
    p = sub.add_parser("quantize", help="quantize an F32/F16/BF16 GGUF file")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("type", help="Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q2_K Q3_K Q4_K Q5_K Q6_K Q4_K_M Q5_K_M "
                                "(Q3_K_S Q4_K_S Q5_K_S are Q3_K Q4_K Q5_K); per-tensor types as llama.cpp's llama-quantize")
    p.add_argument("--pure", action="store_true",
                   help="every matrix in the base type (no Q6_K output head, no per-layer mix), like llama-quantize --pure")
    p.add_argument("--threads", type=_positive_int, default=None)
    p.add_argument("--quiet", action="store_true", help="no progress bar (there is none unless stderr is a terminal)")
    p.set_defaults(func=_cmd_quantize)
    p = sub.add_parser("perplexity", help="perplexity of MODEL (default: the default model) on a text file, "
                                          "llama.cpp's method")
    _add_model(p, positional=True)
    p.add_argument("textfile")
    p.add_argument("--ctx", type=_positive_int, default=512, help="chunk size in tokens (default 512)")
    p.add_argument("--threads", type=_positive_int, default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar (there is none unless stderr is a terminal)")
    _add_kv_type(p)
    p.set_defaults(func=_cmd_perplexity)
    p = sub.add_parser("bench", help="prompt-processing and generation speed (like llama-bench)")
    _add_model(p, positional=True)
    p.add_argument("--threads", type=_positive_int, default=None)
    p.add_argument("-p", "--n-prompt", type=_positive_int, default=512)
    p.add_argument("-n", "--n-gen", type=_positive_int, default=128)
    p.add_argument("--reps", type=_positive_int, default=3)
    p.add_argument("--json", action="store_true")
    _add_kv_type(p)
    p.set_defaults(func=_cmd_bench)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    a = build_parser().parse_args(argv)
    from .hub import DownloadError

    try:
        return a.func(a)
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError, MemoryError, DownloadError, ModuleNotFoundError) as e:  # GGUFError, FileNotFoundError, bad parameters,
        # no network, a model too big for this machine: no traceback
        print(f"pyllama-edge: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
