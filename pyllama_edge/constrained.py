"""Constrained decoding: output that follows a JSON schema or a grammar, on llguidance.

llguidance's matcher tracks the grammar over the model's own vocabulary and writes the bitmask of
allowed next tokens straight into the native decode loop's mask buffer (GenerateParams.logits_mask),
so Python builds no per-token lists: each step is one consume_token and one mask fill, both native,
the fill with the GIL released. The vocabulary handed to llguidance is built once per Model from
the GGUF's tokens (see `llg_tokenizer`).

Keyword arguments understood by the generation calls (at most one of them):
  response_format={"type": "json_object"} or {"type": "json_schema", "json_schema": {"schema": ...}}
  json_schema=<dict, JSON string, or pydantic model class>
  grammar=<Lark grammar as llguidance takes it, or GBNF>
"""
from __future__ import annotations

import json
import threading
import weakref
from typing import Any, Dict, List, Optional

import numpy as np

# Schemas and grammars come from callers and, through tool definitions, from wherever those come
# from; these bound the work before llguidance sees them (a schema nested 10**5 deep would blow
# Python's recursion in json.dumps; a huge one would take a long compile).
MAX_SCHEMA_DEPTH = 64
MAX_SCHEMA_NODES = 20_000
MAX_GRAMMAR_CHARS = 200_000
# llguidance's own budgets, tighter than its defaults where a default allows seconds of work.
_LIMITS = dict(max_grammar_size=200_000, initial_lexer_fuel=1_000_000, step_lexer_fuel=200_000,
               max_lexer_states=50_000)
# Compact JSON as small models have seen most: `{"a": 1, "b": [2, 3]}`; no free whitespace, which
# a 135M model at temperature 0.8 would otherwise fill lines with.
JSON_OPTIONS = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}

CONSTRAINT_ARGS = ("response_format", "json_schema", "grammar")


def _llguidance():
    try:
        import llguidance
    except ImportError as e:
        raise ModuleNotFoundError(
            "constrained decoding (response_format, json_schema, grammar, tool_choice) needs llguidance: "
            "pip install 'pyllama_edge[constrained]'") from e
    return llguidance


# -- the vocabulary ----------------------------------------------------------------------------
_tokenizers: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()
_tokenizers_lock = threading.Lock()


class _VocabularyView:
    """What llguidance's TokenizerWrapper reads from a tokenizer: every token's output bytes,
    the special tokens, EOS, and an encode function (used for forced text)."""

    def __init__(self, core_tokenizer: Any):
        n = core_tokenizer.n_vocab
        self.tokens: List[bytes] = []
        self.special_token_ids: List[int] = []
        for i in range(n):
            if core_tokenizer.is_control(i):
                # llguidance's convention for special tokens: 0xFF (never valid UTF-8) before the
                # name, so no text can spell them and grammars may name them as <|...|>.
                text = core_tokenizer.token_text(i)
                self.tokens.append(b"\xff" + (text.encode("utf-8") if isinstance(text, str) else text))
                self.special_token_ids.append(i)
            else:
                # Exactly what the decode loop outputs for this token (SentencePiece's ▁ is a
                # space, byte tokens are their byte), so the grammar sees the text the caller gets.
                self.tokens.append(core_tokenizer.token_piece(i, False))
        self.eog_ids = [i for i in range(n) if core_tokenizer.is_eog(i)]
        eos = core_tokenizer.eos_id
        self.eos_token_id = eos if eos >= 0 else (self.eog_ids[0] if self.eog_ids else -1)
        bos = core_tokenizer.bos_id
        self.bos_token_id = bos if bos >= 0 else None
        self._encode = core_tokenizer.encode

    def __call__(self, text: Any) -> List[int]:
        return self._encode(text, False, False)

    @property
    def empty_token_ids(self) -> List[int]:
        """Tokens with no output bytes (unused slots): llguidance never allows them."""
        return [i for i, t in enumerate(self.tokens) if not t]


