"""The committed fuzzing seeds (tests/fuzz/corpus/) are what tools/make_fuzz_seeds.py writes today,
they stay small, and the C++ harnesses' inputs load: the vocabularies are valid tokenizers."""
from __future__ import annotations

import tempfile
from pathlib import Path

import pyllama_edge as ple
from pyllama_edge import _core
import pytest

from tools.make_fuzz_seeds import OUT, build, generator_versions


def test_seeds_are_current_and_small() -> None:
    if (OUT / "VERSIONS").read_text() != generator_versions():
        pytest.skip(f"seeds written with {(OUT / 'VERSIONS').read_text().strip()}, not {generator_versions().strip()}")
    with tempfile.TemporaryDirectory() as tmp:
        files = build(Path(tmp))
    stale = [n for n, b in files.items() if not (OUT / n).exists() or (OUT / n).read_bytes() != b]
    assert not stale, f"run python -m tools.make_fuzz_seeds: {stale}"
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    assert total < 1 << 20


def test_seed_models_and_vocabularies_load() -> None:
    for p in sorted((OUT / "gguf").glob("*.gguf")):
        m = ple.Model(p, n_ctx=16, n_threads=1)
        assert isinstance(m.generate("Hello", max_tokens=2, temperature=0.0), str)
    for p in sorted((OUT / "vocab").glob("*.gguf")):
        tok = _core.Tokenizer(_core.GGUFReader(str(p)))
        text = "Hello, world! Café 東京"
        assert tok.decode(tok.encode(text, False, False), False) == text
