"""Our quantizer against llama.cpp's, recorded in tests/data/quant_mix_llamacpp.json by
`bench/quant_error.py --record` (llama-cpp-python's llama_model_quantize; see bench/README_quant.md).

For every file type and every fixture model: each tensor gets the type llama.cpp gave it (tied
output head, attn_v / ffn_down / attn_output rules, row fallbacks, the 70B rule), and each matrix's
RMSE against the F16 source is at most 5% above llama.cpp's. The sources are rebuilt here with
tools/make_synthetic_llama.py and checked to be byte-for-byte the tensors llama.cpp quantized."""
import json

import numpy as np
import pytest

import pyllama_edge as ple
from pyllama_edge.quantizer import TYPES, tensor_types
from tools import quant_fixture

RMSE_TOLERANCE = 1.05  # ours / llama.cpp, per matrix

FIXTURE = json.loads(quant_fixture.FIXTURE.read_text())
MODELS = {m["name"]: m for m in FIXTURE["models"]}
RMSE_MODELS = [name for name, m in MODELS.items() if m["rmse"]]


def test_fixture_is_current():
    """Every file type, and the models tools/quant_fixture.py defines now (else re-record)."""
    assert FIXTURE["llama_cpp_python"]
    assert [(m["name"], m["rmse"], m["synthetic"]) for m in FIXTURE["models"]] == \
        [(m["name"], m["rmse"], m["synthetic"]) for m in quant_fixture.MODELS]
    for m in MODELS.values():
        assert sorted(m["types"]) == sorted(TYPES) == sorted(m["file_type"]), m["name"]
        if m["rmse"]:
            assert sorted(m["rmse_llamacpp"]) == sorted(TYPES), m["name"]


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """{model name: (path, source values)}, built on first use."""
    built = {}

    def get(name):
        if name not in built:
            m = MODELS[name]
            path = quant_fixture.make_source(tmp_path_factory.mktemp("quant_mix") / f"{name}.gguf", m["synthetic"])
            assert quant_fixture.source_digest(path) == m["source_sha256"], (
                f"{name}: the synthetic source differs from the one llama.cpp quantized "
                "(generator or numpy changed): re-record with bench/quant_error.py --record")
            built[name] = (path, quant_fixture.source_values(path))
        return built[name]

    return get


@pytest.mark.parametrize("qtype", TYPES)
@pytest.mark.parametrize("model", RMSE_MODELS)
def test_types_and_rmse_match_llama_cpp(model, qtype, sources, tmp_path):
    src, ref = sources(model)
    out = tmp_path / f"{qtype}.gguf"
    chosen = ple.quantize_model(src, out, qtype, threads=2, progress=False)
    want = MODELS[model]["types"][qtype]
    assert chosen == quant_fixture.types(out)
    assert ple.GGUFFile(out).metadata["general.file_type"] == MODELS[model]["file_type"][qtype]
    diffs = {n: (chosen.get(n), t) for n, t in want.items() if chosen.get(n) != t}
    assert not diffs, f"{model} {qtype}: tensor types differ from llama.cpp's (ours, llama.cpp): {diffs}"
    ours, theirs = quant_fixture.tensor_rmse(ref, out), MODELS[model]["rmse_llamacpp"][qtype]
    assert sorted(ours) == sorted(theirs)
    worse = {n: round(ours[n] / theirs[n], 4) for n in theirs if ours[n] > RMSE_TOLERANCE * theirs[n]}
    assert not worse, f"{model} {qtype}: RMSE more than 5% above llama.cpp's (ratio): {worse}"


@pytest.mark.parametrize("qtype", TYPES)
@pytest.mark.parametrize("model", list(MODELS))
def test_type_choice_matches_llama_cpp(model, qtype):
    """The rules alone, from the recorded shapes and hyper-parameters (covers the 80-layer model,
    too big to quantize here, where llama.cpp applies its Llama-70B rule)."""
    m = MODELS[model]
    got = tensor_types(m["hparams"], {n: tuple(s) for n, s in m["shapes"].items()}, qtype)
    want = m["types"][qtype]
    assert {n: t for n, t in got.items() if t != want[n]} == {}


@pytest.mark.parametrize("qtype", ["Q4_0", "Q2_K", "Q4_K_M"])
@pytest.mark.parametrize("model", [n for n in RMSE_MODELS if "output.weight" not in MODELS[n]["shapes"]])
def test_tied_head_files_run(model, qtype, sources, tmp_path):
    """Our engine reads a tied token_embd stored Q6_K or Q8_0 (both as embedding and output head)."""
    src, _ = sources(model)
    out = tmp_path / f"{qtype}.gguf"
    ple.quantize_model(src, out, qtype, progress=False)
    m = ple.Model(out, n_ctx=32)
    logits = m.logits(m.tokenize("the capital of France"))
    assert logits.shape[1] == MODELS[model]["shapes"]["token_embd.weight"][1] and np.isfinite(logits).all()
