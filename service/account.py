"""The account as chat shows it: positions with the stop and target that guard them, and a summary for /status.

The broker says what is held; the store says which bracket legs are still working on it. The summary
for /status reads only the store (the last account snapshot and the mirrored positions), so a status
never waits on the broker.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.trading_models import AccountSnapshotRow, OrderRow, PositionRow
from trading.ledger import CLOSED_ORDER_STATUSES
from trading.views import PositionView


@dataclass(frozen=True)
class PositionLine:
    position: PositionView
    stop_price: float | None  # the working stop-loss leg, if any
    target_price: float | None  # the working take-profit leg, if any


@dataclass(frozen=True)
class AccountSummary:
    equity: float
    gross_exposure: float
    seen_at: datetime  # when the broker was last asked
    positions: tuple[str, ...]  # symbols held, as last seen

    @property
    def exposure_share(self) -> float | None:
        return self.gross_exposure / self.equity if self.equity else None


def working_brackets(session: Session, symbols: Sequence[str]) -> dict[str, tuple[float | None, float | None]]:
    """(stop, target) of the bracket legs still open on each symbol."""
    legs = session.scalars(select(OrderRow).where(OrderRow.symbol.in_(list(symbols)),
                                                  OrderRow.role.in_(("stop_loss", "take_profit")),
                                                  OrderRow.status.not_in(CLOSED_ORDER_STATUSES)))
    levels: dict[str, tuple[float | None, float | None]] = {}
    for leg in legs:
        stop, target = levels.get(leg.symbol, (None, None))
        if leg.role == "stop_loss":
            stop = leg.stop_price
        else:
            target = leg.limit_price
        levels[leg.symbol] = (stop, target)
    return levels


def position_lines(session: Session, positions: Sequence[PositionView]) -> list[PositionLine]:
    levels = working_brackets(session, [p.symbol for p in positions])
    return [PositionLine(p, *levels.get(p.symbol, (None, None))) for p in positions]


def account_summary(session: Session) -> AccountSummary | None:
    """The last look at the account; None before the broker was ever asked."""
    last = session.scalars(select(AccountSnapshotRow).order_by(AccountSnapshotRow.id.desc()).limit(1)).first()
    if last is None:
        return None
    held = session.scalars(select(PositionRow.symbol).where(PositionRow.quantity != 0).order_by(PositionRow.symbol))
    return AccountSummary(last.equity, last.gross_exposure, last.at, tuple(held))
