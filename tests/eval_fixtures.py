"""Helpers for the evaluation tests: stored signals, proposals and fills in a real SQLite store."""
from __future__ import annotations

from datetime import datetime, timedelta

from storage.db import Sessions
from storage.models import ProposalRow, Run, SignalRow
from storage.trading_models import FillRow, OrderRow


def store_signal(sessions: Sessions, symbol: str, as_of: datetime, direction: str, probability: float | None,
                 horizon_hours: float = 24.0, price: float = 0.1, narrative: float = 0.3,
                 sources: tuple[str, ...] = ("CoinDesk",), reasons: tuple[str, ...] = ("DIVERGENCE_BULLISH",)) -> int:
    with sessions.begin() as session:
        run = Run(started_at=as_of, status="ok", sentiment_backend="embedded", problems=[])
        session.add(run)
        session.flush()
        row = SignalRow(
            run_id=run.id, symbol=symbol, as_of=as_of, direction=direction, probability=probability, conviction=0.4,
            horizon_hours=horizon_hours, narrative_score=narrative, price_score=price, divergence=narrative - price,
            reason_codes=list(reasons), evidence="",
            features={"narrative": {"headlines": [{"id": str(i), "source": s, "polarity": 0.5, "weight": 1.0}
                                                  for i, s in enumerate(sources)]}},
        )
        session.add(row)
        session.flush()
        return row.id


def store_filled_trade(sessions: Sessions, signal_id: int, symbol: str, fills: list[tuple[str, float, float, float]],
                       at: datetime) -> int:
    """A proposal for the signal and one order per fill (side, quantity, price, fee), filled an hour apart."""
    with sessions.begin() as session:
        side = fills[0][0]
        proposal = ProposalRow(signal_id=signal_id, symbol=symbol, side=side, quantity=fills[0][1], notional=0.0,
                               reference_price=fills[0][2], probability=0.6, status="filled", created_at=at,
                               expires_at=at + timedelta(hours=4), updated_at=at, updated_by="shell")
        session.add(proposal)
        session.flush()
        for n, (fill_side, quantity, price, fee) in enumerate(fills):
            when = at + timedelta(hours=n)
            order = OrderRow(proposal_id=proposal.id, role="entry" if n == 0 else "take_profit",
                             client_order_id=f"tb-{proposal.id}-{n}", broker="sim", symbol=symbol, side=fill_side,
                             order_type="market", quantity=quantity, status="filled", filled_quantity=quantity,
                             filled_avg_price=price, created_at=when, updated_at=when)
            session.add(order)
            session.flush()
            session.add(FillRow(order_id=order.id, proposal_id=proposal.id, symbol=symbol, side=fill_side,
                                quantity=quantity, price=price, fee=fee, filled_at=when, recorded_at=when))
        return proposal.id
