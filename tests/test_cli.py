"""The pyllama-edge command line: info on the real file, run/chat on the real model."""
import subprocess
import sys

import pytest

from conftest import PACKAGE_PARENT

from pyllama_edge.cli import describe, main


def run_cli(*args, stdin=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "pyllama_edge", *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout, cwd=PACKAGE_PARENT)


def test_info_describes_smollm2(smollm2_path):
    r = run_cli("info", str(smollm2_path))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "architecture:  llama" in out
    assert "parameters:    134.52M" in out or "parameters:    13" in out
    assert "Q4_1 x210" in out and "Q8_0 x1" in out and "F32 x61" in out
    assert "block_count" in out and "30" in out
    assert "tokenizer:     gpt2 (pre: smollm), 49152 tokens" in out
    assert "eos=2 '<|im_end|>'" in out
    assert "chat template: {% for message in messages %}" in out
    assert "KV cache" in out


def test_info_memory_scales_with_ctx(smollm2_path):
    small = [l for l in describe(str(smollm2_path), 512) if l.startswith("memory")][0]
    large = [l for l in describe(str(smollm2_path), 8192) if l.startswith("memory")][0]
    # 30 layers x 2 (K,V) x 192 dims x 2 bytes = 22.5 KiB per token
    assert "KV cache 11.2 MiB" in small and "KV cache 180.0 MiB" in large


def test_info_bad_file_is_a_clean_error(tmp_path, capsys):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file at all")
    assert main(["info", str(bad)]) == 1
    assert "magic" in capsys.readouterr().err
    assert main(["info", str(tmp_path / "missing.gguf")]) == 1


def test_run_greedy_on_smollm2(smollm2_path):
    r = run_cli("run", "The capital of France is", "--model", str(smollm2_path), "-n", "12", "--temp", "0")
    assert r.returncode == 0, r.stderr
    assert "Paris" in r.stdout


def test_chat_two_turns_from_stdin(smollm2_path):
    r = run_cli("chat", "--model", str(smollm2_path), "-n", "24", "--temp", "0",
                stdin="Hi! What is your name?\nWhat is the capital of France?\n")
    assert r.returncode == 0, r.stderr
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    assert len(lines) >= 2
    assert "Paris" in lines[-1]
