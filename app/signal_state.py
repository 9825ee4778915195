"""What earlier cycles left in the store, made into the pure cycle's state: divergence history and a calibrator.

Point in time: only signals made before as-of count, and only outcomes whose exit bar closed
strictly before as-of. Outcomes come from the evaluation's table when it has them, else they are
resolved here from the bars known at as-of (read-only: recording outcomes is the evaluation's job).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from intelligence.calibration import Calibrator, Resolved, fit_calibrator
from intelligence.cycle import CycleState
from intelligence.outcomes import resolve_outcome
from intelligence.types import Bar, Direction
from providers.bars import BarsError, EmbeddedMarketData
from storage.eval_models import OutcomeRow
from storage.models import SignalRow

# Past calls read per cycle: enough for the calibrator's blend to be nearly all fit, bounded so a
# long-lived store does not slow every cycle.
MAX_CALLS = 2000


def load_cycle_state(session: Session, market: EmbeddedMarketData, symbols: Sequence[str], as_of: datetime,
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
    for symbol in symbols:
        rows = session.scalars(
            select(SignalRow).where(SignalRow.symbol == symbol, SignalRow.as_of < as_of)
            .order_by(SignalRow.as_of.desc(), SignalRow.id.desc()).limit(length * 4)
        )
        seen: set[datetime] = set()
        values: list[float] = []
        for row in rows:
            # A snapshot run twice has one as-of: it is one observation, not two.
            if row.as_of in seen or (row.reason_codes or ["NO_NEWS"])[0] == "NO_NEWS":
                continue
            seen.add(row.as_of)
            values.append(row.divergence)
            if len(values) == length:
                break
        history[symbol] = values[::-1]
    return history


def calibrator_at(session: Session, market: EmbeddedMarketData, as_of: datetime, min_outcomes: int) -> Calibrator:
    return fit_calibrator(resolved_calls(session, market, as_of), min_outcomes)


def resolved_calls(session: Session, market: EmbeddedMarketData, as_of: datetime) -> list[Resolved]:
    rows = session.scalars(
        select(SignalRow).where(SignalRow.direction != Direction.HOLD.value, SignalRow.as_of < as_of)
        .order_by(SignalRow.as_of.desc(), SignalRow.id.desc()).limit(MAX_CALLS)
    )
    latest: dict[tuple[str, datetime], SignalRow] = {}
    for row in rows:
        latest.setdefault((row.symbol, row.as_of), row)
    calls = [r for r in latest.values() if r.as_of + timedelta(hours=r.horizon_hours) < as_of]
    stored = _stored_outcomes(session, [r.id for r in calls], as_of)
    bars: dict[str, tuple[list[Bar], timedelta] | None] = {}
    resolved = []
    for row in sorted(calls, key=lambda r: (r.as_of, r.symbol)):
        hit = stored.get(row.id)
        if hit is None:
            hit = _resolve_from_bars(row, market, as_of, bars)
        if hit is not None:
            resolved.append(Resolved(row.conviction, Direction(row.direction), hit))
    return resolved


def _stored_outcomes(session: Session, ids: list[int], as_of: datetime) -> dict[int, bool]:
    if not ids:
        return {}
    found = session.scalars(select(OutcomeRow).where(OutcomeRow.signal_id.in_(ids), OutcomeRow.exit_time < as_of))
    return {o.signal_id: o.hit for o in found}


def _resolve_from_bars(row: SignalRow, market: EmbeddedMarketData, as_of: datetime,
                       cache: dict[str, tuple[list[Bar], timedelta] | None]) -> bool | None:
    if row.symbol not in cache:
        try:
            series = market.bars_until(row.symbol, as_of)
            cache[row.symbol] = (list(series.bars), series.interval)
        except BarsError:
            cache[row.symbol] = None  # the cycle reports missing bars itself; here it just means no outcome
    known = cache[row.symbol]
    if known is None:
        return None
    outcome = resolve_outcome(row.as_of, Direction(row.direction), timedelta(hours=row.horizon_hours), *known)
    return outcome.hit if outcome is not None and outcome.exit_time < as_of else None

