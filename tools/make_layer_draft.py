"""A draft model for speculative decoding cut from a Llama GGUF file: its first N blocks with the
file's embeddings, output norm, output head and tokenizer (layer-skip self-speculation: same
vocabulary, no training, the target's own early layers guessing its next tokens).

    python tools/make_layer_draft.py MODEL.gguf DRAFT.gguf --layers 8

Tensors are copied byte for byte; only `llama.block_count` changes. Deterministic.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import List, Optional

import pyllama_edge as ple
from pyllama_edge.gguf_writer import StreamingGGUFWriter, kv_uint32, replace_keys
from pyllama_edge.quantizer import _TYPE_ID


def make_layer_draft(src_path: str | Path, out_path: str | Path, n_layers: int) -> Path:
    src = ple.GGUFFile(src_path)
    try:
        total = int(src.metadata["llama.block_count"])
        if not 1 <= n_layers < total:
            raise ValueError(f"--layers must be 1 to {total - 1} (the model has {total} blocks), got {n_layers}")
        kept = [t for t in src.tensors.values()
                if not (m := re.match(r"blk\.(\d+)\.", t.name)) or int(m.group(1)) < n_layers]
        kv = replace_keys(src.metadata_pairs(), {"llama.block_count": kv_uint32("llama.block_count", n_layers)})
        table = [(t.name, tuple(reversed(t.shape)), _TYPE_ID[t.type], t.nbytes) for t in kept]
        with StreamingGGUFWriter(str(out_path), kv, table, src.alignment) as w:
            for t in kept:
                w.write(src.raw(t.name))
                w.end_tensor()
    finally:
        src.close()
    return Path(out_path)


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model")
    p.add_argument("output")
    p.add_argument("--layers", type=int, required=True, help="blocks to keep, from the first")
    a = p.parse_args(argv)
    print(make_layer_draft(a.model, a.output, a.layers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
