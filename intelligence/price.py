"""Multi-timescale price score: how strongly the tape is moving, in units of its own noise.

Pure: bars, the time and the interval come in as arguments; nothing reads a clock or a file.
All windows are measured in time, not in positions, so a missing bar cannot shift a window.
"""
from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from intelligence.types import Bar, Problem

DAY = timedelta(days=1)
HOURLY_TIMESCALES = {"short": timedelta(hours=4), "mid": timedelta(hours=24), "long": timedelta(hours=72)}
DAILY_TIMESCALES = {"short": DAY, "mid": 5 * DAY, "long": 20 * DAY}
# A weekday-only series counts 5 and 20 *trading* days, which is one week and four weeks of calendar.
WEEKDAY_TIMESCALES = {"short": DAY, "mid": 7 * DAY, "long": 28 * DAY}
# Mid carries the most weight because news narratives play out over about a day (a week on daily
# bars); short is the noisiest read and long is context for the trend, not the trigger.
WEIGHTS = {"short": 0.25, "mid": 0.40, "long": 0.35}
# Volume over the short window at 2x its baseline lifts the score by at most this fraction.
VOLUME_BOOST = 0.10
# A shortest-timescale score at least this far against the others is a counter-move volume cannot confirm.
COUNTER_MOVE = 0.15
# A per-bar volatility below this means the price did not move (a halted or frozen feed).
VOL_FLOOR = 1e-6
MIN_VOL_BARS = 12  # returns needed in the lookback before older bars are drawn in
MAX_WEEKDAY_STEP = 4 * DAY  # Thursday -> Monday, or Friday -> Tuesday after a holiday
WHERE = "price"


class InsufficientBars(ValueError):
    """Too few bars to estimate volatility honestly."""


@dataclass(frozen=True)
class PriceScore:
    score: float  # combined, in [-1, 1]
    timescales: dict[str, float]  # per-timescale score in [-1, 1]
    returns: dict[str, float]  # raw log return per timescale
    volatility: float  # per-bar stdev of log returns over the lookback
    volume_ratio: float  # mean volume over the short window / mean over the lookback
    aligned: bool  # at least two timescales and all of them with the same sign
    last_close: float
    last_bar_end: datetime
    bars_used: int
    problems: tuple[Problem, ...]
    horizons: dict[str, timedelta] = field(default_factory=dict)  # the span each timescale looked back
    # Where the last close sits in the high-low range of the longest timescale: 0 at the low, 1 at the high.
    range_position: float | None = None


def is_weekday_series(interval: timedelta, starts: Sequence[datetime]) -> bool:
    """Daily bars that never fall on a weekend come from an exchange calendar, not a 24/7 market."""
    return interval == DAY and all(s.weekday() < 5 for s in starts)


def max_normal_step(interval: timedelta, starts: Sequence[datetime]) -> timedelta:
    """The longest spacing between bar starts that is not a gap (weekends and holidays on daily bars)."""
    return MAX_WEEKDAY_STEP if is_weekday_series(interval, starts) else interval


def describe_duration(span: timedelta) -> str:
    """Plain words for a span: exact when it is a whole number of days/hours/minutes, else rounded."""
    seconds = span.total_seconds()
    for unit, size in (("day", 86400.0), ("hour", 3600.0)):
        if seconds >= size and seconds % size == 0:
            return _plural(seconds / size, unit)
    # "1.3 days" reads worse than "31.2 hours", so days only from two of them.
    for unit, size, least in (("day", 86400.0, 172800.0), ("hour", 3600.0, 3600.0), ("minute", 60.0, 60.0)):
        if seconds >= least:
            return _plural(round(seconds / size, 1), unit)
    return _plural(round(seconds, 1), "second")


def _plural(amount: float, unit: str) -> str:
    text = f"{amount:.1f}".removesuffix(".0")
    return f"{text} {unit}" if text == "1" else f"{text} {unit}s"


