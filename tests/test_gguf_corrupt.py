"""Corrupt GGUF files: each kind raises pyllama_edge.GGUFError naming the problem, never crashes or
hangs. Files are described with the test byte builder so each corruption is one line; a fuzz test
then mutates a valid file at random."""
from __future__ import annotations

import itertools
import os
import struct
import tempfile
from pathlib import Path
from typing import Callable, List

import numpy as np
import pytest
from gguf import GGMLQuantizationType, GGUFValueType
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pyllama_edge as ple
from support.gguf_builder import GGUF, KV, Arr, Raw, Tensor

T = GGUFValueType
Q = GGMLQuantizationType
U64 = struct.Struct("<Q")


def base() -> GGUF:
    """A small valid file touching every section: scalars, arrays, strings, three tensors."""
    return GGUF(
        kvs=[
            KV("general.architecture", T.STRING, "llama"),
            KV("general.alignment", T.UINT32, 32),
            KV("a.count", T.UINT32, 3),
            KV("a.list", T.ARRAY, Arr(T.INT32, [1, 2, 3, 4])),
            KV("a.names", T.ARRAY, Arr(T.STRING, ["x", "yy", "zzz"])),
            KV("a.flag", T.BOOL, True),
        ],
        tensors=[
            Tensor("tok_embd", [32, 2], Q.F32, data=np.arange(64, dtype=np.float32).tobytes()),
            Tensor("blk.0.q", [64, 2], Q.Q8_0),
            Tensor("out", [32], Q.F16, data=np.ones(32, dtype=np.float16).tobytes()),
        ],
    )


def with_kv(*kvs: KV) -> GGUF:
    g = base()
    return g.replace(kvs=g.kvs + list(kvs))


def with_tensor(i: int, **changes) -> GGUF:
    """base() with tensor i changed."""
    g = base()
    tensors = list(g.tensors)
    tensors[i] = Tensor(**{**tensors[i].__dict__, **changes})
    return g.replace(tensors=tensors)


def cut(g: GGUF, where: Callable) -> bytes:
    """g's bytes truncated at where(layout)."""
    data, layout = g.build_with_layout()
    return data[:where(layout)]


def nested(depth: int) -> Raw:
    """An array value nesting `depth` arrays, the innermost holding one int32."""
    return Raw(struct.pack("<IQ", T.ARRAY, 1) * (depth - 1) + struct.pack("<IQi", T.INT32, 1, 7))


def test_base_file_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "ok.gguf"
    path.write_bytes(base().build())
    with ple.GGUFFile(path) as g:
        assert g.metadata["a.names"] == ["x", "yy", "zzz"]
        assert g.dequantize("tok_embd").ravel().tolist() == list(range(64))
        assert g.dequantize("out").tolist() == [1.0] * 32


