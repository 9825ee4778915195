"""Alpaca through alpaca-py's TradingClient: paper unless live trading is explicitly enabled.

Two things alpaca-py does not do for us are set here: every request gets a timeout (it sets none),
and its own quiet retries are off, because a retried order submission must first be looked up by
its client order id, which only the executor can do.
"""
from __future__ import annotations

import json
import logging
import math
from datetime import datetime
from typing import Any, Callable, Iterator
from contextlib import contextmanager

import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderClass, OrderSide, QueryOrderStatus, TimeInForce
from alpaca.trading.models import Order
from alpaca.trading.requests import (
    GetOrdersRequest, LimitOrderRequest, MarketOrderRequest, StopLossRequest, TakeProfitRequest,
)
from providers.alpaca_http import prepare_client

from trading.broker import (
    BrokerAccount, BrokerError, BrokerOrder, BrokerPosition, BrokerTimeout, BrokerUnavailable,
    DuplicateClientOrderId, OrderRejected, OrderRequest, Quote,
)
from trading.market_hours import asset_class

log = logging.getLogger(__name__)

_STATUS = {
    "filled": "filled", "partially_filled": "partially_filled", "canceled": "canceled", "replaced": "canceled",
    "expired": "expired", "rejected": "rejected", "suspended": "rejected", "held": "held",
}


def to_alpaca_symbol(symbol: str) -> str:
    return f"{symbol}/USD" if asset_class(symbol) == "crypto" else symbol


def from_alpaca_symbol(symbol: str) -> str:
    """Orders say "BTC/USD", positions say "BTCUSD"; both are our "BTC"."""
    base = symbol.removesuffix("/USD")
    if base != symbol:
        return base
    if symbol.endswith("USD") and asset_class(symbol[:-3]) == "crypto":
        return symbol[:-3]
    return symbol


