"""What a model argument names: a GGUF file path, a short name from the table below
(`llama3.2:1b`), or a Hugging Face Hub repository with an optional quant tag
(`bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M`). No network here: this only reads the text."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Union


@dataclass(frozen=True)
class KnownModel:
    name: str
    repo_id: str
    quant: str
    description: str
    approx_gb: float  # size of the default quant's file, for the table in `pyllama-edge list --known`


# One row per model this project is for. Default quants fit the board size in the description
# with room for the KV cache and the OS (README, "What fits").
KNOWN_MODELS: Dict[str, KnownModel] = {m.name: m for m in (
    KnownModel("llama3.2:1b", "bartowski/Llama-3.2-1B-Instruct-GGUF", "Q4_K_M",
               "Llama 3.2 1B Instruct (4 GB board)", 0.81),
    KnownModel("llama3.2:3b", "bartowski/Llama-3.2-3B-Instruct-GGUF", "Q4_K_M",
               "Llama 3.2 3B Instruct (4 GB board)", 2.02),
    KnownModel("llama3.1:8b", "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", "Q4_K_M",
               "Llama 3.1 8B Instruct (8 GB board)", 4.92),
    KnownModel("smollm2:135m", "bartowski/SmolLM2-135M-Instruct-GGUF", "Q8_0",
               "SmolLM2 135M Instruct (any board)", 0.15),
    KnownModel("smollm2:360m", "bartowski/SmolLM2-360M-Instruct-GGUF", "Q8_0",
               "SmolLM2 360M Instruct (any board)", 0.39),
    KnownModel("smollm2:1.7b", "bartowski/SmolLM2-1.7B-Instruct-GGUF", "Q4_K_M",
               "SmolLM2 1.7B Instruct (4 GB board)", 1.06),
    KnownModel("tinyllama:1.1b", "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF", "Q4_K_M",
               "TinyLlama 1.1B Chat v1.0 (4 GB board)", 0.67),
)}


@dataclass(frozen=True)
class HubReference:
    """A GGUF file (or split set) to take from a Hub repository: by quant tag, by file name, or
    (neither given) the repository's only GGUF file or its Q4_K_M one."""
    repo_id: str
    quant: Optional[str] = None
    filename: Optional[str] = None
    revision: Optional[str] = None
    short_name: Optional[str] = None

    def __str__(self) -> str:
        if self.short_name:
            return self.short_name
        return f"{self.repo_id}/{self.filename}" if self.filename else \
            (f"{self.repo_id}:{self.quant}" if self.quant else self.repo_id)


_REPO_ID = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)(?::(?P<quant>[\w.-]+))?$")
_SPLIT_PART = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$", re.IGNORECASE)
# Quant tags as llama.cpp and the well-known uploaders spell them: Q4_K_M, IQ4_XS, Q4_0_4_4,
# Q8_0, F16, BF16, UD-Q4_K_XL (the last piece counts).
_QUANT_TAG = re.compile(r"^(?:I?Q\d[A-Z0-9_]*|F16|F32|BF16)$", re.IGNORECASE)


class UnknownModelNameError(ValueError):
    """A name without "/" that is neither a file nor in KNOWN_MODELS."""


def parse_model_argument(text: str) -> Union[str, HubReference]:
    """A path (returned unchanged: the caller opens it and reports a missing file) or a HubReference."""
    if os.path.exists(text) or text.lower().endswith(".gguf"):
        return text
    known = KNOWN_MODELS.get(text.lower())
    if known:
        return HubReference(known.repo_id, quant=known.quant, short_name=known.name)
    match = _REPO_ID.match(text)
    if match:
        return HubReference(match["repo"], quant=match["quant"])
    if ":" in text and "/" not in text and os.sep not in text:
        raise UnknownModelNameError(f"unknown model name {text!r}; known names: {', '.join(KNOWN_MODELS)} "
                                    "(or give a file path, or a Hub repository as OWNER/REPO[:QUANT])")
    return text


def known_name_for(repo_id: str, quant: Optional[str]) -> Optional[str]:
    for m in KNOWN_MODELS.values():
        if m.repo_id.lower() == repo_id.lower() and quant and m.quant.lower() == quant.lower():
            return m.name
    return None


def split_part(filename: str) -> Optional[tuple]:
    """(part, count) for `name-00001-of-00003.gguf`, else None."""
    match = _SPLIT_PART.search(filename)
    return (int(match[1]), int(match[2])) if match else None


def split_part_names(first_part: str) -> List[str]:
    """Every part's file name of the split set whose first part is given."""
    match = _SPLIT_PART.search(first_part)
    assert match, first_part
    count = int(match[2])
    stem = first_part[:match.start()]
    return [f"{stem}-{i:05d}-of-{count:05d}.gguf" for i in range(1, count + 1)]


def quant_tag(filename: str) -> Optional[str]:
    """The quant tag a GGUF file name carries (upper case), e.g. Q4_K_M for
    `Llama-3.2-1B-Instruct-Q4_K_M.gguf` or `tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf`."""
    name = os.path.basename(filename)
    match = _SPLIT_PART.search(name)
    stem = name[:match.start()] if match else re.sub(r"\.gguf$", "", name, flags=re.IGNORECASE)
    for piece in reversed(re.split(r"[-.]", stem)):
        if _QUANT_TAG.match(piece):
            return piece.upper()
    return None
