"""From signals to a report: a replay's signals.csv against a bar file, or the store against its bars."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Sequence

from sqlalchemy import select

from eval.equity import Costs
from eval.markets import market_comparison
from eval.report import EvalReport, build_report, distinct, known_moves
from eval.resolve import Resolution, bar_source, resolve_all
from intelligence.types import BarSource
from eval.signals import load_store_signals, read_signals_csv
from intelligence.progress import SILENT, Progress
from eval.trades import load_trades
from storage.db import Sessions
from storage.eval_models import OutcomeRow

REPLAY_HAS_NO_TRADES = "a replay proposes no trades: realised P&L comes from the store's fills"


def evaluate_csv(signals_path: Path, bars_path: Path | None, now: datetime, costs: Costs = Costs(),
                 progress: Progress = SILENT) -> EvalReport:
    signals, duplicates = distinct(read_signals_csv(signals_path))
    bars = bar_source(bars_path, [s.symbol for s in signals])
    with progress.stage("resolve", len(signals), "signal") as tick:
        resolutions = resolve_all(signals, bars, now, tick)
    with progress.stage("score", 1, "report") as tick:
        report = build_report(resolutions, str(signals_path), now, duplicates, trades_note=REPLAY_HAS_NO_TRADES,
                              costs=costs)
        tick(1)
    return report


def resolve_store(sessions: Sessions, bars: BarSource, now: datetime,
                  progress: Progress = SILENT) -> tuple[list[Resolution], int]:
    """Every stored signal resolved against the bars closed by `now`; new outcomes are recorded."""
    with sessions() as session:
        signals, duplicates = distinct(load_store_signals(session))
    with progress.stage("resolve", len(signals), "signal") as tick:
        resolutions = resolve_all(signals, bars, now, tick)
    _record(sessions, resolutions, now)
    return resolutions, duplicates


def evaluate_store(sessions: Sessions, bars: BarSource, now: datetime, source: str = "the store's signals",
                   costs: Costs = Costs(), progress: Progress = SILENT) -> EvalReport:
    resolutions, duplicates = resolve_store(sessions, bars, now, progress)
    with progress.stage("score", 1, "report") as tick:
        report = store_report(sessions, resolutions, duplicates, now, source, costs)
        tick(1)
    return report


def store_report(sessions: Sessions, resolutions: Sequence[Resolution], duplicates: int, now: datetime,
                 source: str = "the store's signals", costs: Costs = Costs()) -> EvalReport:
    """The report over resolved store signals, with the realised P&L of every approved trade that filled and
    the crowd against the engine on resolved prediction markets."""
    with sessions() as session:
        trades = load_trades(session)
        markets = market_comparison(session, known_moves(resolutions))
    if not trades.trades:
        report = build_report(resolutions, source, now, duplicates, trades_note="no approved trade has a fill yet",
                              costs=costs)
    else:
        report = build_report(resolutions, source, now, duplicates, trades=trades, costs=costs)
    return replace(report, markets=markets)


def _record(sessions: Sessions, resolutions: Sequence[Resolution], now: datetime) -> int:
    resolved = {int(r.signal.key): r for r in resolutions if r.outcome is not None}
    if not resolved:
        return 0
    with sessions.begin() as session:
        known = set(session.scalars(select(OutcomeRow.signal_id).where(OutcomeRow.signal_id.in_(list(resolved)))))
        new = [
            OutcomeRow(signal_id=signal_id, resolved_at=now, hit=o.hit, realized_return=o.realized_return,
                       mfe=o.max_favorable, mae=o.max_adverse, entry_time=o.entry_time, entry_price=o.entry_price,
                       exit_time=o.exit_time, exit_price=o.exit_price)
            for signal_id, r in resolved.items() if signal_id not in known and (o := r.outcome) is not None
        ]
        session.add_all(new)
    return len(new)


def store_bars(bars_dir: Path | None) -> BarSource:
    return bar_source(bars_dir, [])
