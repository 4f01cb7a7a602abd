"""GGUF files from the Hugging Face Hub, through huggingface_hub (an optional extra): its cache
(shared with every other Hub tool; HF_HOME / HF_HUB_CACHE), resumption of dropped transfers, tokens,
HF_ENDPOINT and progress bars. Added here: choosing a file by quant tag, fetching split files
together, checking each file's sha256 against the Hub's before first use, and listing / removing
the GGUF files in that cache."""
from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

from . import _core
from .hub import DownloadError, cache_dir as package_cache_dir
from .model_names import HubReference, quant_tag, split_part, split_part_names

DEFAULT_QUANT = "Q4_K_M"  # llama.cpp's `-hf` default too, when a repository holds several GGUF files


class HubError(DownloadError):
    """A Hub download failed: not found, no network, checksum mismatch, ambiguous quant."""


def _hf():
    try:
        import huggingface_hub
    except ImportError:
        raise HubError("pulling from the Hugging Face Hub needs huggingface_hub: pip install 'pyllama_edge[hub]'"
                       ) from None
    return huggingface_hub


@dataclass
class RemoteFile:
    name: str
    size: Optional[int]
    sha256: Optional[str]  # the LFS object id, given for the large files GGUF models are


@dataclass
class GGUFChoice:
    """One model file in a repository: a single file, or the parts of a split file in order."""
    files: List[RemoteFile]
    quant: Optional[str]

    @property
    def name(self) -> str:
        return self.files[0].name

    @property
    def size(self) -> int:
        return sum(f.size or 0 for f in self.files)


def _endpoint(endpoint: Optional[str]) -> Optional[str]:
    # huggingface_hub reads HF_ENDPOINT once, at import; reading it per call lets a process change it.
    return endpoint or os.environ.get("HF_ENDPOINT") or None


def _network_error(err: BaseException) -> bool:
    # By class name: the client's transport library (httpx-like) is its own business.
    names = {c.__name__ for c in type(err).__mro__}
    return bool(names & {"TransportError", "ConnectionError", "OfflineModeIsEnabled", "LocalEntryNotFoundError"})


def _explain(err: BaseException, ref: HubReference, endpoint: Optional[str]) -> HubError:
    """One line for what went wrong with the Hub."""
    _hf()
    from huggingface_hub import constants, errors

    where = _endpoint(endpoint) or constants.ENDPOINT
    if isinstance(err, errors.GatedRepoError):
        return HubError(f"{ref.repo_id} is gated on the Hugging Face Hub: accept its licence on its page and log in "
                        "(`hf auth login`, or set HF_TOKEN)")
    if isinstance(err, errors.RepositoryNotFoundError):
        return HubError(f"{ref.repo_id} is neither a local file nor a repository on the Hugging Face Hub ({where}); "
                        "check the name (private repositories need `hf auth login` or HF_TOKEN)")
    if isinstance(err, errors.RevisionNotFoundError):
        return HubError(f"revision {ref.revision!r} not found in {ref.repo_id}")
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    if isinstance(err, errors.EntryNotFoundError):
        return HubError(f"a file of {ref} listed by the Hub is missing from {ref.repo_id} ({first})")
    if isinstance(err, errors.OfflineModeIsEnabled) or constants.HF_HUB_OFFLINE:
        return HubError(f"{ref} is not in the local cache and HF_HUB_OFFLINE is set; unset it to download")
    if _network_error(err):
        return HubError(f"cannot reach the Hugging Face Hub at {where} to get {ref} ({first}); "
                        "check the network, or pass a local GGUF file path")
    if isinstance(err, errors.HfHubHTTPError):
        return HubError(f"the Hugging Face Hub refused {ref}: {first}")
    if "Consistency check failed" in str(err):  # the client's size check after the transfer
        return HubError(f"the download of {ref} ended short ({first}); pull it again")
    if isinstance(err, OSError) and err.errno is not None:  # a full disk, a read-only cache
        return HubError(f"could not save {ref} in the cache: {err.strerror} ({err.filename or where})")
    return HubError(f"could not get {ref}: {err}")


