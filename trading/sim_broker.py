"""The embedded simulated broker: history replayed at wall speed, fills at the next bar's open.

Market clock. The simulator's clock reads historical time. Data as of A that a cycle saw at wall
time W puts the simulated market at A + (now - W): history replays at wall speed from the moment the
data was seen. The clock never runs backwards (re-running an old snapshot does not rewind it), so an
old proposal meets old prices and the stale-data guard says so. With no data seen yet it reads the
wall clock.

Fills. A market order fills at the open of the next bar: the first bar that starts at or after the
market time of submission, moved by the slippage against the trader, plus the fee. The fill is
booked at submission (as a backtest books it; the open is already in the history) and dated at that
bar's start. When the history has no such bar yet the order waits and fills once it appears.
A limit order fills at that open when the open is at or better than its limit, else on the first
later bar that has closed by the market clock and traded through the limit, at the limit.
Bracket legs (take-profit limit, stop-loss stop) wake when the entry fills and are checked on each
bar from the fill bar on, once it has closed; when one bar touches both, the stop is assumed first.

Sessions. A stock or fund (its catalogue calendar, e.g. XNYS) fills only in its exchange's sessions:
an order placed while the market is shut waits for the next open and fills at the first bar from
then on; a daily bar, dated 00:00 UTC of its session, counts from that session's open, and fills in
it are dated at the open. Crypto trades around the clock.
"""
from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta, timezone
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from intelligence.types import ROUND_THE_CLOCK, Bar, BarSource
from providers.bars import BarsError
from storage.db import Sessions
from storage.trading_models import SimAccountRow, SimOrderRow, SimPositionRow
from trading import market_hours
from trading.accounting import Book, apply_fill
from trading.rows import insert_missing
from trading.broker import (
    BrokerAccount, BrokerOrder, BrokerPosition, DuplicateClientOrderId, OrderRejected, OrderRequest, Quote,
)

ACCOUNT_ID = 1
DAY = timedelta(days=1)
SEARCH_AHEAD = timedelta(days=7)  # how far past submission to look for the next bar