def llg_tokenizer(model: Any) -> Any:
    """llguidance's LLTokenizer for `model`'s vocabulary, built on first use (~0.1 s for 49k tokens)
    and kept as long as the model."""
    with _tokenizers_lock:
        cached = _tokenizers.get(model)
        if cached is not None:
            return cached
    llg = _llguidance()
    view = _VocabularyView(model._tokenizer)
    if view.eos_token_id < 0:
        raise ValueError(f"{model.name}: constrained decoding needs an end-of-generation token; the vocabulary has none")
    eos = view.eog_ids or [view.eos_token_id]
    tokenizer = llg.LLTokenizer(llg.TokenizerWrapper(view), n_vocab=len(view.tokens), eos_token=eos)
    with _tokenizers_lock:
        _tokenizers[model] = tokenizer
    return tokenizer


# -- grammars ----------------------------------------------------------------------------------
def _check_schema_bounds(schema: Any) -> None:
    """ValueError when the schema nests deeper than MAX_SCHEMA_DEPTH or has more than
    MAX_SCHEMA_NODES values; walks iteratively, so no depth can exhaust Python's stack."""
    stack = [(schema, 1)]
    nodes = 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_SCHEMA_NODES:
            raise ValueError(f"JSON schema too large: more than {MAX_SCHEMA_NODES} values")
        if depth > MAX_SCHEMA_DEPTH:
            raise ValueError(f"JSON schema too deeply nested: more than {MAX_SCHEMA_DEPTH} levels")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend((v, depth + 1) for v in value)


def schema_dict(schema: Any) -> Dict[str, Any]:
    """A JSON schema as a dict, from a dict, a JSON string, or a pydantic model class."""
    if isinstance(schema, type) and hasattr(schema, "model_json_schema"):
        schema = schema.model_json_schema()
    elif isinstance(schema, (str, bytes)):
        if len(schema) > MAX_GRAMMAR_CHARS:
            raise ValueError(f"JSON schema too large: more than {MAX_GRAMMAR_CHARS} characters")
        try:
            schema = json.loads(schema)
        except (json.JSONDecodeError, RecursionError) as e:
            raise ValueError(f"json_schema is not valid JSON: {e}") from None
    if isinstance(schema, bool):
        schema = {} if schema else {"not": {}}
    if not isinstance(schema, dict):
        raise TypeError(f"json_schema must be a dict, a JSON string or a pydantic model class, got {type(schema).__name__}")
    _check_schema_bounds(schema)
    return schema


# Numbers a program can read back exactly (RFC 7493's I-JSON range). Applied to integers and
# numbers the schema leaves unbounded: without it a small model at temperature 0.8 now and then
# repeats a digit until max_tokens ("4444...") and the JSON never closes.
SAFE_INTEGER = 2**53 - 1
_LITERAL_KEYS = {"enum", "const", "default", "examples"}  # values, not schemas: left as they are