def repository_files(ref: HubReference, endpoint: Optional[str] = None) -> List[RemoteFile]:
    hf = _hf()
    try:
        info = hf.HfApi(endpoint=_endpoint(endpoint)).model_info(ref.repo_id, revision=ref.revision,
                                                                 files_metadata=True)
    except Exception as err:  # the client's errors are many; each becomes one line
        raise _explain(err, ref, endpoint) from None
    found = []
    for s in info.siblings or []:
        lfs = s.lfs
        found.append(RemoteFile(s.rfilename, (lfs.size if lfs else None) or s.size, lfs.sha256 if lfs else None))
    return found


def gguf_choices(files: Sequence[RemoteFile]) -> List[GGUFChoice]:
    """The repository's models: single GGUF files and split sets (grouped under their first part)."""
    by_name = {f.name: f for f in files}
    choices = []
    for f in files:
        if not f.name.lower().endswith(".gguf"):
            continue
        part = split_part(f.name)
        if part is None:
            choices.append(GGUFChoice([f], quant_tag(f.name)))
        elif part[0] == 1:
            names = split_part_names(f.name)
            # An incomplete set stays a choice, so picking it ends in _complete's clear error.
            choices.append(GGUFChoice([by_name[n] for n in names if n in by_name], quant_tag(f.name)))
    return choices


def choose(ref: HubReference, files: Sequence[RemoteFile]) -> GGUFChoice:
    choices = gguf_choices(files)
    if not choices:
        raise HubError(f"{ref.repo_id} holds no GGUF files")
    listing = "; ".join(f"{c.quant or '?'}: {c.name}" + (f" (+{len(c.files) - 1} parts)" if len(c.files) > 1 else "")
                        for c in choices)
    if ref.filename:
        wanted = [c for c in choices if ref.filename in {f.name for f in c.files}]
        if not wanted:
            raise HubError(f"no file {ref.filename} in {ref.repo_id}; its GGUF files: {listing}")
        return _complete(wanted[0], ref)
    if ref.quant:
        wanted = [c for c in choices if c.quant and c.quant == ref.quant.upper()]
        if len(wanted) == 1:
            return _complete(wanted[0], ref)
        if not wanted:
            raise HubError(f"no GGUF file tagged {ref.quant.upper()} in {ref.repo_id}; its GGUF files: {listing}")
        raise HubError(f"several GGUF files tagged {ref.quant.upper()} in {ref.repo_id}: "
                       f"{', '.join(c.name for c in wanted)}; pick one with --file NAME")
    if len(choices) == 1:
        return _complete(choices[0], ref)
    default = [c for c in choices if c.quant == DEFAULT_QUANT]
    if len(default) == 1:
        return _complete(default[0], ref)
    raise HubError(f"{ref.repo_id} holds several GGUF files; name one as {ref.repo_id}:QUANT or with --file NAME: "
                   f"{listing}")


def _complete(choice: GGUFChoice, ref: HubReference) -> GGUFChoice:
    part = split_part(choice.name)
    if part and len(choice.files) != part[1]:
        raise HubError(f"{ref.repo_id}: split file {choice.name} has {len(choice.files)} of its {part[1]} parts "
                       "on the Hub; cannot download an incomplete set")
    return choice


# -- verification -------------------------------------------------------------------------------

def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _is_sha256(text: Optional[str]) -> bool:
    return bool(text) and len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def _verified_marker(sha256: str) -> Path:
    return package_cache_dir() / "hub-verified" / sha256


