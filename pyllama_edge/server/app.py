"""The ASGI app: OpenAI-shaped routes over the slots, the chat page at `/`, OpenAI error JSON."""
from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import json
import logging
import os
import time
from dataclasses import dataclass
from importlib import resources
from typing import Any, AsyncIterator, Callable, Dict, Iterator, List, Optional

import anyio
import numpy as np
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..errors import ContextOverflowError
from . import fields
from .errors import APIError, bad_request
from .slots import END, Job, Slots

log = logging.getLogger("pyllama_edge.server")

SHUTDOWN = object()  # queued into a job when the server is stopping


def _shutting_down() -> APIError:
    return APIError(503, "the server is shutting down", None, "server_shutdown")


@dataclass
class Settings:
    model_id: str
    api_key: Optional[str] = None
    max_tokens_limit: int = 2048
    max_body_bytes: int = 1 << 20
    queue_timeout: float = 30.0  # seconds a request waits for a free slot before a 503
    prefill_chunk: int = 64  # prompt tokens per batched pass (Model.batched_sessions)


# -- request plumbing -----------------------------------------------------------------------------
def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def _json_body(request: Request, limit: int) -> Any:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise APIError(413, f"request body of {length} bytes exceeds the limit of {limit} bytes", None, "request_too_large")
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise APIError(413, f"request body exceeds the limit of {limit} bytes", None, "request_too_large")
    try:
        return json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as e:  # JSONDecodeError, bad UTF-8, NaN, nesting too deep
        raise bad_request(f"the request body is not valid JSON: {e}", None, "invalid_json") from None


def _api_error_of(e: BaseException) -> APIError:
    """The 400 (or 500) for an error the Python API raised while starting or running a call."""
    if isinstance(e, APIError):
        return e
    if isinstance(e, ContextOverflowError):
        return bad_request(str(e), "messages", "context_length_exceeded")
    if isinstance(e, (ValueError, TypeError, ModuleNotFoundError)):
        return bad_request(str(e), None, "invalid_request")
    log.error("request failed", exc_info=e)
    return APIError(500, f"internal error: {type(e).__name__}", None, "internal_error")


