"""Every store call a chat handler makes runs in a worker thread, and a busy store is waited out.

Two things went wrong when handlers called the store on the event loop's thread: while another
writer held SQLite's lock, each call froze the loop for the driver's busy wait (5 s: no polling, no
replies, no buttons), and a call that still found the store held gave up, after Telegram had been
told we had the update, so the command was neither applied nor answered nor logged. Here each call
runs in a thread of a small pool of our own (serve's cycle and jobs use the default one), and one
that fails because the store is busy or unusable is tried again with backoff until it goes through.
The caller awaits it, so a chat's commands still complete in the order they came.
"""
from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar

from storage.errors import StoreError

log = logging.getLogger(__name__)
T = TypeVar("T")


class StoreGaveUp(StoreError):
    """The bot is stopping and the store still refused: the call was not done."""


class StoreCalls:
    def __init__(self, first_backoff: float = 0.1, max_backoff: float = 1.0, workers: int = 8) -> None:
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self._workers = workers
        self._executor: ThreadPoolExecutor | None = None
        self._stopping: asyncio.Event | None = None
        self.retries = 0  # calls tried again because the store refused them (for tests and benchmarks)

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix="chat-store")
        return self._executor

    async def once(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker thread, with this task's context (alerts held by a command stay held)."""
        call = functools.partial(contextvars.copy_context().run, fn, *args)
        return await asyncio.get_running_loop().run_in_executor(self._pool(), call)

    async def until_done(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker thread, again and again while the store refuses it (StoreError), with
        backoff; other exceptions pass through. Only `stop()` ends the waiting (StoreGaveUp)."""
        delay, began, failures = self.first_backoff, time.monotonic(), 0
        while True:
            try:
                result = await self.once(fn, *args)
            except StoreError as exc:
                failures += 1
                self.retries += 1
                if self._stopped():
                    log.error("gave up on %s at shutdown: the store still refuses it (%s)", what, exc)
                    raise StoreGaveUp(f"{what} was not stored: {exc}") from exc
                if failures == 1:
                    log.warning("%s waits for the store: %s", what, exc)
                await self._pause(delay)
                delay = min(delay * 2, self.max_backoff)
                continue
            if failures:
                log.warning("%s went through after %.1f s waiting for the store (%d tries)", what,
                            time.monotonic() - began, failures + 1)
            return result

    def _stopped(self) -> bool:
        return self._stopping is not None and self._stopping.is_set()

    async def _pause(self, seconds: float) -> None:
        if self._stopping is None:
            self._stopping = asyncio.Event()
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    def stop(self) -> None:
        """Calls still waiting for the store try once more and give up (the bot is shutting down)."""
        if self._stopping is None:
            self._stopping = asyncio.Event()
        self._stopping.set()

    def close(self) -> None:
        """Release the threads (after stop, once no handler runs any more)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None
