"""The base rate (climatology) of a market: how often it closed above its open over a horizon.

What the engine says when its record shows no edge: a BUY is right about as often as the market
rises over the horizon, a SELL about as often as it does not. Measured on the bars known at as-of,
with the same entry and exit rules as a call's outcome (intelligence/outcomes.py): every bar is an
entry, each window whose exit bar closed by as-of counts once. On hourly bars a 24-hour window
starts every hour, so the windows overlap: they are worth as many independent draws as there are
horizons in the span (`windows x interval / horizon`). The share of up windows is then smoothed
toward a coin flip as if PRIOR_HORIZONS coin-flip horizons had been seen: three weeks of a falling
market should not make a SELL look like a two-in-three bet. The evaluation's climatology baseline
(eval/baselines.py) is Laplace's rule on the moves of the signals' own sessions: close to this once
a few months are known, and bolder early on. Pure: bars, interval, horizon and as-of are arguments.
"""
from __future__ import annotations

import operator
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from intelligence.types import Bar, Direction

_START = operator.attrgetter("start")
# The coin flip a base rate starts from, counted in horizons (about six weeks of daily sessions).
PRIOR_HORIZONS = 30.0


@dataclass(frozen=True)
class BaseRate:
    up: float  # P(close above entry open over the horizon), smoothed toward one half
    windows: int  # horizon windows it was measured on (overlapping on intraday bars)
    effective: float = 0.0  # what the windows are worth in independent horizons

    def for_direction(self, direction: Direction) -> float:
        if direction is Direction.HOLD:
            raise ValueError("a HOLD makes no call to have a base rate")
        return self.up if direction is Direction.BUY else 1.0 - self.up


COIN_FLIP = BaseRate(0.5, 0)


def up_rate(bars: Sequence[Bar], interval: timedelta, horizon: timedelta, as_of: datetime) -> BaseRate:
    """The base rate of up moves over `horizon` in the bars whose windows had closed by `as_of`."""
    if interval <= timedelta(0) or horizon <= timedelta(0):
        raise ValueError(f"interval and horizon must be positive, got {interval} and {horizon}")
    ups = windows = 0
    for i, entry in enumerate(bars):
        deadline = entry.start + horizon
        # The exit is the last bar ending at or before the deadline (the entry bar itself at the least).
        last = max(bisect_right(bars, deadline - interval, key=_START) - 1, i)
        exit_bar = bars[last]
        if exit_bar.start + interval > as_of:
            break  # later entries exit later still: nothing more is known
        if bars[-1].start + interval < deadline:
            break
        windows += 1
        ups += exit_bar.close > entry.open
    if not windows:
        return BaseRate(0.5, 0, 0.0)
    effective = windows * min(1.0, interval / horizon)
    share = ups / windows
    return BaseRate((share * effective + 0.5 * PRIOR_HORIZONS) / (effective + PRIOR_HORIZONS), windows, effective)
