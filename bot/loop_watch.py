"""How long the event loop was kept from running: the figure behind "no store call on the loop's thread".

A task asks to wake every `interval` seconds and records how late it woke; a callback that blocks
the loop (a store call waiting out SQLite's busy timeout, a slow render) shows up as that lateness.
`serve` and the bot log a warning for each stall longer than `warn_after`.
"""
from __future__ import annotations

import asyncio
import logging
import time

log = logging.getLogger(__name__)


class LoopWatch:
    def __init__(self, interval: float = 0.05, warn_after: float | None = None) -> None:
        self.interval = interval
        self.warn_after = warn_after
        self.longest = 0.0  # seconds the loop was late, at worst, since the watch started
        self.stalls = 0  # how many times it was late by more than warn_after

    def restart(self) -> None:
        """Forget what was seen so far (e.g. once starting up is over)."""
        self.longest, self.stalls = 0.0, 0

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Watch until `stop` is set (or the task is cancelled)."""
        while stop is None or not stop.is_set():
            asked = time.perf_counter()
            await asyncio.sleep(self.interval)
            late = time.perf_counter() - asked - self.interval
            self.longest = max(self.longest, late)
            if self.warn_after is not None and late > self.warn_after:
                self.stalls += 1
                log.warning("the event loop was blocked for %.1f s (chat commands and deliveries waited)", late)
