"""
pyllama_edge native core (type stubs written by tools/make_core_stub.py)
"""
from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import types
import typing
import typing_extensions
__all__: list[str] = ['AtomicFileWriter', 'ContextOverflowError', 'GGUFError', 'GGUFReader', 'GenerateParams', 'GenerationResult', 'Generator', 'Model', 'Prompt', 'Session', 'SessionBatcher', 'StreamingDetokenizer', 'Tokenizer', 'UnsupportedModelError', 'bench_evaluation', 'default_thread_count', 'kernel_info', 'layout_cache_info', 'memory_estimate', 'quant', 'session_file_kv_type']
class __TestingModule(types.ModuleType):
    """Private hooks for kernel tests and benchmarks (not public API)."""
class _QuantModule(types.ModuleType):
    """block-format conversions"""
    @staticmethod
    def activation_type(arg0: str) -> str:
        ...
    @staticmethod
    def block_geometry(arg0: str) -> tuple[int, int]:
        ...
    @staticmethod
    def dequantize(raw: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8], type_name: str, n: typing.SupportsInt | typing.SupportsIndex, reference: bool = False, isa: str | None = None) -> numpy.typing.NDArray[numpy.float32]:
        ...
    @staticmethod
    def dot(w: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8], type_name: str, a: numpy.ndarray, n: typing.SupportsInt | typing.SupportsIndex, reference: bool = False, isa: str | None = None) -> float:
        """
        Dot of n elements: weight blocks w against activation bytes a (the activation type paired with the weight type).
        """
    @staticmethod
    def dot_rows(w: typing.Annotated[numpy.typing.ArrayLike, numpy.uint8], type_name: str, a: numpy.ndarray, n: typing.SupportsInt | typing.SupportsIndex, reference: bool = False, isa: str | None = None) -> numpy.typing.NDArray[numpy.float32]:
        """
        dot() of every row of the 2-D weight array w with a, on one thread without the GIL.
        """
    @staticmethod
    def quantize(x: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], type_name: str, reference: bool = False, isa: str | None = None) -> numpy.typing.NDArray[numpy.uint8]:
        ...
    @staticmethod
    def quantize_weights(x: typing.Annotated[numpy.typing.ArrayLike, numpy.float32], type_name: str, n_threads: typing.SupportsInt | typing.SupportsIndex = 0) -> numpy.typing.NDArray[numpy.uint8]:
        """
        Quantize float32 rows [n_rows, n_cols] to a weight type; returns uint8 [n_rows, row_bytes].
        """
class GGUFError(ValueError):
    pass
class UnsupportedModelError(GGUFError):
    pass
class ContextOverflowError(ValueError):
    pass
class GGUFReader:
    def __init__(self, path: str) -> None:
        ...
    def close(self) -> None:
        ...
    def dequantize(self, name: str) -> numpy.typing.NDArray[numpy.float32]:
        ...
    def metadata(self) -> dict:
        ...
    def metadata_pairs(self) -> list:
        ...
    def raw(self, name: str) -> numpy.ndarray:
        ...
    def tensor_infos(self) -> list:
        ...
    @property
    def alignment(self) -> int:
        ...
    @property
    def closed(self) -> bool:
        ...
    @property
    def data_offset(self) -> int:
        ...
    @property
    def file_size(self) -> int:
        ...
    @property
    def path(self) -> str:
        ...
    @property
    def version(self) -> int:
        ...
class Tokenizer:
    def __init__(self, reader: GGUFReader) -> None:
        ...
    def control_token_spans(self, text: str) -> list[tuple[int, int]]:
        ...
    def decode(self, ids: typing.Any, special: bool = False) -> str:
        ...
    def decode_bytes(self, ids: typing.Any, special: bool = False) -> bytes:
        ...
    def encode(self, text: str, add_bos: bool = True, special: bool = False, literal: collections.abc.Sequence[tuple[typing.SupportsInt | typing.SupportsIndex, typing.SupportsInt | typing.SupportsIndex]] = []) -> list[int]:
        ...
    def is_control(self, id: typing.SupportsInt | typing.SupportsIndex) -> bool:
        ...
    def is_eog(self, id: typing.SupportsInt | typing.SupportsIndex) -> bool:
        ...
    def token_piece(self, id: typing.SupportsInt | typing.SupportsIndex, special: bool = False) -> bytes:
        ...
    def token_text(self, id: typing.SupportsInt | typing.SupportsIndex) -> typing.Any:
        ...
    @property
    def add_bos(self) -> bool:
        ...
    @property
    def bos_id(self) -> int:
        ...
    @property
    def eom_id(self) -> int:
        ...
    @property
    def eos_id(self) -> int:
        ...
    @property
    def eot_id(self) -> int:
        ...
    @property
    def n_vocab(self) -> int:
        ...
