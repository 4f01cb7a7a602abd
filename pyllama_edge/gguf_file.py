"""Read-only access to GGUF files: metadata, tensor table, zero-copy tensor bytes."""
from __future__ import annotations

import os
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from . import _core


class TensorInfo(NamedTuple):
    name: str
    shape: Tuple[int, ...]  # numpy (row-major) order: the last axis is contiguous
    type: str               # "Q4_0", "F32", ...
    offset: int             # absolute byte offset of the data in the file
    nbytes: int


class GGUFFile:
    """A memory-mapped, validated GGUF file.

    Raises ``FileNotFoundError`` for a missing path and :class:`pyllama_edge.GGUFError` (a
    ``ValueError``) naming the field and byte offset for anything invalid in the file.
    """

    def __init__(self, path: str | os.PathLike[str]):
        self._path = os.fspath(path)
        self._reader = _core.GGUFReader(self._path)
        self._metadata: Dict[str, Any] | None = None
        self._tensors: Dict[str, TensorInfo] | None = None

    @property
    def path(self) -> str:
        return self._reader.path

    @property
    def version(self) -> int:
        return self._reader.version

    @property
    def alignment(self) -> int:
        return self._reader.alignment

    @property
    def file_size(self) -> int:
        return self._reader.file_size

    def _check_open(self) -> None:
        # The cached dicts would outlive close(); refuse them like every other use of a closed file.
        if self._reader.closed:
            raise ValueError(f"GGUF file {self._path!r} is closed")

    @property
    def metadata(self) -> Dict[str, Any]:
        self._check_open()
        if self._metadata is None:
            self._metadata = self._reader.metadata()
        return self._metadata

    @property
    def tensors(self) -> Dict[str, TensorInfo]:
        self._check_open()
        if self._tensors is None:
            self._tensors = {t[0]: TensorInfo(*t) for t in self._reader.tensor_infos()}
        return self._tensors

    def metadata_pairs(self) -> List[Tuple[str, bytes]]:
        """[(key, the raw bytes of the key/value pair)] in file order: what a writer copies to keep
        every value's exact GGUF type (``gguf_writer.StreamingGGUFWriter`` takes these)."""
        self._check_open()
        return self._reader.metadata_pairs()

    def memory_estimate(self, n_ctx: Optional[int] = None, kv_type: str = "f16") -> Optional[Dict[str, Any]]:
        """What a Model of this file needs at ``n_ctx`` (default: min(4096, the training context)):
        {"n_ctx", "weight_bytes" (memory-mapped), "kv_cache_bytes" (None when ``kv_type`` cannot hold
        this model's heads)}; None when the metadata lacks the hyper-parameters."""
        self._check_open()
        return _core.memory_estimate(self._reader, n_ctx or 0, kv_type)

    def raw(self, name: str) -> np.ndarray:
        """The tensor's bytes as a read-only uint8 view of the mapping (no copy); the view keeps
        the mapping alive even after :meth:`close`."""
        return self._reader.raw(name)

    def dequantize(self, name: str) -> np.ndarray:
        """The tensor as a new float32 array of shape ``tensors[name].shape``."""
        return self._reader.dequantize(name)

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> "GGUFFile":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._reader.closed else f"{len(self.tensors)} tensors"
        return f"GGUFFile({self._path!r}, {state})"
