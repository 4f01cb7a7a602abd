"""A deterministic corpus of strings that exercise tokenizers: whitespace runs, newlines, digit
runs, contractions, accents and combining marks, many scripts, emoji (ZWJ sequences, flags,
skin tones), code, URLs, special-token text, and random Unicode.

Random code points are drawn only from characters assigned in Python's Unicode database whose
class (letter, number, whitespace, other) there is the one the committed tables in
csrc/tokenizer/unicode_tables.inc give them: characters newer than the tables are left out (HF
`tokenizers` may know them; see the Unicode-version note in tools/gen_unicode_tables.py).
"""
from __future__ import annotations

import bisect
import random
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import List, Tuple

ROOT = Path(__file__).resolve().parents[2]

WORDS = [
    "the", "The", "THE", "hello", "Hello", "world", "tokenizer", "internationalization", "a", "I",
    "café", "naïve", "résumé", "Straße", "Ærøskøbing", "façade", "jalapeño", "coöperate",
    "e\u0301te\u0301", "n\u0303", "a\u030a\u0301", "Z\u0351\u0352\u0353a\u0354\u0355lgo",  # combining marks
    "日本語", "東京タワー", "中文分词", "한국어", "こんにちは", "カタカナ", "漢字かな交じり文",
    "العربية", "مرحبا بالعالم", "שלום", "עברית", "русский", "Привет", "Ελληνικά", "λόγος",
    "हिन्दी", "नमस्ते", "ไทย", "ภาษาไทย", "ქართული", "Հայերեն", "አማርኛ", "தமிழ்", "ᠮᠣᠩᠭᠣᠯ",
    "İstanbul", "ǅemal", "ﬁnance", "ſtraße", "Ⅻ", "ⅻ", "µ", "Ω", "K", "Å",
]
EMOJI = [
    "😀", "🙂", "👍", "👍🏽", "👩‍💻", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇯🇵", "1️⃣", "❤️", "✨",
    "🧑🏿‍🚀", "🤷‍♀️", "😶‍🌫️", "🫠", "⌚", "©", "™", "🐍", "🦀",
]
PUNCT = [
    ".", ",", "!", "?", "...", "…", "—", "–", "-", "(", ")", "[", "]", "{", "}", "'", '"', "“", "”",
    "‘", "’", "«", "»", ":", ";", "/", "\\", "|", "@", "#", "$", "%", "^", "&", "*", "_", "+", "=",
    "<", ">", "~", "`", "¿", "¡", "§", "°", "€", "£", "¥", "₹", "→", "∑", "√", "∞", "≠", "½", "²",
]
SPACES = [" ", " ", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n", "\n ", "\u00a0", "\u3000",
          "\u2009", " \t ", "\r", "\u2028", "\x0b", "\x0c", "\x85"]
CONTRACTIONS = ["'s", "'S", "'t", "'T", "'re", "'RE", "'ve", "'VE", "'m", "'M", "'ll", "'LL", "'Ll",
                "'d", "'D", "’s", "'ſ", "'x", "'"]
SPECIAL_TEXT = ["<|eot_id|>", "<|im_start|>", "<|im_end|>", "<|begin_of_text|>", "<|end_of_text|>",
                "<|endoftext|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<s>", "</s>",
                "<unk>", "<|reserved_special_token_5|>", "<file_sep>", "<|", "|>", "<|eot_id", "<tool>"]
CODE = [
    "def f(x):\n    return x**2\n", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
    "if x != None and y >= 10:\n        print(f\"{x!r}\")", "const re = /^[a-z]+$/gi;",
    "SELECT * FROM users WHERE id = 42;", "#include <vector>\nint main() { return 0; }",
    "    indented\n        more\n\n\n", "x=1;y=2;z=x+y", "{\"key\": [1, 2.5, -3e10, null]}",
    "std::vector<std::string> v{\"a\", \"b\"};", "$ ls -la ~/.config | grep '^d'",
    "<div class=\"x\">&nbsp;</div>", "a_b_c = __init__(self)", "0x1F600 0b1010 1e-9 3.14159",
]
URLS = ["https://example.com/path?q=1&r=two#frag", "http://localhost:8080/", "mailto:someone@example.org",
        "ftp://ftp.example.net/pub/file-1.2.3.tar.gz", "www.wikipedia.org/wiki/Unicode_(computing)",
        "user@mail.example.co.uk", "C:\\Users\\Name\\file.txt", "/usr/local/lib/python3.11/site-packages"]

