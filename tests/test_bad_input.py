"""Bad input: every case of the README's "Errors" table, in its order. Each one raises the
documented Python exception with a clear message; none may crash, hang or give silent output."""
from __future__ import annotations

import errno
import os
import shutil
import struct
from pathlib import Path

import pytest

import pyllama_edge as ple
from support.model_files import synthetic


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """A small F32 model (1 layer, width 32) whose file the tests copy and damage."""
    return synthetic(tmp_path_factory.mktemp("bad"), "tiny_bad", weight_type="F32", n_layer=1, n_embd=32, n_head=2,
                     n_head_kv=1, n_ff=64, n_ctx_train=256, rope_freqs=False)


@pytest.fixture(scope="module")
def model(tiny) -> ple.Model:
    return ple.Model(tiny, n_ctx=64, n_threads=1)


def copy(src: Path, dst_dir: Path, name: str = "m.gguf") -> Path:
    dst = dst_dir / name
    shutil.copyfile(src, dst)
    return dst


def patch_tensor_type(data: bytearray, tensor: str, new_type: int) -> None:
    """Rewrites the type id in `tensor`'s info (found by its length-prefixed name)."""
    name = tensor.encode()
    at = data.index(struct.pack("<Q", len(name)) + name) + 8 + len(name)
    n_dims = struct.unpack_from("<I", data, at)[0]
    struct.pack_into("<I", data, at + 4 + 8 * n_dims, new_type)


# 1-4: paths that are not GGUF files ----------------------------------------------------------------

