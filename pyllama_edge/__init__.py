"""pyllama_edge: run GGUF-quantized Llama-family models on CPUs, offline."""
from . import _core
from .errors import ContextOverflowError, GGUFError, UnsupportedModelError
from .gguf_file import GGUFFile, TensorInfo
from . import quant
from .model import Model, Session

__version__ = "0.1.0"

__all__ = [
    "ContextOverflowError",
    "GGUFError",
    "GGUFFile",
    "Model",
    "Session",
    "TensorInfo",
    "UnsupportedModelError",
    "quant",
    "__version__",
]
