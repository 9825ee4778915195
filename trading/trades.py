"""Trades from our fills, and the one definition of realised P&L.

A trade is one round trip in one asset at one broker: it opens with the fill that takes the
position away from flat and closes with the fill that brings it back (a fill that crosses flat closes
this trade and opens the next with the rest, its fee split by quantity).

Realised P&L, everywhere (/pnl, /profit, /trades, /daily, /performance and the evaluation): the
average-cost gain on every quantity closed, minus every fee paid, a fee counting from the fill that
paid it (so an entry's fee is realised when it is paid). Unrealised P&L is (mark - average entry) x
open quantity, before the fees of the exit still to come. With these two, equity = starting equity
+ realised + unrealised, exactly, on the simulator's books.

Pure: `round_trips` takes fills and returns trades; `load_fills` reads them from the store.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.trading_models import FillRow, OrderRow

# Below this share of the largest size held a position counts as flat: float sums of partial fills leave dust.
DUST = 1e-9
# Roles of the orders that close a position on our initiative (trading/exits.py); brackets close as
# take_profit and stop_loss.
EXIT_ROLES = ("close", "flatten", "horizon_exit")


@dataclass(frozen=True)
class TradeFill:
    fill_id: int
    order_id: int
    proposal_id: int | None
    broker: str
    symbol: str
    side: str  # buy | sell
    quantity: float
    price: float
    fee: float
    filled_at: datetime
    role: str  # the order's role: entry | take_profit | stop_loss | close | flatten | horizon_exit


@dataclass(frozen=True)
class Trade:
    broker: str
    symbol: str
    direction: str  # long | short
    opened_at: datetime
    closed_at: datetime | None  # None while open
    size: float  # the largest quantity held
    open_quantity: float  # signed; 0 once closed
    entry_price: float  # average price of the fills that opened and added
    exit_price: float | None  # average price of the fills that reduced
    avg_cost: float  # average cost of what is still open (unrealised P&L is measured from it)
    gross_pnl: float  # average-cost gain on the quantity closed, before fees
    fees: float
    proposal_ids: tuple[int, ...]  # the proposals whose fills made it, in fill order
    exit_role: str | None  # the role of the order whose fill closed it (last reducing fill while open)
    opening_order_id: int  # our order whose fill opened it: the trade's identity (exits' client ids use it)
    last_fill_at: datetime

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def realized_pnl(self) -> float:
        return self.gross_pnl - self.fees

    @property
    def return_pct(self) -> float:
        """Realised P&L as a fraction of the money the position took at its largest."""
        cost = self.size * self.entry_price
        return self.realized_pnl / cost if cost > 0 else 0.0


@dataclass(frozen=True)
class Flow:
    """One fill's part in realised P&L: its gain on what it closed, minus its fee."""

    at: datetime
    broker: str
    symbol: str
    realized: float
    closes_trade: bool


@dataclass(frozen=True)
class TradeBook:
    trades: tuple[Trade, ...]  # in opening order
    flows: tuple[Flow, ...]  # in fill order

    @property
    def realized_pnl(self) -> float:
        return sum(t.realized_pnl for t in self.trades)

    @property
    def fees(self) -> float:
        return sum(t.fees for t in self.trades)

    @property
    def closed(self) -> tuple[Trade, ...]:
        return tuple(t for t in self.trades if t.closed)

    @property
    def open(self) -> tuple[Trade, ...]:
        return tuple(t for t in self.trades if not t.closed)

    def open_trade(self, broker: str, symbol: str) -> Trade | None:
        return next((t for t in self.open if t.broker == broker and t.symbol == symbol), None)

    def last_trade(self, broker: str, symbol: str) -> Trade | None:
        return next((t for t in reversed(self.trades) if t.broker == broker and t.symbol == symbol), None)


