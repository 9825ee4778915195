"""One evaluation: engine and baselines scored on the same resolved signals, with intervals and cohorts."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Sequence

import numpy as np

from eval import metrics
from eval.baselines import NAMES, KnownMove, Target, direction_probability, walk_forward
from eval.bootstrap import ClusterResampler, Interval, mean_interval, skill_interval
from eval.cohorts import CohortRow, cohorts
from eval.equity import Costs, EquityCurve, equity_curve
from eval.markets import MarketComparison
from eval.metrics import CalibrationBin
from eval.resolve import Resolution
from eval.signals import EvalSignal
from eval.trades import TradeSummary
from intelligence.types import Direction

# Fewer resolved signals than this and the report says, in a sentence, that it cannot judge yet.
MIN_RESOLVED = 30
# Fewer distinct days than this and no interval is given: resampling three days cannot show a spread.
MIN_DAYS = 5


@dataclass(frozen=True)
class ScoreSet:
    brier: float
    log_loss: float
    ece: float  # no interval: resampling inflates a binned gap, so its bootstrap would mislead
    brier_skill: float | None  # against the climatology; None when that is perfect
    # By metric name (brier, log_loss, brier_skill, and for baselines engine_advantage: baseline Brier
    # minus engine Brier on the same resampled days, > 0 when the engine is better); empty when the
    # signals span fewer than MIN_DAYS days, too few for a resampled spread to mean anything.
    intervals: dict[str, Interval] = field(default_factory=dict)


@dataclass(frozen=True)
class Counts:
    total: int
    actionable: int
    resolved: int
    open: int
    hold: int
    unresolvable: int
    duplicates: int  # the same symbol, time and horizon stored more than once: scored once


@dataclass(frozen=True)
class EvalReport:
    source: str
    generated_at: datetime
    counts: Counts
    hit_rate: float | None
    hit_rate_interval: Interval | None
    engine: ScoreSet | None
    baselines: dict[str, ScoreSet]
    calibration: list[CalibrationBin]
    cohorts: list[CohortRow]
    equity: EquityCurve  # following every resolved signal, after fees and slippage (eval/equity.py)
    baseline_fits: int  # resolved signals at which the score baselines were fitted (others: climatology)
    days: int  # distinct UTC days of the resolved signals: what the bootstrap resamples
    note: str | None  # the plain sentence when too few signals have resolved
    problems: list[str] = field(default_factory=list)
    trades: TradeSummary | None = None
    trades_note: str | None = None
    resolutions: list[Resolution] = field(default_factory=list)
    # The crowd, the engine and the base rate on resolved prediction markets (eval/markets.py); None: none seen.
    markets: MarketComparison | None = None


def distinct(signals: Sequence[EvalSignal]) -> tuple[list[EvalSignal], int]:
    """One signal per (symbol, time, horizon): the latest stored wins, as a rerun of one cycle restates it."""
    latest: dict[tuple[Any, ...], EvalSignal] = {}
    for s in signals:
        latest[(s.symbol, s.as_of, s.horizon)] = s
    kept = sorted(latest.values(), key=lambda s: (s.as_of, s.symbol))
    return kept, len(signals) - len(kept)


def too_few_sentence(resolved: int, open_: int, days: int) -> str | None:
    if resolved == 0:
        waiting = f" ({open_} still inside their horizon)" if open_ else ""
        return f"No signal has resolved yet{waiting}: there is nothing to score until a horizon has passed."
    if resolved < MIN_RESOLVED:
        return (f"Only {resolved} signal{'s have' if resolved != 1 else ' has'} resolved, too few to judge "
                f"the probabilities (at least {MIN_RESOLVED} are needed); read every number here as provisional.")
    if days < MIN_DAYS:
        return (f"The {resolved} resolved signals come from only {days} day{'s' if days != 1 else ''}, too few to "
                f"judge the probabilities (signals of one day share one market); read every number as provisional.")
    return None


def _score(resampler: ClusterResampler | None, p: np.ndarray, y: np.ndarray, reference: np.ndarray,
           engine_losses: np.ndarray | None = None) -> ScoreSet:
    losses = metrics.brier_losses(p, y)
    reference_brier = float(reference.mean())
    intervals: dict[str, Interval] = {}
    if resampler is not None:
        intervals["brier"] = mean_interval(resampler, losses)
        intervals["log_loss"] = mean_interval(resampler, metrics.log_losses(p, y))
        skill = skill_interval(resampler, losses, reference)
        if skill is not None:
            intervals["brier_skill"] = skill
        if engine_losses is not None:
            intervals["engine_advantage"] = mean_interval(resampler, losses - engine_losses)
    return ScoreSet(
        brier=float(losses.mean()),
        log_loss=metrics.log_loss(p, y),
        ece=metrics.ece(p, y),
        brier_skill=metrics.brier_skill(float(losses.mean()), reference_brier),
        intervals=intervals,
    )


def known_moves(resolutions: Sequence[Resolution]) -> list[KnownMove]:
    """Every market move the signals saw, holds included: the baselines may learn from all of them."""
    return [
        KnownMove(r.market.exit_time, r.market.hit, r.signal.price_score, r.signal.narrative_score)
        for r in resolutions if r.market is not None
    ]


def build_report(resolutions: Sequence[Resolution], source: str, generated_at: datetime, duplicates: int = 0,
                 trades: TradeSummary | None = None, trades_note: str | None = None,
                 resolved_after: datetime | None = None, costs: Costs = Costs()) -> EvalReport:
    """Scores the resolved signals (only those resolved after `resolved_after`, when given: a week's
    report); the baselines still learn from every move known before each scored signal. `costs` are
    the fees and slippage the equity curve pays on each leg."""
    history = known_moves(resolutions)
    if resolved_after is not None:
        resolutions = [r for r in resolutions if r.outcome is not None and r.outcome.exit_time > resolved_after]
    statuses = [r.status for r in resolutions]
    counts = Counts(
        total=len(resolutions), actionable=sum(1 for r in resolutions if r.signal.actionable),
        resolved=statuses.count("resolved"), open=statuses.count("open"), hold=statuses.count("hold"),
        unresolvable=statuses.count("unresolvable"), duplicates=duplicates,
    )
    problems = sorted({r.problem for r in resolutions if r.problem})
    resolved = [r for r in resolutions if r.status == "resolved" and r.market is not None]
    note = too_few_sentence(len(resolved), counts.open, len({r.signal.as_of.date() for r in resolved}))
    base = dict(source=source, generated_at=generated_at, counts=counts, note=note, problems=problems,
                trades=trades, trades_note=trades_note, resolutions=list(resolutions))
    if not resolved:
        return EvalReport(hit_rate=None, hit_rate_interval=None, engine=None, baselines={}, calibration=[], cohorts=[],
                          equity=equity_curve([], costs), baseline_fits=0, days=0, **base)  # type: ignore[arg-type]

    table = forecast_table(resolved, history)
    p, y, baseline_p, days = table.engine, table.hits, table.baselines, table.days
    resampler = ClusterResampler(days) if len(set(days)) >= MIN_DAYS else None
    reference = metrics.brier_losses(baseline_p["climatology"], y)
    engine_losses = metrics.brier_losses(p, y)
    baselines = {name: _score(resampler, baseline_p[name], y, reference, engine_losses) for name in NAMES}
    return EvalReport(
        hit_rate=float(y.mean()),
        hit_rate_interval=mean_interval(resampler, y) if resampler else None,
        engine=_score(resampler, p, y, reference),
        baselines=baselines,
        calibration=metrics.calibration_bins(p, y),
        cohorts=cohorts(resolved),
        equity=equity_curve(resolved, costs),
        baseline_fits=table.fitted,
        days=len(set(days)),
        **base,  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class ForecastTable:
    """Per resolved signal: what the engine said, what each baseline would have said, and what happened."""

    engine: np.ndarray
    hits: np.ndarray
    baselines: dict[str, np.ndarray]  # P(the signal's direction is right) by baseline name
    days: list[date]
    fitted: int


def forecast_table(resolved: Sequence[Resolution], history: Sequence[KnownMove]) -> ForecastTable:
    """`resolved` must all have an outcome; the baselines learn from `history` (known_moves of every signal)."""
    p = np.array([r.signal.probability for r in resolved], dtype=float)
    y = np.array([float(r.outcome.hit) for r in resolved])  # type: ignore[union-attr]
    is_buy = np.array([r.signal.direction is Direction.BUY for r in resolved])
    forecasts = walk_forward(
        [Target(r.signal.as_of, r.signal.price_score, r.signal.narrative_score) for r in resolved],
        history,
    )
    baseline_p = {name: direction_probability(forecasts.up[name], is_buy) for name in NAMES}
    return ForecastTable(p, y, baseline_p, [r.signal.as_of.date() for r in resolved], forecasts.fitted)
