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
    realized_pnl: float  # from our fills, average-cost
    unrealized_pnl: float
    fees: float
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
