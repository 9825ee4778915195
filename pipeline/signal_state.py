"""What earlier cycles left in the store, made into the pure cycle's state: divergence history and a calibrator.

Point in time: only signals made before as-of count, and only outcomes whose exit bar closed
strictly before as-of. Outcomes come from the evaluation's table when it has them, else they are
resolved here from the bars known at as-of (read-only: recording outcomes is the evaluation's job).
Each call brings what the engine claimed for it and the base rate it stood on, as stored in its
features when it was made; the base rates of the universe come from the bars known at as-of.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, Sequence

from sqlalchemy import select, union_all
from sqlalchemy.orm import Session

from intelligence.base_rate import BaseRate, up_rate
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
                     history_length: int, min_outcomes: int, horizon: timedelta) -> CycleState:
    return CycleState(
        divergence_history=divergence_history(session, symbols, as_of, history_length),
        calibrator=calibrator_at(session, market, as_of, min_outcomes, symbols, horizon),
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


def calibrator_at(session: Session, market: BarSource, as_of: datetime, min_outcomes: int,
                  symbols: Sequence[str], horizon: timedelta) -> Calibrator:
    rates = base_rates(market, symbols, as_of, horizon)
    return fit_calibrator(resolved_calls(session, market, as_of, rates), min_outcomes, rates)


def base_rates(market: BarSource, symbols: Sequence[str], as_of: datetime, horizon: timedelta) -> dict[str, BaseRate]:
    """Each symbol's base rate of up moves over the horizon, on the bars known at as-of (none without bars)."""
    rates = {}
    for symbol in symbols:
        try:
            series = market.bars_until(symbol, as_of)
        except BarsError:
            continue  # the cycle reports missing bars itself; the calibrator falls back to a coin flip
        rates[symbol] = up_rate(series.bars, series.interval, horizon, as_of)
    return rates


def resolved_calls(session: Session, market: BarSource, as_of: datetime,
                   rates: dict[str, BaseRate] | None = None) -> list[Resolved]:
    """Calls made before as-of whose outcome was known by then. A call stored before its features kept
    the base rate is judged against today's (`rates`, else a coin flip); one without a stored prior
    is taken to have claimed its stated probability's edge."""
    probability = SignalRow.features["probability"]
    rows = session.execute(
        select(SignalRow.id, SignalRow.symbol, SignalRow.as_of, SignalRow.direction, SignalRow.conviction,
               SignalRow.horizon_hours, SignalRow.reason_codes, SignalRow.probability.label("stated"),
               probability["prior"].as_float().label("prior"), probability["base_rate"].as_float().label("base"))
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
    return [_resolved(r, hits[r.id], rates or {}) for r in calls if r.id in hits]


def _resolved(row: Any, hit: bool, rates: dict[str, BaseRate]) -> Resolved:
    direction = Direction(row.direction)
    base = row.base if row.base is not None else (rates[row.symbol].for_direction(direction)
                                                  if row.symbol in rates else 0.5)
    prior = row.prior if row.prior is not None else (row.stated if row.stated is not None else 0.5)
    return Resolved(direction, hit, max(0.0, prior - 0.5), base, (row.reason_codes or [""])[0], row.as_of.date(),
                    row.conviction)


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
