"""A proposal as a trader decides on it: everything needed to approve, size or reject from the chat alone.

The proposal row says what to trade; the card adds where the stop and target sit (the same formula
the desk uses for the bracket), the money at risk and its share of equity, the horizon and how the
position ends, how comparable past calls fared, the headlines the call rests on, and what is already
open in the same asset. Built from the store only: no broker call, so it is cheap to show anywhere.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from eval.tiers import TIERS
from intelligence.digest import Story, lead_stories
from intelligence.sizing import bracket_prices
from pipeline.universe import asset_name
from storage.eval_models import OutcomeRow
from storage.models import ProposalRow, SignalRow
from storage.trading_models import AccountSnapshotRow, OrderRow, PositionRow, ProposalPlanRow
from trading.ledger import CLOSED_ORDER_STATUSES
from trading.views import ProposalView, proposal_view

LEAD_HEADLINES = 2


@dataclass(frozen=True)
class TrackRecord:
    """Resolved past calls in the same confidence tier: how often they were right."""

    tier: str
    count: int
    hits: int


@dataclass(frozen=True)
class Exposure:
    """What is already open in the proposal's asset."""

    position: float  # signed quantity held; 0 when flat
    avg_price: float | None
    open_orders: int  # entries not yet final, other proposals'


@dataclass(frozen=True)
class ProposalCard:
    proposal: ProposalView
    name: str
    quote_time: datetime | None  # end of the bar the reference price comes from
    suggested_quantity: float | None
    stop_price: float | None
    target_price: float | None
    stop_distance: float | None  # fraction of the price
    target_distance: float | None
    risk: float | None  # account currency lost at the stop
    equity: float | None  # the account's last known equity
    horizon: timedelta
    signal_as_of: datetime
    track: TrackRecord
    headlines: tuple[Story, ...]  # the stories pushing hardest in the trade's direction
    exposure: Exposure
    horizon_exit: bool = True  # the position is closed at the horizon unless kept (TB_HORIZON_EXIT, /keep)

    @property
    def risk_share(self) -> float | None:
        return self.risk / self.equity if self.risk is not None and self.equity else None


def track_record(session: Session, probability: float) -> TrackRecord:
    """Comparable calls are those in the same confidence tier as the evaluation's cohorts cut them."""
    floor, name = next((floor, name) for floor, name in TIERS if probability >= floor)
    ceiling = min((f for f, _ in TIERS if f > floor), default=1.01)
    rows = session.execute(
        select(OutcomeRow.hit).join(SignalRow, SignalRow.id == OutcomeRow.signal_id)
        .where(SignalRow.direction != "HOLD", SignalRow.probability >= floor, SignalRow.probability < ceiling)
    ).scalars().all()
    return TrackRecord(name, len(rows), sum(1 for hit in rows if hit))


def _exposure(session: Session, symbol: str, proposal_id: int) -> Exposure:
    held = session.get(PositionRow, symbol)
    pending = session.scalars(
        select(OrderRow.id).where(OrderRow.symbol == symbol, OrderRow.role == "entry",
                                  OrderRow.status.not_in(CLOSED_ORDER_STATUSES), OrderRow.proposal_id != proposal_id)).all()
    return Exposure(held.quantity if held else 0.0, held.avg_price if held else None, len(pending))


def last_equity(session: Session, fallback: float | None) -> float | None:
    equity = session.scalar(select(AccountSnapshotRow.equity).order_by(AccountSnapshotRow.id.desc()).limit(1))
    return equity if equity is not None else fallback


def build_card(session: Session, row: ProposalRow, take_profit_ratio: float, equity: float | None,
               horizon_exit: bool = True) -> ProposalCard:
    signal = session.get_one(SignalRow, row.signal_id)
    plan = session.get(ProposalPlanRow, row.id)
    stop = plan.stop_distance if plan is not None else None
    stop_price = target_price = risk = None
    if stop is not None:
        stop_price, target_price = bracket_prices(row.reference_price, row.side, stop, take_profit_ratio)
        risk = row.quantity * row.reference_price * stop
    return ProposalCard(
        proposal=proposal_view(row),
        name=asset_name(row.symbol),
        quote_time=plan.quote_time if plan is not None else None,
        suggested_quantity=plan.suggested_quantity if plan is not None else None,
        stop_price=stop_price, target_price=target_price, stop_distance=stop,
        target_distance=stop * take_profit_ratio if stop is not None else None,
        risk=risk, equity=equity,
        horizon=timedelta(hours=signal.horizon_hours),
        signal_as_of=signal.as_of,
        track=track_record(session, row.probability),
        headlines=lead_stories(signal.features or {}, 1 if row.side == "buy" else -1, LEAD_HEADLINES),
        exposure=_exposure(session, row.symbol, row.id),
        horizon_exit=horizon_exit,
    )


def build_cards(session: Session, rows: Sequence[ProposalRow], take_profit_ratio: float,
                fallback_equity: float | None, horizon_exit: bool = True) -> list[ProposalCard]:
    equity = last_equity(session, fallback_equity)
    return [build_card(session, row, take_profit_ratio, equity, horizon_exit) for row in rows]
