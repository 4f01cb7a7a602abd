"""Text embeddings (Model.embed, Model.create_embedding): each text's final hidden states after the
output norm, pooled by the core in one call per batch of texts, without computing logits."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

if TYPE_CHECKING:
    from .model import Model

POOLINGS = ("mean", "cls", "last")
# GGUF's <arch>.pooling_type (llama.cpp's llama_pooling_type): 1 mean, 2 cls, 3 last. 0 (one vector
# per token) and 4 (a reranker's head) give no single vector per text; those files get the mean.
_GGUF_POOLINGS = {1: "mean", 2: "cls", 3: "last"}

Texts = Union[str, Sequence[str]]


def default_pooling(metadata: Dict[str, Any]) -> str:
    """The pooling the file asks for (<arch>.pooling_type), else "mean"."""
    value = metadata.get(f"{metadata.get('general.architecture')}.pooling_type")
    return _GGUF_POOLINGS.get(value, "mean") if isinstance(value, int) else "mean"


def texts_arg(texts: Texts, name: str = "texts") -> List[str]:
    """A str is one text; otherwise a non-empty sequence of non-empty str."""
    if isinstance(texts, str):
        texts = [texts]
    elif isinstance(texts, (bytes, bytearray, memoryview)) or not isinstance(texts, Sequence):
        raise TypeError(f"{name} must be a str or a list of str, got {type(texts).__name__}")
    if len(texts) == 0:
        raise ValueError(f"{name} is empty; pass a str or a non-empty list of str")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{name}[{i}] must be a str, got {type(text).__name__}")
        if not text:
            raise ValueError(f"{name}[{i}] is an empty string; there is nothing to embed")
    return list(texts)


def embed(model: "Model", texts: Texts, pooling: Optional[str], normalize: bool) -> Tuple[np.ndarray, int]:
    """(float32 [len(texts), n_embd], the number of tokens evaluated)."""
    texts = texts_arg(texts)
    if pooling is None:
        pooling = default_pooling(model.metadata)
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {', '.join(map(repr, POOLINGS))}, got {pooling!r}")
    ids = [model.tokenize(text) for text in texts]
    vectors = model._embed_ids(ids, pooling, bool(normalize))
    return vectors, sum(len(i) for i in ids)


def embedding_response(model: "Model", input: Texts, model_name: Optional[str]) -> Dict[str, Any]:
    """OpenAI's embeddings response: unit-length vectors, one per input, in order."""
    vectors, n_tokens = embed(model, texts_arg(input, "input"), None, True)
    return {"object": "list",
            "data": [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)],
            "model": model_name if model_name is not None else model.path,
            "usage": {"prompt_tokens": n_tokens, "total_tokens": n_tokens}}
