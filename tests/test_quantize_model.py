"""The model quantizer (ple.quantize / `pyllama-edge quantize`): round trip for every type through the
gguf package and our engine, llama.cpp's per-tensor rules, --pure, metadata, fallbacks, errors.
(tests/test_quantize_mix.py checks the types and errors against llama.cpp's recorded output.)"""
import subprocess
import sys

import gguf
import numpy as np
import pytest

import pyllama_edge as ple
from pyllama_edge.cli import main
from pyllama_edge.quantizer import BASE_TYPES, choose_type, tensor_types, use_more_bits
from support.test_data import PACKAGE_PARENT

# Upper bounds on RMS(dequantized - source) / RMS(source) per tensor for N(0, s^2) weights. Typical
# values on these tensors are about 0.86x these (Q4_0 0.086, Q2_K 0.286, Q6_K 0.0177, ...).
REL_RMSE = {"Q4_0": 0.10, "Q4_1": 0.09, "Q5_0": 0.05, "Q5_1": 0.045, "Q8_0": 0.007,
            "Q2_K": 0.32, "Q3_K": 0.18, "Q4_K": 0.085, "Q5_K": 0.043, "Q6_K": 0.021}
# Upper bounds on RMS(logits - F32 logits) / RMS(F32 logits) of the quantized model on a short
# prompt (the synthetic model's sharp attention amplifies weight error).
REL_LOGITS = {"Q4_0": 0.6, "Q4_1": 0.6, "Q5_0": 0.35, "Q5_1": 0.35, "Q8_0": 0.06,
              "Q2_K": 1.2, "Q3_K": 0.9, "Q4_K": 0.6, "Q5_K": 0.35, "Q6_K": 0.2, "Q4_K_M": 0.6, "Q5_K_M": 0.35}


@pytest.fixture(scope="module")
def src_f32(synthetic_dir):
    """Rows a multiple of 256, so every k-quant applies without fallback."""
    from support.model_files import synthetic
    return synthetic(synthetic_dir, "quant_src_f32", weight_type="F32", n_embd=256, n_ff=768, n_ctx_train=4096)


@pytest.fixture(scope="module")
def src_logits(src_f32):
    m = ple.Model(src_f32, n_ctx=64)
    ids = m.tokenize("the quick brown fox jumps over the lazy dog")
    return ids, m.logits(ids)


def _tensors(path):
    return {t.name: t for t in gguf.GGUFReader(str(path)).tensors}


def _dequant(t):
    return np.asarray(gguf.quants.dequantize(t.data, t.tensor_type), np.float32)


@pytest.mark.parametrize("qtype", BASE_TYPES + ("Q4_K_M", "Q5_K_M"))
def test_round_trip(qtype, src_f32, src_logits, tmp_path):
    out = tmp_path / f"{qtype}.gguf"
    chosen = ple.quantize_model(src_f32, out, qtype, threads=2, progress=False)
    src, dst = _tensors(src_f32), _tensors(out)
    assert list(src) == list(dst)  # same tensors, same order
    for name, t in dst.items():
        assert t.tensor_type.name == chosen[name]
        x, y = _dequant(src[name]), _dequant(t)
        assert y.shape == x.shape, name
        if len(src[name].shape) == 1:
            assert t.tensor_type.name == "F32" and np.array_equal(x, y), name
            continue
        rel = np.sqrt(np.mean((y - x) ** 2)) / np.sqrt(np.mean(x ** 2))
        assert rel < REL_RMSE[t.tensor_type.name], (name, t.tensor_type.name, rel)
        # our own reference dequantizer reads the same values as gguf's
        mine = ple.quant.dequantize(np.asarray(t.data).reshape(-1), t.tensor_type.name, x.size, reference=True)
        np.testing.assert_allclose(mine, y.reshape(-1), rtol=0, atol=1e-6)
    ids, ref = src_logits
    logits = ple.Model(out, n_ctx=64).logits(ids)
    rel = np.sqrt(np.mean((logits - ref) ** 2)) / np.sqrt(np.mean(ref ** 2))
    assert rel < REL_LOGITS[qtype], rel
    # the most likely next token agrees at most positions for the finer types
    if qtype == "Q8_0":
        assert np.mean(logits.argmax(1) == ref.argmax(1)) >= 0.8


def test_output_independent_of_thread_count(src_f32, tmp_path):
    a, b = tmp_path / "t1.gguf", tmp_path / "t3.gguf"
    ple.quantize_model(src_f32, a, "Q4_K_M", threads=1, progress=False)
    ple.quantize_model(src_f32, b, "Q4_K_M", threads=3, progress=False)
    assert a.read_bytes() == b.read_bytes()


def test_progress_bar_on_stderr(src_f32, tmp_path, capsys):
    ple.quantize_model(src_f32, tmp_path / "p.gguf", "Q8_0", progress=True)
    err = capsys.readouterr().err
    assert "100.0%" in err and "output.weight" in err


