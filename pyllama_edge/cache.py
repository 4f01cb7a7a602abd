"""What the package keeps in its cache directory (hub.cache_dir()): downloaded models under
models/, interleaved-weight layout files under layouts/ (one per model file and kernel path,
io/layout_cache.h), and temporary files of writes in progress or interrupted."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

from . import _core, hub

# A temporary file younger than this may belong to a write in progress in another process.
_TEMPORARY_GRACE_SECONDS = 3600


@dataclass
class CacheEntry:
    kind: str  # "model", "layout" or "temporary"
    path: Path
    size: int
    model: Optional[str] = None  # for a layout: the model file it was made from
    stale: bool = False  # removed by clean(): a layout whose model is gone or changed, or was damaged
    reason: str = ""


def entries() -> List[CacheEntry]:
    root = hub.cache_dir()
    found: List[CacheEntry] = []
    now = time.time()
    for folder in (root / "models", root / "layouts"):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            try:
                st = path.lstat()
            except FileNotFoundError:
                continue  # removed meanwhile
            if not path.is_file() or path.is_symlink():
                continue
            if path.name.startswith(".") and path.name.endswith(".tmp"):
                old = now - st.st_mtime > _TEMPORARY_GRACE_SECONDS
                found.append(CacheEntry("temporary", path, st.st_size, stale=old,
                                        reason="left by an interrupted write" if old else "a write in progress"))
            elif folder.name == "models" and path.suffix == ".gguf":
                found.append(CacheEntry("model", path, st.st_size))
            elif folder.name == "layouts" and path.suffix == ".layout":
                info = _core.layout_cache_info(str(path))
                if info is None:
                    found.append(CacheEntry("layout", path, st.st_size, stale=True,
                                            reason="damaged or from an older version"))
                else:
                    present = info["model_present"]
                    gone = not os.path.exists(info["model_path"])
                    found.append(CacheEntry("layout", path, st.st_size, model=info["model_path"], stale=not present,
                                            reason="" if present else
                                            ("its model was deleted" if gone else "its model file changed")))
    return found


def clean() -> List[CacheEntry]:
    """Removes the stale entries (see CacheEntry.stale); returns what was removed."""
    removed = []
    for entry in entries():
        if entry.stale:
            try:
                entry.path.unlink()
            except FileNotFoundError:
                continue
            removed.append(entry)
    return removed


__all__ = ["CacheEntry", "entries", "clean"]
