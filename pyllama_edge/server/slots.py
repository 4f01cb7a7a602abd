"""Slots and their threads.

Each of the N slots owns a Session (its KV cache, so a client continuing a conversation reuses
its prefix) and a thread that runs the slot's jobs, one at a time, so the event loop never runs
model code. The slots' sessions share one batcher (Model.batched_sessions): the decode steps of
every busy slot run as one forward pass that reads the weights once, and a new request's prompt is
evaluated a chunk per pass alongside the others' decode steps. Cancelling a job (a client gone)
takes effect after its next chunk: the chunk iterator is closed and the slot freed."""
from __future__ import annotations

import asyncio
import collections
import queue
import threading
from typing import Any, Callable, Deque, Iterator, List, Optional, Sequence

END = object()  # queued after a job's last chunk


class Job:
    """One request on one slot: `start` (run on the slot's thread) returns its chunk iterator;
    chunks, then END or an exception, arrive in `queue` on the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, start: Callable[[Any], Iterator[Any]]):
        self.loop, self.start = loop, start
        self.queue: "asyncio.Queue[Any]" = asyncio.Queue()
        self.slot: Optional["Slot"] = None
        self.cancelled = False
        self.steps = 0
        self.usage: dict = {}  # OpenAI's usage object, set before END is queued

    def cancel(self) -> None:
        """Ends the job after its current step (any thread)."""
        self.cancelled = True

    def _deliver(self, item: Any) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, item)

    def run(self, session: Any) -> None:
        """Runs the job to its end on the calling thread (a slot's)."""
        try:
            if self.cancelled:
                self._deliver(END)
                return
            chunks = self.start(session)
            try:
                for chunk in chunks:
                    self.steps += 1
                    self._deliver(chunk)
                    if self.cancelled:
                        break
                else:
                    self.usage = session.last_usage
            finally:
                close = getattr(chunks, "close", None)
                if close is not None:
                    close()
            self._deliver(END)
        except Exception as e:  # bad arguments (ValueError, TypeError) or a failure: the job's, not the slot's
            self._deliver(e)


class Slot:
    def __init__(self, index: int, session: Any):
        self.index, self.session = index, session
        self.jobs: "queue.SimpleQueue[Optional[Job]]" = queue.SimpleQueue()
        self.job: Optional[Job] = None


class Slots:
    """The free slots (event loop side) and the slots' threads, which run the busy ones' jobs."""

    def __init__(self, sessions: Sequence[Any]):
        self.all = [Slot(i, s) for i, s in enumerate(sessions)]
        self._free: List[Slot] = list(self.all)
        self._waiters: Deque[asyncio.Future] = collections.deque()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(slot,), name=f"pyllama-edge-slot-{slot.index}", daemon=True)
                         for slot in self.all]
        for t in self._threads:
            t.start()

    # -- event loop side --------------------------------------------------------------------------
    @property
    def busy(self) -> int:
        return len(self.all) - len(self._free)

    async def acquire(self, timeout: float, prompt_ids: Optional[List[int]] = None) -> Slot:
        """A free slot (the one whose history shares the longest prefix with `prompt_ids`), waiting
        up to `timeout` seconds; asyncio.TimeoutError when none frees up."""
        if not self._free:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(asyncio.shield(waiter), timeout)
            except asyncio.TimeoutError:
                if waiter.done() and not waiter.cancelled():  # handed a slot just as time ran out
                    self._release(waiter.result())
                waiter.cancel()
                raise
            except BaseException:
                waiter.cancel()
                if waiter.done() and not waiter.cancelled():
                    self._release(waiter.result())
                raise
            return waiter.result()
        best = max(self._free, key=lambda s: _common_prefix(s.session.history, prompt_ids or []))
        self._free.remove(best)
        return best

    def _release(self, slot: Slot) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(slot)
                return
        self._free.append(slot)

    def submit(self, job: Job, slot: Slot) -> None:
        job.slot = slot
        with self._lock:
            slot.job = job
        slot.jobs.put(job)

    def cancel_all(self) -> None:
        with self._lock:
            for slot in self.all:
                if slot.job is not None:
                    slot.job.cancel()

    def stop(self) -> None:
        self.cancel_all()
        for slot in self.all:
            slot.jobs.put(None)
        for t in self._threads:
            t.join(timeout=30)

    # -- slot threads -----------------------------------------------------------------------------
    def _run(self, slot: Slot) -> None:
        while True:
            job = slot.jobs.get()
            if job is None:
                return
            job.run(slot.session)
            with self._lock:
                slot.job = None
            try:
                job.loop.call_soon_threadsafe(self._release, slot)
            except RuntimeError:  # the event loop has closed (shutting down)
                return


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n