# (id, file bytes, substrings the message must contain)
CASES = [
    # header
    ("bad_magic", base().replace(magic=b"GGUX").build(), ["magic"]),
    ("magic_lowercase", base().replace(magic=b"gguf").build(), ["magic"]),
    ("version_0", base().replace(version=0).build(), ["unknown version 0", "byte 4"]),
    ("version_1", base().replace(version=1).build(), ["version 1"]),
    ("version_4", base().replace(version=4).build(), ["unknown version 4"]),
    ("big_endian_v3", base().replace(version=0x03000000).build(), ["big-endian"]),
    ("only_magic", b"GGUF", ["truncated", "version"]),
    ("truncated_header", base().build()[:12], ["truncated", "tensor count"]),
    ("truncated_header_kv_count", base().build()[:20], ["truncated", "metadata count"]),
    ("kv_count_huge", base().replace(n_kv=2**63).build(), ["metadata count", "byte 16"]),
    ("kv_count_max", base().replace(n_kv=2**64 - 1).build(), ["metadata count"]),
    ("tensor_count_huge", base().replace(n_tensors=2**40).build(), ["tensor count", "byte 8"]),
    ("tensor_count_plus_one", base().replace(n_tensors=4).build(), ["tensor #3"]),
    # keys
    ("truncated_in_key_length", cut(base(), lambda l: l.kv[2] + 3), ["truncated", "metadata key #2 length"]),
    ("truncated_in_key", cut(base(), lambda l: l.kv[2] + 8 + 2), ["truncated", "metadata key #2"]),
    ("key_length_huge", with_kv(KV(Raw(U64.pack(2**62) + b"k"), T.UINT8, 0)).build(), ["metadata key #6 length", "limit"]),
    ("empty_key", with_kv(KV("", T.UINT8, 0)).build(), ["metadata key #6 is empty"]),
    ("duplicate_key", with_kv(KV("a.count", T.UINT32, 4)).build(), ["duplicate metadata key 'a.count'"]),
    ("key_bad_utf8", with_kv(KV(b"bad\xff", T.UINT8, 0)).build(), ["metadata key #6", "UTF-8"]),
    ("key_overlong_utf8", with_kv(KV(b"a\xc0\xaf", T.UINT8, 0)).build(), ["metadata key #6", "UTF-8"]),
    ("key_surrogate_utf8", with_kv(KV(b"\xed\xa0\x80", T.UINT8, 0)).build(), ["metadata key #6", "UTF-8"]),
    ("key_truncated_utf8", with_kv(KV(b"ab\xe4\xb8", T.UINT8, 0)).build(), ["metadata key #6", "UTF-8"]),
    # values
    ("truncated_in_value_type", cut(base(), lambda l: l.kv_value[2] - 2), ["truncated", "type of metadata 'a.count'"]),
    ("truncated_in_scalar", cut(base(), lambda l: l.kv_value[2] + 2), ["truncated", "'a.count'"]),
    ("truncated_in_string_value", cut(GGUF(kvs=[KV("s", T.STRING, "hello world")]), lambda l: l.kv_value[0] + 8 + 2),
     ["truncated", "metadata 's'", "needs 11 bytes, 2 left"]),
    ("truncated_file_many_kvs", cut(base(), lambda l: l.kv_value[0] + 8 + 2), ["metadata count 6", "larger than the file"]),
    ("truncated_in_array", cut(base(), lambda l: l.kv_value[3] + 12 + 5), ["'a.list'", "claims 4 elements", "5 bytes left"]),
    ("truncated_in_array_header", cut(base(), lambda l: l.kv_value[3] + 6), ["truncated", "'a.list' element count"]),
    ("truncated_in_string_array", cut(base(), lambda l: l.kv_value[4] + 12 + 9 + 10 + 8 + 1), ["truncated", "'a.names'[2]"]),
    ("string_value_length_huge", with_kv(KV("s", T.STRING, Raw(U64.pack(2**64 - 1)))).build(), ["truncated", "metadata 's'", "needs 18446744073709551615 bytes"]),
    ("string_value_length_past_eof", with_kv(KV("s", T.STRING, Raw(U64.pack(10**6) + b"abc"))).build(), ["truncated", "metadata 's'", "needs 1000000 bytes"]),
    ("array_count_huge", with_kv(KV("a", T.ARRAY, Arr(T.INT32, [1], count=2**61))).build(), ["'a'", "claims"]),
    ("array_count_overflows_size", with_kv(KV("a", T.ARRAY, Arr(T.UINT64, [1], count=2**62))).build(), ["'a'", "claims"]),
    ("string_array_count_huge", with_kv(KV("a", T.ARRAY, Arr(T.STRING, ["x"], count=2**60))).build(), ["'a'", "claims"]),
    ("nested_array_count_huge", with_kv(KV("a", T.ARRAY, Arr(T.ARRAY, [], count=2**50))).build(), ["'a'", "claims"]),
    ("string_in_array_length_huge", with_kv(KV("a", T.ARRAY, Arr(T.STRING, [Raw(U64.pack(2**63))]))).build(), ["truncated", "metadata 'a'[0]", "needs 9223372036854775808"]),
    ("nested_array_too_deep", with_kv(KV("deep", T.ARRAY, nested(9))).build(), ["'deep'", "deeper than 8"]),
    ("nested_array_very_deep", with_kv(KV("deep", T.ARRAY, nested(100_000))).build(), ["'deep'", "deeper"]),
    ("invalid_value_type", with_kv(KV("k", 13, Raw(bytes(8)))).build(), ["metadata 'k'", "invalid value type 13"]),
    ("invalid_value_type_max", with_kv(KV("k", 0xFFFFFFFF, Raw(bytes(8)))).build(), ["metadata 'k'", "invalid value type 4294967295"]),
    ("invalid_array_element_type", with_kv(KV("k", T.ARRAY, Arr(99, [], count=1))).build(), ["'k'", "invalid element type 99"]),
    ("invalid_nested_element_type", with_kv(KV("k", T.ARRAY, Arr(T.ARRAY, [Arr(13, [])]))).build(), ["'k'[0]", "invalid element type 13"]),
    ("bool_value_2", with_kv(KV("b", T.BOOL, Raw(b"\x02"))).build(), ["'b'", "bool with value 2"]),
    ("bool_array_value_7", with_kv(KV("b", T.ARRAY, Arr(T.BOOL, [Raw(b"\x01"), Raw(b"\x07")]))).build(), ["'b'[1]", "bool with value 7"]),
    # general.alignment
    ("alignment_48", base().replace(kvs=[KV("general.alignment", T.UINT32, 48)]).build(), ["general.alignment", "got 48 (at byte 53)"]),
    ("alignment_1", base().replace(kvs=[KV("general.alignment", T.UINT32, 1)]).build(), ["general.alignment", "from 8", "got 1"]),
    ("alignment_4", base().replace(kvs=[KV("general.alignment", T.UINT32, 4)]).build(), ["general.alignment", "from 8", "got 4"]),
    ("alignment_zero", base().replace(kvs=[KV("general.alignment", T.UINT32, 0)]).build(), ["general.alignment", "got 0"]),
    ("alignment_too_big", base().replace(kvs=[KV("general.alignment", T.UINT32, 2**30)]).build(), ["general.alignment"]),
    ("alignment_negative", base().replace(kvs=[KV("general.alignment", T.INT32, -32)]).build(), ["general.alignment", "-32"]),
    ("alignment_u64_huge", base().replace(kvs=[KV("general.alignment", T.UINT64, 2**64 - 32)]).build(), ["general.alignment", "got 18446744073709551584"]),
    ("alignment_string", base().replace(kvs=[KV("general.alignment", T.STRING, "32")]).build(), ["general.alignment", "string"]),
    ("alignment_float", base().replace(kvs=[KV("general.alignment", T.FLOAT32, 32.0)]).build(), ["general.alignment", "float32"]),
    ("alignment_array", base().replace(kvs=[KV("general.alignment", T.ARRAY, Arr(T.UINT32, [32]))]).build(), ["general.alignment", "array"]),
    # tensor infos
    ("truncated_in_tensor_name", cut(base(), lambda l: l.tensor_info[1] + 10), ["truncated", "name of tensor #1"]),
    ("truncated_in_tensor_dims", cut(base(), lambda l: l.tensor_info[1] + 8 + 7 + 4 + 3), ["truncated", "dimension 0 of tensor 'blk.0.q'"]),
    ("truncated_in_tensor_offset", cut(base(), lambda l: l.tensor_offset_field[2] + 4), ["truncated", "data offset of tensor 'out'"]),
    ("tensor_name_length_huge", with_tensor(1, name=Raw(U64.pack(2**40) + b"x")).build(), ["name of tensor #1", "length"]),
    ("tensor_name_empty", with_tensor(1, name="").build(), ["tensor #1 has an empty name"]),
    ("tensor_name_bad_utf8", with_tensor(1, name=b"w\xfe").build(), ["name of tensor #1", "UTF-8"]),
    ("duplicate_tensor_names", with_tensor(2, name="tok_embd").build(), ["duplicate tensor name 'tok_embd'"]),
    ("n_dims_0", with_tensor(0, n_dims=0).build(), ["'tok_embd'", "0 dimensions"]),
    ("n_dims_5", with_tensor(2, ne=[32, 1, 1, 1, 1]).build(), ["'out'", "5 dimensions"]),
    ("n_dims_huge", with_tensor(2, n_dims=2**31).build(), ["'out'", "2147483648 dimensions"]),
    ("dimension_zero", with_tensor(0, ne=[32, 0]).build(), ["'tok_embd'", "dimension 1 = 0"]),
    ("dimension_above_int64", with_tensor(0, ne=[2**63]).build(), ["'tok_embd'", "invalid dimension 0"]),
    ("dims_product_overflows_u64", with_tensor(0, ne=[2**32, 2**32]).build(), ["'tok_embd'", "element count", "overflows"]),
    ("dims_product_above_int64", with_tensor(0, ne=[2**32, 2**31]).build(), ["'tok_embd'", "element count"]),
    ("dims_product_overflows_4d", with_tensor(0, ne=[2**16, 2**16, 2**16, 2**16]).build(), ["'tok_embd'", "overflows"]),
    ("byte_size_overflows", with_tensor(0, ne=[2**62]).build(), ["'tok_embd'", "byte size", "overflows"]),
    ("unknown_tensor_type_4", with_tensor(1, type=4).build(), ["'blk.0.q'", "unknown tensor type id 4"]),
    ("unknown_tensor_type_huge", with_tensor(1, type=1000).build(), ["'blk.0.q'", "unknown tensor type id 1000"]),
    ("row_not_multiple_of_block", with_tensor(1, ne=[48, 2]).build(), ["'blk.0.q'", "row length 48", "Q8_0 block size 32"]),
    ("row_not_multiple_of_k_block", with_tensor(1, ne=[128, 2], type=Q.Q4_K, data=bytes(144)).build(), ["'blk.0.q'", "Q4_K block size 256"]),
    ("tensor_offset_unaligned", with_tensor(1, offset=260).build(), ["'blk.0.q'", "offset 260", "alignment 32"]),
    ("tensor_offset_unaligned_custom", base().replace(kvs=[KV("general.alignment", T.UINT32, 64)], alignment=32).build(), ["alignment 64"]),
    # tensor data
    ("tensor_data_past_eof", with_tensor(2, offset=1 << 20).build(), ["'out'", "past the end"]),
    ("tensor_offset_plus_size_overflows", with_tensor(2, offset=2**64 - 32).build(), ["'out'", "past the end"]),
    ("tensor_size_past_eof", with_tensor(2, ne=[32, 1024]).build(), ["'out'", "past the end"]),
    ("truncated_in_tensor_data", cut(base(), lambda l: l.tensor_data[2] + 1), ["'out'", "past the end"]),
    ("truncated_at_data_start", cut(base(), lambda l: l.data_start), ["past the end"]),
    ("overlapping_tensors", with_tensor(1, offset=0).build(), ["overlaps tensor"]),
    ("overlapping_tensors_partial", with_tensor(2, offset=288).build(), ["'out'", "overlaps tensor 'blk.0.q'"]),
    ("data_section_past_eof",
     cut(GGUF(kvs=[KV("general.alignment", T.UINT32, 4096)], tensors=[Tensor("t", [8])], alignment=4096), lambda l: l.infos_end),
     ["tensor data section", "4096"]),
]