@pytest.mark.parametrize("qtype,base", [("Q3_K", "Q3_K"), ("Q4_0", "Q4_0"), ("Q4_K_M", "Q4_K")])
def test_pure_gives_every_matrix_the_base_type(qtype, base, src_f32, tmp_path):
    out = tmp_path / "pure.gguf"
    chosen = ple.quantize_model(src_f32, out, qtype, progress=False, pure=True)
    for name, t in _tensors(src_f32).items():
        assert chosen[name] == ("F32" if len(t.shape) == 1 else base), name
    assert _tensors(out)["output.weight"].tensor_type.name == base
    # the default is llama.cpp's mix: the output head gets more bits
    assert ple.quantize_model(src_f32, out, qtype, progress=False)["output.weight"] == "Q6_K"


def test_quantize_is_a_deprecated_alias(src_f32, tmp_path):
    with pytest.warns(DeprecationWarning, match="quantize_model"):
        chosen = ple.quantize(src_f32, tmp_path / "old.gguf", "Q8_0", progress=False)
    assert chosen == ple.quantize_model(src_f32, tmp_path / "new.gguf", "Q8_0", progress=False)
    assert (tmp_path / "old.gguf").read_bytes() == (tmp_path / "new.gguf").read_bytes()


def test_metadata_kept_and_file_type_updated(src_f32, tmp_path):
    out = tmp_path / "q8.gguf"
    ple.quantize_model(src_f32, out, "Q4_K_M", progress=False)
    a, b = ple.GGUFFile(src_f32).metadata, ple.GGUFFile(out).metadata
    assert b["general.file_type"] == gguf.LlamaFileType.MOSTLY_Q4_K_M
    assert b["general.quantization_version"] == 2
    for key, value in a.items():
        if key not in ("general.file_type", "general.quantization_version"):
            assert b[key] == value, key
    # value types survive too (e.g. uint32 stays uint32, float32 arrays stay float32)
    ra, rb = gguf.GGUFReader(str(src_f32)), gguf.GGUFReader(str(out))
    for key, f in ra.fields.items():
        if not key.startswith("GGUF.") and key != "general.file_type":
            assert rb.fields[key].types == f.types, key


def test_use_more_bits_matches_llama_cpp_rule():
    # 32 layers: first 4, last 4 and every third layer from 6
    assert [i for i in range(32) if use_more_bits(i, 32)] == [0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]
    assert [i for i in range(16) if use_more_bits(i, 16)] == [0, 1, 4, 7, 10, 13, 14, 15]


@pytest.mark.parametrize("mix,base", [("Q4_K_M", "Q4_K"), ("Q5_K_M", "Q5_K")])
def test_mix_choices(mix, base):
    n = 16
    row = (2048, 2048)
    for i in range(n):
        more = use_more_bits(i, n)
        assert choose_type(f"blk.{i}.attn_v.weight", row, mix, n, True) == ("Q6_K" if more else base)
        assert choose_type(f"blk.{i}.ffn_down.weight", (8192, 2048), mix, n, True) == ("Q6_K" if more else base)
        for other in ("attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up"):
            assert choose_type(f"blk.{i}.{other}.weight", row, mix, n, True) == base
        assert choose_type(f"blk.{i}.attn_norm.weight", (2048,), mix, n, True) == "F32"
    assert choose_type("output.weight", row, mix, n, True) == "Q6_K"
    assert choose_type("token_embd.weight", row, mix, n, True) == base
    assert choose_type("token_embd.weight", row, mix, n, False) == "Q6_K"  # tied output
    assert choose_type("rope_freqs.weight", (64,), mix, n, True) == "F32"


def test_mix_in_file(src_f32, tmp_path):
    chosen = ple.quantize_model(src_f32, tmp_path / "m.gguf", "Q5_K_M", progress=False)
    # 2 layers: use_more_bits is true for layer 1 only
    assert chosen["blk.0.attn_v.weight"] == "Q5_K" and chosen["blk.1.attn_v.weight"] == "Q6_K"
    assert chosen["blk.0.ffn_down.weight"] == "Q5_K" and chosen["blk.1.ffn_down.weight"] == "Q6_K"
    assert chosen["output.weight"] == "Q6_K" and chosen["token_embd.weight"] == "Q5_K"


@pytest.mark.parametrize("qtype,fallback", [("Q4_K", "Q5_0"), ("Q5_K", "Q5_1"), ("Q6_K", "Q8_0"), ("Q2_K", "Q4_0"),
                                            ("Q3_K", "Q4_0")])