def verify(path: str, expected_sha256: Optional[str] = None, expected_size: Optional[int] = None) -> None:
    """Checks a cached file against the Hub's size and sha256 (the LFS object id, which is also the
    name of huggingface_hub's blob file). The hash is computed once per blob: a small marker in the
    package cache remembers the blob's size and mtime. A mismatching file is removed."""
    blob = os.path.realpath(path)
    name = os.path.basename(blob)
    sha = expected_sha256 or (name if _is_sha256(name) else None)
    st = os.stat(blob)
    stamp = f"{st.st_size} {st.st_mtime_ns}"
    problem = None
    if expected_size is not None and st.st_size != expected_size:
        problem = f"size {st.st_size} bytes, expected {expected_size}"
    elif sha:
        marker = _verified_marker(sha)
        if marker.is_file() and marker.read_text() == stamp:
            return
        got = _sha256(blob)
        if got != sha:
            problem = f"sha256 {got}, expected {sha}"
        else:
            _write_marker(marker, stamp)
    if problem:
        _remove_cached_file(path)
        raise HubError(f"checksum mismatch for {os.path.basename(path)} ({problem}): the corrupt download was "
                       "removed; pull it again")


def _write_marker(marker: Path, text: str) -> None:
    marker.parent.mkdir(parents=True, exist_ok=True)
    out = _core.AtomicFileWriter(str(marker))
    try:
        out.write(text.encode())
        out.commit()
    finally:
        out.discard()


def _remove_cached_file(path: str) -> None:
    """Removes a snapshot entry and, when it is a link into blobs/, the blob it points to."""
    blob = os.path.realpath(path)
    for p in {path, blob}:
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass


# -- pulling --------------------------------------------------------------------------------------

def _silent_tqdm():
    from huggingface_hub.utils import tqdm as hf_tqdm

    class Silent(hf_tqdm):
        def __init__(self, *args, **kwargs):
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    return Silent


def pull(ref: HubReference, *, progress: Optional[bool] = None, cache_dir: Optional[str] = None,
         endpoint: Optional[str] = None, force: bool = False,
         confirm: Optional[Callable[[GGUFChoice], bool]] = None) -> List[str]:
    """Downloads the GGUF file (every part of a split one) `ref` names into huggingface_hub's cache,
    checks each against the Hub's size and sha256 and returns the local paths (parts in order).
    confirm(choice) may decline before anything is downloaded. progress: the client's bars
    (default: when stderr is a terminal)."""
    hf = _hf()
    choice = choose(ref, repository_files(ref, endpoint))
    if confirm is not None and not confirm(choice):
        raise HubError(f"not downloading {choice.name} ({choice.size / 1e9:.1f} GB)")
    show = sys.stderr.isatty() if progress is None else progress
    paths = []
    for f in choice.files:
        try:
            path = hf.hf_hub_download(ref.repo_id, f.name, revision=ref.revision, cache_dir=cache_dir,
                                      endpoint=_endpoint(endpoint), force_download=force,
                                      tqdm_class=None if show else _silent_tqdm())
        except Exception as err:
            raise _explain(err, ref, endpoint) from None
        verify(path, f.sha256, f.size)
        paths.append(path)
    return paths


def cached(ref: HubReference, cache_dir: Optional[str] = None) -> Optional[List[str]]:
    """The local paths of a model already in huggingface_hub's cache, checked, without the network;
    None when it is not there (or only part of a split set is)."""
    entries = [e for e in local_models(cache_dir) if e.repo_id.lower() == ref.repo_id.lower()]
    if ref.revision:
        entries = [e for e in entries if ref.revision in (e.commit, *e.refs)]
    if ref.filename:
        entries = [e for e in entries if ref.filename in e.relative_names]
    elif ref.quant:
        entries = [e for e in entries if e.quant == ref.quant.upper()]
    elif len({e.file for e in entries}) > 1:
        entries = [e for e in entries if e.quant == DEFAULT_QUANT]
    if not entries:
        return None
    best = max(entries, key=lambda e: ("main" in e.refs, e.modified))
    for p in best.paths:
        verify(p)
    return best.paths


