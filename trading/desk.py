"""The trading desk: approve, reject and size proposals, execute through the guards, watch the account.

Every order is checked by the guards twice: when an operator approves (on a fresh look at the
broker) and again right before it is sent. A double approval submits once: the approval is a
compare-and-set on the proposal's status and the order's client id is unique in the store.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from trading.alerts import Alert, LogNotifier, Notifier
from config import Settings
from intelligence.sizing import bracket_prices
from storage.db import Sessions
from storage.models import ProposalRow, StateRow
from storage.trading_models import ProposalEventRow, ProposalPlanRow
from trading import audit, context, ledger, monitor, reports
from trading.broker import Broker, BrokerError, OrderRequest
from trading.executor import Execution, Executor
from trading.exits import Exits
from trading.guards import GuardLimits, check_order
from trading.proposals import ProposalStatus, claim, is_expired, record_event, transition
from trading.reconcile import Reconciler, approvals_without_order
from trading.size_spec import SizeSpecError, order_size_problem, parse_size
from trading.state import TradingState, read_state, write_state
from trading.trades import TradeBook, load_book
from trading.views import OrderView, PnlView, PositionView, ReconcileView

log = logging.getLogger(__name__)
AUTO_ACTOR = "auto-approve"
LAST_RECONCILE_KEY = "trading.last_reconcile"
INTERRUPTED_AFTER = timedelta(seconds=30)
_DONE = {ProposalStatus.APPROVED, ProposalStatus.SUBMITTED, ProposalStatus.PARTIALLY_FILLED, ProposalStatus.FILLED}


@dataclass(frozen=True)
class DeskResult:
    ok: bool
    code: str
    message: str
    proposal_id: int | None = None
    needs_confirmation: bool = False
    quantity: float | None = None  # what a confirmation would trade or size to


@dataclass(frozen=True)
class DeskConfig:
    """What the desk reads from the settings: the guard limits and its own four knobs."""

    limits: GuardLimits
    confirm_size_multiple: float  # a size above suggestion x this needs a confirmation
    take_profit_ratio: float  # target distance as a multiple of the stop distance
    reconcile_minutes: float
    auto_approve_probability: float | None  # None: every proposal waits for an operator
    horizon_exit: bool = True  # close a position from a signal once its horizon has passed (trading/exits.py)
    min_order_notional: float = 1.0  # USD: /size refuses a size worth less (the broker's minimum order)

    @classmethod
    def from_settings(cls, settings: Settings) -> DeskConfig:
        return cls(GuardLimits.from_settings(settings), settings.confirm_size_multiple, settings.take_profit_ratio,
                   settings.reconcile_minutes, settings.auto_approve_probability, settings.horizon_exit,
                   settings.min_order_notional)


@dataclass(frozen=True)
class TickReport:
    expired: int
    orders_updated: int
    halted: str | None  # reason code of a halt this tick raised
    auto_approved: tuple[int, ...]
    reconciliation: ReconcileView | None
    exits: tuple[str, ...] = ()  # symbols closed at their signal's horizon this tick


class TradingDesk:
    def __init__(self, config: DeskConfig, sessions: Sessions, clock: Callable[[], datetime], broker: Broker,
                 notifier: Notifier | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.config, self.broker = config, broker
        self._sessions, self._clock = sessions, clock
        self._notifier = notifier or LogNotifier()
        self.limits = config.limits
        self.executor = Executor(sessions, broker, self._notifier, clock, sleep)
        self.reconciler = Reconciler(sessions, broker, self.executor, self._notifier, clock)
        self.exits = Exits(sessions, broker, self.executor, self._notifier, clock, sleep, self.sync_orders, config.limits,
                           config.horizon_exit)
        self._reconciled = False

    # --- operator actions ---

    def approve(self, proposal_id: int, actor: str, confirm: bool = False) -> DeskResult:
        interrupted = False
        with self._sessions.begin() as session:
            proposal = self._pending(session, proposal_id, "approved")
            if isinstance(proposal, DeskResult):
                interrupted = proposal.code == "ALREADY_APPROVED" and self._never_sent(session, proposal_id)
                if not interrupted:
                    return proposal
                proposal = session.get_one(ProposalRow, proposal_id)
            else:
                plan = context.plan_for(session, proposal)
        if interrupted:  # outside the transaction: sending talks to the broker
            return self._send_interrupted(proposal, actor)
        # The guards first: asking to confirm an order they would refuse anyway wastes the operator's time.
        blocked = self._check(proposal_id, actor, "approval")
        if blocked is not None:
            with self._sessions() as session:  # approved by someone else meanwhile: say that, not the guard
                proposal = session.get_one(ProposalRow, proposal_id)
            return self._already(proposal) if ProposalStatus(proposal.status) in _DONE else blocked
        limit = plan.suggested_quantity * self.config.confirm_size_multiple
        if proposal.quantity > limit * (1 + 1e-9) and plan.size_confirmed_by is None and not confirm:
            return DeskResult(False, "CONFIRM_SIZE", f"Proposal #{proposal_id} is sized at {proposal.quantity:.6g} "
                              f"{proposal.symbol}, above the suggested {plan.suggested_quantity:.6g}. Confirm to approve it.",
                              proposal_id, needs_confirmation=True, quantity=proposal.quantity)
        with self._sessions.begin() as session:
            proposal = session.get_one(ProposalRow, proposal_id)
            if not claim(session, proposal, ProposalStatus.PROPOSED, ProposalStatus.APPROVED, actor, self._clock()):
                return self._already(proposal)
        execution = self.submit(proposal_id, actor)
        if not execution.ok:
            return DeskResult(False, execution.code, execution.message, proposal_id)
        return DeskResult(True, "OK", f"Proposal #{proposal_id} approved; {execution.message}.", proposal_id)

    def reject(self, proposal_id: int, actor: str) -> DeskResult:
        with self._sessions.begin() as session:
            proposal = self._pending(session, proposal_id, "rejected")
            if isinstance(proposal, DeskResult):
                return proposal
            if not claim(session, proposal, ProposalStatus.PROPOSED, ProposalStatus.REJECTED, actor, self._clock()):
                return DeskResult(False, "NOT_PENDING", f"Proposal #{proposal_id} was answered meanwhile: {proposal.status}.", proposal_id)
        return DeskResult(True, "OK", f"Proposal #{proposal_id} rejected.", proposal_id)

    def size(self, proposal_id: int, spec: str, actor: str, confirm: bool = False) -> DeskResult:
        try:
            parsed = parse_size(spec)
        except SizeSpecError as exc:
            return DeskResult(False, "BAD_SIZE", f"Cannot size proposal #{proposal_id}: {exc}.", proposal_id)
        try:
            view = context.read_broker(self.broker)
        except BrokerError as exc:
            return DeskResult(False, "BROKER_UNAVAILABLE", f"Cannot size now: {exc}", proposal_id)
        now = self._clock()
        with self._sessions.begin() as session:
            proposal = self._pending(session, proposal_id, "resized")
            if isinstance(proposal, DeskResult):
                return proposal
            plan = context.plan_for(session, proposal)
            intent = context.order_intent(proposal, plan, self.broker)
            quantity = parsed.quantity(view.account.equity, intent.price, plan.suggested_quantity)
            problem = order_size_problem(quantity, intent.price, self.config.min_order_notional)
            if problem is not None:
                return DeskResult(False, "BAD_SIZE", f"Cannot size #{proposal_id} to {parsed.describe()}: {problem}.",
                                  proposal_id)
            sized = context.order_intent(proposal, plan, self.broker, quantity)
            guard_ctx = context.record_guard_context(session, self.broker.name, view, now, proposal_id)
            breaches = [b for b in check_order(sized, guard_ctx, self.limits) if b.guard in (
                "max_risk_per_trade", "max_position", "max_gross_exposure")]
            if breaches:
                return DeskResult(False, breaches[0].code, f"Cannot size #{proposal_id} to {quantity:.6g}: {breaches[0].message}", proposal_id)
            above = quantity > plan.suggested_quantity * self.config.confirm_size_multiple * (1 + 1e-9)
            if above and not confirm:
                return DeskResult(False, "CONFIRM_SIZE", f"{quantity:.6g} {proposal.symbol} is above the suggested "
                                  f"{plan.suggested_quantity:.6g}. Confirm to size it so.", proposal_id, needs_confirmation=True,
                                  quantity=quantity)
            before = proposal.quantity
            proposal.quantity, proposal.notional = quantity, quantity * proposal.reference_price
            proposal.updated_at, proposal.updated_by = now, actor
            self._ensure_plan(session, proposal, plan).size_confirmed_by = actor if above else None
            record_event(session, proposal, ProposalStatus.PROPOSED, ProposalStatus.PROPOSED, actor, now,
                         f"resized from {before:.6g} to {quantity:.6g} ({parsed.describe()})")
        return DeskResult(True, "OK", f"Proposal #{proposal_id} sized to {quantity:.6g} {proposal.symbol} "
                          f"(about {quantity * intent.price:,.0f} USD).", proposal_id)

    def resume(self, actor: str, confirm: bool = False) -> DeskResult:
        """Resume trading; after a guard halt only with a confirmation, which acknowledges the breach."""
        with self._sessions.begin() as session:
            code = monitor.halted_by_guard(session)
            if code is None:
                before = read_state(session).state
                if before is TradingState.ACTIVE:
                    return DeskResult(True, "OK", "Trading was already active.")
                write_state(session, TradingState.ACTIVE, actor, self._clock())
                audit.append(session, actor, "trading.resume", {"from": before.value}, self._clock())
                return DeskResult(True, "OK", f"Trading resumed (it was {before.value}).")
        if not confirm:
            return DeskResult(False, "CONFIRM_RESUME", f"Trading was halted by the {code} guard. Resuming lets positions be "
                              "reduced; new risk stays blocked while the breach lasts. Confirm to resume.", needs_confirmation=True)
        try:
            view = context.read_broker(self.broker)
        except BrokerError as exc:
            return DeskResult(False, "BROKER_UNAVAILABLE", f"Cannot check the account to resume: {exc}")
        now = self._clock()
        with self._sessions.begin() as session:
            guard_ctx = context.record_guard_context(session, self.broker.name, view, now)
            monitor.acknowledge(session, guard_ctx, self.limits, actor, now)
            write_state(session, TradingState.ACTIVE, actor, now)
            audit.append(session, actor, "trading.resume", {"after_guard_halt": code}, now)
        return DeskResult(True, "OK", f"Trading resumed after the {code} halt (acknowledged for today).")

    # --- execution ---

    def submit(self, proposal_id: int, actor: str) -> Execution:
        """Send an approved proposal's order, once: second guard check, intent row, then the broker."""
        blocked = self._check(proposal_id, actor, "submit")
        try:
            if blocked is not None and blocked.code == "BROKER_UNAVAILABLE":
                raise BrokerError(blocked.message)
            if blocked is not None:
                return Execution(blocked.code, blocked.message)
            with self._sessions.begin() as session:
                proposal = session.get_one(ProposalRow, proposal_id)
                request = self._request(session, proposal)
        except BrokerError as exc:
            return Execution("BROKER_UNAVAILABLE", f"Proposal #{proposal_id} is approved but not sent: {exc}. Nothing "
                             "reached the broker; it is sent, through the guards again, once the broker answers.")
        if not self.executor.open(proposal_id, request, actor):
            return Execution("ALREADY_SUBMITTED", f"an order for proposal #{proposal_id} already exists")
        execution = self.executor.send(proposal_id, request)
        self.watch()
        return execution

    def _request(self, session: Session, proposal: ProposalRow) -> OrderRequest:
        plan = context.plan_for(session, proposal)
        client_id = ledger.client_order_id(ledger.store_id(session, self._clock()), proposal.id)
        stop = plan.stop_distance
        if stop is None or self._against_position(proposal) or not self.broker.supports_brackets(proposal.symbol, proposal.quantity):
            return OrderRequest(client_id, proposal.symbol, proposal.side, proposal.quantity)
        price = context.order_intent(proposal, plan, self.broker).price
        stop_loss, take_profit = bracket_prices(price, proposal.side, stop, self.config.take_profit_ratio)
        return OrderRequest(client_id, proposal.symbol, proposal.side, proposal.quantity,
                            take_profit=take_profit, stop_loss=stop_loss)

    def _against_position(self, proposal: ProposalRow) -> bool:
        """An order against an open position is an exit (or a flip): exits of its own would re-open it."""
        held = sum(p.quantity for p in self.broker.positions() if p.symbol == proposal.symbol)
        return held * (1 if proposal.side == "buy" else -1) < 0

    def _check(self, proposal_id: int, actor: str, stage: str) -> DeskResult | None:
        """The guards on a fresh look at the broker; a block at submit cancels the approved proposal."""
        with self._sessions.begin() as session:
            proposal = session.get_one(ProposalRow, proposal_id)
            plan = context.plan_for(session, proposal)
        self.broker.observe_data(plan.signal_as_of, proposal.created_at)
        try:
            view = context.read_broker(self.broker)
        except BrokerError as exc:
            return DeskResult(False, "BROKER_UNAVAILABLE", f"The broker cannot be reached: {exc}", proposal_id)
        now = self._clock()
        with self._sessions.begin() as session:
            proposal = session.get_one(ProposalRow, proposal_id)
            guard_ctx = context.record_guard_context(session, self.broker.name, view, now, proposal_id)
            breaches = check_order(context.order_intent(proposal, plan, self.broker), guard_ctx, self.limits)
            if not breaches:
                return None
            first = breaches[0]
            audit.append(session, actor, "guard.blocked", {
                "proposal_id": proposal_id, "stage": stage, "codes": [b.code for b in breaches], "message": first.message,
            }, now)
            if stage == "submit" and proposal.status == ProposalStatus.APPROVED.value:
                transition(proposal, ProposalStatus.CANCELLED, "guard:" + first.code, now, first.message)
        if stage == "submit":
            self._notifier.alert(Alert("guard_breach", f"Proposal #{proposal_id} was stopped before submission by the "
                                       f"{first.guard} guard ({first.code}): {first.message}", f"guard:{proposal_id}:{first.code}"))
        return DeskResult(False, first.code, f"Proposal #{proposal_id} blocked: {first.message}", proposal_id)

    def _pending(self, session: Session, proposal_id: int, verb: str) -> ProposalRow | DeskResult:
        """The proposal while it still waits for an answer; else why it cannot be `verb` (gone, expired, answered)."""
        proposal = session.get(ProposalRow, proposal_id)
        if proposal is None:
            return DeskResult(False, "NOT_FOUND", f"There is no proposal #{proposal_id}.")
        return self._not_pending(proposal, verb) or proposal

    def _not_pending(self, proposal: ProposalRow, verb: str) -> DeskResult | None:
        now = self._clock()
        if is_expired(proposal, now):
            transition(proposal, ProposalStatus.EXPIRED, "clock", now, "no answer before it expired")
        status = ProposalStatus(proposal.status)
        if status is ProposalStatus.EXPIRED:
            return DeskResult(False, "EXPIRED", f"Proposal #{proposal.id} expired at {proposal.expires_at:%Y-%m-%d %H:%M} UTC "
                              f"and can no longer be {verb}.", proposal.id)
        if status is ProposalStatus.PROPOSED:
            return None
        if verb == "approved" and status in _DONE:
            return self._already(proposal)
        return DeskResult(False, "NOT_PENDING", f"Proposal #{proposal.id} is already {status.value} "
                          f"(by {proposal.updated_by}) and can no longer be {verb}.", proposal.id)

    @staticmethod
    def _never_sent(session: Session, proposal_id: int) -> bool:
        """Approved, yet no order written: the approving process stopped before it (nothing reached the broker)."""
        proposal = session.get_one(ProposalRow, proposal_id)
        return proposal.status == ProposalStatus.APPROVED.value and ledger.entry_order(session, proposal_id) is None

    def _send_interrupted(self, proposal: ProposalRow, actor: str) -> DeskResult:
        """Approved before an interruption and never sent: an operator approving again sends it now, through
        the guards again. Should the approving process still be on its way, the order's unique client id
        lets only one of the two reach the broker."""
        before = f"approved by {proposal.updated_by} at {proposal.updated_at:%Y-%m-%d %H:%M} UTC"
        log.warning("proposal #%s was %s but never sent; sending it now for %s", proposal.id, before, actor)
        execution = self.submit(proposal.id, actor)
        if execution.code == "ALREADY_SUBMITTED":
            with self._sessions() as session:
                return self._already(session.get_one(ProposalRow, proposal.id))
        if not execution.ok:
            return DeskResult(False, execution.code, f"Proposal #{proposal.id} was {before} but never sent (interrupted "
                              f"before its order was written); sending it now did not go through: {execution.message}",
                              proposal.id)
        return DeskResult(True, "OK", f"Proposal #{proposal.id} was {before} but never sent (interrupted before its "
                          f"order was written); sent now: {execution.message}.", proposal.id)

    def _already(self, proposal: ProposalRow) -> DeskResult:
        with self._sessions() as session:
            event = session.scalar(select(ProposalEventRow).where(
                ProposalEventRow.proposal_id == proposal.id, ProposalEventRow.to_status == ProposalStatus.APPROVED.value))
        who = f" by {event.actor} at {event.at:%Y-%m-%d %H:%M} UTC" if event is not None else ""
        return DeskResult(True, "ALREADY_APPROVED", f"Proposal #{proposal.id} was already approved{who}; it is "
                          f"{proposal.status}. Nothing was sent again.", proposal.id)

    def _ensure_plan(self, session: Session, proposal: ProposalRow, plan: context.Plan) -> ProposalPlanRow:
        row = session.get(ProposalPlanRow, proposal.id)
        if row is None:
            row = ProposalPlanRow(proposal_id=proposal.id, suggested_quantity=plan.suggested_quantity,
                                  stop_distance=plan.stop_distance, signal_as_of=plan.signal_as_of, quote_time=plan.quote_time)
            session.add(row)
        return row

    # --- the periodic work (serve calls tick; CLI commands call it too) ---

    def watch(self) -> str | None:
        """Halt on an account breach; returns its reason code."""
        try:
            view = context.read_broker(self.broker)
        except BrokerError as exc:
            log.warning("account watch skipped: %s", exc)
            return None
        now = self._clock()
        with self._sessions.begin() as session:
            breach = monitor.watch(session, context.record_guard_context(session, self.broker.name, view, now),
                                   self.limits, self._notifier, now)
            reports.mirror_positions(session, self.broker.name, view.positions, now)
        return breach.code if breach else None

    def sync_orders(self) -> int:
        """Ask the broker about every order still open on our side; fills and status changes are recorded."""
        return self.reconciler.sync().updated_orders if self._has_open_orders() else 0

    def _has_open_orders(self) -> bool:
        with self._sessions() as session:
            return bool(ledger.open_orders(session))

    def tick(self) -> TickReport:
        expired = self._expire()
        reconciliation = self.reconcile() if self._reconcile_due() else None
        updated = reconciliation.updated_orders if reconciliation else self.sync_orders()
        halted = self.watch()
        self._finish_interrupted()
        approved = self._auto_approve()
        return TickReport(expired, updated, halted, approved, reconciliation, self.exits.horizon())

    def _finish_interrupted(self) -> None:
        """Approved, but the process stopped before the order was written down: nothing reached the
        broker (the order row is written first), so it is submitted now, through the guards again."""
        # Recent approvals are left to the call that made them (the unique client id would stop a
        # second order anyway; this only avoids two processes racing to say so).
        with self._sessions() as session:
            ids = [p.id for p in approvals_without_order(session, self._clock() - INTERRUPTED_AFTER)]
        for proposal_id in ids:
            log.info("submitting proposal #%s, approved before an interruption", proposal_id)
            self.submit(proposal_id, "recovery")

    def reconcile(self) -> ReconcileView:
        result = self.reconciler.run()
        self._reconciled = True
        now = self._clock()
        with self._sessions.begin() as session:
            row = session.get(StateRow, LAST_RECONCILE_KEY)
            if row is None:
                session.add(StateRow(key=LAST_RECONCILE_KEY, value=now.isoformat(), updated_at=now, updated_by="trading"))
            else:
                row.value, row.updated_at = now.isoformat(), now
        return result

    def _reconcile_due(self) -> bool:
        if not self._reconciled:  # at start, whenever the last one was
            return True
        with self._sessions() as session:
            row = session.get(StateRow, LAST_RECONCILE_KEY)
        return row is None or self._clock() - row.updated_at >= timedelta(minutes=self.config.reconcile_minutes)

    def _expire(self) -> int:
        now = self._clock()
        with self._sessions.begin() as session:
            stale = [p for p in session.scalars(select(ProposalRow).where(ProposalRow.status == ProposalStatus.PROPOSED.value))
                     if is_expired(p, now)]
            for proposal in stale:
                transition(proposal, ProposalStatus.EXPIRED, "clock", now, "no answer before it expired")
        return len(stale)

    def _auto_approve(self) -> tuple[int, ...]:
        threshold = self.config.auto_approve_probability
        if threshold is None:
            return ()
        with self._sessions() as session:
            ids = list(session.scalars(select(ProposalRow.id).where(
                ProposalRow.status == ProposalStatus.PROPOSED.value, ProposalRow.probability >= threshold)))
        return tuple(i for i in ids if self.approve(i, AUTO_ACTOR).code == "OK")

    # --- views ---

    def positions(self) -> list[PositionView]:
        self.sync_orders()
        now = self._clock()
        try:
            held = tuple(self.broker.positions())
        except BrokerError as exc:
            log.warning("positions from the store: %s", exc)
            with self._sessions() as session:
                return reports.stored_positions(session, self.broker.name)
        with self._sessions.begin() as session:
            reports.mirror_positions(session, self.broker.name, held, now)
        return reports.position_views(held, self.broker.name, now, stale=False)

    def pnl(self) -> PnlView:
        self.sync_orders()
        try:
            view = context.read_broker(self.broker)
        except BrokerError as exc:
            log.warning("P&L from the last snapshot: %s", exc)
            with self._sessions() as session:
                return reports.stale_pnl(session, self.broker.name, f"the broker cannot be reached: {exc}")
        with self._sessions.begin() as session:
            snapshot = context.account_snapshot(session, self.broker.name, view, self._clock())
            return reports.pnl_view(session, self.broker.name, view, snapshot)

    def trade_book(self) -> TradeBook:
        """Our trades at this broker (trading/trades.py), after asking the broker about open orders."""
        try:
            self.sync_orders()
        except BrokerError as exc:
            log.warning("trades as last recorded: %s", exc)
        with self._sessions() as session:
            return load_book(session, self.broker.name)

    def orders(self, limit: int = 50) -> list[OrderView]:
        try:
            self.sync_orders()
        except BrokerError as exc:
            log.warning("orders as last recorded: %s", exc)
        with self._sessions() as session:
            return reports.order_views(session, limit)
