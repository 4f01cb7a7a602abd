"""Exceptions raised by pyllama_edge. The core's are defined by the native module (so C++ errors map
to them directly) and re-exported here; the Python layer's own are defined here."""
from ._core import ContextOverflowError, GGUFError, UnsupportedModelError


class ChatTemplateError(ValueError):
    """A chat template that failed to render (syntax error, raise_exception, limits)."""


__all__ = ["ChatTemplateError", "ContextOverflowError", "GGUFError", "UnsupportedModelError"]
