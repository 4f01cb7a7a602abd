"""`pyllama-edge serve`: a local OpenAI-compatible HTTP server (Starlette on uvicorn, SSE through
sse-starlette) and the offline chat page at `/`. Needs the `server` extra."""
from __future__ import annotations

import ipaddress
import logging
import os
import resource
import signal
import sys
from typing import Any, Optional

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def model_id_of(path: str) -> str:
    name = os.path.basename(path)
    return name[:-5] if name.lower().endswith(".gguf") else name


def _raise_open_file_limit() -> None:
    """Idle and slow clients each hold one descriptor; allow as many as the hard limit does."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))
        except (ValueError, OSError):
            pass


def check_setup(host: str, api_key: Optional[str]) -> None:
    """Raises when the server extra is missing or `host` is exposed without an API key."""
    try:
        import sse_starlette  # noqa: F401
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        raise ModuleNotFoundError(f"the server needs its extra: pip install 'pyllama_edge[server]' ({e})") from None
    if api_key is not None and not api_key.strip():
        raise ValueError("--api-key must not be empty")
    if not is_loopback(host) and not api_key:
        raise ValueError(f"--host {host} is not a loopback address: give an --api-key so only your clients get in")


def serve(model: Any, host: str = "127.0.0.1", port: int = 8080, parallel: int = 1, api_key: Optional[str] = None,
          max_tokens_limit: int = 2048, max_body_bytes: int = 1 << 20, queue_timeout: float = 30.0,
          model_id: Optional[str] = None, ready: Optional[Any] = None, prefill_chunk: int = 64) -> int:
    """Serves `model` (a loaded Model) until SIGINT or SIGTERM; returns the exit code (0).
    A non-loopback `host` needs an `api_key`. `ready(port)` is called once it listens."""
    check_setup(host, api_key)
    import uvicorn

    from .app import Settings, create_app
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    _raise_open_file_limit()
    settings = Settings(model_id=model_id or model_id_of(model.path), api_key=api_key,
                        max_tokens_limit=max_tokens_limit, max_body_bytes=max_body_bytes, queue_timeout=queue_timeout,
                        prefill_chunk=prefill_chunk)
    app = create_app(model, settings, parallel)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="on",
        # An idle keep-alive connection is closed after 5 s; beyond limit_concurrency connections
        # (well below the descriptor limit) new requests get a 503 instead of exhausting it.
        timeout_keep_alive=5, limit_concurrency=4096, backlog=2048,
        h11_max_incomplete_event_size=64 * 1024,  # headers that never end: dropped at 64 KiB
        timeout_graceful_shutdown=5)
    server = _ReportingServer(config, settings.model_id, ready)
    # uvicorn re-raises the signal that stopped it once it has shut down; these handlers make that
    # a clean exit (status 0) rather than death by SIGTERM or a KeyboardInterrupt.
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _ReportingServer(config: Any, model_id: str, ready: Optional[Any]) -> Any:
    """A uvicorn Server that logs the address it listens on (the real port when port 0 was asked)."""
    import uvicorn

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            # Runs in the main thread (the loop's); in-flight requests end with an error now
            # rather than when uvicorn's graceful-shutdown timeout cuts them off.
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self.config.app.begin_shutdown)

        async def startup(self, sockets: Any = None) -> None:
            import asyncio

            self._loop = asyncio.get_running_loop()
            await super().startup(sockets)
            if self.started:
                port = self.servers[0].sockets[0].getsockname()[1] if self.servers else self.config.port
                logging.getLogger("pyllama_edge.server").info(
                    "serving %s on http://%s:%d (chat page at /, API at /v1)", model_id, self.config.host, port)
                if ready:
                    ready(port)

    server = Server(config)
    server._loop = None
    return server
