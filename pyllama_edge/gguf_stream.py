"""A small streaming GGUF writer (no dependency on the gguf package), for the quantizer.

Metadata is copied as the raw bytes of each key/value pair of the source file (so every value keeps
its exact GGUF type: uint32 stays uint32, arrays keep their element type); selected keys can be
replaced. Tensor data is appended in pieces, each tensor padded to the file's alignment, so a
tensor never has to be held in memory whole.

GGUF v3 layout: magic "GGUF", u32 version, u64 n_tensors, u64 n_kv, the key/value pairs (u64-length
key, u32 value type, value), the tensor infos (u64-length name, u32 n_dims, u64 dims (ne0 first),
u32 type, u64 offset into the data section), padding to the alignment, the data section.
"""
from __future__ import annotations

import struct
from typing import BinaryIO, Dict, List, Sequence, Tuple

from . import _core
from .errors import GGUFError

# value type id -> fixed size in bytes (strings 8, arrays 9 are variable)
_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
GGUF_TYPE_UINT32 = 4
GGUF_TYPE_STRING = 8


def read_kv_section(path: str) -> Tuple[int, List[Tuple[str, bytes]]]:
    """(alignment, [(key, raw bytes of the whole pair)]) of a GGUF file, in file order."""
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24 or head[:4] != b"GGUF":
            raise GGUFError(f"{path}: not a GGUF file (bad magic)")
        version, _n_tensors, n_kv = struct.unpack("<IQQ", head[4:])
        if version < 2:
            raise GGUFError(f"{path}: GGUF version {version} is not supported")
        pairs: List[Tuple[str, bytes]] = []
        alignment = 32
        for _ in range(n_kv):
            start = f.tell()
            key = _read_str(f, path)
            (vtype,) = struct.unpack("<I", _exact(f, 4, path))
            value_start = f.tell()
            _skip_value(f, vtype, path)
            end = f.tell()
            if key == "general.alignment" and vtype == GGUF_TYPE_UINT32:
                f.seek(value_start)
                (alignment,) = struct.unpack("<I", _exact(f, 4, path))
            f.seek(start)
            pairs.append((key, _exact(f, end - start, path)))
    return alignment, pairs


def _exact(f: BinaryIO, n: int, path: str) -> bytes:
    b = f.read(n)
    if len(b) != n:
        raise GGUFError(f"{path}: truncated metadata at byte {f.tell()}")
    return b


def _read_str(f: BinaryIO, path: str) -> str:
    (n,) = struct.unpack("<Q", _exact(f, 8, path))
    return _exact(f, n, path).decode("utf-8", errors="replace")


def _skip_value(f: BinaryIO, vtype: int, path: str) -> None:
    if vtype in _FIXED:
        f.seek(_FIXED[vtype], 1)
    elif vtype == GGUF_TYPE_STRING:
        (n,) = struct.unpack("<Q", _exact(f, 8, path))
        f.seek(n, 1)
    elif vtype == 9:
        sub, count = struct.unpack("<IQ", _exact(f, 12, path))
        if sub in _FIXED:
            f.seek(_FIXED[sub] * count, 1)
        else:
            for _ in range(count):
                _skip_value(f, sub, path)
    else:
        raise GGUFError(f"{path}: unknown metadata value type {vtype} at byte {f.tell()}")


def _str(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def kv_uint32(key: str, value: int) -> Tuple[str, bytes]:
    return key, _str(key) + struct.pack("<II", GGUF_TYPE_UINT32, int(value))


class StreamingGGUFWriter:
    """Writes header, metadata and tensor infos up front, then each tensor's bytes in pieces.

    The file appears at ``path`` only when the ``with`` block ends without an error and every
    tensor was written (through the core's AtomicFileWriter: an existing file at ``path`` stays
    as it was until then, and stays for good on an error)."""

    def __init__(self, path: str, kv: Sequence[Tuple[str, bytes]], tensors: Sequence[Tuple[str, Sequence[int], int, int]],
                 alignment: int = 32):
        """tensors: (name, dims ne0-first, ggml type id, nbytes) in file order."""
        self.alignment = alignment
        self._sizes: List[int] = []
        self._f = _core.AtomicFileWriter(path)
        try:
            out = [b"GGUF", struct.pack("<IQQ", 3, len(tensors), len(kv))]
            out += [raw for _, raw in kv]
            offset = 0
            for name, dims, type_id, nbytes in tensors:
                out.append(_str(name) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims)
                           + struct.pack("<IQ", type_id, offset))
                offset += self._padded(nbytes)
                self._sizes.append(nbytes)
            head = b"".join(out)
            self._f.write(head)
            self._f.write(b"\0" * (self._padded(len(head)) - len(head)))
        except BaseException:
            self._f.discard()
            raise
        self._index = 0
        self._written = 0

    def _padded(self, n: int) -> int:
        return (n + self.alignment - 1) // self.alignment * self.alignment

    def write(self, data) -> None:
        """Appends bytes of the current tensor (a bytes-like object or numpy array)."""
        mv = memoryview(data).cast("B")
        self._written += mv.nbytes
        if self._index >= len(self._sizes) or self._written > self._sizes[self._index]:
            raise ValueError("more tensor data than the tensor infos announced")
        self._f.write(mv)

    def end_tensor(self) -> None:
        size = self._sizes[self._index]
        if self._written != size:
            raise ValueError(f"tensor {self._index}: wrote {self._written} bytes, expected {size}")
        self._f.write(b"\0" * (self._padded(size) - size))
        self._index += 1
        self._written = 0

    def commit(self) -> None:
        """Puts the complete file in place; ValueError if a tensor is missing."""
        if self._index != len(self._sizes):
            self._f.discard()
            raise ValueError(f"wrote {self._index} of {len(self._sizes)} tensors")
        self._f.commit()

    def discard(self) -> None:
        self._f.discard()

    def __enter__(self) -> "StreamingGGUFWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def replace_keys(pairs: List[Tuple[str, bytes]], new: Dict[str, Tuple[str, bytes]]) -> List[Tuple[str, bytes]]:
    """pairs with the given keys replaced in place (or appended when absent)."""
    out = [new.get(k, (k, raw)) for k, raw in pairs]
    present = {k for k, _ in pairs}
    out += [v for k, v in new.items() if k not in present]
    return out
