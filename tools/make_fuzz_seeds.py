"""Writes the committed fuzzing seeds under tests/fuzz/corpus/ (deterministic; < 1 MB in all).

    python -m tools.make_fuzz_seeds            # rewrite
    python -m tools.make_fuzz_seeds --check    # exit 1 when the committed files are stale

vocab/bpe_smollm.gguf  a SmolLM2-like byte-level BPE vocabulary (pre "smollm", ChatML specials)
vocab/spm.gguf         a SentencePiece BPE vocabulary with byte fallback (trained here)
gguf/*.gguf            tiny synthetic Llama files (1 layer, width 32) in several tensor types
tokenizer/*            text seeds for the tokenizer harness
chat_template/*        templates for the chat-template harness (tests/fuzz/chat_template_fuzz.py):
                       our built-in ones, a tool-calling one in the style of Llama 3.1's, hostile ones
"""
from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path
from typing import Dict

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fuzz" / "corpus"

TEXTS = {
    "ascii.txt": "Hello, world! The capital of France is Paris.",
    "numbers.txt": "In 2024, 3.14159 and 1,000,000 were   numbers.\n\n\tTabs too.",
    "unicode.txt": "Café naïve — 東京 🙂 Привет мир ﷽ é",
    "specials.txt": "<|im_start|>user\nhi<|im_end|>\n<s></s><unk><|begin_of_text|>",
    "contractions.txt": "I'm you're he'll they've don't IT'S",
}


# Each seed: template text, NUL, parameter bytes (messages and flags; see chat_template_fuzz.py).
TOOLS_TEMPLATE = (
    "{{- bos_token }}{%- set ns = namespace(system='', n=0) %}"
    "{%- if messages[0]['role'] == 'system' %}{%- set ns.system = messages[0]['content']|trim %}{%- endif %}"
    "{{- '<|start_header_id|>system<|end_header_id|>\n\n' }}{{- 'Today Date: ' + strftime_now('%d %b %Y') + '\n\n' }}"
    "{%- if tools is not none %}{%- for t in tools %}{{- t|tojson(indent=4) }}{{- '\n\n' }}{%- endfor %}{%- endif %}"
    "{{- ns.system + '<|eot_id|>' }}"
    "{%- for message in messages %}{%- if message['role'] not in ['system', 'user', 'assistant', 'tool', 'ipython'] %}"
    "{{- raise_exception('unknown role ' + message['role']) }}{%- endif %}{%- set ns.n = ns.n + 1 %}"
    "{%- if message['role'] != 'system' %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' }}"
    "{{- message['content'] | trim + '<|eot_id|>' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{%- endif %}"
)
HOSTILE_TEMPLATES = {
    "walk_globals.jinja": "{{ cycler.__init__.__globals__.os.environ }}",
    "walk_subclasses.jinja": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "import.jinja": "{% import 'os' as os %}{{ os.environ }}",
    "include_file.jinja": "{% include '/etc/passwd' %}",
    "repeat.jinja": "{{ 'x' * 10**9 }}",
    "power.jinja": "{{ 2 ** 10**6 }}",
    "center.jinja": "{{ messages[0]['content'] | center(10**9) }}",
    "loop.jinja": "{% for i in range(10**9) %}{% endfor %}",
    "nested_loops.jinja": "{% for m in messages %}{% for i in range(10**6) %}{{ m['content'] }}{% endfor %}{% endfor %}",
    "format.jinja": "{{ '{:>999999999}'.format(1) }}",
    "mutate.jinja": "{{ messages.append(messages) }}{{ messages.pop() }}",
    "macro_recursion.jinja": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "unclosed.jinja": "{% for message in messages %}{{ message['content']",
}


def chat_template_seeds() -> Dict[str, bytes]:
    from pyllama_edge.chat_template import CHATML_TEMPLATE, LLAMA3_TEMPLATE
    params = bytes([3, 1, 17, 2, 40, 0, 9, 1, 1, 1]) + "Hello! Café 東京 <|eot_id|> {{ x }}".encode("utf-8")
    seeds = {"llama3.jinja": LLAMA3_TEMPLATE, "chatml.jinja": CHATML_TEMPLATE, "tools.jinja": TOOLS_TEMPLATE,
             **HOSTILE_TEMPLATES}
    return {f"chat_template/{name}": text.encode("utf-8") + b"\0" + params for name, text in seeds.items()}


