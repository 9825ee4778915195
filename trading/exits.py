"""Exits: closing a position at market, on an operator's word (/close, /flatten) or at its signal's horizon.

A close sells (or buys back) the whole position the broker holds, at market. First our other open
orders on the asset are cancelled (the bracket's take-profit and stop-loss, an entry's unfilled
rest), because a resting exit holds the quantity at the broker and would fill against a position
that is no longer there; then the position is read again (a leg may have filled meanwhile) and the
close goes out through the guards (the exit rule, trading/guards.py) and the audit chain.

Idempotent like an entry. Its client order id is derived from what it closes: `tb-<store>-x<order>-<n>`,
where <order> is our order whose fill opened the position (trading/trades.py; a position our fills do
not explain is named by a digest of the broker's quantity and price) and <n> counts earlier closes of
it that ended without closing it. A retry, a restart, a second /close or a horizon exit racing an
operator finds the first close in flight (nothing is sent) or the position gone (nothing to close).

The horizon exit. A position opened from a signal is closed once the signal's horizon (its as-of
plus horizon_hours, in the broker's market time) has passed, unless an operator keeps it (/keep);
on by default (TB_HORIZON_EXIT). It runs from the desk's tick, not while trading is HALTED (automatic
exits wait for a resume; an operator's /close and /flatten do not), and an equity exit waits for
the market to open.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select

from storage.db import Sessions
from storage.models import ProposalRow, SignalRow, StateRow
from storage.trading_models import OrderRow
from trading import audit, context, ledger, market_hours, reports
from trading.alerts import Alert, Notifier
from trading.broker import Broker, BrokerError, BrokerPosition, OrderRejected, OrderRequest
from trading.executor import Executor
from trading.guards import GuardLimits, OrderIntent, check_order
from trading.state import TradingState, read_state
from trading.trades import EXIT_ROLES, Trade, TradeBook, load_book
from trading.views import CloseView, HeldView

log = logging.getLogger(__name__)
KEEP_KEY = "trading.keep."  # + symbol: the opening order id of the position an operator keeps
HORIZON_ACTOR = "horizon"
CANCEL_WAITS = (0.2, 0.5, 1.0, 2.0)  # Alpaca cancels asynchronously: the quantity is held until it has
_ENDED_BY = {"take_profit": "its take-profit", "stop_loss": "its stop-loss", "close": "an operator's /close",
             "flatten": "/flatten", "horizon_exit": "the horizon exit", "entry": "an opposite trade"}


@dataclass(frozen=True)
class ExitResult:
    ok: bool
    code: str
    message: str
    close: CloseView | None = None
    needs_confirmation: bool = False


class Exits:
    def __init__(self, sessions: Sessions, broker: Broker, executor: Executor, notifier: Notifier,
                 clock: Callable[[], datetime], sleep: Callable[[float], None], sync: Callable[[], int],
                 limits: GuardLimits, horizon_exit: bool) -> None:
        self._sessions, self._broker, self._executor = sessions, broker, executor
        self._notifier, self._clock, self._sleep, self._sync = notifier, clock, sleep, sync
        self._limits, self.horizon_exit = limits, horizon_exit

    # --- closing ---

    def close(self, symbol: str, actor: str, reason: str = "close", confirm: bool = False) -> ExitResult:
        symbol = symbol.upper()
        try:
            self._sync()
            position = self._position(symbol)
        except BrokerError as exc:
            return ExitResult(False, "BROKER_UNAVAILABLE", f"Cannot close {symbol} now: {exc}. Nothing was sent.")
        with self._sessions() as session:
            book = load_book(session, self._broker.name)
            store = ledger.store_id(session, self._clock())
        if position is None:
            return self._nothing_to_close(symbol, book)
        trade = book.open_trade(self._broker.name, symbol)
        prefix = f"tb-{store}-x{_position_key(trade, position)}"
        with self._sessions() as session:
            earlier = list(session.scalars(select(OrderRow).where(OrderRow.client_order_id.like(prefix + "-%"))
                                           .order_by(OrderRow.id)))
        moving = [r for r in earlier if r.status not in ledger.CLOSED_ORDER_STATUSES]
        if moving:
            return ExitResult(True, "ALREADY_CLOSING", f"A close of {symbol} is already on its way (order "
                              f"{moving[0].client_order_id}, {moving[0].status}); nothing was sent again.")
        view = self._describe(symbol, position, reason, trade)
        if not confirm:
            return ExitResult(False, "CONFIRM_CLOSE", f"Close {_what(view)} at market{_cancels(view)}? "
                              "Confirm to close it.", view, needs_confirmation=True)
        blocked = self._guard(symbol, position, actor)
        if blocked is not None:
            return ExitResult(False, blocked[0], f"Cannot close {symbol}: {blocked[1]}", view)
        client_id = f"{prefix}-{len(earlier) + 1}"
        now = self._clock()
        with self._sessions.begin() as session:
            audit.append(session, actor, "position.close", {
                "symbol": symbol, "side": view.side, "quantity": view.quantity, "reason": reason,
                "client_order_id": client_id, "cancels": list(view.cancels),
            }, now)
        try:
            self._cancel_orders(symbol, actor)
            position = self._position(symbol)  # a leg may have filled while it was being cancelled
        except BrokerError as exc:
            return ExitResult(False, "BROKER_UNAVAILABLE", f"Cannot close {symbol} now: {exc}. The close was not "
                              "sent; its bracket may be cancelled already (/orders says), so close it again soon.", view)
        if position is None:
            with self._sessions() as session:
                return self._nothing_to_close(symbol, load_book(session, self._broker.name))
        request = OrderRequest(client_id, symbol, "sell" if position.quantity > 0 else "buy", abs(position.quantity))
        opened_by = trade.proposal_ids[0] if trade is not None and trade.proposal_ids else None
        if not self._executor.open(opened_by, request, actor, role=reason):
            return ExitResult(True, "ALREADY_CLOSING", f"A close of {symbol} is already on its way (order {client_id}).")
        execution = self._executor.send(None, request)
        if not execution.ok and execution.code == "GUARD_EXIT_WOULD_OPEN":
            # The broker holds nothing to close any more: another close or a bracket leg got there first.
            with self._sessions() as session:
                return self._nothing_to_close(symbol, load_book(session, self._broker.name))
        if not execution.ok:
            return ExitResult(False, execution.code, f"The close of {symbol} did not go through: {execution.message}", view)
        done = self._result(view, request, execution.order.status if execution.order else None)
        try:
            self._position(symbol)
        except BrokerError as exc:
            log.warning("positions not mirrored after closing %s: %s", symbol, exc)
        return ExitResult(True, "OK", _closed(done), done)

    def _nothing_to_close(self, symbol: str, book: TradeBook) -> ExitResult:
        last = book.last_trade(self._broker.name, symbol)
        if last is not None and last.closed_at is not None:
            how = _ENDED_BY.get(last.exit_role or "", "an exit")
            return ExitResult(True, "ALREADY_CLOSED", f"{symbol} is already closed: its last position ended by "
                              f"{how} at {last.exit_price:,.6g} on {last.closed_at:%Y-%m-%d %H:%M} UTC, realised "
                              f"{last.realized_pnl:+,.2f} after fees. Nothing was sent.")
        return ExitResult(False, "NO_POSITION", f"There is no open {symbol} position at the broker.")

    def _position(self, symbol: str) -> BrokerPosition | None:
        """The broker's position in `symbol`; every look is mirrored (the cycle reads the mirror: trading/proposal_builder.py)."""
        positions = tuple(self._broker.positions())
        with self._sessions.begin() as session:
            reports.mirror_positions(session, self._broker.name, positions, self._clock())
        return next((p for p in positions if p.symbol == symbol and p.quantity != 0), None)

    def _describe(self, symbol: str, position: BrokerPosition, reason: str, trade: Trade | None) -> CloseView:
        with self._sessions() as session:
            legs = [r for r in ledger.open_orders(session)
                    if r.symbol == symbol and r.broker == self._broker.name and r.role not in EXIT_ROLES]
        cancels = tuple(f"{r.role.replace('_', '-')} at {(r.limit_price or r.stop_price):,.6g}" if (r.limit_price or r.stop_price)
                        else f"{r.role} order {r.client_order_id}" for r in legs)
        mark = position.market_price
        unrealized = position.unrealized_pnl
        if unrealized is None and mark is not None:
            unrealized = (mark - position.avg_price) * position.quantity
        return CloseView(symbol, "long" if position.quantity > 0 else "short", abs(position.quantity), reason, mark,
                         unrealized, cancels, None, None, None, None, self._horizon_end(trade))

    def _guard(self, symbol: str, position: BrokerPosition, actor: str) -> tuple[str, str] | None:
        view = context.read_broker(self._broker)
        now = self._clock()
        price = position.market_price or position.avg_price
        intent = OrderIntent(symbol, "sell" if position.quantity > 0 else "buy", abs(position.quantity), price,
                             view.market_now, 0.0, None, None, exit=True)
        with self._sessions.begin() as session:
            guard_ctx = context.record_guard_context(session, self._broker.name, view, now)
            breaches = check_order(intent, guard_ctx, self._limits)
            if not breaches:
                return None
            audit.append(session, actor, "guard.blocked", {
                "symbol": symbol, "stage": "exit", "codes": [b.code for b in breaches], "message": breaches[0].message,
            }, now)
        return breaches[0].code, breaches[0].message

    def _cancel_orders(self, symbol: str | None, actor: str) -> int:
        """Cancel our open orders on `symbol` (all assets: None) other than exits, and wait until the broker says so."""
        def ours() -> list[OrderRow]:
            with self._sessions() as session:
                return [r for r in ledger.open_orders(session) if r.broker == self._broker.name
                        and r.role not in EXIT_ROLES and (symbol is None or r.symbol == symbol)]
        rows = [r for r in ours() if r.broker_order_id is not None]
        for row in rows:
            try:
                assert row.broker_order_id is not None
                self._broker.cancel(row.broker_order_id)
            except OrderRejected as exc:  # filled or cancelled meanwhile: the sync below records which
                log.info("order %s was not cancelled: %s", row.client_order_id, exc)
            with self._sessions.begin() as session:
                audit.append(session, actor, "order.cancel", {"client_order_id": row.client_order_id, "role": row.role,
                                                              "symbol": row.symbol}, self._clock())
        for wait in (*CANCEL_WAITS, None):
            self._sync()
            if not any(r.broker_order_id is not None for r in ours()):
                return len(rows)
            if wait is None:
                raise BrokerError(f"the broker has not confirmed the cancellation of the {symbol or 'open'} orders yet")
            self._sleep(wait)
        return len(rows)

    def _result(self, view: CloseView, request: OrderRequest, status: str | None) -> CloseView:
        with self._sessions() as session:
            row = session.scalar(select(OrderRow).where(OrderRow.client_order_id == request.client_order_id))
            book = load_book(session, self._broker.name)
        last = book.last_trade(self._broker.name, view.symbol)
        realized = last.realized_pnl if last is not None and last.closed_at is not None and not book.open_trade(
            self._broker.name, view.symbol) else None
        return replace(view, quantity=request.quantity, client_order_id=request.client_order_id,
                       status=row.status if row is not None else status,
                       fill_price=row.filled_avg_price if row is not None else None, realized_pnl=realized)

    # --- flatten ---

    def flatten(self, actor: str, confirm: bool = False) -> tuple[ExitResult, tuple[CloseView, ...]]:
        try:
            self._sync()
            positions = [p for p in self._broker.positions() if p.quantity != 0]
        except BrokerError as exc:
            return ExitResult(False, "BROKER_UNAVAILABLE", f"Cannot flatten now: {exc}. Nothing was sent."), ()
        with self._sessions() as session:
            book = load_book(session, self._broker.name)
        views = tuple(self._describe(p.symbol, p, "flatten", book.open_trade(self._broker.name, p.symbol))
                      for p in sorted(positions, key=lambda p: p.symbol))
        if not views:
            try:
                cancelled = self._cancel_orders(None, actor) if confirm else 0
            except BrokerError as exc:
                return ExitResult(False, "BROKER_UNAVAILABLE", f"Cannot cancel the open orders: {exc}"), ()
            extra = f" {cancelled} open order(s) cancelled." if cancelled else ""
            return ExitResult(True, "NOTHING_OPEN", "There is no open position to close." + extra), ()
        if not confirm:
            return ExitResult(False, "CONFIRM_FLATTEN", f"Close every open position at market: "
                              f"{'; '.join(_what(v) for v in views)}. Their brackets are cancelled first. "
                              "Confirm to flatten.", needs_confirmation=True), views
        results = [self.close(v.symbol, actor, "flatten", confirm=True) for v in views]
        try:
            self._cancel_orders(None, actor)  # entries still open on assets with no position yet
        except BrokerError as exc:
            log.warning("flatten: open entries not cancelled: %s", exc)
        closes = tuple(r.close or v for r, v in zip(results, views))
        failed = [(v.symbol, r) for v, r in zip(views, results) if not r.ok]
        if failed:
            return ExitResult(False, failed[0][1].code, "Not everything was closed: " + "; ".join(
                f"{s}: {r.message}" for s, r in failed)), closes
        return ExitResult(True, "OK", f"Closed {len(results)} position(s) at market."), closes

    # --- keep and the horizon exit ---

    def held(self) -> list[HeldView]:
        """Our open trades at this broker with their horizon and whether an operator keeps them."""
        with self._sessions() as session:
            book = load_book(session, self._broker.name)
            kept = {row.key.removeprefix(KEEP_KEY): row.value for row in
                    session.scalars(select(StateRow).where(StateRow.key.like(KEEP_KEY + "%")))}
        return [HeldView(t.symbol, t.direction, abs(t.open_quantity), t.opened_at, t.proposal_ids, self._horizon_end(t),
                         kept.get(t.symbol) == str(t.opening_order_id), self.horizon_exit) for t in book.open]

    def keep(self, symbol: str, actor: str, keep: bool = True) -> tuple[ExitResult, HeldView | None]:
        symbol = symbol.upper()
        try:
            self._sync()
        except BrokerError as exc:
            log.warning("keep: orders not synced: %s", exc)
        held = next((h for h in self.held() if h.symbol == symbol), None)
        if held is None:
            return ExitResult(False, "NO_POSITION", f"There is no open {symbol} position of ours to keep."), None
        with self._sessions() as session:
            trade = load_book(session, self._broker.name).open_trade(self._broker.name, symbol)
        assert trade is not None
        now = self._clock()
        with self._sessions.begin() as session:
            row = session.get(StateRow, KEEP_KEY + symbol)
            if keep and row is None:
                session.add(StateRow(key=KEEP_KEY + symbol, value=str(trade.opening_order_id), updated_at=now, updated_by=actor))
            elif keep and row is not None:
                row.value, row.updated_at, row.updated_by = str(trade.opening_order_id), now, actor
            elif row is not None:
                session.delete(row)
            audit.append(session, actor, "position.keep", {"symbol": symbol, "keep": keep,
                                                           "opening_order_id": trade.opening_order_id}, now)
        held = replace(held, kept=keep)
        ends = f"{held.horizon_end:%Y-%m-%d %H:%M} UTC" if held.horizon_end else None
        if held.horizon_end is None:
            text = (f"{symbol} was not opened from a signal: it has no horizon exit. It ends by its stop or target, "
                    f"or /close {symbol}.")
        elif keep:
            text = (f"{symbol} stays open past its signal's horizon ({ends}); its stop and target still apply. "
                    f"/close {symbol} closes it, /keep {symbol} off brings the horizon exit back.")
        else:
            text = f"{symbol} closes again at its signal's horizon ({ends})" + (
                "." if self.horizon_exit else ", once the horizon exit is on (TB_HORIZON_EXIT).")
        return ExitResult(True, "OK", text), held

    def due(self) -> list[HeldView]:
        """Positions whose horizon has passed, not kept, whose market is open now."""
        if not self.horizon_exit:
            return []
        market_now = self._broker.market_time()
        return [h for h in self.held() if h.horizon_end is not None and h.horizon_end <= market_now and not h.kept
                and market_hours.is_open(h.symbol, market_now)]

    def horizon(self) -> tuple[str, ...]:
        """The tick's part: close what is due; returns the symbols closed."""
        with self._sessions() as session:
            if read_state(session).state is TradingState.HALTED:
                return ()
        closed = []
        for held in self.due():
            result = self.close(held.symbol, HORIZON_ACTOR, "horizon_exit", confirm=True)
            if result.code == "OK" and result.close is not None:
                closed.append(held.symbol)
                self._notifier.alert(Alert("exit", f"{_closed(result.close)} Its signal's horizon ended at "
                                                   f"{held.horizon_end:%Y-%m-%d %H:%M} UTC.",
                                           f"horizon:{result.close.client_order_id}"))
            elif not result.ok:
                self._notifier.alert(Alert("error", f"The horizon exit of {held.symbol} did not go through: "
                                                    f"{result.message}", f"horizon-failed:{held.symbol}:{result.code}"))
        return tuple(closed)

    def _horizon_end(self, trade: Trade | None) -> datetime | None:
        if trade is None or not trade.proposal_ids:
            return None
        with self._sessions() as session:
            rows = session.execute(select(SignalRow.as_of, SignalRow.horizon_hours)
                                   .join(ProposalRow, ProposalRow.signal_id == SignalRow.id)
                                   .where(ProposalRow.id.in_(trade.proposal_ids))).all()
        return max((as_of + timedelta(hours=hours) for as_of, hours in rows), default=None)