@pytest.mark.parametrize("data, expected", [pytest.param(d, e, id=i) for i, d, e in CASES])
def test_corrupt_file_raises_gguf_error(tmp_path: Path, data: bytes, expected: List[str]) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(data)
    with pytest.raises(ple.GGUFError) as info:
        ple.GGUFFile(path)
    message = str(info.value)
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"


def test_at_least_thirty_kinds() -> None:
    assert len({i for i, _, _ in CASES}) == len(CASES) >= 30


def test_gguf_error_is_a_value_error() -> None:
    assert issubclass(ple.GGUFError, ValueError)


# ---- paths that are not GGUF files -----------------------------------------------------------------

def test_directory_raises_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        ple.GGUFFile(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.gguf").write_bytes(b"")
    with pytest.raises(ple.GGUFError, match="empty"):
        ple.GGUFFile(tmp_path / "empty.gguf")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        ple.GGUFFile(tmp_path / "missing.gguf")


def test_text_file(tmp_path: Path) -> None:
    (tmp_path / "model.gguf").write_text("this is not a model\n")
    with pytest.raises(ple.GGUFError, match="magic"):
        ple.GGUFFile(tmp_path / "model.gguf")


def test_short_file(tmp_path: Path) -> None:
    (tmp_path / "short.gguf").write_bytes(b"GG")
    with pytest.raises(ple.GGUFError, match="magic"):
        ple.GGUFFile(tmp_path / "short.gguf")


def test_character_device() -> None:
    with pytest.raises(ple.GGUFError, match="not a regular file"):
        ple.GGUFFile("/dev/null")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_fifo_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.gguf"
    os.mkfifo(fifo)  # opening a FIFO for reading blocks until a writer appears, unless non-blocking
    with pytest.raises(ple.GGUFError, match="not a regular file"):
        ple.GGUFFile(fifo)


# ---- random mutations --------------------------------------------------------------------------------

def fuzz_base() -> "tuple[bytes, list]":
    """A valid file with every section and the u64 fields a mutation should aim at."""
    g = base()
    g = g.replace(tensors=g.tensors + [Tensor("blk.0.k", [256], Q.Q4_K), Tensor("blk.0.v", [64], Q.Q4_0)])
    data, layout = g.build_with_layout()
    u64_fields = [8, 16] + layout.kv + layout.tensor_info + layout.tensor_offset_field
    u64_fields += [layout.kv_value[0], layout.kv_value[3] + 4, layout.kv_value[4] + 4, layout.kv_value[4] + 12]
    u64_fields += [start + 8 + len(t.name) + 4 for start, t in zip(layout.tensor_info, g.tensors)]  # ne[0]
    return data, sorted(u64_fields)


FUZZ_DATA, FUZZ_FIELDS = fuzz_base()
BIG = st.sampled_from([0, 1, 2**31, 2**32, 2**40, 2**63 - 1, 2**63, 2**64 - 1, len(FUZZ_DATA), 31, 33])

mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, len(FUZZ_DATA) - 1), st.integers(1, 255)),
    st.tuples(st.just("set"), st.integers(0, len(FUZZ_DATA) - 1), st.integers(0, 255)),
    st.tuples(st.just("truncate"), st.integers(0, len(FUZZ_DATA) - 1), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, len(FUZZ_DATA)), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("u64_field"), st.sampled_from(FUZZ_FIELDS), BIG),
    st.tuples(st.just("u64_any"), st.integers(0, len(FUZZ_DATA) - 8), BIG),
)


