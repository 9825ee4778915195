"""What the market did after a signal: did its direction pay over the horizon, and by how much.

Pure: the bars, the time and the interval are arguments. The rules, chosen so that a signal is
judged on prices one could actually have traded at:

- Entry is the open of the first bar that starts at or after `as_of`: a signal made while a bar
  is running cannot trade at that bar's open, which already happened.
- The horizon runs from the entry bar's start. Exit is the close of the last bar that ends at or
  before `entry + horizon`. When the horizon is shorter than one bar, the entry bar's own close
  is the exit: it is the earliest close the bars can tell.
- The outcome is known once the bars reach the deadline (some bar ends at or after it); before
  that it is None. A gap in the bars (a weekend, a holiday) does not delay it: the last close
  before the deadline is the exit.

For US daily bars dated by session (the bar starts at 00:00 UTC of its trading day), a signal
made before a session (as_of at or before that 00:00) enters at that session's open and, with a
24-hour horizon, exits at the same session's close: open-to-close of the next session. A signal
made on a Friday after the close enters Monday's open and exits Monday's close. On hourly bars a
24-hour horizon is 24 bars from the first full hour after as_of.
"""
from __future__ import annotations

import math
import operator
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from intelligence.types import Bar, Direction, _require_utc

_START = operator.attrgetter("start")


@dataclass(frozen=True)
class Outcome:
    hit: bool  # direction was right over the horizon (a flat exit is not right)
    realized_return: float  # log return in the signal's direction (positive = right), entry -> exit
    max_favorable: float  # best in-direction excursion (log return, >= 0) from entry through exit
    max_adverse: float  # worst in-direction excursion (log return, <= 0) from entry through exit
    entry_time: datetime
    entry_price: float
    exit_time: datetime
    exit_price: float


def resolve_outcome(
    as_of: datetime, direction: Direction, horizon: timedelta, bars: Sequence[Bar], interval: timedelta
) -> Outcome | None:
    """The outcome of a `direction` call made at `as_of`, or None while the bars do not reach its end (or HOLD)."""
    _require_utc(as_of, "as_of")
    if horizon <= timedelta(0):
        raise ValueError(f"horizon must be positive, got {horizon}")
    _check_series(bars, interval)
    if direction is Direction.HOLD:
        return None
    return _outcome(as_of, direction, horizon, bars, interval)


def resolve_outcomes(
    calls: Sequence[tuple[datetime, Direction, timedelta]], bars: Sequence[Bar], interval: timedelta
) -> list[Outcome | None]:
    """`resolve_outcome` of many (as_of, direction, horizon) calls on one series, in order. The series
    is checked once, so each call costs two binary searches and its own bars, not a pass over all of them."""
    _check_series(bars, interval)
    outcomes: list[Outcome | None] = []
    for as_of, direction, horizon in calls:
        _require_utc(as_of, "as_of")
        if horizon <= timedelta(0):
            raise ValueError(f"horizon must be positive, got {horizon}")
        outcomes.append(None if direction is Direction.HOLD else _outcome(as_of, direction, horizon, bars, interval))
    return outcomes


def _check_series(bars: Sequence[Bar], interval: timedelta) -> None:
    if interval <= timedelta(0):
        raise ValueError(f"interval must be positive, got {interval}")
    starts = list(map(_START, bars))
    # map(operator.ge, ...) compares in C; the loop that names the offending bar runs only on bad input.
    if any(map(operator.ge, starts, starts[1:])):
        bad = next(later for earlier, later in zip(starts, starts[1:]) if later <= earlier)
        raise ValueError(f"bars are not in increasing time order at {bad.isoformat()}")


def _outcome(as_of: datetime, direction: Direction, horizon: timedelta, bars: Sequence[Bar],
             interval: timedelta) -> Outcome | None:
    first = bisect_left(bars, as_of, key=_START)
    if first == len(bars):
        return None
    entry = bars[first]
    deadline = entry.start + horizon
    if bars[-1].start + interval < deadline:
        return None  # the horizon has not passed in the bars given
    # Last bar ending at or before the deadline: its start is at or before deadline - interval.
    last = max(bisect_right(bars, deadline - interval, key=_START) - 1, first)
    held = bars[first:last + 1]
    exit_bar = bars[last]
    sign = 1.0 if direction is Direction.BUY else -1.0
    high = max(b.high for b in held)
    low = min(b.low for b in held)
    realized = sign * math.log(exit_bar.close / entry.open)
    up, down = math.log(high / entry.open), math.log(low / entry.open)
    favorable, adverse = (up, down) if sign > 0 else (-down, -up)
    return Outcome(
        hit=realized > 0,
        realized_return=realized,
        max_favorable=max(favorable, 0.0),
        max_adverse=min(adverse, 0.0),
        entry_time=entry.start,
        entry_price=entry.open,
        exit_time=exit_bar.start + interval,
        exit_price=exit_bar.close,
    )
