"""A streaming GGUF writer for the quantizer (no dependency on the gguf package).

It writes; it never parses. Metadata comes from the core's GGUF reader as the raw bytes of each
key/value pair of the source file (``GGUFFile.metadata_pairs()``), so every value keeps its exact
GGUF type (uint32 stays uint32, arrays keep their element type); selected keys can be replaced.
Tensor data is appended in pieces, each tensor padded to the file's alignment, so a tensor never
has to be held in memory whole.

GGUF v3 layout: magic "GGUF", u32 version, u64 n_tensors, u64 n_kv, the key/value pairs (u64-length
key, u32 value type, value), the tensor infos (u64-length name, u32 n_dims, u64 dims (ne0 first),
u32 type, u64 offset into the data section), padding to the alignment, the data section.
"""
from __future__ import annotations

import struct
from typing import Dict, List, Sequence, Tuple

from . import _core

GGUF_TYPE_UINT32 = 4


def _str(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def kv_uint32(key: str, value: int) -> Tuple[str, bytes]:
    """A (key, raw pair bytes) metadata entry holding a uint32."""
    return key, _str(key) + struct.pack("<II", GGUF_TYPE_UINT32, int(value))


def replace_keys(pairs: Sequence[Tuple[str, bytes]], new: Dict[str, Tuple[str, bytes]]) -> List[Tuple[str, bytes]]:
    """pairs with the given keys replaced in place (or appended when absent)."""
    out = [new.get(k, (k, raw)) for k, raw in pairs]
    present = {k for k, _ in pairs}
    out += [v for k, v in new.items() if k not in present]
    return out


class StreamingGGUFWriter:
    """Writes header, metadata and tensor infos up front, then each tensor's bytes in pieces.

    The file appears at ``path`` only when the ``with`` block ends without an error and every
    tensor was written (through the core's AtomicFileWriter: an existing file at ``path`` stays
    as it was until then, and stays for good on an error)."""

    def __init__(self, path: str, kv: Sequence[Tuple[str, bytes]], tensors: Sequence[Tuple[str, Sequence[int], int, int]],
                 alignment: int = 32):
        """kv: (key, raw pair bytes) in file order; tensors: (name, dims ne0-first, ggml type id,
        nbytes) in file order."""
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
