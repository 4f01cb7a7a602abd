"""A local HTTP server shaped like the Hugging Face Hub's file endpoints, so the real
huggingface_hub client runs against it with only HF_ENDPOINT pointed at 127.0.0.1.

Implemented (what huggingface_hub 2.x calls for hf_hub_download and model_info):
  HEAD/GET {endpoint}/{repo}/resolve/{revision}/{path}
      X-Repo-Commit, ETag (LFS files: the sha256; others: the git blob sha1), X-Linked-Etag and
      X-Linked-Size on LFS files, Content-Length, Accept-Ranges; GET honours `Range: bytes=N-`
      with 206 and Content-Range (the client resumes a dropped transfer that way).
  GET {endpoint}/api/models/{repo}[/revision/{revision}][?blobs=true]
      id, sha, siblings [{rfilename[, size, blobId, lfs {size, sha256, pointerSize}]}].
  Errors as the Hub sends them: 404 with X-Error-Code RepoNotFound / RevisionNotFound /
  EntryNotFound (the last with X-Repo-Commit).

Faults a test can ask for per file: "drop_once" (the first GET ends the connection half-way),
"corrupt" (the bytes served differ from the sha256 announced). Every request is logged.
Binds 127.0.0.1 on a free port; stops on exit from its `with` block, or by itself after
`lifetime` seconds."""
from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional, Tuple
from urllib.parse import parse_qs, unquote, urlsplit

LFS_THRESHOLD = 1024  # files at least this big are served as LFS files (the Hub's cut-off is 10 MB)


@dataclass
class HostedFile:
    data: bytes
    fault: Optional[str] = None  # "drop_once" | "corrupt"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def git_sha1(self) -> str:
        return hashlib.sha1(b"blob %d\0" % len(self.data) + self.data).hexdigest()

    @property
    def is_lfs(self) -> bool:
        return len(self.data) >= LFS_THRESHOLD


@dataclass
class Repository:
    files: Dict[str, HostedFile]
    branch: str = "main"

    @property
    def commit(self) -> str:
        h = hashlib.sha1()
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + self.files[name].git_sha1.encode())
        return h.hexdigest()


@dataclass
class Request:
    method: str
    path: str
    range: Optional[str]


@dataclass
class HubServer:
    repos: Dict[str, Repository] = field(default_factory=dict)
    lifetime: float = 600.0
    requests: List[Request] = field(default_factory=list)

    def add(self, repo_id: str, files: Dict[str, bytes]) -> Repository:
        self.repos[repo_id] = Repository({name: HostedFile(data) for name, data in files.items()})
        return self.repos[repo_id]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> "HubServer":
        hub = self

        class Handler(_HubHandler):
            server_state = hub

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self.lifetime, self._httpd.shutdown)  # a forgotten server ends anyway
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Closes the port now (a test can take the Hub away half-way); repeating it is harmless."""
        self._timer.cancel()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)


_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")
_API = re.compile(r"^/api/models/(?P<repo>[^/]+/[^/]+?)(?:/revision/(?P<rev>[^/]+))?$")


class _HubHandler(BaseHTTPRequestHandler):
    server_state: HubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keeps pytest's output clean
        pass

    def do_HEAD(self) -> None:
        self._serve(body=False)

    def do_GET(self) -> None:
        self._serve(body=True)

    def _error(self, status: int, code: str, commit: Optional[str] = None) -> None:
        message = json.dumps({"error": code}).encode()
        self.send_response(status)
        self.send_header("X-Error-Code", code)
        if commit:
            self.send_header("X-Repo-Commit", commit)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(message)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(message)

    def _repo(self, repo_id: str, rev: Optional[str]) -> Tuple[Optional[Repository], bool]:
        repo = self.server_state.repos.get(repo_id)
        if repo is None:
            self._error(404, "RepoNotFound")
            return None, False
        if rev not in (None, repo.branch, repo.commit):
            self._error(404, "RevisionNotFound")
            return None, False
        return repo, True

    def _serve(self, body: bool) -> None:
        url = urlsplit(self.path)
        path = unquote(url.path)
        self.server_state.requests.append(Request(self.command, path, self.headers.get("Range")))
        match = _API.match(path)
        if match and body:
            repo, ok = self._repo(match["repo"], match["rev"] and unquote(match["rev"]))
            if ok:
                self._model_info(match["repo"], repo, "blobs" in parse_qs(url.query))
            return
        match = _RESOLVE.match(path)
        if not match:
            self._error(404, "NotFound")
            return
        repo, ok = self._repo(match["repo"], match["rev"])
        if not ok:
            return
        hosted = repo.files.get(match["path"])
        if hosted is None:
            self._error(404, "EntryNotFound", repo.commit)
            return
        self._file(repo, hosted, body)

    def _model_info(self, repo_id: str, repo: Repository, blobs: bool) -> None:
        siblings = []
        for name, f in sorted(repo.files.items()):
            s: Dict[str, object] = {"rfilename": name}
            if blobs:
                s.update(size=len(f.data), blobId=f.git_sha1)
                if f.is_lfs:
                    s["lfs"] = {"size": len(f.data), "sha256": f.sha256, "pointerSize": 134}
            siblings.append(s)
        payload = json.dumps({"id": repo_id, "modelId": repo_id, "sha": repo.commit, "private": False,
                              "tags": ["gguf"], "siblings": siblings}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _file(self, repo: Repository, hosted: HostedFile, body: bool) -> None:
        data = hosted.data
        if hosted.fault == "corrupt":
            data = bytes([data[0] ^ 0xFF]) + data[1:]  # same size, announced sha256 unchanged
        start = 0
        wanted = self.headers.get("Range")
        if body and wanted:
            start = int(re.match(r"bytes=(\d+)-", wanted)[1])
        self.send_response(206 if start else 200)
        self.send_header("X-Repo-Commit", repo.commit)
        if hosted.is_lfs:
            self.send_header("ETag", f'"{hosted.sha256}"')
            self.send_header("X-Linked-Etag", f'"{hosted.sha256}"')
            self.send_header("X-Linked-Size", str(len(data)))
        else:
            self.send_header("ETag", f'"{hosted.git_sha1}"')
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data) - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if not body:
            return
        if hosted.fault == "drop_once":
            hosted.fault = None
            self.wfile.write(data[start:start + (len(data) - start) // 2])
            self.wfile.flush()
            self.close_connection = True  # the client sees a body shorter than Content-Length
            return
        self.wfile.write(data[start:])
