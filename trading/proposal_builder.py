"""From a cycle's signals to at most one trade proposal that waits for an operator.

Nothing is offered twice. The strongest actionable signal is proposed unless, for its asset and
side, a proposal already waits for an answer, an order is in flight (or approved and about to be
sent), a position in that direction is open (our fills, or the broker's positions as last seen), or
the same signal was proposed before, whatever became of it (rejected, expired, filled, failed). The
same signal is the same asset, direction and story (storage/signal_keys.py): repeating a cycle on the
same data makes it again, a new headline makes a new one. When the strongest is held back for one of
these reasons the next strongest is considered, and the outcome lists what was held back and why.

A proposal on an asset that had one before carries what changed since then (`SinceLast`), as data
for the channels to word.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from intelligence.digest import rank_signals
from intelligence.signal import Signal
from intelligence.sizing import SizeSuggestion, suggest_size
from intelligence.types import Direction
from storage.models import ProposalRow, SignalRow
from storage.signal_keys import signal_fingerprint
from storage.trading_models import OrderRow, PositionRow, ProposalPlanRow
from trading import audit
from trading.ledger import CLOSED_ORDER_STATUSES
from trading.proposals import ProposalStatus, is_expired
from trading.state import TradingState, read_state
from trading.trades import EXIT_ROLES, load_book

ACTOR = "engine"
# Approved but not yet (completely) at the broker: an order for it is on its way.
_IN_FLIGHT = (ProposalStatus.APPROVED.value, ProposalStatus.SUBMITTED.value, ProposalStatus.PARTIALLY_FILLED.value)


class OutcomeCode(str, Enum):
    PROPOSED = "proposed"
    PAUSED = "paused"  # trading is halted
    NO_SIGNAL = "no_signal"  # nothing actionable this cycle
    REDUCING = "reducing"  # exits only: no opening trades
    STILL_WAITING = "still_waiting"  # a proposal for the same asset and side already waits for an operator
    TOO_WEAK = "too_weak"  # the signal sizes to nothing
    IN_FLIGHT = "in_flight"  # an order for the same asset and side is on its way
    HOLDING = "holding"  # a position in the same asset and direction is open
    ALREADY_PROPOSED = "already_proposed"  # this very signal was proposed before


@dataclass(frozen=True)
class SinceLast:
    """The previous proposal on the same asset, and what differs now."""

    previous_id: int
    previous_status: str
    previous_at: datetime  # when it was proposed
    previous_side: str
    previous_quantity: float
    previous_price: float
    previous_probability: float
    side_changed: bool
    quantity_change: float  # fraction: 0.1 is 10% more than before
    price_change: float  # fraction of the previous reference price
    probability_change: float  # in probability units: 0.03 is three points more
    new_headlines: int  # headlines this signal's story has that the previous one's did not
    dropped_headlines: int  # and the other way round
    same_story: bool


@dataclass(frozen=True)
class Skip:
    """A signal held back from proposing, and why (the proposal in the way, when there is one)."""

    symbol: str
    side: str
    code: OutcomeCode
    id: int | None = None
    status: str | None = None


@dataclass(frozen=True)
class ProposalOutcome:
    """What a cycle did about proposing, as data; channels word it (bot/messages.py)."""

    code: OutcomeCode
    id: int | None = None  # the new proposal, or the one in the way
    symbol: str | None = None
    side: str | None = None
    since_last: SinceLast | None = None  # for a new proposal on an asset proposed before
    skipped: tuple[Skip, ...] = ()  # stronger signals held back this cycle, strongest first


def strongest_actionable(signals: Sequence[Signal]) -> Signal | None:
    ranked = actionable(signals)
    return ranked[0] if ranked else None


def actionable(signals: Sequence[Signal]) -> list[Signal]:
    return [s for s in rank_signals(signals) if s.actionable]


def _pending(session: Session, symbol: str, side: str, now: datetime) -> ProposalRow | None:
    return session.scalars(
        select(ProposalRow).where(
            ProposalRow.symbol == symbol, ProposalRow.side == side,
            ProposalRow.status == ProposalStatus.PROPOSED.value, ProposalRow.expires_at > now,
        ).limit(1)
    ).first()


def held_directions(session: Session) -> set[tuple[str, str]]:
    """(symbol, side that opened it) of every open position: our open trades and the broker's positions as last seen."""
    held = {(t.symbol, "buy" if t.direction == "long" else "sell") for t in load_book(session).open}
    for row in session.scalars(select(PositionRow).where(PositionRow.quantity != 0)):
        held.add((row.symbol, "buy" if row.quantity > 0 else "sell"))
    return held


