"""The everyday trade reports (/trades, /profit, /performance, /daily) from one book of trades.

Every figure comes from `trading.trades.round_trips` over our fills at the current broker, so the
realised P&L here is /pnl's, to the cent: /profit's total is /pnl's realised, /trades' rows add up to
it, and so do /daily's days once they cover every fill.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.trading_models import AccountSnapshotRow
from trading.trades import Trade, TradeBook
from trading.views import DailyView, DayView, PerformanceRow, ProfitView, TradeView


def trade_views(book: TradeBook) -> list[TradeView]:
    """Every trade, numbered in opening order (1 is the first)."""
    return [_view(n, t) for n, t in enumerate(book.trades, start=1)]


def _view(number: int, t: Trade) -> TradeView:
    return TradeView(number, t.symbol, t.direction, t.size, t.opened_at, t.entry_price, t.closed_at, t.exit_price,
                     (t.exit_role or "open") if t.closed else "open", t.realized_pnl, t.fees, t.return_pct,
                     t.open_quantity, t.proposal_ids, t.broker)


def recent_trades(book: TradeBook, limit: int) -> list[TradeView]:
    """The newest `limit` trades, newest first."""
    return list(reversed(trade_views(book)))[:limit]


def profit(book: TradeBook, broker: str) -> ProfitView:
    views = trade_views(book)
    closed = [v for v in views if v.closed_at is not None]
    winners = sum(1 for v in closed if v.realized_pnl > 0)
    hours = [(v.closed_at - v.opened_at) / timedelta(hours=1) for v in closed if v.closed_at is not None]
    return ProfitView(
        broker=broker, trades=len(views), closed=len(closed), winners=winners,
        losers=sum(1 for v in closed if v.realized_pnl < 0),
        win_rate=winners / len(closed) if closed else None,
        realized_pnl=book.realized_pnl, closed_pnl=sum(v.realized_pnl for v in closed), fees=book.fees,
        best=max(closed, key=lambda v: v.realized_pnl) if closed else None,
        worst=min(closed, key=lambda v: v.realized_pnl) if closed else None,
        avg_hours=sum(hours) / len(hours) if hours else None,
        first_opened=views[0].opened_at if views else None,
        last_opened=max(v.opened_at for v in views) if views else None,
    )


def performance(book: TradeBook) -> list[PerformanceRow]:
    """Per asset, best realised P&L first."""
    by_symbol: dict[str, list[Trade]] = defaultdict(list)
    for t in book.trades:
        by_symbol[t.symbol].append(t)
    rows = [PerformanceRow(symbol, len(trades), sum(1 for t in trades if t.closed),
                           sum(1 for t in trades if t.closed and t.realized_pnl > 0),
                           sum(t.realized_pnl for t in trades), sum(t.return_pct for t in trades if t.closed))
            for symbol, trades in by_symbol.items()]
    return sorted(rows, key=lambda r: (-r.realized_pnl, r.symbol))


def daily(session: Session, book: TradeBook, broker: str, market_now: datetime, days: int) -> DailyView:
    """The last `days` market days up to today's (UTC dates of the broker's market clock), newest first."""
    today = market_now.date()
    first = today - timedelta(days=days - 1)
    realized: dict[date, float] = defaultdict(float)
    fills: dict[date, int] = defaultdict(int)
    closed: dict[date, int] = defaultdict(int)
    for flow in book.flows:
        day = flow.at.date()
        realized[day] += flow.realized
        fills[day] += 1
        closed[day] += flow.closes_trade
    equity = _equity_by_day(session, broker, first, today)
    rows = []
    for n in range(days):
        day = today - timedelta(days=n)
        rows.append(DayView(day.isoformat(), realized[day], fills[day], closed[day], equity.get(day)))
    return DailyView(broker, tuple(rows), sum(r.realized_pnl for r in rows), today.isoformat())


def _equity_by_day(session: Session, broker: str, first: date, last: date) -> dict[date, float]:
    """The last recorded equity of each day (account snapshots are taken on every look at the account)."""
    start = datetime.combine(first, datetime.min.time(), tzinfo=timezone.utc)
    rows = session.execute(
        select(AccountSnapshotRow.market_time, AccountSnapshotRow.equity)
        .where(AccountSnapshotRow.broker == broker, AccountSnapshotRow.market_time >= start)
        .order_by(AccountSnapshotRow.market_time, AccountSnapshotRow.id))
    found: dict[date, float] = {}
    for at, value in rows:
        if at.date() <= last:
            found[at.date()] = value
    return found
