"""Realised P&L of trades from their fills: what following a signal actually earned.

The accounting is the trading module's own (trading/trades.py): one trade per round trip, realised
P&L after every fee, the same figure /pnl, /profit and /trades show.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ProposalRow
from trading.trades import Trade, load_book

# Below this a position counts as closed: float sums of partial fills leave dust.
QUANTITY_EPS = 1e-9


@dataclass(frozen=True)
class TradePnL:
    proposal_id: int | None  # the proposal that opened it; None for a position we did not open
    signal_id: int | None
    symbol: str
    realized_pnl: float  # closed quantity's gain in quote currency, after every fee of the trade
    fees: float
    open_quantity: float  # signed; nonzero while an exit has not (fully) filled
    first_fill: datetime
    last_fill: datetime

    @property
    def closed(self) -> bool:
        return abs(self.open_quantity) < QUANTITY_EPS


@dataclass(frozen=True)
class TradeSummary:
    trades: tuple[TradePnL, ...]

    @property
    def closed(self) -> tuple[TradePnL, ...]:
        return tuple(t for t in self.trades if t.closed)

    @property
    def realized_pnl(self) -> float:
        return sum(t.realized_pnl for t in self.trades)

    @property
    def winners(self) -> int:
        return sum(1 for t in self.closed if t.realized_pnl > 0)


def _summary(trade: Trade, signal_ids: dict[int, int]) -> TradePnL:
    proposal = trade.proposal_ids[0] if trade.proposal_ids else None
    return TradePnL(proposal, signal_ids.get(proposal) if proposal is not None else None, trade.symbol,
                    trade.realized_pnl, trade.fees, trade.open_quantity, trade.opened_at, trade.last_fill_at)


def load_trades(session: Session) -> TradeSummary:
    """Every round trip our fills make, at every broker the store has traded with."""
    book = load_book(session)
    proposals = {p for t in book.trades for p in t.proposal_ids}
    signal_ids = {pid: sid for pid, sid in session.execute(
        select(ProposalRow.id, ProposalRow.signal_id).where(ProposalRow.id.in_(proposals)))}
    return TradeSummary(tuple(_summary(t, signal_ids) for t in book.trades))