@dataclass
class _Open:
    broker: str
    symbol: str
    opened_at: datetime
    opening_order_id: int
    entry_direction: int  # +1 long, -1 short
    quantity: float = 0.0  # signed
    avg: float = 0.0
    size: float = 0.0
    entry_qty: float = 0.0
    entry_value: float = 0.0
    exit_qty: float = 0.0
    exit_value: float = 0.0
    gross: float = 0.0
    fees: float = 0.0
    proposals: list[int] = field(default_factory=list)
    exit_role: str | None = None
    last_fill_at: datetime | None = None

    def freeze(self, closed_at: datetime | None) -> Trade:
        assert self.last_fill_at is not None
        return Trade(
            self.broker, self.symbol, "long" if self.entry_direction > 0 else "short", self.opened_at, closed_at,
            self.size, 0.0 if closed_at is not None else self.quantity,
            self.entry_value / self.entry_qty if self.entry_qty else 0.0,
            self.exit_value / self.exit_qty if self.exit_qty else None, self.avg,
            self.gross, self.fees, tuple(dict.fromkeys(self.proposals)), self.exit_role, self.opening_order_id,
            self.last_fill_at)


def _check(fill: TradeFill) -> None:
    if fill.side not in ("buy", "sell") or not fill.quantity > 0 or not fill.price > 0 or fill.fee < 0:
        raise ValueError(f"malformed fill {fill}")


def round_trips(fills: Sequence[TradeFill]) -> TradeBook:
    """Trades and realised flows from fills, taken in (filled_at, fill id) order."""
    trades: list[tuple[int, Trade]] = []  # (opening sequence, trade)
    flows: list[Flow] = []
    current: dict[tuple[str, str], tuple[int, _Open]] = {}
    sequence = 0
    for fill in sorted(fills, key=lambda f: (f.filled_at, f.fill_id)):
        _check(fill)
        key = (fill.broker, fill.symbol)
        sign = 1 if fill.side == "buy" else -1
        remaining, realized, closes = fill.quantity, 0.0, False
        if key in current and current[key][1].quantity * sign < 0:  # reduces the open position
            seq, book = current[key]
            closing = min(remaining, abs(book.quantity))
            fee = fill.fee * closing / fill.quantity
            gain = (fill.price - book.avg) * closing * (1 if book.quantity > 0 else -1)
            book.gross += gain
            book.fees += fee
            book.exit_qty += closing
            book.exit_value += closing * fill.price
            book.quantity += sign * closing
            book.exit_role, book.last_fill_at = fill.role, fill.filled_at
            if fill.proposal_id is not None and fill.role == "entry":
                book.proposals.append(fill.proposal_id)
            realized += gain - fee
            remaining -= closing
            if abs(book.quantity) <= DUST * max(1.0, book.size):
                trades.append((seq, book.freeze(fill.filled_at)))
                del current[key]
                closes = True
            if remaining <= DUST * max(1.0, fill.quantity):
                remaining = 0.0
        if remaining > 0:  # opens or adds
            if key not in current:
                sequence += 1
                current[key] = (sequence, _Open(fill.broker, fill.symbol, fill.filled_at, fill.order_id, sign))
            _, book = current[key]
            fee = fill.fee * remaining / fill.quantity
            held = abs(book.quantity)
            book.avg = (held * book.avg + remaining * fill.price) / (held + remaining)
            book.quantity += sign * remaining
            book.size = max(book.size, abs(book.quantity))
            book.entry_qty += remaining
            book.entry_value += remaining * fill.price
            book.fees += fee
            book.last_fill_at = fill.filled_at
            if fill.proposal_id is not None:
                book.proposals.append(fill.proposal_id)
            realized -= fee
        flows.append(Flow(fill.filled_at, fill.broker, fill.symbol, realized, closes))
    trades += [(seq, book.freeze(None)) for seq, book in current.values()]
    return TradeBook(tuple(t for _, t in sorted(trades, key=lambda pair: pair[0])), tuple(flows))


def load_fills(session: Session, broker: str | None = None) -> list[TradeFill]:
    """Every fill of our orders (at one broker, or all), with the order's broker and role."""
    query = (select(FillRow, OrderRow.broker, OrderRow.role).join(OrderRow, OrderRow.id == FillRow.order_id)
             .order_by(FillRow.filled_at, FillRow.id))
    if broker is not None:
        query = query.where(OrderRow.broker == broker)
    return [TradeFill(f.id, f.order_id, f.proposal_id, order_broker, f.symbol, f.side.lower(), f.quantity, f.price,
                      f.fee or 0.0, f.filled_at, role)
            for f, order_broker, role in session.execute(query)]


def load_book(session: Session, broker: str | None = None) -> TradeBook:
    return round_trips(load_fills(session, broker))
