"""Answers to read-only questions, shared for a moment: a burst of the same question reads the store once.

Fifty operators pressing /status after an alert would otherwise run the same queries fifty times,
one after another. An answer is kept for `ttl` seconds at most and dropped at once by `clear()`,
which the operator service calls after everything it changes; so a reader sees its own changes
immediately and a change by another process (a cycle run from the command line) within `ttl`.
"""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Hashable, TypeVar, cast

T = TypeVar("T")


class ReadCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._answers: dict[Hashable, tuple[float, Any]] = {}
        self._generation = 0  # bumped by clear(): an answer computed across a change is not kept
        self._lock = threading.Lock()  # slow commands change things from worker threads

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        if self._ttl <= 0:
            return compute()
        now = self._clock()
        with self._lock:
            kept = self._answers.get(key)
            generation = self._generation
        if kept is not None and now - kept[0] < self._ttl:
            return cast(T, kept[1])
        answer = compute()
        with self._lock:
            if generation == self._generation:
                self._answers[key] = (now, answer)
        return answer

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._answers.clear()
