"""A loopback fake of Alpaca's trading API (the v2 endpoints alpaca-py's TradingClient calls, the asset
lookup GET /v2/assets/{symbol} among them), with fault injection: 5xx and 429 answers, a timeout after
the order was accepted, partial fills and rejections. Shapes follow alpaca-py's models
(alpaca/trading/models.py) and Alpaca's error bodies ({"code": ..., "message": ...}). Runs aiohttp.web
on 127.0.0.1 in a thread of its own.

Like Alpaca, open orders hold the quantity they would sell (or buy back): an order against a position
larger than what is not held for other orders is refused with 403 "insufficient qty available", and a
cancel is asynchronous (the order is pending_cancel, still holding its quantity, for `cancel_reads`
more reads of it). Cancelling a bracket's parent cancels its legs; a leg can be cancelled on its own.
"""
from __future__ import annotations

import asyncio
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from tests.feed_server import LoopbackServer, OnLoopback

KEY, SECRET = "test-key", "test-secret"


@dataclass
class Fault:
    kind: str  # "status": answer `status`; "hang_after_accept": accept, then answer too late; "hang": answer too late
    method: str = "POST"
    path: str = "/v2/orders"
    status: int = 500
    retry_after: str | None = None
    after: int = 0  # matching requests let through before this one fires


