"""The facts the guards judge, gathered from the broker and the store (the guards themselves stay pure)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import ProposalRow, SignalRow
from storage.trading_models import AccountSnapshotRow, OrderRow, ProposalPlanRow
from trading.broker import Broker, BrokerAccount, BrokerPosition
from trading.guards import AccountSnapshot, Activity, GuardContext, Holding, OrderIntent
from trading.proposals import ProposalStatus
from trading.state import read_state

# Proposals in these states have been acted on: the same signal must not be traded again.
ACTED = (ProposalStatus.APPROVED, ProposalStatus.SUBMITTED, ProposalStatus.PARTIALLY_FILLED, ProposalStatus.FILLED)
ACTIVITY_WINDOW = timedelta(days=2)


@dataclass(frozen=True)
class BrokerView:
    account: BrokerAccount
    positions: tuple[BrokerPosition, ...]
    market_now: datetime


def read_broker(broker: Broker) -> BrokerView:
    """One consistent look at the broker; raises BrokerError when it cannot be reached."""
    account = broker.account()
    positions = tuple(broker.positions())
    return BrokerView(account, positions, broker.market_time())


def account_snapshot(session: Session, broker_name: str, view: BrokerView, wall_now: datetime) -> AccountSnapshot:
    """Equity now, at the start of the market day and at its peak; the look is recorded for next time."""
    holdings = {p.symbol: Holding(p.quantity, p.market_price if p.market_price is not None else p.avg_price)
                for p in view.positions if p.quantity != 0}
    snapshot = AccountSnapshot(view.account.equity, view.account.equity, view.account.equity, holdings)
    session.add(AccountSnapshotRow(at=wall_now, market_time=view.market_now, broker=broker_name,
                                   equity=view.account.equity, cash=view.account.cash,
                                   gross_exposure=snapshot.gross_exposure))
    session.flush()
    day_start = view.account.day_start_equity
    if day_start is None:  # the first look of this market day stands for the day's start
        midnight = view.market_now.replace(hour=0, minute=0, second=0, microsecond=0)
        day_start = session.scalar(
            select(AccountSnapshotRow.equity)
            .where(AccountSnapshotRow.broker == broker_name, AccountSnapshotRow.market_time >= midnight,
                   AccountSnapshotRow.market_time <= view.market_now)
            .order_by(AccountSnapshotRow.market_time, AccountSnapshotRow.id).limit(1))
    peak = session.scalar(select(func.max(AccountSnapshotRow.equity)).where(AccountSnapshotRow.broker == broker_name))
    return AccountSnapshot(view.account.equity, day_start or view.account.equity,
                           max(peak or 0.0, view.account.equity), holdings)


def activity(session: Session, wall_now: datetime, excluding_proposal: int | None = None) -> Activity:
    since = wall_now - ACTIVITY_WINDOW
    entries = session.execute(
        select(OrderRow.symbol, OrderRow.submitted_at)
        .where(OrderRow.role == "entry", OrderRow.submitted_at.is_not(None), OrderRow.submitted_at >= since)
    ).all()
    submitted = [(symbol, at) for symbol, at in entries if at is not None]  # as the query asks; for the types
    last: dict[str, datetime] = {}
    for symbol, at in submitted:
        last[symbol] = max(last.get(symbol, at), at)
    acted = session.execute(
        select(ProposalRow.symbol, ProposalRow.side, SignalRow.as_of, SignalRow.fingerprint)
        .join(SignalRow, SignalRow.id == ProposalRow.signal_id)
        .where(ProposalRow.status.in_([s.value for s in ACTED]), ProposalRow.id != (excluding_proposal or -1))
    ).all()
    return Activity(
        submit_times=tuple(at for _, at in submitted),
        last_order_at=last,
        acted_signals=frozenset((symbol, side, as_of) for symbol, side, as_of, _ in acted),
        acted_keys=frozenset((symbol, side, key) for symbol, side, _, key in acted),
    )


@dataclass(frozen=True)
class Plan:
    """What a proposal is traded on: its signal's time, its price and that price's age, its stop."""

    signal_as_of: datetime
    quote_time: datetime
    stop_distance: float | None
    suggested_quantity: float
    size_confirmed_by: str | None
    signal_key: str | None = None  # the signal's fingerprint: the same signal traded twice is refused


def plan_for(session: Session, proposal: ProposalRow) -> Plan:
    signal = session.get_one(SignalRow, proposal.signal_id)
    row = session.get(ProposalPlanRow, proposal.id)
    if row is not None:
        return Plan(signal.as_of, row.quote_time, row.stop_distance, row.suggested_quantity, row.size_confirmed_by,
                    signal.fingerprint)
    # Proposals made before plans were recorded: the bar end is in the signal's features; no stop is known.
    bar_end = (signal.features or {}).get("price", {}).get("last_bar_end")
    quote_time = datetime.fromisoformat(bar_end) if bar_end else signal.as_of
    return Plan(signal.as_of, quote_time, None, proposal.quantity, None, signal.fingerprint)


def order_intent(proposal: ProposalRow, plan: Plan, broker: Broker, quantity: float | None = None) -> OrderIntent:
    quote = broker.quote(proposal.symbol)
    price, quote_time = (quote.price, quote.at) if quote is not None else (proposal.reference_price, plan.quote_time)
    return OrderIntent(
        symbol=proposal.symbol, side=proposal.side, quantity=quantity if quantity is not None else proposal.quantity,
        price=price, quote_time=quote_time, probability=proposal.probability, stop_distance=plan.stop_distance,
        signal_as_of=plan.signal_as_of, signal_key=plan.signal_key,
    )


def record_guard_context(session: Session, broker_name: str, view: BrokerView, wall_now: datetime,
                         excluding_proposal: int | None = None) -> GuardContext:
    """What the guards judge an order against; records the account snapshot it reads (a row per call)."""
    return GuardContext(
        state=read_state(session).state,
        account=account_snapshot(session, broker_name, view, wall_now),
        activity=activity(session, wall_now, excluding_proposal),
        market_now=view.market_now,
        wall_now=wall_now,
    )
