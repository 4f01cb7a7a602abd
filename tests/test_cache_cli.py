"""`pyllama-edge cache list/clean`: what the cache holds, and removing layouts of deleted or changed
models, damaged layouts and files of interrupted writes, never a layout still in use."""
import os
import time
from pathlib import Path

import pytest

import pyllama_edge as ple
from pyllama_edge.cli import main
from support.model_files import synthetic
from test_interleave import INTERLEAVED_NAMES


@pytest.mark.skipif(not any("q4_0x8" in name for name in INTERLEAVED_NAMES), reason="no interleaved layouts here")
def test_cache_list_and_clean(tmp_path, monkeypatch, capsys):
    cache = tmp_path / "cache"
    monkeypatch.setenv("PYLLAMA_EDGE_CACHE", str(cache))
    models = tmp_path / "models"
    models.mkdir()
    kept = synthetic(models, "kept", weight_type="Q4_0", n_layer=1, n_embd=256, n_head=4, n_head_kv=2, n_ff=512)
    deleted = synthetic(models, "deleted", weight_type="Q4_0", n_layer=1, n_embd=256, n_head=4, n_head_kv=2, n_ff=512)
    changed = synthetic(models, "changed", weight_type="Q4_0", n_layer=1, n_embd=256, n_head=4, n_head_kv=2, n_ff=512)
    layouts = {p: Path(ple.Model(p, n_ctx=32)._native.layout_cache_path) for p in (kept, deleted, changed)}
    assert all(path.parent == cache / "layouts" and path.exists() for path in layouts.values())
    damaged = cache / "layouts" / "damaged-00000000-avx2-0000000000000000.layout"
    damaged.write_bytes(b"PLELAYT\0" + b"\xff" * 100)
    interrupted = cache / "layouts" / ".kept.gguf.0123456789abcdef.tmp"
    interrupted.write_bytes(b"x" * 10)
    old = time.time() - 2 * 3600
    os.utime(interrupted, (old, old))
    in_progress = cache / "layouts" / ".other.layout.fedcba9876543210.tmp"
    in_progress.write_bytes(b"y")
    deleted.unlink()
    os.utime(changed, ns=(changed.stat().st_atime_ns, changed.stat().st_mtime_ns + 10**9))

    assert main(["cache", "list"]) == 0
    out = capsys.readouterr().out
    assert f"for {kept}" in out and "stale: its model was deleted" in out and "stale: its model file changed" in out
    assert "stale: damaged or from an older version" in out and "stale: left by an interrupted write" in out
    assert "a write in progress" in out and "4 stale" in out

    assert main(["cache", "clean"]) == 0
    out = capsys.readouterr().out
    assert "in 4 file(s)" in out
    assert layouts[kept].exists() and in_progress.exists()
    assert not layouts[deleted].exists() and not layouts[changed].exists()
    assert not damaged.exists() and not interrupted.exists()
    # The kept model still maps its layout as it was (not rebuilt).
    written = layouts[kept].stat().st_mtime_ns
    assert ple.Model(kept, n_ctx=32)._native.layout_cache_path == str(layouts[kept])
    assert layouts[kept].stat().st_mtime_ns == written