class SimBroker:
    name = "sim"

    def __init__(self, sessions: Sessions, bars: BarSource, clock: Callable[[], datetime], starting_cash: float,
                 slippage_bps: float = 5.0, fee_bps: float = 10.0) -> None:
        self._sessions, self._bars, self._clock = sessions, bars, clock
        self._starting_cash = starting_cash
        self._slippage, self._fee = slippage_bps / 10_000, fee_bps / 10_000

    # --- clock and prices ---

    def market_time(self) -> datetime:
        with self._sessions.begin() as session:
            return self._market_now(self._account_row(session))

    def _market_now(self, account: SimAccountRow) -> datetime:
        now = self._clock()
        if account.market_anchor is None or account.wall_anchor is None:
            return now
        return account.market_anchor + (now - account.wall_anchor)

    def observe_data(self, as_of: datetime, seen_at: datetime) -> None:
        with self._sessions.begin() as session:
            account = self._account_row(session)
            candidate = as_of + (self._clock() - seen_at)
            if account.market_anchor is None or candidate > self._market_now(account):
                account.market_anchor, account.wall_anchor = as_of, seen_at

    def quote(self, symbol: str) -> Quote | None:
        return self._quote(symbol, self.market_time())

    def _quote(self, symbol: str, at: datetime) -> Quote | None:
        try:
            series = self._bars.bars_until(symbol, at)
        except BarsError:
            return None
        if not series.bars:
            return None
        last = series.bars[-1]
        return Quote(last.close, last.start + series.interval)

    # --- orders ---

    def supports_brackets(self, symbol: str, quantity: float) -> bool:
        return True

    def submit(self, request: OrderRequest) -> BrokerOrder:
        with self._sessions.begin() as session:
            account = self._account_row(session)
            now_market = self._market_now(account)
            self._advance(session, account, now_market)
            if session.scalar(select(SimOrderRow.id).where(SimOrderRow.client_order_id == request.client_order_id)):
                raise DuplicateClientOrderId(f"client order id {request.client_order_id} is already in use")
            self._validate(session, account, request, now_market)
            parent = self._new_order(session, request.client_order_id, request.symbol, request.side,
                                     request.order_type, request.quantity, request.limit_price, None, now_market)
            if request.is_bracket:
                exit_side = "sell" if request.side == "buy" else "buy"
                legs = [
                    self._new_order(session, f"{request.client_order_id}-tp", request.symbol, exit_side, "limit",
                                    request.quantity, request.take_profit, None, now_market, parent.id),
                    self._new_order(session, f"{request.client_order_id}-sl", request.symbol, exit_side, "stop",
                                    request.quantity, None, request.stop_loss, now_market, parent.id),
                ]
                parent.legs = [leg.id for leg in legs]
            self._advance(session, account, now_market)
            return self._view(session, parent)

    def _validate(self, session: Session, account: SimAccountRow, request: OrderRequest, now_market: datetime) -> None:
        if request.quantity <= 0:
            raise OrderRejected(f"quantity must be positive, got {request.quantity:g}")
        quote = self._quote(request.symbol, now_market)
        if quote is None:
            raise OrderRejected(f"no market data for {request.symbol} at {now_market:%Y-%m-%d %H:%M} UTC")
        if request.is_bracket:
            assert request.take_profit is not None and request.stop_loss is not None
            low, high = (request.stop_loss, request.take_profit) if request.side == "buy" else (request.take_profit, request.stop_loss)
            if not low < quote.price < high:
                raise OrderRejected(f"bracket prices must straddle the market ({quote.price:g}): "
                                    f"take-profit {request.take_profit:g}, stop-loss {request.stop_loss:g}")
        held = self._book(session, request.symbol).quantity
        cost = request.quantity * quote.price * (1 + self._fee)
        if request.side == "buy" and held >= 0 and cost > account.cash:
            raise OrderRejected(f"insufficient buying power: {cost:,.2f} USD needed, {account.cash:,.2f} USD cash")
        equity = self._equity(session, account, now_market)
        if request.side == "sell" and held - request.quantity < 0 and (request.quantity - max(held, 0)) * quote.price > equity:
            raise OrderRejected("insufficient margin to sell short that much")

    def _new_order(self, session: Session, client_id: str, symbol: str, side: str, order_type: str, quantity: float,
                   limit_price: float | None, stop_price: float | None, now_market: datetime,
                   parent_id: str | None = None) -> SimOrderRow:
        wall = self._clock()
        row = SimOrderRow(
            id=str(uuid.uuid4()), client_order_id=client_id, parent_id=parent_id, symbol=symbol, side=side,
            order_type=order_type, quantity=quantity, limit_price=limit_price, stop_price=stop_price,
            status="held" if parent_id else "new", filled_quantity=0.0, submitted_market_time=now_market,
            created_at=wall, updated_at=wall, legs=[],
        )
        session.add(row)
        session.flush()
        return row

    def order_by_client_id(self, client_order_id: str) -> BrokerOrder | None:
        with self._sessions.begin() as session:
            account = self._account_row(session)
            self._advance(session, account, self._market_now(account))
            row = session.scalar(select(SimOrderRow).where(SimOrderRow.client_order_id == client_order_id))
            return self._view(session, row) if row is not None else None

    def open_orders(self) -> list[BrokerOrder]:
        with self._sessions.begin() as session:
            account = self._account_row(session)
            self._advance(session, account, self._market_now(account))
            rows = session.scalars(select(SimOrderRow).where(
                SimOrderRow.status.in_(("new", "held")), SimOrderRow.parent_id.is_(None)))
            return [self._view(session, row) for row in rows]

    def cancel(self, broker_order_id: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(SimOrderRow, broker_order_id)
            if row is None:
                raise OrderRejected(f"no order {broker_order_id}")
            for order in [row, *(session.get_one(SimOrderRow, leg) for leg in row.legs)]:
                if order.status in ("new", "held"):
                    order.status, order.updated_at = "canceled", self._clock()

    # --- account ---

    def account(self) -> BrokerAccount:
        with self._sessions.begin() as session:
            account = self._account_row(session)
            now_market = self._market_now(account)
            self._advance(session, account, now_market)
            return BrokerAccount(self._equity(session, account, now_market), account.cash, None, account.fees)

    def positions(self) -> list[BrokerPosition]:
        with self._sessions.begin() as session:
            account = self._account_row(session)
            now_market = self._market_now(account)
            self._advance(session, account, now_market)
            result = []
            for row in session.scalars(select(SimPositionRow).where(SimPositionRow.quantity != 0)):
                mark = self._mark(row, now_market)
                result.append(BrokerPosition(row.symbol, row.quantity, row.avg_price, mark, (mark - row.avg_price) * row.quantity))
            return result

    def _equity(self, session: Session, account: SimAccountRow, now_market: datetime) -> float:
        rows = session.scalars(select(SimPositionRow).where(SimPositionRow.quantity != 0))
        return account.cash + sum(row.quantity * self._mark(row, now_market) for row in rows)

    def _mark(self, row: SimPositionRow, now_market: datetime) -> float:
        quote = self._quote(row.symbol, now_market)
        return quote.price if quote is not None else row.avg_price

    def _account_row(self, session: Session) -> SimAccountRow:
        account = session.get(SimAccountRow, ACCOUNT_ID)
        if account is None:
            insert_missing(session, SimAccountRow, id=ACCOUNT_ID, cash=self._starting_cash, fees=0.0)
            account = session.get_one(SimAccountRow, ACCOUNT_ID)
        return account

    def _book(self, session: Session, symbol: str) -> Book:
        row = session.get(SimPositionRow, symbol)
        return Book(row.quantity, row.avg_price) if row is not None else Book()

    # --- the matching engine ---

    def _advance(self, session: Session, account: SimAccountRow, now_market: datetime) -> None:
        """Fill whatever the history up to the market clock fills, oldest order first."""
        progress = True
        while progress:  # an entry's fill wakes its exits, which may fill on the same history
            progress = False
            rows = session.scalars(select(SimOrderRow).where(SimOrderRow.status == "new").order_by(SimOrderRow.created_at))
            for row in list(rows):
                if row.status == "new":  # an earlier fill in this pass may have cancelled it (OCO)
                    progress = self._try_fill(session, account, row, now_market) or progress

    def _try_fill(self, session: Session, account: SimAccountRow, row: SimOrderRow, now_market: datetime) -> bool:
        calendar = market_hours.calendar_of(row.symbol)
        submitted = row.submitted_market_time
        # A stock trades in its sessions: an order placed while the market is shut waits for the next open.
        ready = submitted if market_hours.calendar_open(calendar, submitted) else market_hours.next_open(calendar, submitted)
        if ready is None:  # past the calendar's years: nothing can be said about a session
            return False
        # Daily bars are dated by their session at 00:00 UTC, before that day's open: look from that midnight.
        since = submitted if calendar == ROUND_THE_CLOCK else datetime.combine(ready.date(), time(0), timezone.utc)
        try:
            series = self._bars.bars_between(row.symbol, since, ready + SEARCH_AHEAD)
        except BarsError:
            return False
        opened = [(bar, _opening(bar, series.interval, calendar)) for bar in series.bars]
        for index, (bar, opens_at) in enumerate(o for o in opened if o[1] >= ready):
            closed = bar.start + series.interval <= now_market
            if index > 0 and not closed:
                return False
            price = self._fill_price(row, bar, first=index == 0, closed=closed)
            if price is None:
                continue
            stop = self._sibling_stop(session, row)
            stop_price = self._fill_price(stop, bar, first=False, closed=closed) if stop is not None else None
            if stop is not None and stop_price is not None:
                # One bar through both exits: the stop is taken first (the order within a bar is unknown).
                self._fill(session, account, stop, stop_price, opens_at)
            else:
                self._fill(session, account, row, price, opens_at)
            return True
        return False

    def _sibling_stop(self, session: Session, row: SimOrderRow) -> SimOrderRow | None:
        if row.parent_id is None or row.order_type != "limit":
            return None
        return session.scalar(select(SimOrderRow).where(
            SimOrderRow.parent_id == row.parent_id, SimOrderRow.order_type == "stop", SimOrderRow.status == "new"))

    def _fill_price(self, row: SimOrderRow, bar: Bar, first: bool, closed: bool) -> float | None:
        buy = row.side == "buy"
        slip = 1 + self._slippage if buy else 1 - self._slippage
        if row.order_type == "market":
            return bar.open * slip if first else None
        if row.order_type == "limit":
            assert row.limit_price is not None
            limit = row.limit_price
            if (bar.open <= limit) if buy else (bar.open >= limit):
                return bar.open
            touched = bar.low <= limit if buy else bar.high >= limit
            return limit if closed and touched else None
        assert row.stop_price is not None  # stop: triggers when traded through, fills like a market order
        stop = row.stop_price
        if (bar.open >= stop) if buy else (bar.open <= stop):
            return bar.open * slip
        touched = bar.high >= stop if buy else bar.low <= stop
        return stop * slip if closed and touched else None

    def _fill(self, session: Session, account: SimAccountRow, row: SimOrderRow, price: float, at: datetime) -> None:
        fee = row.quantity * price * self._fee
        position = session.get(SimPositionRow, row.symbol)
        book = apply_fill(Book(position.quantity, position.avg_price) if position else Book(), row.side, row.quantity, price)
        if position is None:
            session.add(SimPositionRow(symbol=row.symbol, quantity=book.quantity, avg_price=book.avg_price))
        else:
            position.quantity, position.avg_price = book.quantity, book.avg_price
        account.cash += (-1 if row.side == "buy" else 1) * row.quantity * price - fee
        account.fees += fee
        row.status, row.filled_quantity, row.filled_avg_price = "filled", row.quantity, price
        row.filled_market_time, row.updated_at = at, self._clock()
        for leg_id in row.legs:  # the entry filled: its exits go live from the fill bar on
            leg = session.get_one(SimOrderRow, leg_id)
            leg.status, leg.submitted_market_time = "new", at
        if row.parent_id is not None:  # one exit filled: the other is cancelled (one cancels other)
            for sibling in session.scalars(select(SimOrderRow).where(
                    SimOrderRow.parent_id == row.parent_id, SimOrderRow.id != row.id, SimOrderRow.status == "new")):
                sibling.status, sibling.updated_at = "canceled", self._clock()
        session.flush()

    def _view(self, session: Session, row: SimOrderRow) -> BrokerOrder:
        legs = tuple(self._view(session, session.get_one(SimOrderRow, leg)) for leg in row.legs)
        role = "entry" if row.parent_id is None else ("take_profit" if row.order_type == "limit" else "stop_loss")
        status = "new" if row.status == "held" and role == "entry" else row.status
        return BrokerOrder(
            broker_order_id=row.id, client_order_id=row.client_order_id, symbol=row.symbol, side=row.side,
            order_type=row.order_type, quantity=row.quantity, status=status, filled_quantity=row.filled_quantity,
            filled_avg_price=row.filled_avg_price, limit_price=row.limit_price, stop_price=row.stop_price,
            filled_at=row.filled_market_time, role=role, legs=legs, reason=row.reject_reason,
            fees=row.filled_quantity * (row.filled_avg_price or 0.0) * self._fee,
        )


def _opening(bar: Bar, interval: timedelta, calendar: str) -> datetime:
    """When a bar's trading began: its start, except a stock's daily bar (dated 00:00 UTC of its session),
    which began at that session's open."""
    if calendar == ROUND_THE_CLOCK or interval < DAY:
        return bar.start
    session = market_hours.sessions(calendar).session_on(bar.start.date())
    return session[0] if session is not None else bar.start
