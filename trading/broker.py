"""The broker protocol: what the trading desk needs from any broker, in our own types.

Statuses are normalised to: new, partially_filled, filled, canceled, expired, rejected (and held
for a bracket leg waiting on its parent). Quantities are positive; a position's sign is its side.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

OPEN_STATUSES = frozenset({"new", "partially_filled", "held"})
FINAL_STATUSES = frozenset({"filled", "canceled", "expired", "rejected"})


@dataclass(frozen=True)
class OrderRequest:
    client_order_id: str
    symbol: str
    side: str  # buy | sell
    quantity: float
    order_type: str = "market"  # market | limit
    limit_price: float | None = None
    take_profit: float | None = None  # with stop_loss: a bracket order
    stop_loss: float | None = None

    @property
    def is_bracket(self) -> bool:
        return self.take_profit is not None and self.stop_loss is not None


@dataclass(frozen=True)
class BrokerOrder:
    broker_order_id: str
    client_order_id: str
    symbol: str
    side: str
    order_type: str  # market | limit | stop
    quantity: float
    status: str
    filled_quantity: float = 0.0
    filled_avg_price: float | None = None
    limit_price: float | None = None
    stop_price: float | None = None
    filled_at: datetime | None = None
    role: str = "entry"  # entry | take_profit | stop_loss
    legs: tuple[BrokerOrder, ...] = ()
    reason: str | None = None  # why it was rejected or canceled, when the broker says
    fees: float = 0.0  # cumulative, where the broker reports them per order


@dataclass(frozen=True)
class BrokerAccount:
    equity: float
    cash: float
    # Equity at the start of the trading day when the broker knows it (Alpaca's last_equity);
    # None lets the desk take it from its own snapshots.
    day_start_equity: float | None = None
    fees: float = 0.0


@dataclass(frozen=True)
class BrokerPosition:
    symbol: str
    quantity: float  # signed: negative is short
    avg_price: float
    market_price: float | None
    unrealized_pnl: float | None


@dataclass(frozen=True)
class Quote:
    price: float
    at: datetime  # market time the price is from


class BrokerError(Exception):
    """Anything a broker call can fail with; the message never carries a key or secret."""


class BrokerUnavailable(BrokerError):
    """5xx, 429 or no connection: nothing is known to have happened. Safe to look up, then retry."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BrokerTimeout(BrokerUnavailable):
    """The request went out and no answer came back: the broker may well have acted on it."""


class OrderRejected(BrokerError):
    """The broker refused the order for good (4xx): retrying the same order cannot help."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the HTTP status, when the refusal came over HTTP


class DuplicateClientOrderId(OrderRejected):
    """The broker already holds an order under this client order id: look it up and adopt it."""


class Broker(Protocol):
    name: str  # "sim" | "alpaca"

    def market_time(self) -> datetime:
        """The broker's market clock: wall time for Alpaca, the replay time for the simulator."""
        ...

    def observe_data(self, as_of: datetime, seen_at: datetime) -> None:
        """Data as of `as_of` was seen at wall time `seen_at` (the simulator anchors its clock on it)."""
        ...

    def quote(self, symbol: str) -> Quote | None: ...

    def supports_brackets(self, symbol: str, quantity: float) -> bool: ...

    def submit(self, request: OrderRequest) -> BrokerOrder: ...

    def order_by_client_id(self, client_order_id: str) -> BrokerOrder | None: ...

    def open_orders(self) -> list[BrokerOrder]: ...

    def cancel(self, broker_order_id: str) -> None: ...

    def account(self) -> BrokerAccount: ...

    def positions(self) -> list[BrokerPosition]: ...