def test_row_fallback_for_k_quants(qtype, fallback):
    assert choose_type("blk.0.attn_q.weight", (128, 128), qtype, 2, True) == fallback
    assert choose_type("blk.0.attn_q.weight", (512, 128), qtype, 2, True) == qtype
    assert choose_type("blk.0.attn_q.weight", (128, 128), qtype, 2, True, pure=True) == fallback


@pytest.mark.parametrize("qtype", BASE_TYPES + ("Q4_K_M", "Q5_K_M"))
def test_output_head_rule(qtype):
    """llama.cpp: output.weight, or the tied token_embd.weight, is Q6_K for every file type but Q8_0
    (and Q6_K itself); Q8_0 when its row is not a multiple of the base type's block."""
    want = "Q8_0" if qtype == "Q8_0" else "Q6_K"
    assert choose_type("output.weight", (2048, 1000), qtype, 16, True) == want
    assert choose_type("token_embd.weight", (2048, 1000), qtype, 16, False) == want  # tied
    assert choose_type("token_embd.weight", (576, 1000), qtype, 30, False) == "Q8_0"  # SmolLM2: 576 % 256
    assert choose_type("output.weight", (100, 1000), qtype, 30, True) == "F16"  # not even a multiple of 32
    untied_embd = choose_type("token_embd.weight", (2048, 1000), qtype, 16, True)
    assert untied_embd == choose_type("blk.0.attn_q.weight", (2048, 2048), qtype, 16, True)


def test_small_k_rules():
    kw = dict(n_head=32, n_head_kv=8)  # gqa 4 (Llama 3.2 1B)
    at = lambda name, t, i=0, n=16, **k: choose_type(f"blk.{i}.{name}.weight", (2048, 2048), t, n, True,  # noqa: E731
                                                     **(k or kw))
    assert at("attn_v", "Q2_K") == "Q4_K" and at("attn_v", "Q2_K", n_head=9, n_head_kv=3) == "Q3_K"
    assert at("ffn_down", "Q2_K") == "Q3_K" and at("attn_output", "Q2_K") == "Q3_K" and at("attn_q", "Q2_K") == "Q2_K"
    for alias in ("Q4_K", "Q4_K_S", "q4_k_s"):
        assert [at("attn_v", alias, i) for i in (3, 4)] == ["Q5_K", "Q4_K"]
        assert [at("ffn_down", alias, i) for i in (1, 2)] == ["Q5_K", "Q4_K"]  # i < 16/8
    for t in ("Q3_K", "Q5_K", "Q6_K", "Q4_0", "Q8_0"):
        assert {at(n, t) for n in ("attn_v", "ffn_down", "attn_output", "attn_q", "ffn_up")} == {t}
    # Llama 70B (80 layers, gqa > 1): attn_v Q3_K / Q4_K -> Q5_K
    assert at("attn_v", "Q3_K", 40, 80, n_head=64, n_head_kv=8) == "Q5_K"
    assert at("attn_v", "Q4_K_M", 40, 80, n_head=64, n_head_kv=8) == "Q5_K"
    assert at("attn_v", "Q3_K", 40, 80, n_head=64, n_head_kv=64) == "Q3_K"  # 65B: no GQA


def test_tensor_types_reads_the_hyper_parameters():
    meta = {"general.architecture": "llama", "llama.block_count": 16, "llama.attention.head_count": 32,
            "llama.attention.head_count_kv": 8}
    shapes = {"token_embd.weight": (2048, 128256), "blk.0.attn_v.weight": (2048, 512), "blk.0.attn_norm.weight": (2048,)}
    assert tensor_types(meta, shapes, "Q2_K") == {"token_embd.weight": "Q6_K", "blk.0.attn_v.weight": "Q4_K",
                                                 "blk.0.attn_norm.weight": "F32"}


def test_fallback_file_loads(tiny_f32, tmp_path):
    out = tmp_path / "fb.gguf"
    chosen = ple.quantize_model(tiny_f32, out, "Q4_K_M", progress=False)  # n_embd 128: no 256-multiple rows
    assert chosen["blk.0.attn_q.weight"] == "Q5_0" and chosen["output.weight"] == "Q8_0"
    m = ple.Model(out, n_ctx=32)
    assert np.isfinite(m.logits(m.tokenize("hello world"))).all()


def test_f16_and_bf16_inputs(synthetic_dir, tmp_path):
    from support.model_files import synthetic
    for wt in ("F16", "BF16"):
        src = synthetic(synthetic_dir, f"quant_src_{wt}", weight_type=wt, n_embd=256, n_ff=768, n_ctx_train=4096)
        out = tmp_path / f"{wt}.gguf"
        ple.quantize_model(src, out, "Q8_0", progress=False)
        s, d = _tensors(src), _tensors(out)
        x, y = _dequant(s["blk.0.ffn_up.weight"]), _dequant(d["blk.0.ffn_up.weight"])
        assert np.sqrt(np.mean((y - x) ** 2)) / np.sqrt(np.mean(x ** 2)) < REL_RMSE["Q8_0"]


