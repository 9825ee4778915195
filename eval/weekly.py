"""The weekly summary: a few plain sentences on the past week and on everything so far, plus the
reliability picture. Chat adapters render it (Telegram HTML, Discord); every number in it comes from
the evaluation run it names, whose artifacts are written first."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Sequence

from eval.artifacts import run_directory, write_artifacts
from eval.markets import comparison_lines
from eval.equity import Costs
from eval.pipeline import resolve_store, store_report
from eval.resolve import Resolution
from eval.render import verdict
from eval.report import EvalReport, build_report
from intelligence.types import BarSource
from eval.summary import SummarySection, WeeklySummary
from eval.trades import TradeSummary
from storage.db import Sessions

WEEK = timedelta(days=7)
# Calibration error is a sentence, not a figure, until the occupied bins hold this many calls each: one
# signal in a bin makes its error 0% or 100% whatever the engine's quality.
MIN_PER_BIN = 10
BASELINE_LABELS = {"climatology": "the base rate", "price_only": "price alone", "sentiment_only": "news alone"}


def week_key(now: datetime) -> str:
    year, week, _ = now.isocalendar()
    return f"weekly-eval:{year}-W{week:02d}"


def _scores_line(report: EvalReport) -> str:
    assert report.engine is not None
    clim = report.baselines["climatology"]
    skill = report.engine.brier_skill
    skill_text = f" (skill {skill:+.0%} against the base rate)" if skill is not None else ""
    return f"Brier {report.engine.brier:.3f} vs {clim.brier:.3f} for the base rate{skill_text}."


def _right_line(report: EvalReport) -> str:
    c = report.counts
    hits = sum(1 for r in report.resolutions if r.outcome is not None and r.outcome.hit)
    interval = report.hit_rate_interval
    spread = f" (95% interval {interval.low:.0%} to {interval.high:.0%})" if interval else ""
    return f"{plural(c.resolved, 'signal')} resolved, {hits} right: {report.hit_rate or 0:.0%}{spread}."


def _week_lines(week: EvalReport) -> tuple[str, ...]:
    if week.counts.resolved == 0:
        return ("No signal resolved this week.",)
    lines = [_right_line(week)]
    if week.note:
        lines.append(week.note)
    else:
        lines.append(_scores_line(week))
    return tuple(lines)


def _overall_lines(overall: EvalReport) -> tuple[str, ...]:
    if overall.engine is None:
        return (overall.note or "No signal has resolved yet.",)
    lines = [_right_line(overall)]
    if overall.note:
        lines.append(overall.note)
    lines.append(_scores_line(overall))
    others = ", ".join(f"{BASELINE_LABELS[name]} {s.brier:.3f}" for name, s in overall.baselines.items()
                       if name != "climatology")
    lines.append(f"Brier of the other baselines: {others} (lower is better).")
    lines.append(_calibration_line(overall))
    if not overall.note:
        lines.append(verdict(overall))
    if overall.counts.open:
        lines.append(f"{plural(overall.counts.open, 'signal')} still inside the horizon.")
    return tuple(lines)


def _calibration_line(report: EvalReport) -> str:
    assert report.engine is not None
    occupied = [b.count for b in report.calibration if b.count]
    if occupied and min(occupied) >= MIN_PER_BIN:
        return f"Calibration error {report.engine.ece:.1%}: the picture shows said against happened."
    return (f"Too few resolved calls to measure calibration yet (it needs {MIN_PER_BIN} in every probability "
            "band used); the picture shows said against happened so far.")


def market_time(resolutions: Sequence[Resolution], now: datetime) -> datetime:
    """The signals' own clock: the latest exit or as-of they reached, never after the wall clock. A store of
    last year's signals has its "this week" in last year, not in a week with none of them."""
    moments = [r.outcome.exit_time for r in resolutions if r.outcome is not None]
    moments += [r.signal.as_of for r in resolutions]
    return min(max(moments), now) if moments else now


def _trades_lines(trades: TradeSummary | None) -> tuple[str, ...]:
    if trades is None or not trades.trades:
        return ("No approved trade has filled yet.",)
    return (f"{plural(len(trades.trades), 'approved trade')} filled, {len(trades.closed)} closed, "
            f"{trades.winners} of those in profit; realised P&L {trades.realized_pnl:+,.2f} after fees.",)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def compose(week: EvalReport, overall: EvalReport, now: datetime, artifacts: Path | None, photo: bytes | None,
            market_now: datetime | None = None) -> WeeklySummary:
    """The message from two reports: pure, so what chat shows is tested without a scheduler or a bot. The week
    is the signals' own (ending at `market_now`); the key stays the wall clock's, one summary per week."""
    end = market_now or now
    start = (end - WEEK).strftime("%d %b")
    own = "" if now - end < timedelta(days=1) else ", the signals' latest week"
    sections: tuple[SummarySection, ...] = (
        SummarySection(f"Week of {start} to {end:%d %b %Y}{own}", _week_lines(week)),
        SummarySection("Since the first signal", _overall_lines(overall)),
        SummarySection("Approved trades", _trades_lines(overall.trades)),
    )
    markets = comparison_lines(overall.markets)
    if markets:
        sections += (SummarySection("Who forecasts better: the crowd, the engine, the base rate", markets),)
    if artifacts is not None:
        sections += (SummarySection("Numbers and pictures", (f"Evaluation run {artifacts.name}",)),)
    caption = f"Said vs happened: {overall.counts.resolved} resolved signals"
    return WeeklySummary(week_key(now), "Weekly evaluation", sections, photo, caption, artifacts)


def build_weekly_summary(sessions: Sessions, bars: BarSource, now: datetime, runs_dir: Path,
                         costs: Costs = Costs()) -> WeeklySummary:
    """Resolve what can be resolved, write the evaluation run, and summarise it."""
    resolutions, duplicates = resolve_store(sessions, bars, now)
    overall = store_report(sessions, resolutions, duplicates, now, costs=costs)
    end = market_time(resolutions, now)
    week = build_report(resolutions, "the store's signals, their latest week", now, resolved_after=end - WEEK,
                        costs=costs)
    directory = write_artifacts(overall, run_directory(runs_dir, now))
    return compose(week, overall, now, directory, (directory / "reliability.png").read_bytes(), end)


def failure_summary(now: datetime, reason: str) -> WeeklySummary:
    """What subscribers get when the evaluation itself failed: the fact, not silence and not a traceback."""
    section = SummarySection("Not available", (f"The weekly evaluation could not be made: {reason}",
                                               "It will be tried again next week; the operators can run `eval`."))
    return WeeklySummary(week_key(now), "Weekly evaluation", (section,), None, "", None)