def test_missing_path(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no-such.gguf"):
        ple.Model(tmp_path / "no-such.gguf")


def test_directory(tmp_path) -> None:
    with pytest.raises(IsADirectoryError):
        ple.Model(tmp_path)


def test_empty_file(tmp_path) -> None:
    (tmp_path / "e.gguf").write_bytes(b"")
    with pytest.raises(ple.GGUFError, match="empty"):
        ple.Model(tmp_path / "e.gguf")


def test_not_a_gguf(tmp_path) -> None:
    (tmp_path / "t.gguf").write_text("<html>404 Not Found</html>\n" * 10)
    with pytest.raises(ple.GGUFError, match="magic|GGUF"):
        ple.Model(tmp_path / "t.gguf")


# 5: truncated at any point (a failed download) ------------------------------------------------------

def test_truncated_at_any_point(tiny, tmp_path) -> None:
    data = tiny.read_bytes()
    # Every byte of the header and metadata region (where parsing happens), then positions through
    # the tensor data, and one byte short of the end.
    cuts = sorted(set(range(1, 4096, 7)) | set(range(4096, len(data), max(1, len(data) // 97))) | {len(data) - 1})
    path = tmp_path / "cut.gguf"
    for n in cuts:
        path.write_bytes(data[:n])
        with pytest.raises(ple.GGUFError):
            ple.Model(path)
    assert len(cuts) > 600


# 6-7: valid GGUF this build cannot run ------------------------------------------------------------

def test_architecture_not_llama(tiny, tmp_path) -> None:
    data = bytearray(tiny.read_bytes())
    key = b"general.architecture"
    at = data.index(key) + len(key) + 4 + 8  # the value: type u32, length u64, then "llama"
    assert data[at:at + 5] == b"llama"
    data[at:at + 5] = b"bloom"
    (tmp_path / "bloom.gguf").write_bytes(bytes(data))
    with pytest.raises(ple.UnsupportedModelError, match="'bloom'"):
        ple.Model(tmp_path / "bloom.gguf")
    ple.GGUFFile(tmp_path / "bloom.gguf").close()  # still a readable GGUF file


def test_unsupported_tensor_type_is_named(tiny, tmp_path) -> None:
    data = bytearray(tiny.read_bytes())
    patch_tensor_type(data, "blk.0.attn_q.weight", 26)  # I32: same size as F32, no matmul for it
    (tmp_path / "i32.gguf").write_bytes(bytes(data))
    with pytest.raises(ple.UnsupportedModelError, match=r"blk\.0\.attn_q\.weight.*I32"):
        ple.Model(tmp_path / "i32.gguf")


# 8: more memory than the machine has ----------------------------------------------------------------

def test_kv_cache_larger_than_available_memory_fails_fast(tmp_path) -> None:
    # 4 layers x 512 KV width x 2**24 positions x K and V x 2 bytes = 128 GiB of KV cache.
    path = synthetic(tmp_path, "long_ctx", weight_type="Q8_0", n_layer=4, n_embd=512, n_head=2, n_head_kv=2, n_ff=64,
                     n_ctx_train=2**24, rope_freqs=False)
    with pytest.raises(MemoryError, match=r"n_ctx 16777216 needs 131072 MiB of KV cache \(f16\) and \d+ MiB of "
                                          r"buffers, but only \d+ MiB of memory is available.*kv_type='q8_0'"):
        ple.Model(path, n_ctx=2**24)
    # 34/64 of it as Q8_0: 69632 MiB, still too much here
    with pytest.raises(MemoryError, match=r"needs 69632 MiB of KV cache \(q8_0\)"):
        ple.Model(path, n_ctx=2**24, kv_type="q8_0")
    m = ple.Model(path, n_ctx=128)  # a context that fits is fine; the weights are mapped, not counted
    assert m.n_ctx == 128 and m.session().kv_cache_bytes == 2 * 4 * 128 * 512 * 2


# 9-10: context --------------------------------------------------------------------------------------

@pytest.mark.parametrize("n_ctx, exc", [(0, ValueError), (-1, ValueError), (257, ValueError), (1.5, TypeError),
                                        ("64", TypeError)])
def test_bad_n_ctx(tiny, n_ctx, exc) -> None:
    with pytest.raises(exc, match="n_ctx"):
        ple.Model(tiny, n_ctx=n_ctx)


def test_prompt_longer_than_context(model) -> None:
    prompt = "word " * 200
    with pytest.raises(ple.ContextOverflowError, match="does not fit the context of 64"):
        model.generate(prompt, max_tokens=1)
    with pytest.raises(ple.ContextOverflowError):
        model.logits(list(range(65)))
    assert issubclass(ple.ContextOverflowError, ValueError)
    assert isinstance(model.generate("Hello", max_tokens=2, temperature=0.0), str)  # still usable


# 11: sampling parameters ----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc", [
    (dict(temperature=-0.1), ValueError), (dict(temperature=float("nan")), ValueError),
    (dict(temperature=float("inf")), ValueError), (dict(top_k=-1), ValueError), (dict(top_p=0.0), ValueError),
    (dict(top_p=1.5), ValueError), (dict(min_p=-0.5), ValueError), (dict(min_p=2.0), ValueError),
    (dict(repeat_penalty=0.0), ValueError), (dict(frequency_penalty=float("nan")), ValueError),
    (dict(penalty_last_n=-2), ValueError), (dict(max_tokens=-5), ValueError), (dict(seed=-1), ValueError),
    (dict(seed=2**64), ValueError), (dict(top_k=2**40), (TypeError, ValueError)), (dict(temperature="hot"), TypeError),
    (dict(max_tokens=2.5), TypeError), (dict(stop=[1]), TypeError), (dict(stop=[""]), ValueError),
    (dict(top_k=True), TypeError),
])
def test_out_of_range_sampling_parameters(model, kwargs, exc) -> None:
    with pytest.raises(exc):
        model.generate("Hello", **kwargs)


@pytest.mark.parametrize("kwargs, name", [
    (dict(max_tokens=2**70), "max_tokens"), (dict(top_k=2**40), "top_k"), (dict(top_k=-2**40), "top_k"),
    (dict(penalty_last_n=2**40), "penalty_last_n"), (dict(seed=2**70), "seed"), (dict(temperature=10**400), "temperature"),
])
def test_integers_beyond_their_type_name_the_parameter(model, kwargs, name) -> None:
    with pytest.raises(ValueError, match=name) as e:
        model.generate("Hello", **kwargs)
    assert "incompatible" not in str(e.value)  # not pybind11's signature dump


@pytest.mark.parametrize("kwargs", [dict(n_ctx=2**63), dict(n_batch=2**63), dict(n_threads=2**63)])
def test_model_integers_beyond_their_type_name_the_parameter(tiny, model, kwargs) -> None:
    (name,) = kwargs
    with pytest.raises(ValueError, match=name):
        ple.Model(tiny, **kwargs)
    with pytest.raises(ValueError, match=name):
        model.session(**kwargs)


@pytest.mark.parametrize("stop", ["\ud800", ["ok", "x\udcff"]])
def test_unencodable_stop_strings(model, stop) -> None:
    with pytest.raises(ValueError, match="stop string"):
        model.generate("Hello", stop=stop)


@pytest.mark.parametrize("prompt", [b"hello", bytearray(b"hello"), memoryview(b"hello")])
def test_bytes_prompt_is_a_type_error(model, prompt) -> None:
    for call in (model.generate, model.stream, model.create_completion, model.session().generate):
        with pytest.raises(TypeError, match="prompt must be a str"):
            call(prompt, max_tokens=1)


# 12: token ids ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("ids", [[-1], [10**6], [1, 2, 2**31], [2**70]])
def test_token_ids_out_of_range(model, ids) -> None:
    with pytest.raises(ValueError, match="out of range"):
        model.detokenize(ids)
    with pytest.raises(ValueError, match="out of range"):
        model.logits(ids)
    with pytest.raises(ValueError, match="out of range"):
        model.generate(ids, max_tokens=1)


def test_token_ids_of_wrong_type(model) -> None:
    for ids in (["a"], [1.0], [None]):
        with pytest.raises(TypeError):
            model.detokenize(ids)


# 13: text that is not UTF-8 ---------------------------------------------------------------------------

def test_non_utf8_text(model) -> None:
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate cannot be encoded: a ValueError
        model.tokenize("abc\udcff")
    with pytest.raises(TypeError):
        model.tokenize(b"\xff\xfe")
    # Ids whose bytes are not UTF-8 (byte-level tokens of a split code point; the small vocabulary
    # has byte b at id b) detokenize with U+FFFD, and generation streams only complete UTF-8.
    assert model.detokenize([0xC3]) == "\ufffd"
    assert model.detokenize([0xC3, 0xA9]) == "\u00e9"
    assert model.detokenize([0xFF, 0x41]) == "\ufffdA"


# 14: the model file changed on disk while mapped ---------------------------------------------------

def test_file_truncated_while_mapped_raises_instead_of_sigbus(tiny, tmp_path) -> None:
    path = copy(tiny, tmp_path)
    m = ple.Model(path, n_ctx=32, n_threads=1)
    m.generate("Hello", max_tokens=2, temperature=0.0)
    os.truncate(path, os.path.getsize(path) // 2)
    with pytest.raises(OSError, match="modified on disk") as info:
        m.generate("Hello world", max_tokens=2, temperature=0.0)
    assert info.value.errno == errno.ESTALE
    with pytest.raises(OSError, match="modified on disk"):
        m.logits([1, 2, 3])
    with pytest.raises(OSError, match="modified on disk"):
        m.file.dequantize("token_embd.weight")


def test_raw_view_of_a_truncated_file_is_sigbus_and_a_copy_is_not(tiny, tmp_path) -> None:
    """The documented residual race of GGUFFile.raw(): a zero-copy view read after truncation."""
    import signal
    import subprocess
    import sys

    from support.test_data import PACKAGE_PARENT

    path = copy(tiny, tmp_path)
    code = ("import os, sys, pyllama_edge as ple\n"
            "g = ple.GGUFFile(sys.argv[1])\n"
            "name = max(g.tensors, key=lambda n: g.tensors[n].offset)\n"  # the tensor at the end of the file
            "kept, view = g.raw(name).copy(), g.raw(name)\n"
            "os.truncate(sys.argv[1], g.tensors[name].offset - 4096)\n"
            "print(int(kept.sum()), flush=True)\n"
            "print(int(view.sum()), flush=True)\n")
    # Under the sanitizer stage the child inherits AddressSanitizer, which would turn the SIGBUS into
    # an abort: let the signal through as a user's process sees it.
    asan = ":".join(o for o in (os.environ.get("ASAN_OPTIONS", ""), "handle_sigbus=0") if o)
    r = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=PACKAGE_PARENT,
                       env={**os.environ, "ASAN_OPTIONS": asan})
    assert r.returncode == -signal.SIGBUS, (r.returncode, r.stderr)
    assert len(r.stdout.split()) == 1  # the copy was read; the view was not


def test_file_overwritten_in_place_raises(tiny, tmp_path) -> None:
    path = copy(tiny, tmp_path)
    m = ple.Model(path, n_ctx=32, n_threads=1)
    data = bytearray(path.read_bytes())
    data[-100:] = bytes(100)  # same size, different weights
    st = os.stat(path)
    with open(path, "r+b") as f:
        f.write(data)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # mtime differs even on coarse clocks
    with pytest.raises(OSError, match="modified on disk"):
        m.generate("Hello", max_tokens=1)


def test_file_replaced_by_rename_keeps_the_loaded_model(tiny, tmp_path) -> None:
    path = copy(tiny, tmp_path)
    m = ple.Model(path, n_ctx=32, n_threads=1)
    before = m.logits([1, 2, 3])
    other = copy(tiny, tmp_path, "new.gguf")
    with open(other, "r+b") as f:
        f.seek(-100, os.SEEK_END)
        f.write(bytes(100))
    os.replace(other, path)  # what a download tool does: the old inode stays mapped and intact
    assert (m.logits([1, 2, 3]) == before).all()