class _RequestLog:
    """One log line per request: method, path, status, tokens (when a completion ran), seconds."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.monotonic(), [0]

        async def send_noting_status(message: Dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            usage = scope.get("state", {}).get("usage")
            tokens = f" tokens={usage.get('prompt_tokens')}+{usage.get('completion_tokens')}" if usage else ""
            note = scope.get("state", {}).get("note", "")
            log.info("%s %s %s%s %.3fs%s", scope["method"], scope["path"], status[0] or "-", tokens,
                     time.monotonic() - start, f" ({note})" if note else "")


# -- the app --------------------------------------------------------------------------------------
def create_app(model: Any, settings: Settings, parallel: int = 1) -> Starlette:
    """The server over a loaded pyllama_edge.Model: `parallel` slots, each a session of its own,
    decoded together in one batched pass per step."""
    slots = Slots(model.batched_sessions(parallel, prefill_chunk=settings.prefill_chunk))
    active: "set[Job]" = set()  # jobs whose request is still being answered
    created = int(os.path.getmtime(model.path)) if os.path.exists(model.path) else int(time.time())
    model_card = {"id": settings.model_id, "object": "model", "created": created, "owned_by": "pyllama_edge"}

    def check_key(request: Request) -> None:
        if settings.api_key is None:
            return
        header = request.headers.get("authorization", "")
        given = header[7:] if header[:7].lower() == "bearer " else ""
        if not hmac.compare_digest(given.encode("utf-8", "replace"), settings.api_key.encode("utf-8")):
            raise APIError(401, "Incorrect API key provided", None, "invalid_api_key")

    def check_model(values: Dict[str, Any]) -> None:
        name = values.get("model")
        if name is not None and name != settings.model_id:
            raise APIError(404, f"The model `{name}` does not exist; this server serves `{settings.model_id}`",
                           "model", "model_not_found")

    async def start_job(request: Request, start: Callable[[Any], Iterator[Any]], prompt_ids: Optional[List[int]]) -> Job:
        """A job on a free slot, handed to the decode thread (which starts the call there, so its
        arguments are checked by the Python API); a 503 when no slot frees up in time."""
        try:
            slot = await slots.acquire(settings.queue_timeout, prompt_ids)
        except asyncio.TimeoutError:
            raise APIError(503, f"all {parallel} slots stayed busy for {settings.queue_timeout:g} s; retry later",
                           None, "server_busy") from None
        job = Job(asyncio.get_running_loop(), start)
        slots.submit(job, slot)
        active.add(job)
        return job

    def begin_shutdown() -> None:
        """Ends every request in flight with a 'shutting down' error (streams: an error event)."""
        for job in list(active):
            job.queue.put_nowait(SHUTDOWN)
            job.cancel()

    async def next_item(job: Job, request: Request, disconnected: "asyncio.Task[Any]") -> Any:
        """The job's next chunk, END or exception; cancels the job when the client goes away first."""
        getter = asyncio.ensure_future(job.queue.get())
        done, _ = await asyncio.wait({getter, disconnected}, return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            return getter.result()
        getter.cancel()
        job.cancel()
        raise asyncio.CancelledError("client disconnected")

    def chunk_with_id(chunk: Dict[str, Any]) -> Dict[str, Any]:
        chunk["model"] = settings.model_id
        return chunk

    async def run(request: Request, start: Callable[[Any], Iterator[Any]], values: Dict[str, Any],
                  prompt_ids: Optional[List[int]], collect: Callable[[List[Dict[str, Any]], Dict[str, Any]], Dict[str, Any]]
                  ) -> Response:
        job = await start_job(request, start, prompt_ids)
        disconnected = asyncio.ensure_future(_wait_disconnect(request))
        try:
            first = await next_item(job, request, disconnected)
        except BaseException:
            disconnected.cancel()
            job.cancel()
            active.discard(job)
            raise
        if first is SHUTDOWN or isinstance(first, BaseException):
            disconnected.cancel()
            active.discard(job)
            raise _shutting_down() if first is SHUTDOWN else _api_error_of(first)
        if not values.get("stream"):
            chunks: List[Dict[str, Any]] = []
            item = first
            try:
                while item is not END:
                    if item is SHUTDOWN:
                        raise _shutting_down()
                    if isinstance(item, BaseException):
                        raise _api_error_of(item)
                    chunks.append(chunk_with_id(item))
                    item = await next_item(job, request, disconnected)
            except asyncio.CancelledError:
                request.state.note = "client disconnected"
                return Response(status_code=499)  # nobody reads it; ends the request cleanly
            finally:
                disconnected.cancel()
                job.cancel()
                active.discard(job)
            request.state.usage = job.usage
            return JSONResponse(collect(chunks, job.usage))
        disconnected.cancel()  # from here on the SSE response watches the connection
        return sse(request, job, first, bool(values.get("stream_options", {}).get("include_usage")))

    def sse(request: Request, job: Job, first: Any, include_usage: bool) -> EventSourceResponse:
        shutdown = anyio.Event()

        async def events() -> AsyncIterator[Dict[str, Any]]:
            async def on_shutdown() -> None:
                await shutdown.wait()
                job.queue.put_nowait(SHUTDOWN)

            watcher = asyncio.ensure_future(on_shutdown())
            item, last = first, None
            try:
                while item is not END:
                    if item is SHUTDOWN or isinstance(item, BaseException):
                        error = _shutting_down() if item is SHUTDOWN else _api_error_of(item)
                        request.state.note = error.message
                        yield {"data": json.dumps(error.body())}
                        return
                    last = chunk_with_id(item)
                    yield {"data": json.dumps(last)}
                    item = await job.queue.get()
                request.state.usage = job.usage
                if include_usage and last is not None:
                    yield {"data": json.dumps({**last, "choices": [], "usage": job.usage})}
                yield {"data": "[DONE]"}
            finally:
                watcher.cancel()
                active.discard(job)
                if item is not END:  # client gone, shutdown or error: free the slot at its next turn
                    job.cancel()
                    request.state.note = getattr(request.state, "note", None) or "stream closed early"

        return EventSourceResponse(events(), ping=15, send_timeout=60, shutdown_event=shutdown,
                                   shutdown_grace_period=1.0)

    # -- routes -------------------------------------------------------------------------------------
    async def chat_completions(request: Request) -> Response:
        check_key(request)
        kwargs, values = fields.chat_request(await _json_body(request, settings.max_body_bytes), settings.max_tokens_limit)
        check_model(values)

        def start(session: Any) -> Iterator[Any]:
            return session.create_chat_completion(stream=True, **kwargs)

        prompt_ids = await _quietly(lambda: model.tokenize_chat(kwargs["messages"]))
        return await run(request, start, values, prompt_ids, _collect_chat)

    async def completions(request: Request) -> Response:
        check_key(request)
        kwargs, values = fields.completion_request(await _json_body(request, settings.max_body_bytes),
                                                   settings.max_tokens_limit)
        check_model(values)

        def start(session: Any) -> Iterator[Any]:
            return session.create_completion(stream=True, **kwargs)

        prompt = kwargs["prompt"]
        prompt_ids = prompt if isinstance(prompt, list) else await _quietly(lambda: model.tokenize(prompt))
        return await run(request, start, values, prompt_ids, _collect_completion)

    async def embeddings(request: Request) -> Response:
        check_key(request)
        body = await _json_body(request, settings.max_body_bytes)
        args = fields.embedding_request(body)
        check_model(body)
        try:
            result = await asyncio.to_thread(model.create_embedding, input=args["input"], model=settings.model_id)
        except Exception as e:
            raise _api_error_of(e) from None
        if args["base64"]:  # the official client's default: little-endian float32 bytes, base64
            for item in result["data"]:
                item["embedding"] = base64.b64encode(np.asarray(item["embedding"], "<f4").tobytes()).decode("ascii")
        return JSONResponse(result)

    async def list_models(request: Request) -> Response:
        check_key(request)
        return JSONResponse({"object": "list", "data": [model_card]})

    async def get_model(request: Request) -> Response:
        check_key(request)
        if request.path_params["name"] != settings.model_id:
            raise APIError(404, f"The model `{request.path_params['name']}` does not exist", "model", "model_not_found")
        return JSONResponse(model_card)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "model": settings.model_id,
                             "slots": {"total": parallel, "busy": slots.busy},
                             "batching": slots.all[0].session.batch_stats})

    async def page(request: Request) -> Response:
        name = request.path_params.get("name", "index.html")
        if name not in _STATIC:
            raise HTTPException(404)
        text = resources.files(__package__).joinpath("static", name).read_bytes()
        return Response(text, media_type=_STATIC[name], headers={"cache-control": "no-cache"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            slots.stop()

    app = Starlette(
        routes=[
            Route("/", page), Route("/static/{name}", page),
            Route("/health", health),
            Route("/v1/models", list_models), Route("/v1/models/{name:path}", get_model),
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/completions", completions, methods=["POST"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
        ],
        exception_handlers={APIError: _api_error, HTTPException: _http_error,
                            Exception: _internal_error},
        lifespan=lifespan,
    )
    app.state.slots = slots
    wrapped = _RequestLog(app)
    wrapped.begin_shutdown = begin_shutdown  # called by the server on SIGINT / SIGTERM
    return wrapped


_STATIC = {"index.html": "text/html; charset=utf-8", "chat.js": "text/javascript; charset=utf-8",
           "chat.css": "text/css; charset=utf-8"}


async def _api_error(request: Request, e: APIError) -> Response:
    return e.response()


async def _http_error(request: Request, e: HTTPException) -> Response:
    message = {404: f"no route {request.method} {request.url.path}",
               405: f"method {request.method} is not allowed on {request.url.path}"}.get(e.status_code, str(e.detail))
    return APIError(e.status_code, message, None, "not_found" if e.status_code == 404 else None).response()


async def _internal_error(request: Request, e: Exception) -> Response:
    return _api_error_of(e).response()


async def _wait_disconnect(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _quietly(compute: Callable[[], Any]) -> Any:
    """compute() on a worker thread, or None when it fails (the call reports the error itself)."""
    try:
        return await asyncio.to_thread(compute)
    except Exception:
        return None


def _collect_chat(chunks: List[Dict[str, Any]], usage: Dict[str, Any]) -> Dict[str, Any]:
    """The non-streamed chat completion that the streamed chunks spell out."""
    content: List[str] = []
    calls: Dict[int, Dict[str, Any]] = {}
    finish = None
    logprobs: Optional[List[Dict[str, Any]]] = None
    for c in chunks:
        choice = c["choices"][0]
        delta = choice["delta"]
        content.append(delta.get("content") or "")
        if choice.get("logprobs") is not None:
            logprobs = (logprobs or []) + choice["logprobs"]["content"]
        for part in delta.get("tool_calls") or ():
            call = calls.setdefault(part["index"], {"id": None, "type": "function",
                                                     "function": {"name": "", "arguments": ""}})
            call["id"] = part.get("id", call["id"])
            function = part.get("function", {})
            call["function"]["name"] = function.get("name") or call["function"]["name"]
            call["function"]["arguments"] += function.get("arguments", "")
        finish = choice["finish_reason"] or finish
    message: Dict[str, Any] = {"role": "assistant", "content": "".join(content)}
    if calls:
        message["tool_calls"] = [calls[i] for i in sorted(calls)]
    last = chunks[-1]
    return {"id": last["id"], "object": "chat.completion", "created": last["created"], "model": last["model"],
            "choices": [{"index": 0, "message": message,
                         "logprobs": None if logprobs is None else {"content": logprobs}, "finish_reason": finish}],
            "usage": usage}


def _collect_completion(chunks: List[Dict[str, Any]], usage: Dict[str, Any]) -> Dict[str, Any]:
    last = chunks[-1]
    text = "".join(c["choices"][0]["text"] for c in chunks)
    return {"id": last["id"], "object": "text_completion", "created": last["created"], "model": last["model"],
            "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": last["choices"][0]["finish_reason"]}],
            "usage": usage}
