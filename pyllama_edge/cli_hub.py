"""The CLI's model names: `resolve_model_argument` (every --model / MODEL argument goes through it)
and the `pull`, `list` and `rm` commands."""
from __future__ import annotations

import argparse
import collections
import os
import sys
from typing import Callable, List, Optional

from . import hub, hub_pull
from .model_checks import check_runnable
from .model_names import KNOWN_MODELS, HubReference, parse_model_argument

ASK_ABOVE_BYTES = 1 << 30  # first-use downloads larger than this ask first on a terminal


def _gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e8 else f"{n / 1e6:.1f} MB"


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _ask(question: str) -> bool:
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _confirm_large(ref: HubReference) -> Callable[[hub_pull.GGUFChoice], bool]:
    def confirm(choice: hub_pull.GGUFChoice) -> bool:
        sys.stderr.write(f"Pulling {ref} ({choice.name}, {_gb(choice.size)}) from the Hugging Face Hub ...\n")
        if choice.size > ASK_ABOVE_BYTES and _interactive():
            return _ask(f"Download {_gb(choice.size)}?")
        return True
    return confirm


def resolve_model_argument(argument: str) -> str:
    """A GGUF path for a --model / MODEL argument: a path as given; a short name or REPO[:QUANT]
    from the Hugging Face Hub cache, pulled on first use, then checked (architecture, split
    files, memory)."""
    target = parse_model_argument(argument)
    if not isinstance(target, HubReference):
        return target
    paths = hub_pull.cached(target)
    if paths is None:
        paths = hub_pull.pull(target, confirm=_confirm_large(target))
    check_runnable(paths)
    return paths[0]


# -- commands -------------------------------------------------------------------------------------

def _cmd_pull(a: argparse.Namespace) -> int:
    if a.model is None and a.file is None:
        print(hub.pull(force=a.force))
        return 0
    if a.model is None:
        raise ValueError("--file needs the repository: pyllama-edge pull OWNER/REPO --file NAME.gguf")
    target = parse_model_argument(a.model)
    if not isinstance(target, HubReference):
        raise ValueError(f"{a.model} is a local path; pull takes a short name ({', '.join(KNOWN_MODELS)}) "
                         "or a Hub repository OWNER/REPO[:QUANT]")
    if a.file:
        if target.quant and target.short_name is None:
            raise ValueError("give either REPO:QUANT or --file, not both")
        target = HubReference(target.repo_id, filename=a.file)
    if a.revision:
        target = HubReference(target.repo_id, quant=target.quant, filename=target.filename, revision=a.revision,
                              short_name=target.short_name)
    paths = hub_pull.pull(target, force=a.force)
    for p in paths:
        print(p)
    check_runnable(paths)
    return 0


def _quant_mix(paths: List[str]) -> str:
    from .gguf_file import GGUFFile

    by_type: "collections.Counter[str]" = collections.Counter()
    try:
        for p in paths:
            with GGUFFile(p) as g:
                for t in g.tensors.values():
                    by_type[t.type] += t.nbytes
    except (OSError, ValueError):
        return "?"
    total = sum(by_type.values()) or 1
    return " ".join(f"{t}:{100 * n / total:.0f}%" for t, n in by_type.most_common(3))


def _cmd_list(a: argparse.Namespace) -> int:
    if a.known:
        print(f"{'NAME':<16} {'REPOSITORY:QUANT':<54} {'SIZE':>8}  DESCRIPTION")
        for m in KNOWN_MODELS.values():
            print(f"{m.name:<16} {m.repo_id + ':' + m.quant:<54} {m.approx_gb:>5.2f} GB  {m.description}")
        return 0
    rows = []
    default = hub.default_model_path()
    if default.is_file():
        rows.append(("default", default.name, default.stat().st_size, _quant_mix([str(default)]), str(default.parent)))
    for m in hub_pull.local_models():
        rows.append((m.names[0], m.file + (f" (+{len(m.paths) - 1} parts)" if len(m.paths) > 1 else ""), m.size,
                     _quant_mix(m.paths), os.path.dirname(m.paths[0])))
    if not rows:
        print("no local models; `pyllama-edge pull NAME` fetches one (`pyllama-edge list --known` shows the names)")
        return 0
    w = max(len(r[0]) for r in rows)
    f = max(len(r[1]) for r in rows)
    print(f"{'NAME':<{w}}  {'FILE':<{f}}  {'SIZE':>9}  {'QUANT MIX':<26} WHERE")
    for name, file, size, mix, where in rows:
        print(f"{name:<{w}}  {file:<{f}}  {_gb(size):>9}  {mix:<26} {where}")
    return 0


def _cmd_rm(a: argparse.Namespace) -> int:
    wanted = a.name
    models = [m for m in hub_pull.local_models()
              if wanted in m.names or wanted.lower() in (n.lower() for n in m.names)
              or wanted in (m.file, os.path.basename(m.file), *m.paths)]
    default = hub.default_model_path()
    take_default = wanted in ("default", default.name, str(default)) and default.is_file()
    if not models and not take_default:
        raise ValueError(f"no local model named {wanted!r}; `pyllama-edge list` shows them")
    described = [f"{m.names[0]} ({m.file}, {_gb(m.size)})" for m in models]
    if take_default:
        described.append(f"default ({default.name}, {_gb(default.stat().st_size)})")
    if not a.yes:
        if not _interactive():
            raise ValueError(f"rm asks before removing {', '.join(described)}; not on a terminal, so pass --yes")
        if not _ask(f"Remove {', '.join(described)}?"):
            print("nothing removed")
            return 1
    for m in models:
        hub_pull.remove(m)
    if take_default:
        default.unlink()
        default.with_suffix(".gguf.sha256").unlink(missing_ok=True)
    for d in described:
        print(f"removed {d}")
    return 0


def add_commands(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("pull", help="fetch a model: the default one, a short name (llama3.2:1b) or a GGUF file "
                                    "from a Hugging Face Hub repository (OWNER/REPO[:QUANT])")
    p.add_argument("model", nargs="?", metavar="MODEL",
                   help=f"short name ({', '.join(KNOWN_MODELS)}) or OWNER/REPO[:QUANT] (default: the default model)")
    p.add_argument("--file", help="the GGUF file name in the repository (the first part of a split file)")
    p.add_argument("--revision", help="branch, tag or commit (default: main)")
    p.add_argument("--force", action="store_true", help="fetch it again even if it is cached")
    p.set_defaults(func=_cmd_pull)
    p = sub.add_parser("list", help="local models: name, file, size, quant mix, where")
    p.add_argument("--known", action="store_true", help="the short names and what they fetch instead")
    p.set_defaults(func=_cmd_list)
    p = sub.add_parser("rm", help="remove a local model (a NAME `list` shows)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask (needed when not on a terminal)")
    p.set_defaults(func=_cmd_rm)


def separate_model_and_prompt(first: Optional[str], second: Optional[str]):
    """`run [MODEL] [PROMPT]`: a lone argument is the prompt (as before MODEL existed) unless it is a
    short name or an existing .gguf file."""
    if first is not None and second is None:
        looks_like_model = first.lower() in KNOWN_MODELS or (first.lower().endswith(".gguf") and os.path.isfile(first))
        if not looks_like_model:
            return None, first
    return first, second