class StreamingDetokenizer:
    def __init__(self, tokenizer: Tokenizer, special: bool = False) -> None:
        ...
    def flush(self) -> str:
        ...
    def push(self, id: typing.SupportsInt | typing.SupportsIndex) -> str:
        ...
class Model:
    def __init__(self, reader: GGUFReader, interleave_weights: bool = True, layout_cache_dir: str = '', isa: str | None = None) -> None:
        ...
    def tokenize(self, prompt: typing.Any) -> list[int]:
        """
        The ids generation evaluates for a prompt (str, token ids or Prompt)
        """
    @property
    def bos_text(self) -> str:
        ...
    @property
    def chat_template(self) -> str:
        ...
    @property
    def eos_text(self) -> str:
        ...
    @property
    def hparams(self) -> dict:
        ...
    @property
    def interleaved_bytes(self) -> int:
        ...
    @property
    def isa(self) -> str:
        ...
    @property
    def layout_cache_path(self) -> str:
        ...
    @property
    def name(self) -> str:
        ...
    @property
    def output_tied(self) -> bool:
        ...
    @property
    def tokenizer(self) -> Tokenizer:
        ...
    @property
    def weight_bytes_per_token(self) -> int:
        ...
class Prompt:
    @staticmethod
    def from_ids(ids: typing.Any) -> Prompt:
        """
        Token ids (a sequence of ints; str and bytes are refused)
        """
    @staticmethod
    def from_text(text: bytes, parse_special: bool = False, literal: collections.abc.Sequence[tuple[typing.SupportsInt | typing.SupportsIndex, typing.SupportsInt | typing.SupportsIndex]] = []) -> Prompt:
        """
        UTF-8 text; parse_special: control-token text becomes control tokens, except inside the literal byte ranges
        """
    @property
    def ids(self) -> list[int]:
        ...
    @property
    def is_text(self) -> bool:
        ...
class GenerateParams:
    def __init__(self, *, max_tokens: typing.Any = 256, temperature: typing.Any = 0.8, top_k: typing.Any = 40, top_p: typing.Any = 0.95, min_p: typing.Any = 0.05, repeat_penalty: typing.Any = 1.0, frequency_penalty: typing.Any = 0.0, presence_penalty: typing.Any = 0.0, penalty_last_n: typing.Any = 64, seed: typing.Any = None, stop: typing.Any = None, ignore_eos: typing.Any = False, logits_mask: typing.Any = None, speculative: typing.Any = None, draft_max: typing.Any = 16, top_logprobs: typing.Any = None) -> None:
        ...
    @property
    def draft_max(self) -> int:
        ...
    @property
    def frequency_penalty(self) -> float:
        ...
    @property
    def has_logits_mask(self) -> bool:
        ...
    @property
    def ignore_eos(self) -> bool:
        ...
    @property
    def max_tokens(self) -> int:
        ...
    @property
    def min_p(self) -> float:
        ...
    @property
    def penalty_last_n(self) -> int:
        ...
    @property
    def presence_penalty(self) -> float:
        ...
    @property
    def repeat_penalty(self) -> float:
        ...
    @property
    def seed(self) -> int:
        ...
    @property
    def speculative(self) -> typing.Any:
        ...
    @property
    def stop(self) -> list[str]:
        ...
    @property
    def temperature(self) -> float:
        ...
    @property
    def top_k(self) -> int:
        ...
    @property
    def top_logprobs(self) -> typing.Any:
        ...
    @property
    def top_p(self) -> float:
        ...
class GenerationResult:
    @property
    def accepted_draft_tokens(self) -> int:
        """
        ... and kept
        """
    @property
    def completion_tokens(self) -> int:
        ...
    @property
    def draft_tokens(self) -> int:
        """
        Speculative decoding: drafted tokens checked
        """
    @property
    def finish_reason(self) -> str:
        ...
    @property
    def prompt_cached_tokens(self) -> int:
        ...
    @property
    def prompt_tokens(self) -> int:
        ...
    @property
    def tokens(self) -> list[int]:
        ...
    @property
    def usage(self) -> dict:
        """
        OpenAI's usage object
        """
