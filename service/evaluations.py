"""The evaluation summary chat asks for (/eval, the weekly post), made at most once per freshness window.

Making one resolves outcomes and writes a run's artifacts (eval/weekly.py): slow and blocking. The last
summary is served while it is younger than TB_CHAT_EVAL_FRESH_MINUTES and its files in eval_runs/ still
back every number; whoever asks while one is being made waits for it instead of making another.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from storage.db import Sessions
from storage.errors import StoreError

if TYPE_CHECKING:
    from eval.summary import WeeklySummary

log = logging.getLogger(__name__)


class EvaluationSummaries:
    def __init__(self, sessions: Sessions, clock: Callable[[], datetime], bars_dir: Path | None, runs_dir: Path,
                 fee_bps: float, slippage_bps: float, fresh_seconds: float) -> None:
        self._sessions = sessions
        self._clock = clock
        self._bars_dir = bars_dir
        self._runs_dir = runs_dir
        self._fee_bps = fee_bps
        self._slippage_bps = slippage_bps
        self._fresh_seconds = fresh_seconds
        self._making = threading.Lock()
        self._last: tuple[datetime, WeeklySummary] | None = None

    def summary(self) -> WeeklySummary:
        """The last summary while it is fresh, else a new one. A failed evaluation comes back as a summary
        that says so, not as an exception, and is not kept; a busy or unusable store raises StoreError
        (the chat adapter tries again)."""
        from eval.equity import Costs
        from eval.pipeline import store_bars
        from eval.weekly import build_weekly_summary, failure_summary

        with self._making:
            now = self._clock()
            last = self._last
            if last is not None and (now - last[0]).total_seconds() < self._fresh_seconds \
                    and last[1].artifacts is not None and last[1].artifacts.is_dir():
                return last[1]
            try:
                summary = build_weekly_summary(self._sessions, store_bars(self._bars_dir), now, self._runs_dir,
                                               Costs(self._fee_bps, self._slippage_bps))
            except StoreError:
                raise
            except Exception as exc:  # the chat gets the reason in a sentence; the log keeps the traceback
                log.exception("evaluation summary failed")
                return failure_summary(now, f"{exc.__class__.__name__}: {exc}")
            self._last = (now, summary)
            return summary
