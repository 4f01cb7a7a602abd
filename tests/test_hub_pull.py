"""`pyllama-edge pull / list / rm`, names in --model and Model.from_pretrained, against a local
server shaped like the Hugging Face Hub (tests/support/hub_server.py): the real huggingface_hub client
runs with only HF_ENDPOINT pointed at 127.0.0.1."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import gguf
import numpy as np
import pytest

from support.hub_server import HubServer
from support.model_files import synthetic
from support.test_data import PACKAGE_PARENT

from pyllama_edge import model_checks
from pyllama_edge.model_names import HubReference, parse_model_argument, quant_tag, split_part_names

TINY = "test-org/Tiny-GGUF"


def small_gguf(path: Path, arch: str, **hparams: int) -> Path:
    """A GGUF file with one tensor and the given hyper-parameters: enough for the checks that run
    before loading, nothing to run."""
    w = gguf.GGUFWriter(str(path), arch)
    for key, value in hparams.items():
        w.add_uint32(f"{arch}.{key}", value)
    w.add_tensor("token_embd.weight", np.zeros((4, 32), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture(scope="session")
def hub_files(synthetic_dir) -> dict:
    q8 = synthetic(synthetic_dir, "hub_q8", weight_type="Q8_0", n_ctx_train=4096).read_bytes()
    q4 = synthetic(synthetic_dir, "hub_q4", weight_type="Q4_0", n_ctx_train=4096).read_bytes()
    half = len(q4) // 2
    return {
        "q8": q8, "q4": q4, "split": (q4[:half], q4[half:]),
        "qwen2": small_gguf(synthetic_dir / "hub_qwen2.gguf", "qwen2", context_length=4096).read_bytes(),
        # Claims 100,000 layers: a KV cache of hundreds of GiB at the default context.
        "huge": small_gguf(synthetic_dir / "hub_huge.gguf", "llama", block_count=100_000, context_length=4096,
                           embedding_length=4096, **{"attention.head_count": 32,
                                                     "attention.head_count_kv": 8}).read_bytes(),
    }


def host(server: HubServer, hub_files: dict) -> HubServer:
    first, second = hub_files["split"]
    server.add(TINY, {"README.md": b"# tiny test models\n", "Tiny-Q8_0.gguf": hub_files["q8"],
                      "Tiny-Q4_0.gguf": hub_files["q4"], "Tiny-Q2_K-00001-of-00002.gguf": first,
                      "Tiny-Q2_K-00002-of-00002.gguf": second})
    server.add("test-org/Twins-GGUF", {"v1/Twins-Q8_0.gguf": hub_files["q8"], "v2/Twins-Q8_0.gguf": hub_files["q4"]})
    server.add("test-org/Qwen-GGUF", {"Qwen-Q8_0.gguf": hub_files["qwen2"]})
    server.add("test-org/Huge-GGUF", {"Huge-Q8_0.gguf": hub_files["huge"]})
    # Where the short name smollm2:135m points (model_names.KNOWN_MODELS), here holding a tiny file.
    server.add("bartowski/SmolLM2-135M-Instruct-GGUF", {"SmolLM2-135M-Instruct-Q8_0.gguf": hub_files["q8"]})
    return server


@pytest.fixture
def hub(hub_files):
    with HubServer() as server:
        yield host(server, hub_files)


def hub_env(tmp_path: Path, endpoint: str, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_CACHE", "HF_TOKEN", "HF_HUB_OFFLINE", "HUGGINGFACE_HUB_CACHE")}
    env.update(HF_ENDPOINT=endpoint, HF_HOME=str(tmp_path / "hf-home"), PYLLAMA_EDGE_CACHE=str(tmp_path / "ple"),
               HF_HUB_DISABLE_TELEMETRY="1", **extra)
    return env


def cli(env: dict, *args: str, stdin: str = ""):
    return subprocess.run([sys.executable, "-m", "pyllama_edge", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=300, cwd=PACKAGE_PARENT)


def one_line_error(r) -> str:
    assert r.returncode == 1, (r.stdout, r.stderr)
    lines = [line for line in r.stderr.strip().splitlines() if not line.startswith("Pulling ")]  # the notice
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def blobs(tmp_path: Path, repo_id: str) -> list:
    folder = tmp_path / "hf-home" / "hub" / f"models--{repo_id.replace('/', '--')}" / "blobs"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# -- names, without a server ----------------------------------------------------------------------

def test_model_arguments_are_paths_short_names_or_repositories(tmp_path):
    existing = tmp_path / "model.gguf"
    existing.write_bytes(b"")
    assert parse_model_argument(str(existing)) == str(existing)
    assert parse_model_argument("missing.gguf") == "missing.gguf"  # the loader reports it
    assert parse_model_argument("llama3.2:1b") == HubReference("bartowski/Llama-3.2-1B-Instruct-GGUF", "Q4_K_M",
                                                               short_name="llama3.2:1b")
    assert parse_model_argument("owner/Repo-GGUF:q5_k_m") == HubReference("owner/Repo-GGUF", "q5_k_m")
    assert parse_model_argument("owner/Repo-GGUF") == HubReference("owner/Repo-GGUF")
    with pytest.raises(ValueError, match="unknown model name 'llama3.2:7b'; known names: llama3.2:1b"):
        parse_model_argument("llama3.2:7b")


def test_quant_tags_from_file_names():
    assert quant_tag("Llama-3.2-1B-Instruct-Q4_K_M.gguf") == "Q4_K_M"
    assert quant_tag("tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf") == "Q4_K_M"
    assert quant_tag("smollm2-135m-instruct-q8_0.gguf") == "Q8_0"
    assert quant_tag("Model-IQ4_XS.gguf") == "IQ4_XS" and quant_tag("model-f16.gguf") == "F16"
    assert quant_tag("Meta-Llama-3.1-70B-Q4_K_M-00001-of-00002.gguf") == "Q4_K_M"
    assert quant_tag("model.gguf") is None
    assert split_part_names("dir-Q2_K-00001-of-00003.gguf")[2] == "dir-Q2_K-00003-of-00003.gguf"


def test_too_big_for_memory_names_both_sizes(hub_files, tmp_path, monkeypatch):
    path = tmp_path / "Tiny-Q8_0.gguf"
    path.write_bytes(hub_files["q8"])
    needed = model_checks.estimated_memory_bytes(str(path))
    monkeypatch.setattr(model_checks, "available_memory_bytes", lambda: needed - 1)
    with pytest.raises(MemoryError, match=r"needs about .* GiB .* has .* GiB available"):
        model_checks.check_fits_memory(str(path))
    monkeypatch.setattr(model_checks, "available_memory_bytes", lambda: needed)
    model_checks.check_fits_memory(str(path))


# -- against the local Hub ------------------------------------------------------------------------

def test_pull_by_quant_then_run_offline_from_the_cache(hub, hub_files, tmp_path):
    env = hub_env(tmp_path, hub.url)
    r = cli(env, "pull", f"{TINY}:q8_0")
    assert r.returncode == 0, r.stderr
    path = Path(r.stdout.strip())
    assert path.name == "Tiny-Q8_0.gguf" and path.read_bytes() == hub_files["q8"]
    assert str(path).startswith(str(tmp_path / "hf-home" / "hub"))  # huggingface_hub's cache, shared with its tools
    asked = [(q.method, q.path) for q in hub.requests if not q.path.startswith("/api/agent")]
    assert asked == [("GET", f"/api/models/{TINY}"), ("HEAD", f"/{TINY}/resolve/main/Tiny-Q8_0.gguf"),
                     ("GET", f"/{TINY}/resolve/main/Tiny-Q8_0.gguf")]
    hub.stop()  # no Hub from here on: names resolve from the cache
    for args in (["run", f"{TINY}:Q8_0", "Hello"], ["run", "Hello", "--model", f"{TINY}:Q8_0"]):
        r = cli(env, *args, "-n", "4", "--temp", "0")
        assert r.returncode == 0, r.stderr
    r = cli(env, "info", f"{TINY}:Q8_0")
    assert r.returncode == 0 and "architecture:  llama" in r.stdout, r.stderr


def test_pull_by_file_name(hub, hub_files, tmp_path):
    r = cli(hub_env(tmp_path, hub.url), "pull", TINY, "--file", "Tiny-Q4_0.gguf")
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()).read_bytes() == hub_files["q4"]


def test_no_match_or_several_matches_list_the_candidates(hub, tmp_path):
    env = hub_env(tmp_path, hub.url)
    line = one_line_error(cli(env, "pull", f"{TINY}:Q5_0"))
    assert "no GGUF file tagged Q5_0 in test-org/Tiny-GGUF" in line
    assert "Q8_0: Tiny-Q8_0.gguf" in line and "Q4_0: Tiny-Q4_0.gguf" in line and "Q2_K: Tiny-Q2_K-00001" in line
    line = one_line_error(cli(env, "pull", "test-org/Twins-GGUF:Q8_0"))
    assert "several GGUF files tagged Q8_0" in line and "v1/Twins-Q8_0.gguf, v2/Twins-Q8_0.gguf" in line
    assert "--file" in line
    line = one_line_error(cli(env, "pull", TINY))  # several files, none Q4_K_M
    assert "holds several GGUF files" in line and "Tiny-Q4_0.gguf" in line
    r = cli(env, "pull", "test-org/Twins-GGUF", "--file", "v2/Twins-Q8_0.gguf")
    assert r.returncode == 0 and r.stdout.strip().endswith("v2/Twins-Q8_0.gguf"), r.stderr
    assert blobs(tmp_path, TINY) == []  # nothing downloaded for the errors


def test_split_files_are_fetched_together_and_refused_clearly(hub, hub_files, tmp_path):
    env = hub_env(tmp_path, hub.url)
    r = cli(env, "pull", f"{TINY}:Q2_K")
    parts = [Path(p) for p in r.stdout.split()]
    assert [p.name for p in parts] == ["Tiny-Q2_K-00001-of-00002.gguf", "Tiny-Q2_K-00002-of-00002.gguf"]
    assert tuple(p.read_bytes() for p in parts) == hub_files["split"]
    line = one_line_error(r)
    assert "first of 2 parts of a split GGUF file" in line and "not yet loadable" in line
    assert "llama-gguf-split --merge" in line
    r = cli(env, "list")
    assert "test-org/Tiny-GGUF:Q2_K" in r.stdout and "(+1 parts)" in r.stdout, r.stdout


def test_a_dropped_transfer_resumes_where_it_stopped(smollm2_path, tmp_path):
    # The client resumes from the last whole 10 MiB chunk it wrote, so the file must be larger.
    data = smollm2_path.read_bytes()
    with HubServer() as server:
        server.add("test-org/SmolLM2-GGUF", {"SmolLM2-135M-Instruct.Q4_1.gguf": data})
        server.repos["test-org/SmolLM2-GGUF"].files["SmolLM2-135M-Instruct.Q4_1.gguf"].fault = "drop_once"
        r = cli(hub_env(tmp_path, server.url), "pull", "test-org/SmolLM2-GGUF:Q4_1")
    assert r.returncode == 0, r.stderr
    assert Path(r.stdout.strip()).read_bytes() == data
    ranges = [q.range for q in server.requests if q.method == "GET" and q.path.endswith(".gguf")]
    assert len(ranges) == 2 and ranges[0] is None, ranges
    resumed_at = int(ranges[1][len("bytes="):-1])
    assert 0 < resumed_at <= len(data) // 2 and resumed_at % (10 << 20) == 0, ranges


def test_a_corrupt_download_is_detected_and_removed(hub, tmp_path):
    hub.repos[TINY].files["Tiny-Q8_0.gguf"].fault = "corrupt"
    env = hub_env(tmp_path, hub.url)
    line = one_line_error(cli(env, "pull", f"{TINY}:Q8_0"))
    assert "checksum mismatch for Tiny-Q8_0.gguf" in line and "removed" in line
    assert blobs(tmp_path, TINY) == []
    assert "Tiny-Q8_0" not in cli(env, "list").stdout
    hub.repos[TINY].files["Tiny-Q8_0.gguf"].fault = None
    assert cli(env, "pull", f"{TINY}:Q8_0").returncode == 0


def test_not_found_errors_are_one_line(hub, tmp_path):
    env = hub_env(tmp_path, hub.url)
    line = one_line_error(cli(env, "pull", "test-org/Missing-GGUF:Q4_K_M"))
    assert "test-org/Missing-GGUF is neither a local file nor a repository on the Hugging Face Hub" in line
    line = one_line_error(cli(env, "pull", TINY, "--file", "Tiny-Q3_K.gguf"))
    assert "no file Tiny-Q3_K.gguf in test-org/Tiny-GGUF" in line
    line = one_line_error(cli(env, "pull", f"{TINY}:Q8_0", "--revision", "v9"))
    assert "revision 'v9' not found in test-org/Tiny-GGUF" in line


def test_no_network_is_one_line(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    line = one_line_error(cli(hub_env(tmp_path, closed), "run", f"{TINY}:Q8_0", "Hello"))
    assert f"cannot reach the Hugging Face Hub at {closed} to get {TINY}:Q8_0" in line
    line = one_line_error(cli(hub_env(tmp_path, closed, HF_HUB_OFFLINE="1"), "pull", "smollm2:135m"))
    assert "smollm2:135m is not in the local cache and HF_HUB_OFFLINE is set" in line


def test_unsupported_architecture_is_named(hub, tmp_path):
    line = one_line_error(cli(hub_env(tmp_path, hub.url), "run", "test-org/Qwen-GGUF:Q8_0", "Hello"))
    assert "model architecture 'qwen2' is not supported (supported: llama)" in line


def test_a_model_too_big_for_this_machine_is_refused(hub, tmp_path):
    line = one_line_error(cli(hub_env(tmp_path, hub.url), "run", "test-org/Huge-GGUF:Q8_0", "Hello"))
    assert "Huge-Q8_0.gguf needs about" in line and "GiB available" in line


def test_short_name_pulls_on_first_use_then_list_and_rm(hub, hub_files, tmp_path):
    env = hub_env(tmp_path, hub.url)
    r = cli(env, "run", "smollm2:135m", "Hello", "-n", "4")
    assert r.returncode == 0, r.stderr
    assert "Pulling smollm2:135m (SmolLM2-135M-Instruct-Q8_0.gguf" in r.stderr
    assert cli(env, "pull", f"{TINY}:Q4_0").returncode == 0
    r = cli(env, "list")
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines()[1:]}
    assert set(rows) == {"smollm2:135m", "test-org/Tiny-GGUF:Q4_0"}, r.stdout
    assert "SmolLM2-135M-Instruct-Q8_0.gguf" in rows["smollm2:135m"] and "Q8_0:" in rows["smollm2:135m"]
    line = one_line_error(cli(env, "rm", "smollm2:135m"))  # not a terminal: asks for --yes
    assert "--yes" in line
    assert one_line_error(cli(env, "rm", "llama3.2:1b")).endswith("`pyllama-edge list` shows them")
    r = cli(env, "rm", "smollm2:135m", "--yes")
    assert r.returncode == 0 and "removed smollm2:135m" in r.stdout, r.stderr
    assert blobs(tmp_path, "bartowski/SmolLM2-135M-Instruct-GGUF") == []
    assert "smollm2" not in cli(env, "list").stdout
    assert Path(cli(env, "pull", f"{TINY}:Q4_0").stdout.strip()).read_bytes() == hub_files["q4"]  # untouched


def test_from_pretrained_runs_the_real_model(smollm2_path, tmp_path):
    with HubServer() as server:
        server.add("test-org/SmolLM2-135M-Instruct-GGUF", {"SmolLM2-135M-Instruct.Q4_1.gguf": smollm2_path.read_bytes(),
                                                           "SmolLM2-135M-Instruct.Q8_0.gguf": b"not used" * 200})
        script = ("import pyllama_edge as ple\n"
                  "m = ple.Model.from_pretrained('test-org/SmolLM2-135M-Instruct-GGUF', quant='Q4_1')\n"
                  "print(m.path)\n"
                  "print(m.generate('The capital of France is', max_tokens=8, temperature=0))\n")
        r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                           env=hub_env(tmp_path, server.url), cwd=PACKAGE_PARENT)
    assert r.returncode == 0, r.stderr
    path, text = r.stdout.split("\n", 1)
    assert path.endswith("SmolLM2-135M-Instruct.Q4_1.gguf") and "Paris" in text


def test_a_first_use_download_over_1_gb_asks_on_a_terminal(monkeypatch, capsys):
    import io

    from pyllama_edge import cli_hub, hub_pull

    big = hub_pull.GGUFChoice([hub_pull.RemoteFile("Big-Q4_K_M.gguf", 3 << 30, None)], "Q4_K_M")
    small = hub_pull.GGUFChoice([hub_pull.RemoteFile("Small-Q4_K_M.gguf", 1 << 29, None)], "Q4_K_M")
    confirm = cli_hub._confirm_large(HubReference("o/r", "Q4_K_M"))
    monkeypatch.setattr(cli_hub, "_interactive", lambda: True)
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\ny\n"))
    assert confirm(big) is False and confirm(big) is True and confirm(small) is True
    assert capsys.readouterr().err.count("Download 3.22 GB? [y/N]") == 2
    monkeypatch.setattr(cli_hub, "_interactive", lambda: False)  # piped or in a script: no question
    assert confirm(big) is True


def test_without_the_hub_extra_the_cli_says_how_to_get_it(monkeypatch, capsys):
    from pyllama_edge.cli import main

    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # what `import huggingface_hub` sees when missing
    assert main(["pull", "llama3.2:1b"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == ("pyllama-edge: error: pulling from the Hugging Face Hub needs huggingface_hub: "
                           "pip install 'pyllama_edge[hub]'")


def on_a_terminal(env: dict, *args: str, answer: str):
    """Runs the CLI with stdin and stderr on a pseudo-terminal, `answer` typed ahead."""
    master, slave = os.openpty()
    with subprocess.Popen([sys.executable, "-m", "pyllama_edge", *args], stdin=slave, stderr=slave,
                          stdout=subprocess.PIPE, text=True, env=env, cwd=PACKAGE_PARENT) as p:
        os.close(slave)
        os.write(master, answer.encode())
        out, _ = p.communicate(timeout=120)
    said = b""
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # EIO: the terminal's other side is closed and drained
            break
        if not chunk:
            break
        said += chunk
    os.close(master)
    return p.returncode, out, said.decode(errors="replace")


def test_rm_on_a_terminal_asks_first(hub, tmp_path):
    env = hub_env(tmp_path, hub.url)
    path = Path(cli(env, "pull", f"{TINY}:Q4_0").stdout.strip())
    code, out, said = on_a_terminal(env, "rm", f"{TINY}:Q4_0", answer="n\n")
    assert code == 1 and "nothing removed" in out and path.exists(), (out, said)
    assert "Remove test-org/Tiny-GGUF:Q4_0 (Tiny-Q4_0.gguf, 0.3 MB)? [y/N]" in said
    code, out, said = on_a_terminal(env, "rm", "Tiny-Q4_0.gguf", answer="y\n")
    assert code == 0 and "removed test-org/Tiny-GGUF:Q4_0" in out and not path.exists(), (out, said)
    assert blobs(tmp_path, TINY) == []