def mutate(data: bytes, mutations) -> bytes:
    b = bytearray(data)
    for kind, pos, arg in mutations:
        pos = min(pos, max(len(b) - 1, 0))
        if kind == "flip" and b:
            b[pos] ^= arg
        elif kind == "set" and b:
            b[pos] = arg
        elif kind == "truncate":
            del b[pos:]
        elif kind == "insert":
            b[pos:pos] = arg
        elif kind.startswith("u64") and pos + 8 <= len(b):
            b[pos:pos + 8] = U64.pack(arg)
    return bytes(b)


_fuzz_dir = tempfile.TemporaryDirectory(prefix="ple-gguf-fuzz-")
_fuzz_names = itertools.count()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutation, min_size=1, max_size=4))
def test_mutated_file_parses_or_raises_gguf_error(mutations) -> None:
    # A new file per example: a mapping of an earlier example may still be alive.
    path = Path(_fuzz_dir.name) / f"m{next(_fuzz_names)}.gguf"
    path.write_bytes(mutate(FUZZ_DATA, mutations))
    try:
        try:
            g = ple.GGUFFile(path)
        except ple.GGUFError as e:
            assert str(e)
            return
        with g:
            assert isinstance(g.metadata, dict)
            for name, info in g.tensors.items():
                raw = g.raw(name)
                assert raw.nbytes == info.nbytes and info.offset + info.nbytes <= g.file_size
                try:
                    x = g.dequantize(name)
                except ple.UnsupportedModelError:
                    continue
                assert x.shape == info.shape
    finally:
        path.unlink()