def _spm_proto() -> bytes:
    import sentencepiece as spm
    text = [ln for ln in (TEXTS["ascii.txt"] + "\n" + TEXTS["numbers.txt"] + "\n" + TEXTS["unicode.txt"]).split("\n") if ln]
    text = text * 20 + ["the quick brown fox jumps over the lazy dog " * 3] * 20
    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(text), model_writer=out, model_type="bpe", vocab_size=420, byte_fallback=True,
        normalization_rule_name="identity", remove_extra_whitespaces=False, num_threads=1, minloglevel=2,
        hard_vocab_limit=False)
    return out.getvalue()


def build(directory: Path) -> Dict[str, bytes]:
    if str(ROOT / "tests") not in sys.path:  # run as a script (pytest has tests/ on its path already)
        sys.path.insert(0, str(ROOT / "tests"))
    from support.tokenizer_util import sentencepiece_pieces, write_vocab  # noqa: E402
    from tools.gguf_vocab import add_bpe_vocab  # noqa: F401,E402
    from tools.make_synthetic_llama import make_synthetic_llama, small_vocab  # noqa: E402

    files: Dict[str, bytes] = {}
    v = small_vocab(120)
    chatml = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tokens = [t for t in v.tokens if not t.startswith("<|")] + chatml
    types = [1] * (len(tokens) - 3) + [3, 3, 3]
    p = write_vocab(directory / "bpe.gguf", "gpt2", tokens, types, merges=v.merges, pre="smollm",
                    ids={"bos": len(tokens) - 2, "eos": len(tokens) - 1}, flags={"add_bos_token": False})
    files["vocab/bpe_smollm.gguf"] = p.read_bytes()
    pieces, scores, ptypes = sentencepiece_pieces(_spm_proto())
    p = write_vocab(directory / "spm.gguf", "llama", pieces, ptypes, scores, ids={"bos": 1, "eos": 2, "unknown": 0})
    files["vocab/spm.gguf"] = p.read_bytes()
    # Width 32 keeps the files small; K-quant rows need 256 columns, so those files carry only
    # ffn_down (n_ff = 256 columns) in the K type.
    for ty in ("F32", "F16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"):
        kq = ty.endswith("_K")
        p = make_synthetic_llama(directory / f"{ty}.gguf", n_layer=1, n_embd=32, n_head=2, n_head_kv=1,
                                 n_ff=256 if kq else 64, n_ctx_train=64, weight_type="Q8_0" if kq else ty,
                                 tensor_types={"ffn_down": ty} if kq else None, tied=ty != "F32",
                                 rope_freqs=False, seed=1)
        files[f"gguf/tiny_{ty}.gguf"] = p.read_bytes()
    for name, text in TEXTS.items():
        files[f"tokenizer/{name}"] = text.encode("utf-8")
    files["tokenizer/invalid_utf8.bin"] = b"ab\xff\xfe\xc3(\xe2\x82 \xf0\x9f\x99"
    files.update(chat_template_seeds())
    return files


def generator_versions() -> str:
    """The libraries whose output the seeds depend on; the staleness test only compares bytes when
    they match the versions that wrote the committed files (tests/fuzz/corpus/VERSIONS)."""
    from importlib.metadata import version
    return " ".join(f"{n}=={version(n)}" for n in ("gguf", "sentencepiece", "numpy")) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = build(Path(tmp))
    stale = [n for n, b in files.items() if not (OUT / n).exists() or (OUT / n).read_bytes() != b]
    if args.check:
        for n in stale:
            print(f"stale: {n}")
        return 1 if stale else 0
    for n, b in files.items():
        (OUT / n).parent.mkdir(parents=True, exist_ok=True)
        (OUT / n).write_bytes(b)
    (OUT / "VERSIONS").write_text(generator_versions())
    print(f"{len(files)} files, {sum(map(len, files.values()))} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
