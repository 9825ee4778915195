"""Positions, P&L and orders as views; the broker is asked first, the store answers when it is down."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage.trading_models import AccountSnapshotRow, OrderRow, PositionRow
from trading.broker import BrokerPosition
from trading.context import BrokerView
from trading.guards import AccountSnapshot
from trading.trades import load_book
from trading.views import OrderView, PnlView, PositionView


def mirror_positions(session: Session, broker_name: str, positions: tuple[BrokerPosition, ...], now: datetime) -> None:
    """Keep the last positions seen, so a later look while the broker is down can still answer."""
    session.execute(delete(PositionRow).where(PositionRow.broker == broker_name))
    session.add_all(PositionRow(symbol=p.symbol, quantity=p.quantity, avg_price=p.avg_price, market_price=p.market_price,
                                broker=broker_name, seen_at=now) for p in positions if p.quantity != 0)


def position_views(positions: tuple[BrokerPosition, ...], broker_name: str, seen_at: datetime, stale: bool) -> list[PositionView]:
    views = []
    for p in sorted(positions, key=lambda p: p.symbol):
        if p.quantity == 0:
            continue
        value = abs(p.quantity) * p.market_price if p.market_price is not None else None
        unrealized = p.unrealized_pnl
        if unrealized is None and p.market_price is not None:
            unrealized = (p.market_price - p.avg_price) * p.quantity
        views.append(PositionView(p.symbol, "long" if p.quantity > 0 else "short", abs(p.quantity), p.avg_price,
                                  p.market_price, value, unrealized, broker_name, stale, seen_at))
    return views


def stored_positions(session: Session, broker_name: str) -> list[PositionView]:
    rows = session.scalars(select(PositionRow).where(PositionRow.broker == broker_name))
    return [
        PositionView(r.symbol, "long" if r.quantity > 0 else "short", abs(r.quantity), r.avg_price, r.market_price,
                     abs(r.quantity) * r.market_price if r.market_price is not None else None,
                     (r.market_price - r.avg_price) * r.quantity if r.market_price is not None else None,
                     broker_name, True, r.seen_at)
        for r in rows
    ]


def realized(session: Session, broker_name: str) -> tuple[float, float]:
    """Realised P&L after fees (trading/trades.py has the definition) and the fees it includes."""
    book = load_book(session, broker_name)
    return book.realized_pnl, book.fees


def pnl_view(session: Session, broker_name: str, view: BrokerView, snapshot: AccountSnapshot) -> PnlView:
    realized_pnl, fees = realized(session, broker_name)
    unrealized = sum(
        p.unrealized_pnl if p.unrealized_pnl is not None else ((p.market_price or p.avg_price) - p.avg_price) * p.quantity
        for p in view.positions
    )
    day = snapshot.equity - snapshot.day_start_equity
    return PnlView(
        broker=broker_name, equity=snapshot.equity, cash=view.account.cash, day_start_equity=snapshot.day_start_equity,
        day_pnl=day, day_pnl_pct=day / snapshot.day_start_equity if snapshot.day_start_equity else 0.0,
        realized_pnl=realized_pnl, unrealized_pnl=unrealized, fees=fees or view.account.fees,
        peak_equity=snapshot.peak_equity,
        drawdown_pct=(snapshot.peak_equity - snapshot.equity) / snapshot.peak_equity if snapshot.peak_equity else 0.0,
        gross_exposure=snapshot.gross_exposure, market_time=view.market_now, stale=False,
    )


def stale_pnl(session: Session, broker_name: str, problem: str) -> PnlView:
    """The last recorded look at the account, marked stale with the reason."""
    last = session.scalar(select(AccountSnapshotRow).where(AccountSnapshotRow.broker == broker_name)
                          .order_by(AccountSnapshotRow.id.desc()).limit(1))
    if last is None:
        return PnlView(broker_name, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, datetime.min.replace(tzinfo=timezone.utc),
                       True, f"{problem}; there is no earlier look at the account")
    peak = session.scalar(select(func.max(AccountSnapshotRow.equity)).where(AccountSnapshotRow.broker == broker_name)) or last.equity
    realized_pnl, fees = realized(session, broker_name)
    return PnlView(broker_name, last.equity, last.cash, last.equity, 0.0, 0.0, realized_pnl, 0.0, fees, peak,
                   (peak - last.equity) / peak if peak else 0.0, last.gross_exposure, last.market_time, True,
                   f"{problem}; figures as of {last.at:%Y-%m-%d %H:%M} UTC")


def order_views(session: Session, limit: int) -> list[OrderView]:
    rows = session.scalars(select(OrderRow).order_by(OrderRow.id.desc()).limit(limit))
    return [
        OrderView(r.id, r.proposal_id, r.client_order_id, r.symbol, r.side, r.status, r.role, r.order_type, r.quantity,
                  r.filled_quantity, r.filled_avg_price, r.limit_price, r.stop_price, r.broker, r.broker_order_id,
                  r.error, r.created_at, r.updated_at)
        for r in rows
    ]
