"""Idempotent execution: one broker order per proposal, however often a retry or a restart happens.

1. The order is written to the store (status pending_submit, client order id from the proposal)
   before the broker hears of it; the unique client order id means a second executor for the
   same proposal stops there.
2. On a timeout, a 5xx or a 429 the order is looked up by its client order id before any retry:
   found means it was accepted, and it is adopted rather than sent again.
3. Whatever is still uncertain after the retries stays pending_submit for reconciliation, which
   looks it up again and never resubmits (trading/reconcile.py).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from trading.alerts import Alert, Notifier
from storage.db import Sessions
from storage.models import ProposalRow
from storage.trading_models import OrderRow
from trading import audit, ledger
from trading.broker import (
    Broker, BrokerError, BrokerOrder, BrokerUnavailable, DuplicateClientOrderId, OrderRejected, OrderRequest,
)
from trading.proposals import ProposalStatus, transition

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 3
BACKOFF_SECONDS = (0.5, 1.0, 2.0)
MAX_RETRY_AFTER = 10.0


@dataclass(frozen=True)
class Execution:
    code: str  # SUBMITTED | FILLED | PARTIALLY_FILLED | ALREADY_SUBMITTED | REJECTED_BY_BROKER | SUBMIT_UNCERTAIN
    message: str
    order: BrokerOrder | None = None

    @property
    def ok(self) -> bool:
        return self.code in ("SUBMITTED", "FILLED", "PARTIALLY_FILLED", "ALREADY_SUBMITTED")


class Executor:
    def __init__(self, sessions: Sessions, broker: Broker, notifier: Notifier, clock: Callable[[], datetime],
                 sleep: Callable[[float], None]) -> None:
        self._sessions, self._broker, self._notifier = sessions, broker, notifier
        self._clock, self._sleep = clock, sleep

    def open(self, proposal_id: int | None, request: OrderRequest, actor: str, role: str = "entry") -> bool:
        """Record the intent; False when an order under this client order id already exists (nothing to do).
        An exit (trading/exits.py) carries the proposal that opened its position, for the record."""
        now = self._clock()
        try:
            with self._sessions.begin() as session:
                session.add(OrderRow(
                    proposal_id=proposal_id, role=role, client_order_id=request.client_order_id,
                    broker=self._broker.name, symbol=request.symbol, side=request.side, order_type=request.order_type,
                    quantity=request.quantity, limit_price=request.limit_price, take_profit=request.take_profit,
                    stop_loss=request.stop_loss, status="pending_submit", filled_quantity=0.0, attempts=0,
                    created_at=now, updated_at=now,
                ))
                session.flush()
                audit.append(session, actor, "order.intent", {
                    "proposal_id": proposal_id, "role": role, "client_order_id": request.client_order_id, "broker": self._broker.name,
                    "symbol": request.symbol, "side": request.side, "quantity": request.quantity,
                    "order_type": request.order_type, "limit_price": request.limit_price,
                    "take_profit": request.take_profit, "stop_loss": request.stop_loss,
                }, now)
        except IntegrityError:
            return False
        return True

    def send(self, proposal_id: int | None, request: OrderRequest) -> Execution:
        """Submit a recorded intent; `proposal_id` None for an order that moves no proposal (an exit)."""
        order, failure = None, "no attempt made"
        for attempt in range(MAX_ATTEMPTS):
            self._count_attempt(request.client_order_id)
            try:
                order = self._broker.submit(request)
                break
            except DuplicateClientOrderId:
                order = self._lookup(request.client_order_id)
                if order is not None:
                    break
                failure = "the broker says the client order id is taken but cannot find the order"
                break
            except OrderRejected as exc:
                return self._rejected(proposal_id, request, str(exc))
            except BrokerUnavailable as exc:
                failure = str(exc)
                order = self._lookup(request.client_order_id)
                if order is not None:
                    log.info("order %s was accepted despite: %s", request.client_order_id, exc)
                    break
                if attempt + 1 < MAX_ATTEMPTS:
                    wait = min(exc.retry_after, MAX_RETRY_AFTER) if exc.retry_after else BACKOFF_SECONDS[attempt]
                    self._sleep(wait)
            except BrokerError as exc:
                failure = str(exc)
                break
        if order is None:
            return self._uncertain(proposal_id, request, failure)
        return self.adopt(proposal_id, request.client_order_id, order)

    def adopt(self, proposal_id: int | None, client_id: str, order: BrokerOrder) -> Execution:
        """Record what the broker holds under our client id, and move the proposal with it."""
        now = self._clock()
        with self._sessions.begin() as session:
            row = session.scalar(select(OrderRow).where(OrderRow.client_order_id == client_id))
            assert row is not None, f"order {client_id} was not recorded before it was sent"
            if row.submitted_at is None:
                row.submitted_at = now
            fills = ledger.record_order(session, row, order, now)
            if proposal_id is not None and row.role == "entry":  # an exit's fills do not move the proposal
                ledger.follow_entry(session, session.get_one(ProposalRow, proposal_id), row, now)
        for fill in fills:
            self._notifier.alert(Alert("fill", f"Filled {fill.side.upper()} {fill.quantity:.6g} {fill.symbol} at "
                                               f"{fill.price:,.6g} ({fill.role.replace('_', ' ')}, order {client_id}).",
                                       f"fill:{client_id}:{fill.order_id}:{fill.quantity:.10g}@{fill.price:.10g}"))
        code = {"filled": "FILLED", "partially_filled": "PARTIALLY_FILLED"}.get(order.status, "SUBMITTED")
        return Execution(code, _describe(order), order)

    def _lookup(self, client_id: str) -> BrokerOrder | None:
        try:
            return self._broker.order_by_client_id(client_id)
        except BrokerError as exc:
            log.warning("cannot look up order %s: %s", client_id, exc)
            return None

    def _count_attempt(self, client_id: str) -> None:
        with self._sessions.begin() as session:
            row = session.scalar(select(OrderRow).where(OrderRow.client_order_id == client_id))
            if row is not None:
                row.attempts += 1

    def _rejected(self, proposal_id: int | None, request: OrderRequest, reason: str) -> Execution:
        now = self._clock()
        with self._sessions.begin() as session:
            row = session.scalar(select(OrderRow).where(OrderRow.client_order_id == request.client_order_id))
            assert row is not None
            row.status, row.error, row.updated_at = "rejected", reason, now
            audit.append(session, "broker", "order.rejected", {"client_order_id": request.client_order_id, "reason": reason}, now)
            if proposal_id is not None:
                transition(session.get_one(ProposalRow, proposal_id), ProposalStatus.FAILED, "broker", now, reason)
        self._notifier.alert(Alert("error", f"Order {request.client_order_id} for {request.symbol} was rejected: {reason}",
                                   f"rejected:{request.client_order_id}"))
        return Execution("REJECTED_BY_BROKER", f"The broker rejected the order: {reason}")

    def _uncertain(self, proposal_id: int | None, request: OrderRequest, reason: str) -> Execution:
        now = self._clock()
        with self._sessions.begin() as session:
            row = session.scalar(select(OrderRow).where(OrderRow.client_order_id == request.client_order_id))
            assert row is not None
            row.error, row.updated_at = reason, now
            audit.append(session, "broker", "order.uncertain", {"client_order_id": request.client_order_id, "reason": reason}, now)
        subject = f"proposal #{proposal_id}" if proposal_id is not None else f"the {request.symbol} exit"
        text = (f"Order {request.client_order_id} for {subject} could not be confirmed ({reason}). "
                "It will not be sent again; reconciliation will look it up and report what the broker has.")
        self._notifier.alert(Alert("error", text, f"uncertain:{request.client_order_id}"))
        return Execution("SUBMIT_UNCERTAIN", text)


def _describe(order: BrokerOrder) -> str:
    head = f"order {order.client_order_id}: {order.side.upper()} {order.quantity:.6g} {order.symbol}"
    if order.status == "filled" and order.filled_avg_price is not None:
        return f"{head}, filled at {order.filled_avg_price:,.6g}"
    if order.status == "partially_filled":
        return f"{head}, {order.filled_quantity:.6g} filled so far"
    return f"{head}, {order.status} at the broker"