def test_bad_arguments(src_f32, smollm2_path, tmp_path):
    with pytest.raises(ValueError, match="unknown quantization type.*Q4_K_S"):
        ple.quantize_model(src_f32, tmp_path / "x.gguf", "Q7_K")
    with pytest.raises(ValueError, match="F32/F16/BF16 input"):
        ple.quantize_model(smollm2_path, tmp_path / "x.gguf", "Q4_0")
    with pytest.raises(FileNotFoundError):
        ple.quantize_model(tmp_path / "missing.gguf", tmp_path / "x.gguf", "Q4_0")
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"definitely not gguf")
    with pytest.raises(ple.GGUFError, match="not a GGUF file"):
        ple.quantize_model(bad, tmp_path / "x.gguf", "Q4_0")
    with pytest.raises(ValueError, match="not a multiple"):
        ple.quant.quantize_weights(np.zeros((2, 100), np.float32), "Q4_0")  # 100 is not a multiple of 32


def test_non_finite_weights_rejected(tmp_path):
    from tools.make_synthetic_llama import make_synthetic_llama
    src = tmp_path / "nan.gguf"
    make_synthetic_llama(src, weight_type="F32", n_embd=256, n_ff=768, n_ctx_train=4096)
    info = ple.GGUFFile(src).tensors["blk.1.ffn_up.weight"]
    with open(src, "r+b") as f:  # poke a NaN into the middle of the tensor's float32 data
        f.seek(info.offset + info.nbytes // 2 // 4 * 4)
        f.write(np.array([np.nan], np.float32).tobytes())
    out = tmp_path / "out.gguf"
    with pytest.raises(ValueError, match="blk.1.ffn_up.weight.*NaN"):
        ple.quantize_model(src, out, "Q4_K", progress=False)
    assert not out.exists()
    # An existing output stays as it was, and no temporary file is left beside it.
    out.write_bytes(b"the previous model")
    with pytest.raises(ValueError, match="NaN"):
        ple.quantize_model(src, out, "Q4_K", progress=False)
    assert out.read_bytes() == b"the previous model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nan.gguf", "out.gguf"]


@pytest.mark.parametrize("how", ["same path", "relative path", "symlink", "hard link"])
def test_output_that_is_the_input_is_refused(src_f32, tmp_path, monkeypatch, how):
    import hashlib
    import os
    src = tmp_path / "model-f32.gguf"
    src.write_bytes(src_f32.read_bytes())
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    if how == "same path":
        out = src
    elif how == "relative path":
        monkeypatch.chdir(tmp_path)
        out = "./sub/../model-f32.gguf"
        (tmp_path / "sub").mkdir()
    elif how == "symlink":
        out = tmp_path / "link.gguf"
        out.symlink_to(src)
    else:
        out = tmp_path / "hard.gguf"
        os.link(src, out)
    with pytest.raises(ValueError, match="is the input") as e:
        ple.quantize_model(src, out, "Q4_0", progress=False)
    assert str(out) in str(e.value) and str(src) in str(e.value)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == digest
    assert main(["quantize", str(src), str(out), "Q4_0", "--quiet"]) == 1
    assert hashlib.sha256(src.read_bytes()).hexdigest() == digest


def test_quantize_replaces_a_symlinked_output_without_writing_through_it(src_f32, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out.gguf"
    out.symlink_to(victim)
    ple.quantize_model(src_f32, out, "Q8_0", progress=False)
    assert victim.read_text() == "precious" and not out.is_symlink()
    assert gguf.GGUFReader(str(out)).tensors[0].tensor_type.name == "Q8_0"


def test_cli(src_f32, tmp_path, capsys):
    out = tmp_path / "cli.gguf"
    assert main(["quantize", str(src_f32), str(out), "q4_0", "--quiet"]) == 0
    assert "Q4_0" in capsys.readouterr().out
    assert gguf.GGUFReader(str(out)).tensors[0].tensor_type.name == "Q4_0"
    assert _tensors(out)["output.weight"].tensor_type.name == "Q6_K"
    assert main(["quantize", str(src_f32), str(out), "Q4_0", "--quiet", "--pure"]) == 0
    assert "Q6_K" not in capsys.readouterr().out and _tensors(out)["output.weight"].tensor_type.name == "Q4_0"
    assert main(["quantize", str(src_f32), str(out), "Q9"]) == 1
    assert "unknown quantization type" in capsys.readouterr().err
    r = subprocess.run([sys.executable, "-m", "pyllama_edge", "quantize", str(tmp_path / "nope.gguf"), str(out), "Q4_0"],
                       capture_output=True, text=True, timeout=60, cwd=PACKAGE_PARENT)
    assert r.returncode == 1 and "no such GGUF file" in r.stderr
