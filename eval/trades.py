"""Realised P&L of approved trades from their fills: what following a signal actually earned."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ProposalRow
from trading.accounting import Book, apply_fill
from storage.trading_models import FillRow

# Below this a position counts as closed: float sums of partial fills leave dust.
QUANTITY_EPS = 1e-9


@dataclass(frozen=True)
class Fill:
    proposal_id: int
    symbol: str
    side: str  # buy | sell
    quantity: float
    price: float
    fee: float
    filled_at: datetime


@dataclass(frozen=True)
class TradePnL:
    proposal_id: int
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


def trade_pnl(proposal_id: int, signal_id: int | None, fills: Sequence[Fill]) -> TradePnL:
    """Average-cost accounting (the trading module's own) over one proposal's fills, in fill order."""
    if not fills:
        raise ValueError(f"proposal {proposal_id} has no fills")
    ordered = sorted(fills, key=lambda f: f.filled_at)
    book = Book()
    for fill in ordered:
        if fill.side not in ("buy", "sell") or fill.quantity <= 0 or fill.price <= 0:
            raise ValueError(f"proposal {proposal_id}: malformed fill {fill}")
        book = apply_fill(book, fill.side, fill.quantity, fill.price)
    fees = sum(f.fee for f in ordered)
    open_quantity = 0.0 if abs(book.quantity) < QUANTITY_EPS else book.quantity
    return TradePnL(proposal_id, signal_id, ordered[0].symbol, book.realized - fees, fees, open_quantity,
                    ordered[0].filled_at, ordered[-1].filled_at)


def load_trades(session: Session) -> TradeSummary:
    """Every proposal with at least one fill (only approved proposals ever reach the broker)."""
    grouped: dict[int, list[Fill]] = defaultdict(list)
    for row in session.scalars(select(FillRow).where(FillRow.proposal_id.is_not(None)).order_by(FillRow.id)):
        assert row.proposal_id is not None  # the query's own condition
        grouped[row.proposal_id].append(
            Fill(row.proposal_id, row.symbol, row.side.lower(), row.quantity, row.price, row.fee or 0.0, row.filled_at))
    query = select(ProposalRow.id, ProposalRow.signal_id).where(ProposalRow.id.in_(list(grouped)))
    signal_ids = {pid: sid for pid, sid in session.execute(query)}
    return TradeSummary(tuple(trade_pnl(pid, signal_ids.get(pid), fills) for pid, fills in sorted(grouped.items())))
