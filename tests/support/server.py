"""A `pyllama-edge serve` process for the tests: bound to 127.0.0.1 on a port the OS picks (the
server logs the real one), its log collected, stopped with SIGTERM (which must exit 0)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import List, Optional, Sequence

from .test_data import PACKAGE_PARENT

READY = re.compile(r"serving .* on http://127\.0\.0\.1:(\d+)")


class ServerProcess:
    def __init__(self, model: Path, args: Sequence[str] = (), startup_timeout: float = 120.0):
        self.log: List[str] = []
        self._ready = threading.Event()
        self.port: Optional[int] = None
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pyllama_edge", "serve", "--model", str(model), "--host", "127.0.0.1",
             "--port", "0", *args],
            cwd=PACKAGE_PARENT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        if not self._ready.wait(startup_timeout) or self.port is None:
            self.stop()
            raise RuntimeError("the server did not start:\n" + "".join(self.log))

    def _read_log(self) -> None:
        for line in self.proc.stderr:
            self.log.append(line)
            m = READY.search(line)
            if m:
                self.port = int(m.group(1))
                self._ready.set()
        self._ready.set()  # exited before it was ready

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_lines_since(self, start: int) -> List[str]:
        return self.log[start:]

    def wait_for_log(self, pattern: str, timeout: float = 30.0, start: int = 0) -> str:
        """The first log line from index `start` on matching `pattern`, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            for line in self.log[start:]:
                if rx.search(line):
                    return line
            time.sleep(0.05)
        raise AssertionError(f"no log line matching {pattern!r}:\n" + "".join(self.log[start:]))

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, then the exit status (killed after `timeout`: a hang is a failure)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("the server did not stop within %s s of SIGTERM:\n%s" % (timeout, "".join(self.log)))
        self._reader.join(timeout=5)
        self.proc.stderr.close()
        return self.proc.returncode

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.proc.pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Reply:
    def __init__(self, status: int, headers: dict, body: bytes):
        self.status_code, self.headers, self.content = status, headers, body
        self.text = body.decode("utf-8", "replace")

    def json(self):
        import json

        return json.loads(self.content)


def http(base_url: str, method: str, path: str, content=None, headers: Optional[dict] = None,
         timeout: float = 120.0) -> Reply:
    """One raw HTTP request (what a client library would never send: broken JSON, chunked bodies)."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json", **(headers or {})}
        if isinstance(content, str):
            content = content.encode("utf-8")
        chunked = content is not None and not isinstance(content, bytes)
        conn.request(method, path, body=content, headers=headers, encode_chunked=chunked)
        response = conn.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        conn.close()
