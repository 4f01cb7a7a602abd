"""Exceptions raised by pyllama_edge. They are defined by the native core (so C++ errors map to
them directly) and re-exported here."""
from ._core import ContextOverflowError, GGUFError, UnsupportedModelError

__all__ = ["ContextOverflowError", "GGUFError", "UnsupportedModelError"]
