"""What earlier cycles left in the store, made into the pure cycle's state: divergence history and a calibrator.

Point in time: only signals made before as-of count, and only outcomes whose exit bar closed
strictly before as-of. Outcomes come from the evaluation's table when it has them, else they are
resolved here from the bars known at as-of (read-only: recording outcomes is the evaluation's job).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session

from intelligence.calibration import Calibrator, Resolved, fit_calibrator
from intelligence.cycle import CycleState
from intelligence.outcomes import resolve_outcomes
from intelligence.types import BarSource, Direction
from providers.bars import BarsError
from storage.eval_models import OutcomeRow
from storage.models import SignalRow

# Past calls read per cycle: enough for the calibrator's blend to be nearly all fit, bounded so a
# long-lived store does not slow every cycle.
MAX_CALLS = 2000
# Symbols read in one statement (SQLite allows 500 parts to a compound SELECT).
SYMBOLS_PER_READ = 200


def load_cycle_state(session: Session, market: BarSource, symbols: Sequence[str], as_of: datetime,
                     history_length: int, min_outcomes: int) -> CycleState:
    return CycleState(
        divergence_history=divergence_history(session, symbols, as_of, history_length),
        calibrator=calibrator_at(session, market, as_of, min_outcomes),
    )


def divergence_history(session: Session, symbols: Sequence[str], as_of: datetime, length: int) -> dict[str, list[float]]:
    """Per symbol, the divergences of the last `length` earlier cycles that had news, oldest first."""
    history: dict[str, list[float]] = {}
    if length == 0:
        return {s: [] for s in symbols}
    recent = _recent_signals(session, symbols, as_of, length * 4)
    for symbol in symbols:
        seen: set[datetime] = set()
        values: list[float] = []
        for when, codes, divergence in recent.get(symbol, ()):
            # A snapshot run twice has one as-of: it is one observation, not two.
            if when in seen or (codes or ["NO_NEWS"])[0] == "NO_NEWS":
                continue
            seen.add(when)
            values.append(divergence)
            if len(values) == length:
                break
        history[symbol] = values[::-1]
    return history


def _recent_signals(session: Session, symbols: Sequence[str], as_of: datetime,
                    limit: int) -> dict[str, list[tuple[datetime, list[str] | None, float]]]:
    """Each symbol's newest `limit` signals before as-of, newest first: one statement per SYMBOLS_PER_READ
    symbols (each part reads the (symbol, as_of) index), not a round trip per symbol of a large universe."""
    found: dict[str, list[tuple[int, datetime, list[str] | None, float]]] = defaultdict(list)
    wanted = list(dict.fromkeys(symbols))
    for first in range(0, len(wanted), SYMBOLS_PER_READ):
        # Three columns, not whole rows: evidence and features (most of a row's bytes) are not needed here.
        parts = [
            select(SignalRow.symbol, SignalRow.id, SignalRow.as_of, SignalRow.reason_codes, SignalRow.divergence)
            .where(SignalRow.symbol == symbol, SignalRow.as_of < as_of)
            .order_by(SignalRow.as_of.desc(), SignalRow.id.desc()).limit(limit).subquery()
            for symbol in wanted[first:first + SYMBOLS_PER_READ]
        ]
        for symbol, row_id, when, codes, divergence in session.execute(union_all(*(select(part) for part in parts))):
            found[symbol].append((row_id, when, codes, divergence))
    return {symbol: [(when, codes, divergence) for _, when, codes, divergence
                     in sorted(rows, key=lambda r: (r[1], r[0]), reverse=True)] for symbol, rows in found.items()}


def calibrator_at(session: Session, market: BarSource, as_of: datetime, min_outcomes: int) -> Calibrator:
    return fit_calibrator(resolved_calls(session, market, as_of), min_outcomes)


def resolved_calls(session: Session, market: BarSource, as_of: datetime) -> list[Resolved]:
    rows = session.execute(
        select(SignalRow.id, SignalRow.symbol, SignalRow.as_of, SignalRow.direction, SignalRow.conviction,
               SignalRow.horizon_hours)
        .where(SignalRow.direction != Direction.HOLD.value, SignalRow.as_of < as_of)
        .order_by(SignalRow.as_of.desc(), SignalRow.id.desc()).limit(MAX_CALLS)
    )
    latest: dict[tuple[str, datetime], Any] = {}
    for row in rows:
        latest.setdefault((row.symbol, row.as_of), row)
    calls = sorted((r for r in latest.values() if r.as_of + timedelta(hours=r.horizon_hours) < as_of),
                   key=lambda r: (r.as_of, r.symbol))
    hits = _stored_outcomes(session, [r.id for r in calls], as_of)
    hits |= _outcomes_from_bars([r for r in calls if r.id not in hits], market, as_of)
    return [Resolved(r.conviction, Direction(r.direction), hits[r.id]) for r in calls if r.id in hits]


def _stored_outcomes(session: Session, ids: list[int], as_of: datetime) -> dict[int, bool]:
    if not ids:
        return {}
    found = session.execute(select(OutcomeRow.signal_id, OutcomeRow.hit)
                            .where(OutcomeRow.signal_id.in_(ids), OutcomeRow.exit_time < as_of))
    return {signal_id: hit for signal_id, hit in found}


def _outcomes_from_bars(calls: Sequence[Any], market: BarSource, as_of: datetime) -> dict[int, bool]:
    """Hit or miss of each call whose exit bar closed before as-of, each symbol's bars read and checked once."""
    by_symbol: dict[str, list[Any]] = defaultdict(list)
    for call in calls:
        by_symbol[call.symbol].append(call)
    hits: dict[int, bool] = {}
    for symbol, pending in by_symbol.items():
        try:
            series = market.bars_until(symbol, as_of)
        except BarsError:
            continue  # the cycle reports missing bars itself; here it just means no outcome
        outcomes = resolve_outcomes([(c.as_of, Direction(c.direction), timedelta(hours=c.horizon_hours)) for c in pending],
                                    series.bars, series.interval)
        for call, outcome in zip(pending, outcomes):
            if outcome is not None and outcome.exit_time < as_of:
                hits[call.id] = outcome.hit
    return hits