@dataclass
class FakeAlpaca(OnLoopback):
    prices: dict[str, float]
    cash: float = 100_000.0
    fill_mode: str = "fill"  # fill | partial | new
    partial_fraction: float = 0.4
    hang_seconds: float = 1.5
    faults: list[Fault] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    positions: dict[str, dict[str, float]] = field(default_factory=dict)  # by Alpaca symbol: qty (signed), avg
    requests: list[tuple[str, str]] = field(default_factory=list)
    posted: list[dict[str, Any]] = field(default_factory=list)  # bodies of POST /v2/orders that got past the faults
    last_equity: float = 100_000.0
    # GET /v2/assets/{symbol}: what Alpaca lists (name, exchange, fractionable); others are 404 as at Alpaca.
    assets: dict[str, dict[str, Any]] = field(default_factory=lambda: {
        "SOFI": {"name": "SoFi Technologies, Inc. Common Stock", "exchange": "NASDAQ", "fractionable": True},
        "GME": {"name": "GameStop Corp. Class A Common Stock", "exchange": "NYSE", "fractionable": True},
        "AAPL": {"name": "Apple Inc. Common Stock", "exchange": "NASDAQ", "fractionable": True},
    })
    cancel_reads: int = 1  # how many reads of a cancelled order still find it pending_cancel

    def __post_init__(self) -> None:
        self._cancel_reads_left: dict[str, int] = {}  # order id -> reads before its cancel takes effect
        self._lock = threading.Lock()
        self._server = LoopbackServer(self._dispatch)

    # --- what tests look at and poke ---

    def order_posts(self) -> int:
        return sum(1 for method, path in self.requests if method == "POST" and path == "/v2/orders")

    def orders_for(self, client_order_id: str) -> list[dict[str, Any]]:
        return [o for o in self.orders if o["client_order_id"] == client_order_id]

    def fill_rest(self, client_order_id: str) -> None:
        with self._lock:
            [order] = self.orders_for(client_order_id)
            self._fill(order, float(order["qty"]) - float(order["filled_qty"]))

    # --- the API ---

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        with self._lock:
            self.requests.append((request.method, path))
        if request.headers.get("APCA-API-KEY-ID") != KEY or request.headers.get("APCA-API-SECRET-KEY") != SECRET:
            return _error(401, 40110000, "request is not authorized")
        fault = self._take_fault(request.method, path)
        if fault is not None and fault.kind == "status":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
            message = "rate limit exceeded" if fault.status == 429 else "internal server error"
            return _error(fault.status, fault.status * 100_000, message, headers)
        if fault is not None and fault.kind == "hang":
            await asyncio.sleep(self.hang_seconds)
            return _error(504, 50400000, "gateway timeout")
        response = await self._route(request)
        if fault is not None and fault.kind == "hang_after_accept":
            await asyncio.sleep(self.hang_seconds)  # the order is on the books; the client gave up waiting
        return response

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self.faults):
                if fault.method == method and path == fault.path:
                    if fault.after:
                        fault.after -= 1
                        return None
                    return self.faults.pop(index)
        return None

    async def _route(self, request: web.Request) -> web.Response:
        method, path = request.method, request.path
        body = await request.json() if method == "POST" else None  # read before locking: no await under the lock
        with self._lock:
            if method == "POST" and path == "/v2/orders":
                self.posted.append(body)
                return self._submit(body)
            if method == "GET" and path == "/v2/orders:by_client_order_id":
                found = self.orders_for(request.query.get("client_order_id", ""))
                if not found:
                    return _error(404, 40410000, "order not found")
                self._settle_cancels(found[0])
                return web.json_response(found[0])
            if method == "GET" and path == "/v2/orders":
                status = request.query.get("status", "open")
                for order in self.orders:
                    self._settle_cancels(order)
                chosen = [o for o in self.orders if status == "all" or (o["status"] in _OPEN) == (status == "open")]
                return web.json_response(chosen)
            if method == "DELETE" and path.startswith("/v2/orders/"):
                return self._cancel(path.rsplit("/", 1)[1])
            if method == "GET" and path == "/v2/account":
                return web.json_response(self._account())
            if method == "GET" and path == "/v2/positions":
                return web.json_response([self._position(s, p) for s, p in self.positions.items() if p["qty"] != 0])
            if method == "GET" and path.startswith("/v2/assets/"):
                return self._asset(path.removeprefix("/v2/assets/"))
        return _error(404, 40410000, f"no route {method} {path}")

    def _submit(self, body: dict[str, Any]) -> web.Response:
        symbol, qty, side = body["symbol"], float(body["qty"]), body["side"]
        if abs(round(qty, 9) - qty) > 1e-15:  # as Alpaca: a fractional quantity has at most nine decimal places
            return _error(422, 40010001, "qty must be in increments of 0.000000001")
        crypto = "/" in symbol
        if self.orders_for(body.get("client_order_id", "")):
            return _error(422, 40010001, "client_order_id must be unique")
        if symbol not in self.prices:
            return _error(422, 40010001, f"asset {symbol} not found")
        if crypto and body.get("order_class") == "bracket":
            return _error(422, 40010001, "crypto orders not allowed for advanced order_class: bracket")
        held = self.positions.get(symbol.replace("/", ""), {"qty": 0.0})["qty"]
        if crypto and side == "sell" and qty > held:
            return _error(403, 40310000, f"insufficient balance for {symbol.split('/')[0]} (requested: {qty:g}, available: {held:g})")
        against = held if side == "sell" else -held  # the part of this order that closes a position
        if against > 0:
            available = against - self.held_for_orders(symbol, side)
            if available < min(qty, against) - 1e-9:
                return _error(403, 40310000, f"insufficient qty available for order (requested: {qty:g}, available: {max(available, 0):g})")
        order = self._order(body, symbol, qty, side, crypto)
        self.orders.append(order)
        if self.fill_mode == "fill":
            self._fill(order, qty)
        elif self.fill_mode == "partial":
            self._fill(order, qty * self.partial_fraction)
        return web.json_response(order)

    def _order(self, body: dict[str, Any], symbol: str, qty: float, side: str, crypto: bool) -> dict[str, Any]:
        order = _order_json(body.get("client_order_id") or str(uuid.uuid4()), symbol, qty, side, body.get("type", "market"),
                            body.get("time_in_force", "day"), "crypto" if crypto else "us_equity")
        order["limit_price"] = _text(body.get("limit_price"))
        if body.get("order_class") == "bracket":
            exit_side = "sell" if side == "buy" else "buy"
            order["order_class"] = "bracket"
            take = _order_json(str(uuid.uuid4()), symbol, qty, exit_side, "limit", "day", order["asset_class"], "held")
            take["limit_price"] = _text(body["take_profit"]["limit_price"])
            stop = _order_json(str(uuid.uuid4()), symbol, qty, exit_side, "stop", "day", order["asset_class"], "held")
            stop["stop_price"] = _text(body["stop_loss"]["stop_price"])
            order["legs"] = [take, stop]
        return order

    def _fill(self, order: dict[str, Any], qty: float) -> None:
        price = self.prices[order["symbol"]]
        done, avg = float(order["filled_qty"]), float(order["filled_avg_price"] or 0)
        total = done + qty
        order["filled_avg_price"] = _text((done * avg + qty * price) / total)
        order["filled_qty"] = _qty(total)
        order["status"] = "filled" if total >= float(order["qty"]) - 1e-12 else "partially_filled"
        order["updated_at"] = order["filled_at"] = _now()
        for leg in order.get("legs") or ():
            leg["status"] = "new" if leg["type"] == "limit" else "held"
        key = order["symbol"].replace("/", "")
        position = self.positions.setdefault(key, {"qty": 0.0, "avg": 0.0})
        signed = qty if order["side"] == "buy" else -qty
        if position["qty"] * signed >= 0:
            new_qty = position["qty"] + signed
            position["avg"] = (abs(position["qty"]) * position["avg"] + abs(signed) * price) / abs(new_qty)
            position["qty"] = new_qty
        else:
            position["qty"] += signed
        self.cash -= signed * price

    def _settle_cancels(self, order: dict[str, Any]) -> None:
        """A cancel takes effect after `cancel_reads` more reads of the order."""
        for candidate in (order, *(order.get("legs") or ())):
            if candidate["status"] != "pending_cancel":
                continue
            left = self._cancel_reads_left.get(candidate["id"], 0)
            if left > 0:
                self._cancel_reads_left[candidate["id"]] = left - 1
            else:
                candidate["status"], candidate["canceled_at"] = "canceled", _now()

    def held_for_orders(self, symbol: str, side: str) -> float:
        """Quantity that open `side` orders on `symbol` hold: a bracket's two exits hold it once (one cancels other)."""
        total = 0.0
        for order in self.orders:
            if order["symbol"] != symbol:
                continue
            if order["side"] == side and order["status"] in _OPEN:
                total += float(order["qty"]) - float(order["filled_qty"])
            legs = [leg for leg in order.get("legs") or () if leg["side"] == side and leg["status"] in _OPEN]
            if legs:
                total += max(float(leg["qty"]) for leg in legs)
        return total

    def fill_leg(self, client_order_id: str, order_type: str, price: float) -> None:
        """A bracket exit filling at `price` (stop or limit touched); the other leg is cancelled."""
        with self._lock:
            [order] = self.orders_for(client_order_id)
            self.prices[order["symbol"]] = price
            for leg in order["legs"]:
                if leg["type"] == order_type:
                    self._fill(leg, float(leg["qty"]))
                elif leg["status"] in _OPEN:
                    leg["status"], leg["canceled_at"] = "canceled", _now()

    def _cancel(self, order_id: str) -> web.Response:
        for order in self.orders:
            for candidate in (order, *(order.get("legs") or ())):
                if candidate["id"] != order_id:
                    continue
                if candidate["status"] not in _OPEN:
                    return _error(422, 42210000, f"order is not cancelable (status {candidate['status']})")
                for target in (candidate, *((order.get("legs") or ()) if candidate is order else ())):
                    if target["status"] in _OPEN:
                        target["status"] = "pending_cancel"
                        self._cancel_reads_left[target["id"]] = self.cancel_reads
                return web.Response(status=204)
        return _error(404, 40410000, "order not found")

    def _asset(self, symbol: str) -> web.Response:
        found = self.assets.get(symbol.upper())
        if found is None:
            return _error(404, 40410000, "asset not found")
        return web.json_response({
            "id": str(uuid.uuid5(uuid.NAMESPACE_DNS, symbol.upper())), "class": "us_equity", "exchange": found["exchange"],
            "symbol": symbol.upper(), "name": found["name"], "status": "active", "tradable": found.get("tradable", True),
            "marginable": True, "maintenance_margin_requirement": 30, "shortable": True, "easy_to_borrow": True,
            "fractionable": found["fractionable"], "attributes": ["fractional_eh_enabled", "has_options"],
        })

    def _account(self) -> dict[str, Any]:
        equity = self.cash + sum(p["qty"] * self._price(s) for s, p in self.positions.items())
        return {"id": "8f2a4b9e-0000-4000-8000-000000000001", "account_number": "PA3FAKE", "status": "ACTIVE",
                "currency": "USD", "cash": _text(self.cash), "equity": _text(equity), "last_equity": _text(self.last_equity),
                "portfolio_value": _text(equity), "buying_power": _text(self.cash), "accrued_fees": "0",
                "trading_blocked": False, "account_blocked": False, "shorting_enabled": True, "multiplier": "1"}

    def _price(self, key: str) -> float:
        return next(p for s, p in self.prices.items() if s.replace("/", "") == key)

    def _position(self, key: str, p: dict[str, float]) -> dict[str, Any]:
        price = self._price(key)
        crypto = key not in self.prices
        return {"asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, key)), "symbol": key,
                "exchange": "CRYPTO" if crypto else "NASDAQ", "asset_class": "crypto" if crypto else "us_equity",
                "avg_entry_price": _text(p["avg"]), "qty": _text(p["qty"]), "side": "long" if p["qty"] > 0 else "short",
                "market_value": _text(p["qty"] * price), "cost_basis": _text(p["qty"] * p["avg"]),
                "unrealized_pl": _text((price - p["avg"]) * p["qty"]), "current_price": _text(price),
                "qty_available": _text(p["qty"])}


