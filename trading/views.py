"""What the operator service returns about trading: plain frozen data for any channel to render."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from storage.models import ProposalRow


@dataclass(frozen=True)
class ProposalView:
    id: int
    symbol: str
    side: str
    quantity: float
    notional: float
    probability: float
    status: str
    created_at: datetime
    expires_at: datetime
    reference_price: float
    updated_at: datetime | None = None

    @property
    def version(self) -> str:
        """Changes whenever the proposal does (resized, answered): a button made for one version is stale
        for the next."""
        stamp = f"{self.status}|{self.quantity!r}|{self.updated_at.isoformat() if self.updated_at else ''}"
        return hashlib.sha256(stamp.encode()).hexdigest()[:8]


def proposal_view(row: ProposalRow) -> ProposalView:
    return ProposalView(row.id, row.symbol, row.side, row.quantity, row.notional, row.probability, row.status,
                        row.created_at, row.expires_at, row.reference_price, row.updated_at)


@dataclass(frozen=True)
class PositionView:
    symbol: str
    side: str  # "long" | "short"
    quantity: float  # absolute
    avg_price: float
    market_price: float | None  # None when the broker gave no price
    market_value: float | None  # absolute value at market_price
    unrealized_pnl: float | None
    broker: str  # "sim" | "alpaca"
    stale: bool  # True: the broker could not be reached, this is the last position seen
    seen_at: datetime  # wall time the position was read from the broker


@dataclass(frozen=True)
class OrderView:
    id: int
    proposal_id: int | None
    client_order_id: str
    symbol: str
    side: str
    status: str  # pending_submit | new | partially_filled | filled | canceled | rejected | expired | failed
    role: str  # entry | take_profit | stop_loss
    order_type: str  # market | limit | stop
    quantity: float
    filled_quantity: float
    filled_avg_price: float | None
    limit_price: float | None
    stop_price: float | None
    broker: str
    broker_order_id: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class PnlView:
    broker: str
    equity: float
    cash: float
    day_start_equity: float
    day_pnl: float
    day_pnl_pct: float  # fraction: -0.01 is a 1% loss today
    realized_pnl: float  # from our fills, average cost, after every fee paid (trading/trades.py)
    unrealized_pnl: float
    fees: float  # paid so far; already taken off realized_pnl
    peak_equity: float
    drawdown_pct: float  # fraction below the peak
    gross_exposure: float  # sum of |position value|
    market_time: datetime  # the broker's market clock (the replay time for the simulated broker)
    stale: bool  # True: broker unreachable, figures are the last snapshot
    problem: str | None = None  # why the figures are stale; render it when present


@dataclass(frozen=True)
class ReconcileView:
    """Differences between the broker and the store after one reconciliation."""

    checked_orders: int
    updated_orders: int
    differences: tuple[str, ...]  # plain sentences; empty when the books agree

    @property
    def clean(self) -> bool:
        return not self.differences


@dataclass(frozen=True)
class CloseView:
    """One close: what was (or would be) closed, how, and with what result."""

    symbol: str
    side: str  # the position's: long | short
    quantity: float  # absolute
    reason: str  # close (an operator's /close) | flatten | horizon_exit
    mark_price: float | None  # the price the position was valued at before the close
    unrealized_pnl: float | None  # before the close
    cancels: tuple[str, ...]  # our orders on the asset that go first: "take_profit at 3,500", ...
    client_order_id: str | None  # the close order's; None while only asked to confirm
    status: str | None  # the close order's status at the broker
    fill_price: float | None
    realized_pnl: float | None  # the trade's, after fees, once it is closed
    horizon_end: datetime | None  # when its signal's horizon ends (or ended)


@dataclass(frozen=True)
class HeldView:
    """An open position as our books know it: where it came from and how it will end."""

    symbol: str
    side: str  # long | short
    quantity: float
    opened_at: datetime
    proposal_ids: tuple[int, ...]
    horizon_end: datetime | None  # None: not opened from a signal, no horizon exit
    kept: bool  # the operator keeps it past its horizon (/keep)
    horizon_exit: bool  # whether the horizon exit is on (TB_HORIZON_EXIT)


@dataclass(frozen=True)
class TradeView:
    """One round trip (trading/trades.py), for /trades and the best and worst in /profit."""

    number: int  # 1 is the first trade the store made
    symbol: str
    side: str  # long | short
    quantity: float  # the largest size held
    opened_at: datetime
    entry_price: float
    closed_at: datetime | None
    exit_price: float | None
    exit: str  # take_profit | stop_loss | close | flatten | horizon_exit | entry (an opposite proposal) | open
    realized_pnl: float  # after fees
    fees: float
    return_pct: float  # realised P&L over the money the position took at its largest
    open_quantity: float  # signed; 0 once closed
    proposal_ids: tuple[int, ...]
    broker: str


@dataclass(frozen=True)
class ProfitView:
    """/profit: closed trades, win rate, realised P&L (the same figure as /pnl), best and worst."""

    broker: str
    trades: int
    closed: int
    winners: int
    losers: int
    win_rate: float | None  # of closed trades; None before the first closes
    realized_pnl: float  # every trade, after every fee: the figure /pnl shows
    closed_pnl: float  # closed trades only
    fees: float
    best: TradeView | None
    worst: TradeView | None
    avg_hours: float | None  # mean time a closed trade was open
    first_opened: datetime | None
    last_opened: datetime | None


@dataclass(frozen=True)
class PerformanceRow:
    """/performance: one asset's trades."""

    symbol: str
    trades: int
    closed: int
    winners: int
    realized_pnl: float  # after fees, every trade in it
    return_pct: float  # summed returns of its closed trades


@dataclass(frozen=True)
class DayView:
    day: str  # ISO date in UTC of the broker's market clock (the replay time for the simulator)
    realized_pnl: float  # after fees: what that day's fills realised
    fills: int
    trades_closed: int
    equity_end: float | None  # the last look at equity that day, when there was one


@dataclass(frozen=True)
class DailyView:
    broker: str
    days: tuple[DayView, ...]  # newest first
    realized_pnl: float  # over these days
    market_today: str
