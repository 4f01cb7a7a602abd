"""The README's Python example runs as written on a fresh machine: here, one whose model cache
already holds the default model (as after its first download), in an empty working folder."""
from __future__ import annotations

import os
import re
import subprocess
import sys

from support.test_data import PACKAGE_PARENT, ROOT


def readme_python_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Python\n"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_python_example_runs_as_written(smollm2_path, tmp_path):
    from pyllama_edge import hub

    cache = tmp_path / "cache"
    (cache / "models").mkdir(parents=True)
    (cache / "models" / hub.DEFAULT_MODEL_FILE).symlink_to(smollm2_path)
    work = tmp_path / "work"
    work.mkdir()
    script = work / "example.py"
    script.write_text(readme_python_example())
    env = {**os.environ, "PYLLAMA_EDGE_CACHE": str(cache), "PYTHONPATH": str(PACKAGE_PARENT)}
    r = subprocess.run([sys.executable, str(script)], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "Paris" in r.stdout
    assert (work / "chat.ples").exists()