def _position_key(trade: Trade | None, position: BrokerPosition) -> str:
    if trade is not None and trade.direction == ("long" if position.quantity > 0 else "short"):
        return f"{trade.opening_order_id}"
    digest = hashlib.sha256(f"{position.symbol}|{position.quantity:.10g}|{position.avg_price:.10g}".encode()).hexdigest()
    return f"{position.symbol}{digest[:10]}"


def _what(view: CloseView) -> str:
    parts = []
    if view.mark_price:
        parts.append(f"about {view.quantity * view.mark_price:,.0f} USD")
    if view.unrealized_pnl is not None:
        parts.append(f"unrealised {view.unrealized_pnl:+,.2f}")
    return f"{view.side.upper()} {view.quantity:.6g} {view.symbol}" + (f" ({', '.join(parts)})" if parts else "")


def _cancels(view: CloseView) -> str:
    return f", cancelling its {' and '.join(view.cancels)}" if view.cancels else ""


def _closed(view: CloseView) -> str:
    head = f"Closed {view.side.upper()} {view.quantity:.6g} {view.symbol}"
    if view.fill_price is not None:
        head += f" at {view.fill_price:,.6g}"
    elif view.status:
        head += f" (the close order is {view.status} at the broker)"
    head += f", order {view.client_order_id}"
    if view.cancels:
        head += f"; cancelled its {' and '.join(view.cancels)}"
    if view.realized_pnl is not None:
        head += f"; the trade realised {view.realized_pnl:+,.2f} after fees"
    return head + "."
