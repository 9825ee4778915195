"""Reconciliation: the broker's orders and positions against the store; differences go to operators.

It never submits. An order that was written down but cannot be found at the broker after a grace
period (longer than the executor's retries) never reached it: it is marked failed, not resent. An
approval whose order was never written down (the approving process stopped in between) never
reached the broker either: it is reported, and `approve` or serve's trading tick sends it.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from trading.alerts import Alert, Notifier
from storage.db import Sessions
from storage.models import ProposalRow
from storage.trading_models import FillRow, OrderRow
from trading import audit, ledger
from trading.accounting import books_from_fills
from trading.broker import Broker, BrokerError, BrokerOrder
from trading.executor import Executor
from trading.proposals import TRANSITIONS, ProposalStatus, transition
from trading.views import ReconcileView

SUBMIT_GRACE = timedelta(minutes=2)
# An approval younger than this may still be on its way to the broker (the guards read the account first).
APPROVAL_GRACE = timedelta(seconds=30)
QUANTITY_TOLERANCE = 1e-9
ACTOR = "reconcile"


class Reconciler:
    def __init__(self, sessions: Sessions, broker: Broker, executor: Executor, notifier: Notifier,
                 clock: Callable[[], datetime]) -> None:
        self._sessions, self._broker, self._executor = sessions, broker, executor
        self._notifier, self._clock = notifier, clock

    def run(self) -> ReconcileView:
        """Full reconciliation (at start and periodically): orders, unknown orders, positions, approvals
        that never became an order; audited."""
        checked, updated, differences = self._sync()
        differences += self._approvals_never_sent()
        try:
            differences += self._unknown_orders()
            differences += self._position_differences()
        except BrokerError as exc:
            differences.append(f"The broker could not be reached, reconciliation is incomplete: {exc}")
        self._record(checked, updated, differences)
        return ReconcileView(checked, updated, tuple(differences))

    def sync(self) -> ReconcileView:
        """The light form before every view: only our open orders; audited when something is off."""
        checked, updated, differences = self._sync()
        if differences:
            self._record(checked, updated, differences)
        return ReconcileView(checked, updated, tuple(differences))

    def _sync(self) -> tuple[int, int, list[str]]:
        differences: list[str] = []
        checked = updated = 0
        try:
            for row_id, client_id, proposal_id, status, created_at in self._orders_to_check():
                checked += 1
                found = self._broker.order_by_client_id(client_id)
                note = self._settle(row_id, client_id, proposal_id, status, created_at, found)
                if note:
                    differences.append(note)
                if found is not None and self._changed(row_id, found):
                    updated += 1
                    self._executor.adopt(proposal_id, client_id, found)
        except BrokerError as exc:
            differences.append(f"The broker could not be reached, open orders were not checked: {exc}")
        return checked, updated, differences

    def _orders_to_check(self) -> list[tuple[int, str, int | None, str, datetime]]:
        """Our orders still open (entries and exits), or whose bracket legs are (the legs come nested). Only an
        entry's proposal is passed on: it follows its order; an exit moves no proposal."""
        with self._sessions() as session:
            open_rows = ledger.open_orders(session)
            parents = {r.parent_id for r in open_rows if r.parent_id is not None} | {r.id for r in open_rows if r.parent_id is None}
            rows = session.scalars(select(OrderRow).where(OrderRow.id.in_(parents), OrderRow.broker == self._broker.name))
            return [(r.id, r.client_order_id, r.proposal_id if r.role == "entry" else None, r.status, r.created_at)
                    for r in rows]

    def _changed(self, row_id: int, found: BrokerOrder) -> bool:
        with self._sessions() as session:
            row = session.get_one(OrderRow, row_id)
            legs = {r.client_order_id: (r.status, r.filled_quantity) for r in
                    session.scalars(select(OrderRow).where(OrderRow.parent_id == row_id))}
        if (row.status, row.filled_quantity) != (found.status, found.filled_quantity):
            return True
        return any(legs.get(leg.client_order_id) != (leg.status, leg.filled_quantity) for leg in found.legs)

    def _settle(self, row_id: int, client_id: str, proposal_id: int | None, status: str, created_at: datetime,
                found: BrokerOrder | None) -> str | None:
        if found is not None:
            if status == "pending_submit":
                return f"Order {client_id} was accepted by the broker although its submission was never confirmed; it is now on the books."
            return None
        if status != "pending_submit":
            return f"Order {client_id} ({status} in the store) is missing at the broker."
        if self._clock() - created_at < SUBMIT_GRACE:
            return None  # possibly still being submitted by another process
        now = self._clock()
        with self._sessions.begin() as session:
            row = session.get_one(OrderRow, row_id)
            row.status, row.updated_at = "failed", now
            row.error = "never reached the broker (not found by its client order id); not resubmitted"
            audit.append(session, ACTOR, "order.failed", {"client_order_id": client_id, "reason": row.error}, now)
            if proposal_id is not None:
                proposal = session.get_one(ProposalRow, proposal_id)
                if ProposalStatus.FAILED in TRANSITIONS[ProposalStatus(proposal.status)]:
                    transition(proposal, ProposalStatus.FAILED, ACTOR, now, row.error)
        return f"Order {client_id} never reached the broker; it is marked failed and was not sent again."

    def _approvals_never_sent(self) -> list[str]:
        with self._sessions() as session:
            found = [(p.id, p.updated_by, p.updated_at) for p in approvals_without_order(session, self._clock() - APPROVAL_GRACE)]
        return [f"Proposal #{pid} was approved by {actor} at {at:%Y-%m-%d %H:%M} UTC but its order was never written "
                f"(the approving process stopped): nothing reached the broker. `approve {pid}` sends it now, through "
                "the guards again; serve sends it at its next trading tick." for pid, actor, at in found]

    def _unknown_orders(self) -> list[str]:
        with self._sessions() as session:
            prefix = f"tb-{ledger.store_id(session, self._clock())}-"
            known = set(session.scalars(select(OrderRow.client_order_id)))
            session.commit()
        notes = []
        for order in self._broker.open_orders():
            ids = [order.client_order_id, *(leg.client_order_id for leg in order.legs)]
            if order.client_order_id.startswith(prefix) and not known.intersection(ids):
                notes.append(f"The broker holds order {order.client_order_id} ({order.side} {order.quantity:.6g} "
                             f"{order.symbol}) that the store does not know.")
        return notes

    def _position_differences(self) -> list[str]:
        with self._sessions() as session:
            fills = session.execute(
                select(FillRow.symbol, FillRow.side, FillRow.quantity, FillRow.price)
                .join(OrderRow, OrderRow.id == FillRow.order_id)
                .where(OrderRow.broker == self._broker.name).order_by(FillRow.id)
            ).all()
        expected = {symbol: book.quantity for symbol, book in books_from_fills(fills).items()}
        held = {p.symbol: p.quantity for p in self._broker.positions()}
        notes = []
        for symbol in sorted(set(expected) | set(held)):
            ours, theirs = expected.get(symbol, 0.0), held.get(symbol, 0.0)
            if abs(ours - theirs) > QUANTITY_TOLERANCE * max(1.0, abs(ours), abs(theirs)):
                notes.append(f"{symbol}: the broker holds {theirs:.8g}, our fills add up to {ours:.8g}.")
        return notes

    def _record(self, checked: int, updated: int, differences: list[str]) -> None:
        now = self._clock()
        with self._sessions.begin() as session:
            audit.append(session, ACTOR, "reconcile", {
                "broker": self._broker.name, "checked": checked, "updated": updated, "differences": differences,
            }, now)
        if differences:
            key = hashlib.sha256("\n".join(differences).encode()).hexdigest()[:16]
            self._notifier.alert(Alert("reconciliation", "Reconciliation found differences:\n" + "\n".join(differences),
                                       f"reconcile:{key}"))


def approvals_without_order(session: Session, settled: datetime) -> list[ProposalRow]:
    """Proposals approved at or before `settled` for which no entry order was ever written."""
    entries = select(OrderRow.proposal_id).where(OrderRow.role == "entry", OrderRow.proposal_id.is_not(None))
    return list(session.scalars(select(ProposalRow).where(
        ProposalRow.status == ProposalStatus.APPROVED.value, ProposalRow.updated_at <= settled,
        ProposalRow.id.not_in(entries)).order_by(ProposalRow.id)))
