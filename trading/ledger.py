"""Our books: orders as the broker last reported them, each new fill as a row, and the proposal's
status following its entry order. Everything recorded here is audited in the same transaction."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ProposalRow, StateRow
from storage.trading_models import FillRow, OrderRow, ProposalEventRow
from trading import audit
from trading.accounting import fill_delta
from trading.rows import insert_missing
from trading.broker import FINAL_STATUSES, BrokerOrder
from trading.proposals import TRANSITIONS, ProposalStatus, transition

STORE_ID_KEY = "trading.store_id"
BROKER_ACTOR = "broker"
# Terminal on our side too: "failed" is ours (it never reached the broker, or we gave up on it).
CLOSED_ORDER_STATUSES = FINAL_STATUSES | {"failed"}


def store_id(session: Session, now: datetime) -> str:
    """A random name for this store, made once: client order ids built from proposal ids alone would
    collide with a previous database's orders in the same broker account."""
    row = session.get(StateRow, STORE_ID_KEY)
    if row is None:
        insert_missing(session, StateRow, key=STORE_ID_KEY, value=secrets.token_hex(4), updated_at=now, updated_by="trading")
        row = session.get_one(StateRow, STORE_ID_KEY)
    return row.value


def client_order_id(store: str, proposal_id: int) -> str:
    return f"tb-{store}-p{proposal_id}"


@dataclass(frozen=True)
class FillEvent:
    order_id: int
    proposal_id: int | None
    symbol: str
    side: str
    role: str
    quantity: float
    price: float
    complete: bool  # the order is now completely filled


def record_order(session: Session, row: OrderRow, update: BrokerOrder, now: datetime) -> list[FillEvent]:
    """Bring one order (and its bracket legs) up to the broker's report; new fills become rows."""
    events: list[FillEvent] = []
    delta = fill_delta(row.filled_quantity, row.filled_avg_price, update.filled_quantity, update.filled_avg_price)
    if delta is not None:
        quantity, price = delta
        fee = max(0.0, update.fees - _fees_recorded(session, row.id))
        session.add(FillRow(order_id=row.id, proposal_id=row.proposal_id, symbol=row.symbol, side=row.side, quantity=quantity,
                            price=price, fee=fee, filled_at=update.filled_at or now, recorded_at=now))
        complete = update.filled_quantity >= update.quantity - 1e-12
        events.append(FillEvent(row.id, row.proposal_id, row.symbol, row.side, row.role, quantity, price, complete))
        audit.append(session, BROKER_ACTOR, "order.fill", {
            "order_id": row.id, "client_order_id": row.client_order_id, "symbol": row.symbol, "side": row.side,
            "quantity": quantity, "price": price, "fee": fee, "filled_total": update.filled_quantity,
        }, now)
    if update.status != row.status or delta is not None or row.broker_order_id != update.broker_order_id:
        if update.status != row.status:
            audit.append(session, BROKER_ACTOR, "order.status", {
                "order_id": row.id, "client_order_id": row.client_order_id, "from": row.status, "to": update.status,
                "reason": update.reason,
            }, now)
        row.status, row.broker_order_id = update.status, update.broker_order_id
        row.filled_quantity, row.filled_avg_price = update.filled_quantity, update.filled_avg_price
        row.error = update.reason if update.status in ("rejected", "canceled", "expired") else row.error
        row.updated_at = now
    for leg in update.legs:
        events += record_order(session, _leg_row(session, row, leg, now), leg, now)
    return events


def _fees_recorded(session: Session, order_id: int) -> float:
    return sum(session.scalars(select(FillRow.fee).where(FillRow.order_id == order_id)))


def _leg_row(session: Session, parent: OrderRow, leg: BrokerOrder, now: datetime) -> OrderRow:
    row = session.scalar(select(OrderRow).where(OrderRow.client_order_id == leg.client_order_id))
    if row is None:
        row = OrderRow(
            proposal_id=parent.proposal_id, parent_id=parent.id, role=leg.role, client_order_id=leg.client_order_id,
            broker=parent.broker, broker_order_id=leg.broker_order_id, symbol=leg.symbol or parent.symbol, side=leg.side,
            order_type=leg.order_type, quantity=leg.quantity, limit_price=leg.limit_price, stop_price=leg.stop_price,
            status="held", filled_quantity=0.0, attempts=0, created_at=now, submitted_at=parent.submitted_at, updated_at=now,
        )
        session.add(row)
        session.flush()
    return row


# The proposal follows its entry order; each step is a legal transition, walked one at a time.
_PATHS: dict[str, tuple[ProposalStatus, ...]] = {
    "new": (ProposalStatus.SUBMITTED,),
    "held": (ProposalStatus.SUBMITTED,),
    "partially_filled": (ProposalStatus.SUBMITTED, ProposalStatus.PARTIALLY_FILLED),
    "filled": (ProposalStatus.SUBMITTED, ProposalStatus.FILLED),
    "canceled": (ProposalStatus.CANCELLED,),
    "expired": (ProposalStatus.CANCELLED,),
    "rejected": (ProposalStatus.FAILED,),
    "failed": (ProposalStatus.FAILED,),
}


def follow_entry(session: Session, proposal: ProposalRow, entry: OrderRow, now: datetime) -> None:
    """Move the proposal to where its entry order is; a status already reached is not repeated
    (except a partial fill that grew, which is recorded again)."""
    order = (ProposalStatus.APPROVED, ProposalStatus.SUBMITTED, ProposalStatus.PARTIALLY_FILLED, ProposalStatus.FILLED)
    for target in _PATHS.get(entry.status, ()):
        current = ProposalStatus(proposal.status)
        if current == target and target is not ProposalStatus.PARTIALLY_FILLED:
            continue
        if current in order and target in order and order.index(target) < order.index(current):
            continue
        if target in TRANSITIONS[current]:
            note = f"order {entry.client_order_id}: {entry.status}, {entry.filled_quantity:.6g} of {entry.quantity:.6g} filled"
            if target is ProposalStatus.PARTIALLY_FILLED and current == target and not _grew(session, proposal, note):
                continue
            transition(proposal, target, BROKER_ACTOR, now, note)


def _grew(session: Session, proposal: ProposalRow, note: str) -> bool:
    last = session.scalar(select(ProposalEventRow.note).where(ProposalEventRow.proposal_id == proposal.id)
                          .order_by(ProposalEventRow.id.desc()).limit(1))
    return last != note


def entry_order(session: Session, proposal_id: int) -> OrderRow | None:
    return session.scalar(select(OrderRow).where(OrderRow.proposal_id == proposal_id, OrderRow.role == "entry"))


def open_orders(session: Session) -> list[OrderRow]:
    return list(session.scalars(select(OrderRow).where(OrderRow.status.not_in(CLOSED_ORDER_STATUSES))
                                .order_by(OrderRow.id)))
