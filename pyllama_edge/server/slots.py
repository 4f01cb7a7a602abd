"""Slots and the decode thread.

Each of the N slots owns a Session (its KV cache, so a client continuing a conversation reuses
its prefix). One decode thread steps the active jobs in turn, one chunk (one decoded token) each,
so every stream advances at the same pace and the event loop never runs model code. Cancelling a
job (a client gone) takes effect at its next turn: the chunk iterator is closed, the slot freed.

Not done: the slots' decode steps are not one batched forward pass (the weights are read once per
slot per step, not once per step); a new request's prompt is evaluated in one go (no chunked
prefill), so other streams wait for it."""
from __future__ import annotations

import asyncio
import collections
import threading
from typing import Any, Callable, Deque, Iterator, List, Optional, Sequence

END = object()  # queued after a job's last chunk


class Job:
    """One request on one slot: `start` (run on the decode thread) returns its chunk iterator;
    chunks, then END or an exception, arrive in `queue` on the event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, start: Callable[[Any], Iterator[Any]]):
        self.loop, self.start = loop, start
        self.queue: "asyncio.Queue[Any]" = asyncio.Queue()
        self.chunks: Optional[Iterator[Any]] = None
        self.slot: Optional["Slot"] = None
        self.cancelled = False
        self.steps = 0
        self.usage: dict = {}  # OpenAI's usage object, set before END is queued

    def cancel(self) -> None:
        """Ends the job at its next turn (any thread)."""
        self.cancelled = True

    def _deliver(self, item: Any) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, item)


class Slot:
    def __init__(self, index: int, session: Any):
        self.index, self.session = index, session


class Slots:
    """The free slots (event loop side) and the decode thread that runs the busy ones' jobs."""

    def __init__(self, sessions: Sequence[Any]):
        self.all = [Slot(i, s) for i, s in enumerate(sessions)]
        self._free: List[Slot] = list(self.all)
        self._waiters: Deque[asyncio.Future] = collections.deque()
        self._jobs: List[Job] = []  # decode thread side, under _lock
        self._lock = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="pyllama-edge-decode", daemon=True)
        self._thread.start()

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
            self._jobs.append(job)
            self._lock.notify()

    def cancel_all(self) -> None:
        with self._lock:
            for job in self._jobs:
                job.cancel()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            for job in self._jobs:
                job.cancel()
            self._lock.notify()
        self._thread.join(timeout=30)

    # -- decode thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        turn = 0
        while True:
            with self._lock:
                while not self._jobs and not self._stopping:
                    self._lock.wait()
                if self._stopping and not self._jobs:
                    return
                turn %= len(self._jobs)
                job = self._jobs[turn]
            done = self._step(job)
            with self._lock:
                if done:
                    self._jobs.remove(job)
                else:
                    turn += 1
            if done:
                job.loop.call_soon_threadsafe(self._release, job.slot)

    def _step(self, job: Job) -> bool:
        """Runs one turn of `job`; True when it has ended (finished, failed or cancelled)."""
        try:
            if job.cancelled:
                if job.chunks is not None and hasattr(job.chunks, "close"):
                    job.chunks.close()
                job.chunks = None
                job._deliver(END)
                return True
            if job.chunks is None:
                job.chunks = job.start(job.slot.session)
                return False
            try:
                chunk = next(job.chunks)
            except StopIteration:
                job.chunks = None
                job.usage = job.slot.session.last_usage
                job._deliver(END)
                return True
            job.steps += 1
            job._deliver(chunk)
            return False
        except Exception as e:  # bad arguments (ValueError, TypeError) or a failure: the job's, not the thread's
            job.chunks = None
            job._deliver(e)
            return True


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n
