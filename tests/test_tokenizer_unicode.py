"""The committed Unicode tables are what tools/gen_unicode_tables.py generates, and the
pre-tokenizer's character classes agree with the regex engine of HF `tokenizers` on them."""
from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from tokenizers import Regex, pre_tokenizers

ROOT = Path(__file__).resolve().parent.parent


def test_unicode_tables_are_current(tmp_path):
    committed_text = (ROOT / "csrc" / "tokenizer" / "unicode_tables.inc").read_text(encoding="utf-8")
    version = re.search(r'PLE_UNICODE_VERSION "([0-9.]+)"', committed_text).group(1)
    if version != unicodedata.unidata_version:
        pytest.skip(f"tables are from Unicode {version}, this Python has {unicodedata.unidata_version}")
    out = tmp_path / "unicode_tables.inc"
    subprocess.run([sys.executable, str(ROOT / "tools" / "gen_unicode_tables.py"), str(out)], check=True)
    committed = (ROOT / "csrc" / "tokenizer" / "unicode_tables.inc").read_bytes()
    assert out.read_bytes() == committed, "csrc/tokenizer/unicode_tables.inc is stale: run tools/gen_unicode_tables.py"


def test_whitespace_class_is_onigurumas():
    """\\s in HF's regex engine: U+0009-000D, U+0085, Zs, Zl, Zp; not U+001C-001F (Python's isspace)."""
    from tools.gen_unicode_tables import SPACE, char_class  # `tools` is registered by tests/support
    split = pre_tokenizers.Split(Regex(r"\s+"), "isolated")
    for cp in [0x09, 0x0B, 0x1C, 0x1F, 0x20, 0x85, 0xA0, 0x1680, 0x180E, 0x200B, 0x2028, 0x202F, 0x3000, 0xFEFF]:
        text = f"a{chr(cp)}b"
        is_space = len(split.pre_tokenize_str(text)) == 3
        assert is_space == (char_class(cp) == SPACE), hex(cp)
