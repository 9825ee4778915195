"""From a cycle's signals to at most one trade proposal that waits for an operator."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from datetime import datetime, timedelta
from typing import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from intelligence.digest import rank_signals
from intelligence.signal import Signal
from intelligence.sizing import suggest_size
from intelligence.types import Direction
from storage.models import ProposalRow, SignalRow
from storage.trading_models import ProposalPlanRow
from trading import audit
from trading.proposals import ProposalStatus
from trading.state import TradingState, read_state

ACTOR = "engine"


class OutcomeCode(str, Enum):
    PROPOSED = "proposed"
    PAUSED = "paused"  # trading is halted
    NO_SIGNAL = "no_signal"  # nothing actionable this cycle
    REDUCING = "reducing"  # exits only: no opening trades
    STILL_WAITING = "still_waiting"  # the same trade idea already waits for an operator
    TOO_WEAK = "too_weak"  # the signal sizes to nothing


@dataclass(frozen=True)
class ProposalOutcome:
    """What a cycle did about proposing, as data; channels word it (bot/messages.py)."""

    code: OutcomeCode
    id: int | None = None  # the new proposal, or the one still waiting
    symbol: str | None = None
    side: str | None = None


def strongest_actionable(signals: Sequence[Signal]) -> Signal | None:
    ranked = [s for s in rank_signals(signals) if s.actionable]
    return ranked[0] if ranked else None


def _pending(session: Session, symbol: str, side: str, now: datetime) -> ProposalRow | None:
    return session.scalars(
        select(ProposalRow).where(
            ProposalRow.symbol == symbol, ProposalRow.side == side,
            ProposalRow.status == ProposalStatus.PROPOSED.value, ProposalRow.expires_at > now,
        ).limit(1)
    ).first()


def propose(
    session: Session,
    settings: Settings,
    signals: Sequence[Signal],
    rows: Mapping[str, SignalRow],
    interval: timedelta | Mapping[str, timedelta],  # bar interval, for all or per symbol
    now: datetime,
) -> ProposalOutcome:
    state = read_state(session).state
    if state is TradingState.HALTED:
        return ProposalOutcome(OutcomeCode.PAUSED)
    signal = strongest_actionable(signals)
    if signal is None:
        return ProposalOutcome(OutcomeCode.NO_SIGNAL)
    if state is TradingState.REDUCING:
        # Opening trades are off while reducing; exits come from positions, not from signals.
        return ProposalOutcome(OutcomeCode.REDUCING, symbol=signal.symbol)
    side = "buy" if signal.direction is Direction.BUY else "sell"
    waiting = _pending(session, signal.symbol, side, now)
    if waiting is not None:
        # Each cycle re-reads the same story: one open question per trade idea, not one per cycle.
        return ProposalOutcome(OutcomeCode.STILL_WAITING, waiting.id, signal.symbol, side)
    rhythm = interval if isinstance(interval, timedelta) else interval[signal.symbol]
    size = suggest_size(signal, settings.sim_equity, settings.risk_per_trade, signal.horizon / rhythm)
    if size.quantity <= 0:
        return ProposalOutcome(OutcomeCode.TOO_WEAK, symbol=signal.symbol, side=side)
    assert signal.probability is not None
    row = ProposalRow(
        signal_id=rows[signal.symbol].id,
        symbol=signal.symbol,
        side=side,
        quantity=size.quantity,
        notional=size.notional,
        reference_price=signal.price.last_close,
        probability=signal.probability,
        status=ProposalStatus.PROPOSED.value,
        created_at=now,
        expires_at=now + timedelta(minutes=settings.proposal_ttl_minutes),
        updated_at=now,
        updated_by=ACTOR,
    )
    session.add(row)
    session.flush()
    # What the desk needs later: the suggestion /size multiplies, the stop for risk and brackets,
    # and how old the price was (the stale-data guard).
    session.add(ProposalPlanRow(
        proposal_id=row.id, suggested_quantity=size.quantity, stop_distance=size.stop_distance,
        signal_as_of=signal.as_of, quote_time=signal.price.last_bar_end,
    ))
    audit.append(session, ACTOR, "proposal.proposed", {
        "proposal_id": row.id, "signal_id": row.signal_id, "symbol": row.symbol, "side": row.side,
        "quantity": row.quantity, "probability": row.probability, "reference_price": row.reference_price,
        "stop_distance": size.stop_distance,
    }, now)
    return ProposalOutcome(OutcomeCode.PROPOSED, row.id, row.symbol, row.side)
