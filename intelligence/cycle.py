"""One cycle as a pure function of (as_of, headlines known then, bars closed by then, scores, state)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Mapping, Sequence

from intelligence.calibration import Calibrator
from intelligence.narrative import DEFAULT_BURST_WINDOW, narrative_score
from intelligence.price import InsufficientBars, score_price
from intelligence.relevance import DEFAULT_SCORER, Mention, SemanticScorer, matcher_for
from intelligence.signal import Signal, build_signal
from intelligence.types import Asset, Bar, Headline, Polarity, Problem


DEFAULT_INTERVAL = timedelta(hours=1)


@dataclass(frozen=True)
class CycleParams:
    half_life: timedelta
    window: timedelta
    horizon: timedelta
    burst_window: timedelta = DEFAULT_BURST_WINDOW  # hype cascades are bursts inside this span


@dataclass(frozen=True)
class CycleState:
    """What earlier cycles left behind, passed in as data so the cycle stays a pure function."""

    # Per symbol, recent divergences of cycles that had news, oldest first: adapts the trigger.
    divergence_history: Mapping[str, Sequence[float]] = field(default_factory=dict)
    # Fitted on outcomes resolved before this as-of; None means the engine's prior alone.
    calibrator: Calibrator | None = None


@dataclass(frozen=True)
class CycleOutcome:
    signals: tuple[Signal, ...]
    problems: tuple[Problem, ...]


def latest_time(headlines: Sequence[Headline]) -> datetime:
    """As-of for a snapshot: the newest headline, the last moment the snapshot knows about."""
    if not headlines:
        raise ValueError("no headlines: the as-of of an empty snapshot is undefined")
    return max(h.published for h in headlines)


def mentions_by_asset(
    assets: Sequence[Asset], headlines: Sequence[Headline], scorer: SemanticScorer = DEFAULT_SCORER
) -> dict[str, list[Mention]]:
    """Each asset's mentions, every headline read once for all assets (intelligence/relevance.py)."""
    return matcher_for(tuple(assets)).mentions(headlines, assets, scorer)


def interval_of(intervals: timedelta | Mapping[str, timedelta], symbol: str) -> timedelta:
    """The bar interval of one asset: each trades in its own rhythm (crypto hourly, stocks by session)."""
    if isinstance(intervals, timedelta):
        return intervals
    return intervals.get(symbol, DEFAULT_INTERVAL)


def run_cycle(
    as_of: datetime,
    assets: Sequence[Asset],
    mentions: Mapping[str, Sequence[Mention]],
    polarity: Mapping[str, Polarity],
    bars: Mapping[str, Sequence[Bar]],
    interval: timedelta | Mapping[str, timedelta],
    params: CycleParams,
    state: CycleState = CycleState(),
) -> CycleOutcome:
    """Signals for every asset that has enough bars; the others become Problems.

    `interval` is one bar interval for all, or one per symbol: each asset's tape is scored on its own
    timescales (hours for a coin's hourly bars, days for a stock's daily ones) and its horizon is at
    least one of its bars, since an outcome cannot be told inside a bar."""
    for found in mentions.values():
        late = [m.headline for m in found if m.headline.published > as_of]
        if late:
            raise ValueError(f"headline published after as-of {as_of.isoformat()}: {late[0].title!r}")
    signals, problems = [], []
    for asset in assets:
        series = bars.get(asset.symbol, ())
        rhythm = interval_of(interval, asset.symbol)
        try:
            price = score_price(series, as_of, rhythm)
        except InsufficientBars as exc:
            problems.append(Problem(f"{asset.symbol} bars", str(exc)))
            continue
        # score_price does not know the symbol; the digest must say which asset's tape is affected.
        problems.extend(Problem(f"{asset.symbol} {p.where}", p.message) for p in price.problems)
        narrative = narrative_score(mentions.get(asset.symbol, ()), polarity, as_of, params.half_life, params.window,
                                    params.burst_window)
        signals.append(build_signal(asset.symbol, as_of, narrative, price, max(params.horizon, rhythm),
                                    state.divergence_history.get(asset.symbol, ()), state.calibrator))
    return CycleOutcome(tuple(signals), tuple(problems))