def _bound_numbers(schema: Dict[str, Any]) -> Dict[str, Any]:
    """A copy of `schema` whose unbounded integer and number schemas are bounded to +-SAFE_INTEGER
    (every output still validates against the original). Iterative: depth is already bounded,
    but this keeps the walk off Python's stack."""
    root: Dict[str, Any] = {}
    stack = [(schema, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, value in items:
            if isinstance(value, (dict, list)) and key not in _LITERAL_KEYS:
                copy: Any = {} if isinstance(value, dict) else [None] * len(value)
                stack.append((value, copy))
                value = copy
            target[key] = value
        if isinstance(source, dict):
            kinds = source.get("type")
            kinds = [kinds] if isinstance(kinds, str) else kinds if isinstance(kinds, list) else []
            if "integer" in kinds or "number" in kinds:
                if "minimum" not in source and "exclusiveMinimum" not in source:
                    target["minimum"] = -SAFE_INTEGER
                if "maximum" not in source and "exclusiveMaximum" not in source:
                    target["maximum"] = SAFE_INTEGER
    return root


def json_grammar(schema: Any) -> str:
    """llguidance grammar text for a JSON schema (compact JSON, see JSON_OPTIONS)."""
    schema = _bound_numbers(schema_dict(schema))
    if "x-guidance" in schema:  # caller-supplied compile options are not taken from schemas
        schema = {k: v for k, v in schema.items() if k != "x-guidance"}
    try:
        return _llguidance().LLMatcher.grammar_from_json_schema(schema, overrides=JSON_OPTIONS)
    except (ValueError, TypeError) as e:
        raise ValueError(f"invalid JSON schema: {e}") from None


def _response_format_grammar(response_format: Any) -> Optional[str]:
    if response_format is None:
        return None
    if not isinstance(response_format, dict):
        raise TypeError(f"response_format must be a dict, got {type(response_format).__name__}")
    kind = response_format.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        # OpenAI's JSON mode: any JSON object; a "schema" key (llama-cpp-python's extension) narrows it.
        return json_grammar(response_format.get("schema", {"type": "object"}))
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        if not isinstance(spec, dict) or "schema" not in spec:
            raise ValueError('response_format {"type": "json_schema"} needs "json_schema": {"name": ..., "schema": {...}}')
        return json_grammar(spec["schema"])
    raise ValueError(f'response_format "type" must be "text", "json_object" or "json_schema", got {kind!r}')


def grammar_text(response_format: Any = None, json_schema: Any = None, grammar: Any = None) -> Optional[str]:
    """The llguidance grammar for the constraint arguments, or None for free text."""
    given = [name for name, v in (("response_format", response_format), ("json_schema", json_schema),
                                  ("grammar", grammar)) if v is not None]
    if len(given) > 1:
        raise ValueError(f"give at most one of response_format, json_schema and grammar, got {', '.join(given)}")
    if json_schema is not None:
        return json_grammar(json_schema)
    if grammar is not None:
        if not isinstance(grammar, str):
            raise TypeError(f"grammar must be a str (Lark or GBNF), got {type(grammar).__name__}")
        if len(grammar) > MAX_GRAMMAR_CHARS:
            raise ValueError(f"grammar too large: more than {MAX_GRAMMAR_CHARS} characters")
        try:
            return _llguidance().grammar_from("grammar", grammar)
        except Exception as e:  # the GBNF converter raises assorted errors on bad input
            raise ValueError(f"invalid grammar: {e}") from None
    return _response_format_grammar(response_format)


class GrammarMask:
    """The per-call state of a constraint: an llguidance matcher advanced by each sampled token,
    filling the decode loop's mask. A grammar that does not compile raises ValueError here,
    before any generation."""

    def __init__(self, model: Any, grammar: str):
        llg = _llguidance()
        self.matcher = llg.LLMatcher(llg_tokenizer(model), grammar, log_level=0,
                                     limits=llg.LLParserLimits(**_LIMITS))
        if self.matcher.is_error():
            raise ValueError(f"invalid or unsupported grammar: {self.matcher.get_error()}")

    def __call__(self, previous: int, allowed: np.ndarray) -> bool:
        """The GenerateParams.logits_mask hook: `previous` is the token sampled at the last step
        (-1 first), `allowed` the native mask buffer (uint32 words, one bit per token)."""
        matcher = self.matcher
        if previous >= 0 and not matcher.consume_token(previous):
            raise RuntimeError(f"constrained decoding: token {previous} rejected: {matcher.get_error()}")
        matcher.unsafe_compute_mask_ptr(allowed.ctypes.data, allowed.nbytes)
        if matcher.is_error():
            raise RuntimeError(f"constrained decoding stopped: {matcher.get_error()}")
        return True


def attach(model: Any, kwargs: Dict[str, Any]) -> Dict[str, Any]:
    """Generation kwargs with the constraint arguments replaced by a logits_mask (a copy; the
    caller's dict is left alone). ValueError for a bad schema or grammar, before any work."""
    if not any(kwargs.get(name) is not None for name in CONSTRAINT_ARGS):
        return {k: v for k, v in kwargs.items() if k not in CONSTRAINT_ARGS}
    args = {name: kwargs.get(name) for name in CONSTRAINT_ARGS}
    rest = {k: v for k, v in kwargs.items() if k not in CONSTRAINT_ARGS}
    grammar = grammar_text(**args)
    if grammar is None:
        return rest
    if rest.get("logits_mask") is not None:
        raise ValueError("logits_mask cannot be combined with response_format, json_schema or grammar")
    rest["logits_mask"] = GrammarMask(model, grammar)
    return rest