def format_time(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def default_timescales(interval: timedelta, starts: Sequence[datetime]) -> dict[str, timedelta]:
    if interval < DAY:
        return dict(HOURLY_TIMESCALES)
    return dict(WEEKDAY_TIMESCALES if is_weekday_series(interval, starts) else DAILY_TIMESCALES)


def min_bars(interval: timedelta) -> int:
    # A day of hourly bars, or a month of daily bars: fewer makes the volatility estimate noise.
    return 24 if interval < DAY else 20


def score_price(
    bars: Sequence[Bar],
    as_of: datetime,
    interval: timedelta,
    timescales: Mapping[str, timedelta] | None = None,
) -> PriceScore:
    """Score the tape at `as_of` from bars that have all closed by then (else ValueError: look-ahead).

    Per timescale: z = log return from the close `horizon` before the last close, over the per-bar
    volatility times sqrt(bars spanned); score = tanh(z / 2), so a 2-sigma move scores about 0.76.
    Combined: the weighted mean (WEIGHTS), damped further when timescales disagree, lifted by up to
    VOLUME_BOOST when the short window trades on more volume than the lookback. Timescales default
    by interval: 4h/24h/72h below a day, 1d/5d/20d on daily bars (trading days on a weekday series).
    """
    _check_inputs(bars, as_of, interval)
    starts = [b.start for b in bars]
    horizons = dict(timescales) if timescales is not None else default_timescales(interval, starts)
    _check_horizons(horizons)
    normal_step = max_normal_step(interval, starts)
    # A week of hourly bars, or twice the longest window, gives the volatility and volume baselines.
    lookback = max(7 * DAY, 2 * max(horizons.values()))
    last_end = bars[-1].start + interval
    tail = _tail(bars, last_end - lookback - normal_step, interval)
    series = _Series.of(tail, interval, normal_step)
    problems: list[Problem] = []
    _check_staleness(last_end, as_of, interval, normal_step, problems)

    scores: dict[str, float] = {}
    returns: dict[str, float] = {}
    vol, vol_start = series.volatility(last_end - lookback, problems)
    earliest = len(series.close) - 1
    for name, horizon in sorted(horizons.items(), key=lambda item: item[1]):
        ref = series.reference(last_end - horizon, name, horizon, problems)
        if ref is None:
            continue
        earliest = min(earliest, ref)
        ret = float(math.log(series.close[-1] / series.close[ref]))
        steps = float(series.cum_weight[-1] - series.cum_weight[ref])
        returns[name] = ret
        scores[name] = math.tanh(ret / (vol * math.sqrt(max(steps, 1.0))) / 2)
    if not scores:
        raise InsufficientBars(f"no timescale has enough history before {format_time(last_end)}")

    short = min(horizons[n] for n in scores)
    ratio = series.volume_ratio(last_end - short, last_end - lookback, problems)
    # Volume confirms the tape unless the latest (shortest) move clearly goes against it: heavy
    # trading into a counter-move is a possible turn, not a confirmation.
    latest = scores[min(scores, key=lambda n: horizons[n])]
    against = abs(latest) >= COUNTER_MOVE and latest * sum(scores.values()) < 0
    combined = _combine(scores, min(ratio, 1.0) if against else ratio)
    signs = {math.copysign(1.0, s) if s != 0 else 0.0 for s in scores.values()}
    return PriceScore(
        score=combined,
        timescales=scores,
        returns=returns,
        volatility=vol,
        volume_ratio=ratio,
        aligned=len(scores) >= 2 and len(signs) == 1 and 0.0 not in signs,
        last_close=bars[-1].close,
        last_bar_end=last_end,
        bars_used=len(series.close) - min(earliest, vol_start),
        problems=tuple(problems),
        horizons={name: horizons[name] for name in scores},
        range_position=_range_position(tail, last_end - max(horizons[n] for n in scores), interval),
    )


def _check_inputs(bars: Sequence[Bar], as_of: datetime, interval: timedelta) -> None:
    if as_of.tzinfo is None or as_of.utcoffset() != timedelta(0):
        raise ValueError(f"as_of must be a timezone-aware UTC datetime, got {as_of!r}")
    if interval <= timedelta(0):
        raise ValueError(f"interval must be positive, got {interval}")
    for prev, bar in zip(bars, bars[1:]):
        if bar.start <= prev.start:
            raise ValueError(f"bars are not in increasing time order at {format_time(bar.start)}")
    if bars and bars[-1].start + interval > as_of:
        raise ValueError(
            f"look-ahead: the bar starting {format_time(bars[-1].start)} ends after as_of {format_time(as_of)}"
        )
    needed = min_bars(interval)
    if len(bars) < needed:
        raise InsufficientBars(f"need at least {needed} bars of {describe_duration(interval)}, got {len(bars)}")


def _check_horizons(horizons: Mapping[str, timedelta]) -> None:
    if not horizons:
        raise ValueError("timescales is empty")
    for name, horizon in horizons.items():
        if horizon <= timedelta(0):
            raise ValueError(f"timescale {name!r} must be a positive duration, got {horizon}")


def _check_staleness(
    last_end: datetime, as_of: datetime, interval: timedelta, normal_step: timedelta, problems: list[Problem]
) -> None:
    # Two intervals on a 24/7 series; a weekend plus a day on a weekday series.
    age = as_of - last_end
    if age > normal_step + interval:
        problems.append(Problem(WHERE, f"last bar is {describe_duration(age)} old"))


def _tail(bars: Sequence[Bar], since: datetime, interval: timedelta) -> Sequence[Bar]:
    """Only the bars the score can need, so a long history costs no more than a short one."""
    # Keep the last bar ending at or before `since` too: it is the reference close for the longest window.
    first = bisect_right(bars, since - interval, key=lambda b: b.start) - 1
    # ... and never fewer than the minimum, so a gap in the lookback still leaves a volatility sample.
    first = min(first, len(bars) - min_bars(interval))
    return bars[max(first, 0):]


def _range_position(bars: Sequence[Bar], since: datetime, interval: timedelta) -> float | None:
    inside = [b for b in bars if b.start + interval > since]
    if not inside:
        return None
    low, high = min(b.low for b in inside), max(b.high for b in inside)
    return (inside[-1].close - low) / (high - low) if high > low else None


def _combine(scores: Mapping[str, float], volume_ratio: float) -> float:
    names = list(scores)
    known = all(n in WEIGHTS for n in names)
    weights = np.array([WEIGHTS[n] if known else 1.0 for n in names])
    values = np.array([scores[n] for n in names])
    raw = float(weights @ values / weights.sum())
    spread = float(weights @ np.abs(values) / weights.sum())
    # 1 when all timescales agree; lower as they cancel. Disagreement is damped beyond the cancellation
    # itself because a tape that says "up" on one scale and "down" on another is saying little.
    agreement = abs(raw) / spread if spread > 0 else 1.0
    damped = raw * (0.5 + 0.5 * agreement)
    boost = 1.0 + VOLUME_BOOST * min(max(math.log2(volume_ratio), 0.0), 1.0) if volume_ratio > 0 else 1.0
    return float(np.clip(damped * boost, -1.0, 1.0))


class _Series:
    """Bars as arrays; `cum_weight` counts expected bars, so a gap of 5 hours counts as 5 steps."""

    def __init__(self, ends: np.ndarray, close: np.ndarray, volume: np.ndarray, normal_step: float, step: float):
        self.ends = ends  # epoch seconds
        self.close = close
        self.volume = volume
        self.normal_step = normal_step
        gaps = np.diff(ends)
        self.weight = np.where(gaps <= normal_step, 1.0, gaps / step)  # per step i-1 -> i
        self.cum_weight = np.concatenate(([0.0], np.cumsum(self.weight)))

    @classmethod
    def of(cls, bars: Sequence[Bar], interval: timedelta, normal_step: timedelta) -> _Series:
        step = interval.total_seconds()
        ends = np.array([b.start.timestamp() for b in bars]) + step
        close = np.array([b.close for b in bars], dtype=float)
        volume = np.array([b.volume for b in bars], dtype=float)
        if not np.all(np.isfinite(close)) or np.any(close <= 0):
            raise ValueError("bars must have finite, positive closes")
        if not np.all(np.isfinite(volume)) or np.any(volume < 0):
            raise ValueError("bars must have finite, non-negative volumes")
        return cls(ends, close, volume, normal_step.total_seconds(), step)

    def volatility(self, since: datetime, problems: list[Problem]) -> tuple[float, int]:
        """Per-bar stdev of log returns of the bars ending after `since`; returns over a gap are scaled down."""
        start = max(int(np.searchsorted(self.ends, since.timestamp(), side="right")), 1)
        minimum = min(len(self.close), MIN_VOL_BARS)
        if len(self.close) - start < minimum - 1:
            problems.append(Problem(WHERE, "gaps leave too few bars in the lookback; the volatility also "
                                           "uses older bars"))
            start = len(self.close) - minimum + 1
        rets = np.diff(np.log(self.close[start - 1:])) / np.sqrt(self.weight[start - 1:])
        vol = float(np.std(rets, ddof=1))
        if vol < VOL_FLOOR:
            problems.append(Problem(WHERE, "prices did not move over the lookback; the volatility is floored"))
            vol = VOL_FLOOR
        return vol, start - 1

    def reference(self, target: datetime, name: str, horizon: timedelta, problems: list[Problem]) -> int | None:
        """Index of the close at `target`, or of the nearest earlier one; None when the data starts later."""
        idx = int(np.searchsorted(self.ends, target.timestamp(), side="right")) - 1
        label = f"the {name} timescale ({describe_duration(horizon)})"
        if idx < 0:
            begins = datetime.fromtimestamp(self.ends[0], target.tzinfo)
            problems.append(Problem(WHERE, f"{label} reaches back before the data begins at "
                                           f"{format_time(begins)}; dropped it"))
            return None
        missed = target.timestamp() - self.ends[idx]
        if missed >= self.normal_step:
            used = datetime.fromtimestamp(self.ends[idx], target.tzinfo)
            problems.append(Problem(WHERE, f"{label} starts inside a gap in the bars: used the close of "
                                           f"{format_time(used)}, {describe_duration(timedelta(seconds=missed))} "
                                           f"before {format_time(target)}"))
        return idx

    def volume_ratio(self, recent: datetime, baseline: datetime, problems: list[Problem]) -> float:
        """Mean volume of the bars ending after `recent` over the mean of those ending after `baseline`."""
        recent_vol = self.volume[self.ends > recent.timestamp()]
        base_vol = self.volume[self.ends > baseline.timestamp()]
        if recent_vol.size == 0 or base_vol.size == 0 or float(base_vol.mean()) == 0.0:
            problems.append(Problem(WHERE, "no volume in the baseline window; volume confirmation skipped"))
            return 1.0
        return float(recent_vol.mean() / base_vol.mean())
