"""The llama.cpp quantizer fixture (tests/data/quant_mix_llamacpp.json): its input models and how
both the recorder (bench/quant_error.py --record) and the test (tests/test_quantize_mix.py) measure.

Each model is a deterministic F16 file from tools/make_synthetic_llama.py. ``rmse`` models are small
enough to quantize in the test; the others only have their tensor types checked (from the recorded
shapes and hyper-parameters, without building the file).
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Dict, List

import gguf
import numpy as np

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "data" / "quant_mix_llamacpp.json"

# n_embd 192 and head counts 3/1 stand for SmolLM2 (576, 9/3: rows not a multiple of 256, gqa 3);
# 256 and 4/1 for Llama 3.2 (2048, 32/8: gqa 4); 8 layers make use_more_bits pick layers 0, 3, 6, 7
# and Q4_K_S's "first 4 layers" differ from its "first eighth"; 80 layers with gqa > 1 are what
# llama.cpp takes for Llama 70B.
MODELS: List[dict] = [
    dict(name="llama3.2-like-tied", rmse=True,
         synthetic=dict(n_layer=8, n_embd=256, n_head=4, n_head_kv=1, n_ff=256, tied=True)),
    dict(name="smollm2-like-tied", rmse=True,
         synthetic=dict(n_layer=8, n_embd=192, n_head=3, n_head_kv=1, n_ff=512, tied=True)),
    dict(name="llama3.1-like-untied", rmse=True,
         synthetic=dict(n_layer=2, n_embd=256, n_head=4, n_head_kv=2, n_ff=512, tied=False)),
    dict(name="llama-70b-shaped", rmse=False,
         synthetic=dict(n_layer=80, n_embd=256, n_head=4, n_head_kv=1, n_ff=256, tied=False)),
]


def make_source(path: Path, synthetic: dict) -> Path:
    from tools.make_synthetic_llama import make_synthetic_llama

    return make_synthetic_llama(path, weight_type="F16", **synthetic)


def tensors(path) -> Dict[str, "gguf.ReaderTensor"]:
    return {t.name: t for t in gguf.GGUFReader(str(path)).tensors}


def source_digest(path) -> str:
    """sha256 over every tensor's name, type and data bytes, in file order: the test's check that it
    rebuilt the very input llama.cpp quantized (metadata, e.g. a newer gguf writer's, may differ)."""
    h = hashlib.sha256()
    for t in gguf.GGUFReader(str(path)).tensors:
        h.update(f"{t.name}:{t.tensor_type.name}:".encode())
        h.update(np.ascontiguousarray(t.data).tobytes())
    return h.hexdigest()


def shapes(path) -> Dict[str, List[int]]:
    """GGUF shapes, ne0 (the row length) first."""
    return {t.name: [int(d) for d in t.shape] for t in gguf.GGUFReader(str(path)).tensors}


def _dequant(t) -> np.ndarray:
    return np.asarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float64).reshape(-1)


def source_values(path) -> Dict[str, np.ndarray]:
    """Every matrix of the (F16) source file as float64, flat."""
    return {name: _dequant(t) for name, t in tensors(path).items() if len(t.shape) >= 2}


def tensor_rmse(source: Dict[str, np.ndarray], quantized_path) -> Dict[str, float]:
    """{name: RMS(dequantized - source)} for every matrix of a quantized file, read with
    gguf.quants.dequantize and compared in float64. ``source``: source_values(F16 source file)."""
    out = {}
    for name, t in tensors(quantized_path).items():
        if name in source:
            e = _dequant(t) - source[name]
            out[name] = float(np.sqrt(np.mean(e * e)))
    return out


def types(path) -> Dict[str, str]:
    return {name: t.tensor_type.name for name, t in tensors(path).items()}