def _float(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


def _price(value: float) -> float:
    """Alpaca takes equity prices in cents above one dollar and in hundredths of a cent below it."""
    return round(value, 2 if value >= 1 else 4)


QTY_DECIMALS = 9


class AlpacaBroker:
    name = "alpaca"

    def __init__(self, key: str, secret: str, paper: bool, url: str | None, timeout: float,
                 clock: Callable[[], datetime]) -> None:
        # No retries inside alpaca-py: a 429 or 504 on POST /orders comes back to the executor.
        self._client = prepare_client(TradingClient(api_key=key, secret_key=secret, paper=paper, url_override=url), timeout)
        self._clock = clock
        self.paper = paper

    def close(self) -> None:
        """End the HTTP session (serve's shutdown), so no connection to Alpaca is left open."""
        self._client._session.close()

    def market_time(self) -> datetime:
        return self._clock()

    def observe_data(self, as_of: datetime, seen_at: datetime) -> None:
        """Alpaca's market runs on the wall clock; nothing to anchor."""

    def quote(self, symbol: str) -> Quote | None:
        """Quotes come from the data API (providers/), not the trading API: the desk uses the proposal's price."""
        return None

    def supports_brackets(self, symbol: str, quantity: float) -> bool:
        # Alpaca takes bracket orders for whole-share stock and fund orders only, never for crypto.
        return asset_class(symbol) != "crypto" and float(quantity).is_integer()

    def submit(self, request: OrderRequest) -> BrokerOrder:
        crypto = asset_class(request.symbol) == "crypto"
        fields: dict[str, Any] = {
            # Alpaca takes at most nine decimal places of a fractional quantity.
            "symbol": to_alpaca_symbol(request.symbol), "qty": round(request.quantity, QTY_DECIMALS),
            "side": OrderSide.BUY if request.side == "buy" else OrderSide.SELL,
            "time_in_force": TimeInForce.GTC if crypto else TimeInForce.DAY,
            "client_order_id": request.client_order_id,
        }
        if request.is_bracket and self.supports_brackets(request.symbol, request.quantity):
            assert request.take_profit is not None and request.stop_loss is not None
            fields.update(order_class=OrderClass.BRACKET, take_profit=TakeProfitRequest(limit_price=_price(request.take_profit)),
                          stop_loss=StopLossRequest(stop_price=_price(request.stop_loss)))
        if request.order_type == "limit":
            assert request.limit_price is not None
            order_request: MarketOrderRequest | LimitOrderRequest = LimitOrderRequest(limit_price=_price(request.limit_price), **fields)
        else:
            order_request = MarketOrderRequest(**fields)
        with self._calls(f"submitting order {request.client_order_id}"):
            return self._order(self._client.submit_order(order_request))

    def order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        try:
            with self._calls(f"looking up order {client_order_id}"):
                return self._order(self._client.get_order_by_client_id(client_order_id))
        except OrderRejected as exc:
            if getattr(exc, "status", None) == 404:
                return None
            raise

    def open_orders(self) -> list[BrokerOrder]:
        with self._calls("listing open orders"):
            orders = self._client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, nested=True, limit=500))
        return [self._order(o) for o in orders]

    def cancel(self, broker_order_id: str) -> None:
        with self._calls(f"cancelling order {broker_order_id}"):
            self._client.cancel_order_by_id(broker_order_id)

    def account(self) -> BrokerAccount:
        with self._calls("reading the account"):
            account = self._client.get_account()
        equity = _float(account.equity)
        if equity is None:
            raise BrokerError("Alpaca reported an account without equity")
        return BrokerAccount(equity, _float(account.cash) or 0.0, _float(account.last_equity),
                             _float(account.accrued_fees) or 0.0)

    def positions(self) -> list[BrokerPosition]:
        with self._calls("reading positions"):
            positions = self._client.get_all_positions()
        result = []
        for p in positions:
            quantity = abs(float(p.qty)) * (-1 if str(getattr(p.side, "value", p.side)) == "short" else 1)
            result.append(BrokerPosition(from_alpaca_symbol(p.symbol), quantity, float(p.avg_entry_price),
                                         _float(p.current_price), _float(p.unrealized_pl)))
        return result

    def _order(self, order: Order, role: str = "entry") -> BrokerOrder:
        order_type = str(getattr(order.order_type or order.type, "value", order.order_type or order.type))
        legs = tuple(self._order(leg, "take_profit" if str(getattr(leg.order_type or leg.type, "value", "")) == "limit" else "stop_loss")
                     for leg in (order.legs or ()))
        status = str(getattr(order.status, "value", order.status))
        return BrokerOrder(
            broker_order_id=str(order.id), client_order_id=order.client_order_id,
            symbol=from_alpaca_symbol(order.symbol or ""), side=str(getattr(order.side, "value", order.side)),
            order_type="stop" if order_type.startswith("stop") else order_type,
            quantity=_float(order.qty) or 0.0, status=_STATUS.get(status, "new"),
            filled_quantity=_float(order.filled_qty) or 0.0, filled_avg_price=_float(order.filled_avg_price),
            limit_price=_float(order.limit_price), stop_price=_float(order.stop_price),
            filled_at=order.filled_at, role=role, legs=legs,
        )

    @contextmanager
    def _calls(self, what: str) -> Iterator[None]:
        """Alpaca's and the network's failures, as the executor's three kinds of trouble."""
        try:
            yield
        except requests.exceptions.ConnectTimeout as exc:
            raise BrokerUnavailable(f"Alpaca did not answer the connection while {what}") from exc
        except requests.exceptions.Timeout as exc:
            raise BrokerTimeout(f"Alpaca did not answer in time while {what}; it may have acted on it") from exc
        except requests.exceptions.ConnectionError as exc:
            raise BrokerUnavailable(f"cannot reach Alpaca while {what}") from exc
        except APIError as exc:
            raise _classify(exc, what) from exc


def _classify(exc: APIError, what: str) -> BrokerError:
    status = exc.status_code or 0
    try:
        message = str(json.loads(str(exc)).get("message", ""))[:300]
    except (ValueError, AttributeError):
        message = str(exc)[:300]
    text = f"Alpaca answered {status} while {what}: {message or 'no reason given'}"
    if status == 429 or status >= 500:
        retry_after = exc.response.headers.get("Retry-After") if exc.response is not None else None
        try:
            seconds = float(retry_after) if retry_after is not None else None
        except ValueError:
            seconds = None
        return BrokerUnavailable(text, seconds if seconds is not None and math.isfinite(seconds) else None)
    if status in (401, 403) and "authoriz" in message.lower():
        return BrokerError(f"Alpaca refused the credentials while {what} (check TB_ALPACA_KEY and TB_ALPACA_SECRET)")
    if status == 422 and "client_order_id" in message:
        return DuplicateClientOrderId(text)
    return OrderRejected(text, status)