# -- listing and removing -------------------------------------------------------------------------

@dataclass
class LocalModel:
    repo_id: str
    file: str  # first part's name inside the repository
    relative_names: List[str]
    paths: List[str]  # snapshot paths, parts in order
    size: int
    commit: str
    refs: List[str] = field(default_factory=list)
    modified: float = 0.0

    @property
    def quant(self) -> Optional[str]:
        return quant_tag(self.file)

    @property
    def names(self) -> List[str]:
        """Every name `rm` accepts for it; the first is the one `list` shows."""
        from .model_names import known_name_for

        found = []
        known = known_name_for(self.repo_id, self.quant)
        if known:
            found.append(known)
        if self.quant:
            found.append(f"{self.repo_id}:{self.quant}")
        found.append(f"{self.repo_id}/{self.file}")
        return found


def local_models(cache_dir: Optional[str] = None) -> List[LocalModel]:
    """The GGUF files (split sets as one) in huggingface_hub's cache, one per repository revision."""
    try:
        hf = _hf()
    except HubError:
        return []
    from huggingface_hub.errors import CacheNotFound

    try:
        info = hf.scan_cache_dir(cache_dir)
    except CacheNotFound:
        return []
    found = []
    for repo in info.repos:
        if repo.repo_type != "model":
            continue
        for rev in repo.revisions:
            by_name: Dict[str, "object"] = {str(f.file_path.relative_to(rev.snapshot_path)): f for f in rev.files}
            for name, f in sorted(by_name.items()):
                if not name.lower().endswith(".gguf"):
                    continue
                part = split_part(name)
                if part and part[0] != 1:
                    continue
                names = [os.path.join(os.path.dirname(name), n) if os.path.dirname(name) else n
                         for n in split_part_names(os.path.basename(name))] if part else [name]
                if not all(n in by_name for n in names):
                    continue  # an interrupted split pull: the parts present stay reachable with `pull`
                files = [by_name[n] for n in names]
                found.append(LocalModel(repo.repo_id, name, names, [str(x.file_path) for x in files],
                                        sum(x.size_on_disk for x in files), rev.commit_hash, sorted(rev.refs),
                                        max(x.blob_last_modified for x in files)))
    return found


def remove(model: LocalModel, cache_dir: Optional[str] = None) -> None:
    """Removes one listed model: its snapshot entries, and each blob no other snapshot uses."""
    in_use = set()
    for other in local_models(cache_dir):
        if other.repo_id == model.repo_id and other.commit == model.commit and other.file == model.file:
            continue
        in_use.update(os.path.realpath(p) for p in other.paths)
    for p in model.paths:
        blob = os.path.realpath(p)
        os.unlink(p)
        if blob != p and blob not in in_use:
            try:
                os.unlink(blob)
            except FileNotFoundError:
                pass
            if _is_sha256(os.path.basename(blob)):
                _verified_marker(os.path.basename(blob)).unlink(missing_ok=True)


def pretrained_path(repo_id: str, filename: Optional[str] = None, quant: Optional[str] = None,
                    revision: Optional[str] = None, cache_dir: Optional[str] = None) -> str:
    """Model.from_pretrained's file: from the cache when there, else pulled; then checked."""
    from .model_checks import check_runnable
    from .model_names import parse_model_argument

    target = parse_model_argument(repo_id) if "/" not in repo_id or ":" in repo_id else HubReference(repo_id)
    if not isinstance(target, HubReference):
        raise ValueError(f"{repo_id!r} is not a Hub repository (OWNER/REPO) or a short model name")
    if filename or quant or revision:
        if filename and quant:
            raise ValueError("give filename or quant, not both")
        target = HubReference(target.repo_id, quant=None if filename else (quant or target.quant), filename=filename,
                              revision=revision)
    paths = cached(target, cache_dir)
    if paths is None:
        paths = pull(target, cache_dir=cache_dir)
    check_runnable(paths)
    return paths[0]