HANDWRITTEN = [
    "", " ", "  ", "   ", "\n", "\n\n", "\r\n", "\r\n\r\n", "\t", "\t\t", " \n", "\n ", " \n ", "\n \n",
    "a", "ab", " a", "a ", " a ", "  a  ", "a  b", "a   b", "a\tb", "a\nb", "a\r\nb", "a \nb", "a\n b",
    "a  \n  b", "a\n\n\nb", "Hello world", "Hello  world", " Hello world ", "Hello\nworld\n",
    "I'm", "I'M", "don't", "DON'T", "we'll", "We'LL", "they're", "you've", "he'd", "it's", "IT'S",
    "'s", "'", "''", "'''s", "x'sy", "rock 'n' roll", "l'homme", "'tis", "it'ſ", "ǅ's",
    "1", "12", "123", "1234", "12345", "123456", "1234567", "12345678901234567890", "3.14", "1,000,000",
    "-42", "+7", "1st 2nd 3rd", "a1b2c3", "٣٤٥", "१२३", "²³", "½¼", "ⅫⅫ", "１２３",
    "😀", "😀😀", " 😀", "👨‍👩‍👧‍👦", "🏳️‍🌈🇫🇷", "🇺🇸🇬🇧", "👍🏽👍🏿", "a😀b", "1️⃣2️⃣",
    "日本語", "日本語のテキスト", "中文，标点。", "한국어 텍스트", "مرحبا", "שלום עולם",
    "e\u0301", "\u0301", "\u0301\u0301a", "a\u0301\u0302\u0303", "ö vs o\u0308",
    "<|eot_id|>", "<|eot_id|><|eot_id|>", "x<|eot_id|>y", " <|eot_id|> ", "<|im_start|>user\nhi<|im_end|>\n",
    "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nHi<|eot_id|>", "<|eot_id",
    "<|im_start|>", "<<|im_start|>>", "<s>hello</s>", "<unk>", "text <s> more",
    "\u00a0", "\u3000", "a\u00a0b", "a\u3000\u3000b", "\u2028", "a\u2029b", "\x85", "\x0b\x0c",
    "\u200b", "a\u200bb", "\ufeff", "\u200d", "\u200c", "\x00", "a\x00b", "\x1f\x1c", "\x7f",
    "\ufffd", "\U0001f600\ufffd", "\ue000", "\U000f0000", "ﬁ", "ﬀ", "Ⅸ", "µ", "ǈ",
    "....", "!!!", "???", "—", "...\n", "(a)", "[1]", "{x}", "\"quoted\"", "“curly”", "a-b", "a_b",
    "    ", "\t\n\t\n", " \r\n \r\n", "\n\r", "\r", "\r\r\n", "x\r", "\n\n\n\n\n\n\n\n",
    "                                                    ", "a" * 300, "ab" * 200, "1" * 100,
    "😀" * 50, "日" * 80, " " * 17 + "x", "x" + "\n" * 17, "hello " * 40,
]


@lru_cache(maxsize=None)
def _committed_ranges() -> Tuple[List[int], List[Tuple[int, int, int]]]:
    text = (ROOT / "csrc" / "tokenizer" / "unicode_tables.inc").read_text(encoding="utf-8")
    ranges = [(int(a, 16), int(b, 16), int(c)) for a, b, c in re.findall(r"\{0x([0-9A-F]+), 0x([0-9A-F]+), (\d)\}", text)]
    return [r[0] for r in ranges], ranges


def _committed_class(cp: int) -> int:
    firsts, ranges = _committed_ranges()
    k = bisect.bisect_right(firsts, cp) - 1
    return ranges[k][2] if k >= 0 and cp <= ranges[k][1] else 0


def _same_class_as_tables(cp: int) -> bool:
    from tools.gen_unicode_tables import char_class
    return char_class(cp) == _committed_class(cp)


def _random_code_point(rng: random.Random) -> str:
    while True:
        r = rng.random()
        if r < 0.35:
            cp = rng.randrange(0x20, 0x250)
        elif r < 0.75:
            cp = rng.randrange(0x250, 0x10000)
        elif r < 0.9:
            cp = rng.randrange(0x1F000, 0x1FB00)
        else:
            cp = rng.randrange(0x10000, 0x30000)
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if unicodedata.category(chr(cp)) in ("Cn", "Cs", "Co") or not _same_class_as_tables(cp):
            continue
        return chr(cp)


def _digits(rng: random.Random) -> str:
    return "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 25)))


def _fragment(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.35:
        return rng.choice(WORDS)
    if kind < 0.45:
        return _digits(rng)
    if kind < 0.55:
        return rng.choice(PUNCT)
    if kind < 0.62:
        return rng.choice(EMOJI)
    if kind < 0.68:
        return rng.choice(CONTRACTIONS)
    if kind < 0.73:
        return rng.choice(SPECIAL_TEXT)
    if kind < 0.78:
        return rng.choice(CODE)
    if kind < 0.82:
        return rng.choice(URLS)
    if kind < 0.88:
        return _random_code_point(rng)
    return rng.choice(SPACES)


def _composed(rng: random.Random) -> str:
    parts: List[str] = []
    if rng.random() < 0.3:
        parts.append(rng.choice(SPACES))
    for _ in range(rng.randint(1, 12)):
        parts.append(_fragment(rng))
        if rng.random() < 0.6:
            parts.append(rng.choice(SPACES) if rng.random() < 0.3 else " ")
    if rng.random() < 0.2:
        parts.append(rng.choice(SPACES))
    return "".join(parts)


def _random_unicode(rng: random.Random) -> str:
    return "".join(_random_code_point(rng) for _ in range(rng.randint(1, 30)))


def corpus(n: int = 2400, seed: int = 20240611) -> List[str]:
    """The handwritten edge cases, then composed and random strings up to n in total."""
    rng = random.Random(seed)
    out = list(HANDWRITTEN)
    while len(out) < n:
        out.append(_random_unicode(rng) if rng.random() < 0.15 else _composed(rng))
    return out


def training_text(n_lines: int = 4000, seed: int = 7) -> List[str]:
    """Sentences for training a small SentencePiece model (words, numbers, punctuation)."""
    rng = random.Random(seed)
    pool = WORDS + [w.lower() for w in WORDS] + ["and", "of", "to", "in", "is", "that", "for", "it",
                                                    "with", "as", "was", "on", "are", "token", "model"]
    lines = []
    for _ in range(n_lines):
        words = []
        for _ in range(rng.randint(3, 14)):
            r = rng.random()
            if r < 0.8:
                words.append(rng.choice(pool))
            elif r < 0.9:
                words.append(_digits(rng)[:4])
            else:
                words.append(rng.choice(PUNCT))
        lines.append(" ".join(words))
    return lines