class Generator:
    def __iter__(self) -> Generator:
        ...
    def __next__(self) -> str:
        ...
    def logprobs_since(self, first: typing.SupportsInt | typing.SupportsIndex = 0) -> list:
        """
        (token, logprob, [(token, logprob), ...]) of each generated token from index `first` (top_logprobs set)
        """
    @property
    def finished(self) -> bool:
        ...
    @property
    def result(self) -> typing.Any:
        """
        The GenerationResult once finished, else None
        """
    @property
    def tokens_so_far(self) -> list[int]:
        ...
class SessionBatcher:
    def __init__(self, model: Model, n_threads: typing.Any = None, max_rows: typing.Any = 512, prefill_chunk: typing.Any = 64, max_wait_us: typing.Any = 2000) -> None:
        """
        Runs the forward passes of the sessions attached to it (Session.set_batcher) together: one pass per step
        """
    def stats(self) -> dict:
        ...
    @property
    def n_threads(self) -> int:
        ...
    @property
    def prefill_chunk(self) -> int:
        ...
class Session:
    def __init__(self, model: Model, n_ctx: typing.Any = None, n_batch: typing.Any = 512, n_threads: typing.Any = None, float_activations: bool = False, kv_type: typing.Any = 'f16') -> None:
        ...
    def append(self, arg0: typing.Any) -> None:
        ...
    def append_batch(self, arg0: typing.Any) -> numpy.typing.NDArray[numpy.float32]:
        """
        Speculative decoding's verification step: the ids in one batched pass; every position's logits
        """
    def embed(self, texts: typing.Any, pooling: typing.Any = 'mean', normalize: bool = True) -> numpy.typing.NDArray[numpy.float32]:
        """
        Pooled hidden states after the output norm, float32 [len(texts)][n_embd]; each text evaluated on its own
        """
    def evaluate_all(self, arg0: typing.Any) -> numpy.typing.NDArray[numpy.float32]:
        ...
    def generate(self, prompt: typing.Any, params: GenerateParams) -> Generator:
        """
        The decode loop over a prompt (str, token ids or Prompt); checks everything before any work
        """
    def keep_batch_prefix(self, arg0: typing.Any) -> None:
        ...
    def last_logits(self) -> numpy.typing.NDArray[numpy.float32]:
        ...
    def load(self, arg0: str) -> None:
        ...
    def reset(self) -> None:
        ...
    def save(self, arg0: str) -> None:
        ...
    def set_batcher(self, batcher: SessionBatcher) -> None:
        """
        Runs this session's passes in the batcher's (None: on its own)
        """
    def set_tokens(self, arg0: typing.Any) -> int:
        ...
    @property
    def batcher(self) -> SessionBatcher:
        ...
    @property
    def history(self) -> list[int]:
        ...
    @property
    def kv_cache_bytes(self) -> int:
        ...
    @property
    def kv_type(self) -> str:
        ...
    @property
    def n_ctx(self) -> int:
        ...
    @property
    def n_threads(self) -> int:
        ...
class AtomicFileWriter:
    """
    Writes `path` through a fresh temporary file beside it, renamed over it by commit(); discard() (or dropping the writer uncommitted) removes the temporary.
    """
    def __init__(self, path: str) -> None:
        ...
    def commit(self) -> None:
        ...
    def discard(self) -> None:
        ...
    def write(self, data: typing_extensions.Buffer) -> None:
        ...
    @property
    def temporary_path(self) -> str:
        ...
def bench_evaluation(session: Session, tokens: typing.Any, decode: bool) -> tuple[float, bool]:
    ...
def default_thread_count() -> int:
    ...
def kernel_info() -> dict:
    ...
def layout_cache_info(arg0: str) -> typing.Any:
    ...
def memory_estimate(reader: GGUFReader, n_ctx: typing.SupportsInt | typing.SupportsIndex = 0, kv_type: str = 'f16') -> typing.Any:
    ...
def session_file_kv_type(path: str) -> str:
    ...
_testing: __TestingModule
quant: _QuantModule
