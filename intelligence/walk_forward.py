"""Walk-forward replay as a pure loop over the live cycle: at each as-of, only what was known then.

At every session start (a bar's start time) the loop gives `run_cycle` the headlines known by then
(inside the narrative window), the bars that closed by then, the divergences of earlier cycles and
a calibrator fitted on the outcomes of earlier calls whose exit bar closed strictly before as-of,
with the market's base rate measured on the bars known by then.
The session calendar is taken from the bars' start times: an exchange publishes its calendar in
advance, and the bar's prices are not used until it has closed.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping, Sequence

from intelligence.base_rate import up_rate
from intelligence.calibration import Calibrator, Resolved, fit_calibrator
from intelligence.cycle import CycleParams, CycleState, run_cycle
from intelligence.outcomes import resolve_outcome
from intelligence.progress import Tick
from intelligence.relevance import Mention
from intelligence.signal import Signal
from intelligence.types import Asset, Bar, Polarity

MAX_PROBLEMS = 20
_NUMBER = re.compile(r"\d+(?:[.:-]\d+)*")


@dataclass(frozen=True)
class WalkConfig:
    params: CycleParams
    history_length: int  # earlier divergences that adapt the trigger
    min_outcomes: int  # resolved calls before the calibrator fits
    start: datetime | None = None  # first as-of (inclusive)
    end: datetime | None = None  # last as-of (exclusive)


@dataclass
class WalkResult:
    signals: list[Signal] = field(default_factory=list)
    sessions: int = 0  # as-ofs visited
    # Why a session made no signal / distinct data problems -> sessions affected. Problems of one kind
    # ("need at least 30 bars, got 12" whatever the counts) are counted together under the first one seen.
    skipped: Counter[str] = field(default_factory=Counter)
    problems: Counter[str] = field(default_factory=Counter)
    first_of_kind: dict[str, str] = field(default_factory=dict)
    calibrator: Calibrator | None = None  # the last one used
    resolved: int = 0  # calls resolved by the end


@dataclass
class _Call:
    as_of: datetime
    signal: Signal


def walk_forward(
    asset: Asset,
    mentions: Sequence[Mention],
    polarity: Mapping[str, Polarity],
    bars: Sequence[Bar],
    interval: timedelta,
    config: WalkConfig,
    tick: Tick | None = None,
) -> WalkResult:
    """`tick(1)` after each session visited: how far the walk got, for whoever shows progress."""
    params = config.params
    ordered = sorted(mentions, key=lambda m: (m.headline.published, m.headline.id))
    published = [m.headline.published for m in ordered]
    ends = [b.start + interval for b in bars]
    result = WalkResult()
    history: list[float] = []
    pending: list[_Call] = []
    resolved: list[Resolved] = []
    for bar in bars:
        as_of = bar.start
        if (config.start and as_of < config.start) or (config.end and as_of >= config.end):
            continue
        result.sessions += 1
        known_bars = bars[:bisect_right(ends, as_of)]
        pending = _resolve(pending, resolved, known_bars, interval, as_of, params.horizon)
        calibrator = fit_calibrator(resolved, config.min_outcomes,
                                    {asset.symbol: up_rate(known_bars, interval, params.horizon, as_of)})
        # The window, and the one story before it: what the news said last when the window is empty.
        first = max(bisect_left(published, as_of - params.window) - 1, 0)
        window = ordered[first:bisect_right(published, as_of)]
        state = CycleState({asset.symbol: history[-config.history_length:] if config.history_length else []},
                           calibrator)
        outcome = run_cycle(as_of, [asset], {asset.symbol: window}, polarity, {asset.symbol: known_bars},
                            interval, params, state)
        for problem in outcome.problems:
            # Grouped by kind: "need at least # bars" is one reason, whatever the count that day.
            kind = result.first_of_kind.setdefault(_NUMBER.sub("#", str(problem)), str(problem))
            if not outcome.signals:
                result.skipped[kind] += 1
            elif len(result.problems) < MAX_PROBLEMS or kind in result.problems:
                result.problems[kind] += 1
        for signal in outcome.signals:
            result.signals.append(signal)
            if signal.narrative.headline_count:
                history.append(signal.divergence)
            if signal.actionable:
                pending.append(_Call(as_of, signal))
        result.calibrator = calibrator
        if tick is not None:
            tick(1)
    result.resolved = len(resolved)
    return result


def _resolve(pending: list[_Call], resolved: list[Resolved], known_bars: Sequence[Bar], interval: timedelta,
             as_of: datetime, horizon: timedelta) -> list[_Call]:
    """Moves calls whose exit bar closed strictly before as-of into `resolved`; returns those still open."""
    still = []
    for call in pending:
        outcome = resolve_outcome(call.as_of, call.signal.direction, horizon, known_bars, interval)
        if outcome is not None and outcome.exit_time < as_of:
            resolved.append(resolved_call(call.signal, outcome.hit))
        else:
            still.append(call)
    return still


def resolved_call(signal: Signal, hit: bool) -> Resolved:
    """A call and how it came out, with what the engine claimed for it and the base rate it stood on."""
    edge = (signal.prior if signal.prior is not None else 0.5) - 0.5
    base = signal.base_rate if signal.base_rate is not None else 0.5
    return Resolved(signal.direction, hit, edge, base, signal.reason_codes[0] if signal.reason_codes else "",
                    signal.as_of.date(), signal.conviction)
