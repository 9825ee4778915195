"""Outcome of every signal from the bars after it, through intelligence.outcomes (the one resolver)."""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Sequence

from intelligence.outcomes import Outcome, resolve_outcome
from intelligence.progress import Tick
from intelligence.types import Direction
from intelligence.types import BarSeries, BarSource
from providers.bars import BarsError, EmbeddedMarketData, read_bars
from eval.signals import EvalSignal

# Bars fetched past the horizon: a signal made before a long market closure (a weekend plus a
# holiday) enters days later, and its horizon only starts then.
ENTRY_SLACK = timedelta(days=7)


class SingleFileBars:
    """One bar file for every signal of a replay: a replay runs on one instrument's tape."""

    def __init__(self, path: Path, symbols: Sequence[str]):
        distinct = sorted(set(symbols))
        if len(distinct) > 1:
            raise BarsError(f"{path} holds one instrument's bars but the signals name {len(distinct)} symbols "
                            f"({', '.join(distinct)}); give --bars a directory with one file per symbol")
        self.series = read_bars(path, distinct[0] if distinct else Path(path).stem)
        self._starts = [b.start for b in self.series.bars]

    def bars_between(self, symbol: str, start: datetime, end: datetime) -> BarSeries:
        """Same contract as EmbeddedMarketData.bars_between: opened at or after start, closed by end."""
        first = bisect_left(self._starts, start)
        last = bisect_right(self._starts, end - self.series.interval)
        return BarSeries(self.series.symbol, self.series.interval, self.series.bars[first:max(first, last)],
                         self.series.problems)

    def bars_until(self, symbol: str, as_of: datetime) -> BarSeries:
        """Every bar closed by `as_of`, as EmbeddedMarketData.bars_until."""
        first = self.series.bars[0].start if self.series.bars else as_of
        return self.bars_between(symbol, first, as_of)


def bar_source(path: Path | None, symbols: Sequence[str]) -> BarSource:
    """A directory (one file per symbol, as the embedded data) or a single file; None: the embedded bars."""
    if path is None or Path(path).is_dir():
        return EmbeddedMarketData(path)
    return SingleFileBars(Path(path), symbols)


@dataclass(frozen=True)
class Resolution:
    signal: EvalSignal
    outcome: Outcome | None  # in the signal's direction; None for a HOLD, while open, or without bars
    market: Outcome | None  # the long side over the same window: what the market did, whatever was said
    problem: str | None = None  # why the signal could not be resolved at all (no bars for it)

    @property
    def status(self) -> str:
        if self.problem:
            return "unresolvable"
        if not self.signal.actionable:
            return "hold"
        return "resolved" if self.outcome is not None else "open"

    @property
    def up(self) -> bool | None:
        """The market closed above its entry over the horizon (a flat close is not up)."""
        return None if self.market is None else self.market.hit


def resolve(signal: EvalSignal, bars: BarSource, now: datetime) -> Resolution:
    """Only bars closed by `now` are used: a signal whose horizon has not passed stays open."""
    end = min(signal.as_of + signal.horizon + ENTRY_SLACK, now)
    if end < signal.as_of:
        return Resolution(signal, None, None)
    try:
        series = bars.bars_between(signal.symbol, signal.as_of, end)
    except BarsError as exc:
        return Resolution(signal, None, None, problem=str(exc))
    market = resolve_outcome(signal.as_of, Direction.BUY, signal.horizon, series.bars, series.interval)
    if signal.direction is Direction.BUY:
        outcome = market
    else:
        outcome = resolve_outcome(signal.as_of, signal.direction, signal.horizon, series.bars, series.interval)
    return Resolution(signal, outcome, market)


def resolve_all(signals: Sequence[EvalSignal], bars: BarSource, now: datetime,
                tick: Tick | None = None) -> list[Resolution]:
    """`tick(1)` after each signal: how far it got, for whoever shows progress."""
    resolutions = []
    for signal in signals:
        resolutions.append(resolve(signal, bars, now))
        if tick is not None:
            tick(1)
    return resolutions