_OPEN = ("new", "partially_filled", "accepted", "held", "pending_cancel")


def _order_json(client_id: str, symbol: str, qty: float, side: str, order_type: str, tif: str, asset_class: str,
                status: str = "new") -> dict[str, Any]:
    now = _now()
    return {"id": str(uuid.uuid4()), "client_order_id": client_id, "created_at": now, "updated_at": now,
            "submitted_at": now, "filled_at": None, "expired_at": None, "canceled_at": None, "failed_at": None,
            "replaced_at": None, "replaced_by": None, "replaces": None, "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, symbol)),
            "symbol": symbol, "asset_class": asset_class, "notional": None, "qty": _qty(qty), "filled_qty": "0",
            "filled_avg_price": None, "order_class": "simple", "order_type": order_type, "type": order_type, "side": side,
            "time_in_force": tif, "limit_price": None, "stop_price": None, "status": status, "extended_hours": False,
            "legs": None, "trail_percent": None, "trail_price": None, "hwm": None}


def _text(value: Any) -> str | None:
    return None if value is None else f"{float(value):.10g}"


def _qty(value: float) -> str:
    """A quantity as Alpaca writes it: up to nine decimal places, no trailing zeros."""
    return f"{value:.9f}".rstrip("0").rstrip(".") or "0"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def _error(status: int, code: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status, headers=headers)