def blocked(session: Session, symbol: str, side: str, fingerprint: str, now: datetime,
            held: set[tuple[str, str]]) -> Skip | None:
    """Why a signal for `symbol` and `side` with this key must not be proposed now; None when it may."""
    waiting = _pending(session, symbol, side, now)
    if waiting is not None:
        return Skip(symbol, side, OutcomeCode.STILL_WAITING, waiting.id, waiting.status)
    approved = session.scalars(select(ProposalRow).where(
        ProposalRow.symbol == symbol, ProposalRow.side == side, ProposalRow.status.in_(_IN_FLIGHT)).limit(1)).first()
    if approved is not None:
        return Skip(symbol, side, OutcomeCode.IN_FLIGHT, approved.id, approved.status)
    order = session.scalars(select(OrderRow).where(
        OrderRow.symbol == symbol, OrderRow.side == side, OrderRow.role.in_(("entry", *EXIT_ROLES)),
        OrderRow.status.not_in(CLOSED_ORDER_STATUSES)).limit(1)).first()
    if order is not None:
        return Skip(symbol, side, OutcomeCode.IN_FLIGHT, order.proposal_id, order.status)
    if (symbol, side) in held:
        return Skip(symbol, side, OutcomeCode.HOLDING)
    earlier = session.scalars(
        select(ProposalRow).join(SignalRow, SignalRow.id == ProposalRow.signal_id)
        .where(SignalRow.fingerprint == fingerprint, ProposalRow.symbol == symbol, ProposalRow.side == side)
        .order_by(ProposalRow.id.desc()).limit(1)).first()
    if earlier is not None:
        status = ProposalStatus.EXPIRED.value if is_expired(earlier, now) else earlier.status
        return Skip(symbol, side, OutcomeCode.ALREADY_PROPOSED, earlier.id, status)
    return None


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
    ranked = actionable(signals)
    if not ranked:
        return ProposalOutcome(OutcomeCode.NO_SIGNAL)
    if state is TradingState.REDUCING:
        # Opening trades are off while reducing; exits come from positions (trading/exits.py), not from signals.
        return ProposalOutcome(OutcomeCode.REDUCING, symbol=ranked[0].symbol)
    held = held_directions(session)
    skipped: list[Skip] = []
    for signal in ranked:
        side = "buy" if signal.direction is Direction.BUY else "sell"
        row = rows[signal.symbol]
        skip = blocked(session, signal.symbol, side, signal_fingerprint(row.symbol, row.direction, row.as_of, row.features),
                       now, held)
        if skip is None:
            rhythm = interval if isinstance(interval, timedelta) else interval[signal.symbol]
            size = suggest_size(signal, settings.sim_equity, settings.risk_per_trade, signal.horizon / rhythm)
            if size.quantity > 0:
                return _new_proposal(session, settings, signal, row, side, size, now, tuple(skipped))
            skip = Skip(signal.symbol, side, OutcomeCode.TOO_WEAK)
        skipped.append(skip)
    first = skipped[0]
    return ProposalOutcome(first.code, first.id, first.symbol, first.side, skipped=tuple(skipped))


def _new_proposal(session: Session, settings: Settings, signal: Signal, signal_row: SignalRow, side: str, size: SizeSuggestion,
                  now: datetime, skipped: tuple[Skip, ...]) -> ProposalOutcome:
    assert signal.probability is not None
    previous = session.scalars(select(ProposalRow).where(ProposalRow.symbol == signal.symbol)
                               .order_by(ProposalRow.id.desc()).limit(1)).first()
    row = ProposalRow(
        signal_id=signal_row.id,
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
    since = None
    if previous is not None:
        since = since_last(previous, session.get_one(SignalRow, previous.signal_id), row, signal_row)
    audit.append(session, ACTOR, "proposal.proposed", {
        "proposal_id": row.id, "signal_id": row.signal_id, "symbol": row.symbol, "side": row.side,
        "quantity": row.quantity, "probability": row.probability, "reference_price": row.reference_price,
        "stop_distance": size.stop_distance, "previous_proposal_id": previous.id if previous is not None else None,
    }, now)
    return ProposalOutcome(OutcomeCode.PROPOSED, row.id, row.symbol, row.side, since, skipped)


def headline_ids(features: Mapping[str, Any] | None) -> frozenset[str]:
    narrative = (features or {}).get("narrative") or {}
    return frozenset(str(h["id"]) for h in narrative.get("headlines") or () if isinstance(h, Mapping) and h.get("id"))


def since_last(previous: ProposalRow, previous_signal: SignalRow, new: ProposalRow, new_signal: SignalRow) -> SinceLast:
    before, now = headline_ids(previous_signal.features), headline_ids(new_signal.features)
    return SinceLast(
        previous.id, previous.status, previous.created_at, previous.side, previous.quantity, previous.reference_price,
        previous.probability, previous.side != new.side,
        new.quantity / previous.quantity - 1 if previous.quantity else 0.0,
        new.reference_price / previous.reference_price - 1 if previous.reference_price else 0.0,
        new.probability - previous.probability, len(now - before), len(before - now),
        previous_signal.fingerprint == new_signal.fingerprint and previous.side == new.side,
    )


def changes_since_last(session: Session, proposal_id: int) -> SinceLast | None:
    """What changed between a stored proposal and the one before it on the same asset (None: the first)."""
    proposal = session.get(ProposalRow, proposal_id)
    if proposal is None:
        return None
    previous = session.scalars(select(ProposalRow).where(ProposalRow.symbol == proposal.symbol, ProposalRow.id < proposal.id)
                               .order_by(ProposalRow.id.desc()).limit(1)).first()
    if previous is None:
        return None
    return since_last(previous, session.get_one(SignalRow, previous.signal_id), proposal,
                      session.get_one(SignalRow, proposal.signal_id))
