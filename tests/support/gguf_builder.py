"""A small GGUF byte builder for tests: a file is described by Python structures (header fields,
key-value pairs, tensor infos, tensor bytes) and serialized exactly as written, so a test can make
one field wrong in one line. Unlike gguf.GGUFWriter it writes anything it is given: empty arrays,
invalid type ids, non-UTF-8 names, wrong counts, misplaced offsets.

Layout (GGUF v2/v3, little-endian):
  magic "GGUF" | u32 version | u64 n_tensors | u64 n_kv
  n_kv x (string key | u32 type | value)
  n_tensors x (string name | u32 n_dims | n_dims x u64 ne | u32 type | u64 offset)
  padding to the alignment | tensor data (offsets relative to this point)
where a string is u64 length + bytes and an array value is u32 element type + u64 count +
elements.
"""
from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass, field
from typing import Any, List, Optional, Sequence, Union

from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType

T = GGUFValueType
Q = GGMLQuantizationType

SCALAR_FORMATS = {
    T.UINT8: "<B", T.INT8: "<b", T.UINT16: "<H", T.INT16: "<h", T.UINT32: "<I", T.INT32: "<i",
    T.FLOAT32: "<f", T.UINT64: "<Q", T.INT64: "<q", T.FLOAT64: "<d", T.BOOL: "<B",
}


@dataclass
class Arr:
    """An array value: element type id and items (nested arrays are Arr items)."""
    element_type: int
    items: Sequence[Any]
    count: Optional[int] = None  # overrides the written element count


@dataclass
class Raw:
    """Bytes written verbatim in place of a value (or of a key or tensor name)."""
    data: bytes


def pack_string(s: Union[str, bytes, Raw], length: Optional[int] = None) -> bytes:
    if isinstance(s, Raw):
        return s.data
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("<Q", len(b) if length is None else length) + b


def pack_value(vtype: int, value: Any) -> bytes:
    """The bytes of a value of type `vtype`, without the type id."""
    if isinstance(value, Raw):
        return value.data
    if vtype == T.STRING:
        return pack_string(value)
    if vtype == T.ARRAY:
        count = len(value.items) if value.count is None else value.count
        out = struct.pack("<IQ", value.element_type, count)
        return out + b"".join(pack_value(value.element_type, item) for item in value.items)
    return struct.pack(SCALAR_FORMATS[T(vtype)], value)


@dataclass
class KV:
    key: Union[str, bytes, Raw]
    type: int
    value: Any


@dataclass
class Tensor:
    name: Union[str, bytes, Raw]
    ne: Sequence[int]                 # ggml order: ne[0] is the row length
    type: int = Q.F32
    data: Optional[bytes] = None      # default: zero bytes of the size the type and shape imply
    offset: Optional[int] = None      # written offset field (relative to the data section);
                                      # default: where the data is laid out, in order
    n_dims: Optional[int] = None      # overrides the written dimension count

    def nbytes(self) -> int:
        """Bytes the type and shape imply (0 for a type id gguf does not know)."""
        if self.type not in Q._value2member_map_:
            return 0
        block, size = GGML_QUANT_SIZES[Q(self.type)]
        n = 1
        for d in self.ne:
            n *= d
        return n // block * size


@dataclass
class Layout:
    """Absolute byte offsets of the pieces of a built file."""
    kv: List[int]           # start of each key-value pair (its key length)
    kv_value: List[int]     # start of each value (after the type id)
    tensor_info: List[int]  # start of each tensor info (its name length)
    tensor_offset_field: List[int]  # the u64 offset field of each tensor info
    infos_end: int
    data_start: int
    tensor_data: List[int]  # absolute start of each tensor's data
    size: int


@dataclass
class GGUF:
    kvs: List[KV] = field(default_factory=list)
    tensors: List[Tensor] = field(default_factory=list)
    version: int = 3
    magic: bytes = b"GGUF"
    n_kv: Optional[int] = None        # overrides the header counts
    n_tensors: Optional[int] = None
    alignment: int = 32               # used for layout only; general.alignment is a KV like any other

    def replace(self, **changes: Any) -> "GGUF":
        return dataclasses.replace(self, **changes)

    def build_with_layout(self) -> "tuple[bytes, Layout]":
        out = bytearray(self.magic)
        out += struct.pack("<I", self.version)
        out += struct.pack("<Q", len(self.tensors) if self.n_tensors is None else self.n_tensors)
        out += struct.pack("<Q", len(self.kvs) if self.n_kv is None else self.n_kv)
        kv_starts, value_starts = [], []
        for kv in self.kvs:
            kv_starts.append(len(out))
            out += pack_string(kv.key)
            out += struct.pack("<I", kv.type)
            value_starts.append(len(out))
            out += pack_value(kv.type, kv.value)

        data = bytearray()  # each tensor's bytes at the next aligned place, in order
        offsets = []
        for t in self.tensors:
            data += bytes(_align(len(data), self.alignment) - len(data))
            offsets.append(len(data))
            data += self._data(t)
        if self.tensors:
            data += bytes(_align(len(data), self.alignment) - len(data))

        info_starts, offset_fields = [], []
        for t, off in zip(self.tensors, offsets):
            info_starts.append(len(out))
            out += pack_string(t.name)
            out += struct.pack("<I", len(t.ne) if t.n_dims is None else t.n_dims)
            out += b"".join(struct.pack("<Q", d) for d in t.ne)
            out += struct.pack("<I", t.type)
            offset_fields.append(len(out))
            out += struct.pack("<Q", off if t.offset is None else t.offset)
        infos_end = len(out)

        data_start = _align(len(out), self.alignment)
        out += bytes(data_start - len(out)) + data
        layout = Layout(kv_starts, value_starts, info_starts, offset_fields, infos_end, data_start,
                        [data_start + off for off in offsets], len(out))
        return bytes(out), layout

    def build(self) -> bytes:
        return self.build_with_layout()[0]

    @staticmethod
    def _data(t: Tensor) -> bytes:
        return bytes(t.nbytes()) if t.data is None else t.data


def _align(x: int, a: int) -> int:
    return (x + a - 1) // a * a

