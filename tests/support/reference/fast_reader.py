"""A GGUFReader-shaped view of a file parsed by pyllama_edge's C++ reader (whose tensor table is
itself tested against gguf.GGUFReader), so the numpy reference can load files with 128k-token
vocabularies in a second. Dequantization stays with gguf.quants: the oracle is unchanged."""
from __future__ import annotations

from typing import Any

import numpy as np
from gguf import GGMLQuantizationType

import pyllama_edge as ple


class _Field:
    def __init__(self, value: Any):
        self._value = value

    def contents(self) -> Any:
        return self._value


class _Tensor:
    def __init__(self, g: "ple.GGUFFile", info: "ple.TensorInfo"):
        self.name = info.name
        self.shape = np.array(list(reversed(info.shape)))  # ggml order, as GGUFReader reports it
        self.tensor_type = GGMLQuantizationType[info.type]
        self.data = np.array(g.raw(info.name))  # bytes; gguf.quants.dequantize reads the blocks


class FastReader:
    def __init__(self, path):
        g = ple.GGUFFile(path)
        self._meta = g.metadata
        self.tensors = [_Tensor(g, t) for t in g.tensors.values()]

    def get_field(self, key: str):
        return _Field(self._meta[key]) if key in self._meta else None
