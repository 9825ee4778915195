"""A circuit breaker per provider: closed -> open after N failures in a row -> half-open after a cool-down.

While open, calls fail at once without touching the provider: a dead feed costs nothing per cycle
and is not hammered. After the cool-down one trial call goes through (half-open); its success
closes the breaker, its failure opens it for another cool-down. Time comes from an injected clock
so the transitions are testable without sleeping, and the state is a snapshot that can be stored
(a restart keeps an open breaker open) and shown in /status and health.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Callable, TypeVar

T = TypeVar("T")
# Stored with the snapshot and shown in /status: long enough for a reason, short enough for a line.
MAX_ERROR_CHARS = 300


class BreakerState(str, Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerSnapshot:
    name: str
    state: BreakerState
    failures: int  # consecutive failures since the last success
    opened_at: datetime | None  # when it last opened; None while closed
    retry_at: datetime | None  # when an open breaker lets a trial call through
    last_error: str | None
    last_failure_at: datetime | None
    last_success_at: datetime | None


class CircuitOpen(Exception):
    """The provider is not called: its breaker is open (or a trial call is already under way)."""

    def __init__(self, name: str, message: str, retry_at: datetime | None) -> None:
        super().__init__(message)
        self.name = name
        self.retry_at = retry_at


class CircuitBreaker:
    def __init__(self, name: str, failure_threshold: int, cooldown: timedelta, clock: Callable[[], datetime],
                 restored: BreakerSnapshot | None = None) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1, got {failure_threshold}")
        if cooldown <= timedelta(0):
            raise ValueError(f"cooldown must be positive, got {cooldown}")
        self.name = name
        self._threshold = failure_threshold
        self._cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._trial_running = False
        self._failures = restored.failures if restored else 0
        # Half-open is derived from the time, so a restored half-open breaker is an open one whose time is up.
        self._open = restored is not None and restored.state is not BreakerState.CLOSED
        self._opened_at = restored.opened_at if restored and self._open else None
        self._last_error = restored.last_error if restored else None
        self._last_failure_at = restored.last_failure_at if restored else None
        self._last_success_at = restored.last_success_at if restored else None
        if self._open and self._opened_at is None:
            self._opened_at = clock()  # an open breaker without a time: start its cool-down now

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state(self._clock())

    def _state(self, now: datetime) -> BreakerState:
        if not self._open:
            return BreakerState.CLOSED
        assert self._opened_at is not None
        return BreakerState.HALF_OPEN if now >= self._opened_at + self._cooldown else BreakerState.OPEN

    def snapshot(self) -> BreakerSnapshot:
        with self._lock:
            state = self._state(self._clock())
            retry_at = self._opened_at + self._cooldown if self._opened_at is not None else None
            return BreakerSnapshot(self.name, state, self._failures, self._opened_at, retry_at, self._last_error,
                                   self._last_failure_at, self._last_success_at)

    def call(self, action: Callable[[], T]) -> T:
        """Run `action` unless the breaker is open; any exception it raises counts as a failure and is re-raised."""
        self._admit()
        try:
            result = action()
        except Exception as exc:
            self._record(failed=True, error=_describe(exc))
            raise
        except BaseException:  # Ctrl-C or shutdown says nothing about the provider: just free the trial slot
            with self._lock:
                self._trial_running = False
            raise
        self._record(failed=False)
        return result

    def _admit(self) -> None:
        with self._lock:
            now = self._clock()
            state = self._state(now)
            retry_at = self._opened_at + self._cooldown if self._opened_at is not None else None
            if state is BreakerState.OPEN:
                raise CircuitOpen(self.name, f"circuit open after {self._failures} failure(s) in a row "
                                  f"(last: {self._last_error}); next try after {_when(retry_at)}", retry_at)
            if state is BreakerState.HALF_OPEN:
                if self._trial_running:
                    raise CircuitOpen(self.name, "circuit half-open and its trial call is still running", retry_at)
                self._trial_running = True

    def _record(self, failed: bool, error: str | None = None) -> None:
        with self._lock:
            now = self._clock()
            was_trial, self._trial_running = self._trial_running, False
            if not failed:
                self._failures, self._open, self._opened_at = 0, False, None
                self._last_success_at = now
                return
            self._failures += 1
            self._last_error, self._last_failure_at = error, now
            if was_trial or self._failures >= self._threshold:
                self._open, self._opened_at = True, now


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment is not None else "the cool-down"
