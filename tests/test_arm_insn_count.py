"""The pure parts of bench/arm_insn_count.py (no toolchain, no qemu): the plugin-output parser and
the per-token differences, the count cache."""

import importlib.util
from pathlib import Path

import pytest

_path = Path(__file__).resolve().parent.parent / "bench" / "arm_insn_count.py"
_spec = importlib.util.spec_from_file_location("arm_insn_count", _path)
aic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(aic)


def test_parse_count_reads_the_one_total():
    assert aic.parse_count("some qemu line\ninsns: 2072379205\n") == 2072379205


@pytest.mark.parametrize("text", ["", "insns: 1\ninsns: 2\n", "insns: x\n", "xinsns: 5\n"])
def test_parse_count_rejects_missing_or_repeated_totals(text):
    with pytest.raises(ValueError):
        aic.parse_count(text)


def test_per_token_differences_drop_the_load():
    load, prompt, decode = 1000, 7, 11
    base = load + 16 * prompt + 1 * decode
    assert aic.per_token(base, load + 16 * prompt + 4 * decode, load + 32 * prompt + decode, 16, 32, 4) == (11, 7)


def test_every_cpu_model_has_a_llama_cpp_arch():
    assert set(aic.ARCH) == {"cortex-a72", "cortex-a76", "max"}


def test_counts_of_concurrent_runs_are_merged_not_overwritten(tmp_path):
    # Two runs of the script load the cache, then each records a count of its own.
    first = aic.Counter(None, Path("plugin.so"), tmp_path)
    second = aic.Counter(None, Path("plugin.so"), tmp_path)
    first.save("a cortex-a76 16 1", 11)
    second.save("b cortex-a72 16 1", 22)
    third = aic.Counter(None, Path("plugin.so"), tmp_path)
    assert third.db == {"a cortex-a76 16 1": 11, "b cortex-a72 16 1": 22}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counts.json", "counts.lock"]


def test_parse_symbols_demangles_and_merges_clones():
    text = ("insns: 60\n"
            "symbol: 10 _ZN3ple7kernels4gemvEPKfl\n"
            "symbol: 20 _ZN3ple7kernels4gemvEPKfl.constprop.0\n"
            "symbol: 25 memcpy\n"
            "symbol: 5 ?\n")
    assert aic.parse_symbols(text) == {"ple::kernels::gemv": 30, "memcpy": 25, "?": 5}


@pytest.mark.parametrize("demangled, name", [
    ("ple::kernels::gemv(float const*, long) [clone .constprop.0]", "ple::kernels::gemv"),
    ("void ple::kernels::(anonymous namespace)::panel<8, true>(long, void const*) [clone .isra.0]",
     "void ple::kernels::(anonymous namespace)::panel<8, true>"),
    ("ple::Session::logits() const", "ple::Session::logits"),
    ("memcpy", "memcpy"),
])
def test_function_name_drops_parameters_and_clone_suffixes(demangled, name):
    assert aic.function_name(demangled) == name
