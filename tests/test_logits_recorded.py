"""Results do not change bit for bit across restructurings: the logits digests of
tools/record_logits.py (synthetic files of every weight type, quantized by our quantizer, and SmolLM2;
prefill, chunked prefill, decode, the plain layout, a Q8_0 KV cache, greedy text) equal the ones in
tests/data/logits_recorded.json on every kernel path this CPU runs. Recorded before the architecture
change; the avx2/avx512 digests re-recorded when softmax and SiLU got vector kernels (a polynomial exp,
within a few ulp of the scalar one: every greedy text and every scalar digest stayed the same)."""
import json
import platform
from pathlib import Path

import pytest

from tools.record_logits import make_models, record_isa, usable_isas

RECORDED = Path(__file__).parent / "data" / "logits_recorded.json"

pytestmark = pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"),
                                reason="digests recorded on x86-64; other architectures round differently")


@pytest.fixture(scope="module")
def models(tmp_path_factory, smollm2_path):
    return make_models(tmp_path_factory.mktemp("recorded"), str(smollm2_path))


@pytest.mark.parametrize("isa", ["scalar", "avx2", "avx512"])
def test_logits_equal_the_recorded_ones(models, isa):
    if isa not in usable_isas():
        pytest.skip(f"this CPU cannot run {isa}")
    recorded = json.loads(RECORDED.read_text())["digests"][isa]
    now = record_isa(models, isa)
    assert set(now) == set(recorded)
    diffs = [f"{m}/{case}" for m in recorded for case in recorded[m] if now[m].get(case) != recorded[m][case]]
    assert not diffs, f"results changed under {isa}: {diffs}"
