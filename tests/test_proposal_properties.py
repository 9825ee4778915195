"""Nothing offered twice, as a property: over random stores (proposals waiting, approved, orders in flight,
positions open at the broker or in our fills, signals proposed before) and random signals, the cycle
never proposes an asset and side that has any of these, proposes at most one trade, and does propose
the strongest signal that has none of them."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from intelligence.signal import Signal
from intelligence.types import Direction
from storage.db import open_store
from storage.models import Base, ProposalRow, Run, SignalRow
from storage.trading_models import FillRow, OrderRow, PositionRow
from tests.conftest import utc
from tests.signal_fixtures import make_narrative, make_price
from tests.trading_fixtures import settings
from trading.proposal_builder import OutcomeCode, propose

NOW = utc(2026, 3, 1, 12)
AS_OF = utc(2025, 12, 13, 10, 14)
SYMBOLS = ("BTC", "ETH", "SOL")
SESSIONS = open_store("sqlite://")
SETTINGS = settings("sqlite://")
# What may stand in the way of a signal, relative to its own side ("other": the opposite side).
BLOCKING = ("pending", "approved", "entry_in_flight", "exit_in_flight", "held_at_broker", "held_in_fills", "proposed_before")
HARMLESS = ("none", "pending_other", "held_other", "older_story", "proposed_before_expired_other")


def _fresh() -> None:
    with SESSIONS.begin() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


def _features(story: str) -> dict:
    return {"narrative": {"headlines": [{"id": story}]}, "price": {"last_bar_end": AS_OF.isoformat()}}


def _signal_row(session, run_id: int, symbol: str, direction: str, story: str) -> SignalRow:
    row = SignalRow(run_id=run_id, symbol=symbol, as_of=AS_OF, direction=direction, probability=0.6, conviction=0.5,
                    horizon_hours=24.0, narrative_score=0.3, price_score=-0.1, divergence=0.4, reason_codes=[],
                    evidence="", features=_features(story))
    session.add(row)
    session.flush()
    return row


def _proposal(session, run_id: int, symbol: str, side: str, status: str, story: str, created: timedelta) -> ProposalRow:
    signal = _signal_row(session, run_id, symbol, "BUY" if side == "buy" else "SELL", story)
    at = NOW - created
    row = ProposalRow(signal_id=signal.id, symbol=symbol, side=side, quantity=1.0, notional=100.0, reference_price=100.0,
                      probability=0.6, status=status, created_at=at, expires_at=at + timedelta(hours=4), updated_at=at,
                      updated_by="engine")
    session.add(row)
    session.flush()
    return row


def _order(session, symbol: str, side: str, role: str, status: str, proposal_id: int | None = None) -> OrderRow:
    row = OrderRow(proposal_id=proposal_id, role=role, client_order_id=f"c-{symbol}-{side}-{role}-{status}", broker="sim",
                   symbol=symbol, side=side, order_type="market", quantity=1.0, status=status,
                   filled_quantity=1.0 if status == "filled" else 0.0, filled_avg_price=100.0 if status == "filled" else None,
                   created_at=NOW, updated_at=NOW)
    session.add(row)
    session.flush()
    return row


def _arrange(session, run_id: int, symbol: str, side: str, kind: str) -> None:
    other = "sell" if side == "buy" else "buy"
    story = f"{symbol}-story"
    if kind == "pending":
        _proposal(session, run_id, symbol, side, "proposed", f"{symbol}-older", timedelta(minutes=30))
    elif kind == "pending_other":
        _proposal(session, run_id, symbol, other, "proposed", f"{symbol}-older", timedelta(minutes=30))
    elif kind == "approved":
        _proposal(session, run_id, symbol, side, "approved", f"{symbol}-older", timedelta(minutes=30))
    elif kind in ("entry_in_flight", "exit_in_flight"):
        _order(session, symbol, side, "entry" if kind == "entry_in_flight" else "close", "new")
    elif kind == "held_at_broker":
        session.add(PositionRow(symbol=symbol, quantity=1.0 if side == "buy" else -1.0, avg_price=100.0, market_price=100.0,
                                broker="sim", seen_at=NOW))
    elif kind == "held_other":
        session.add(PositionRow(symbol=symbol, quantity=-1.0 if side == "buy" else 1.0, avg_price=100.0, market_price=100.0,
                                broker="sim", seen_at=NOW))
    elif kind == "held_in_fills":
        filled = _proposal(session, run_id, symbol, side, "filled", f"{symbol}-older", timedelta(hours=2))
        order = _order(session, symbol, side, "entry", "filled", filled.id)
        session.add(FillRow(order_id=order.id, proposal_id=filled.id, symbol=symbol, side=side, quantity=1.0, price=100.0,
                            fee=0.1, filled_at=NOW - timedelta(hours=2), recorded_at=NOW))
    elif kind == "proposed_before":
        _proposal(session, run_id, symbol, side, "rejected", story, timedelta(hours=1))
    elif kind == "older_story":
        _proposal(session, run_id, symbol, side, "rejected", f"{symbol}-older", timedelta(hours=1))
    elif kind == "proposed_before_expired_other":
        _proposal(session, run_id, symbol, other, "expired", story, timedelta(hours=6))


def _signal(symbol: str, side: str, conviction: float) -> Signal:
    direction = Direction.BUY if side == "buy" else Direction.SELL
    return Signal(symbol, AS_OF, direction, 0.6, conviction, 0.4, timedelta(hours=24), make_narrative(0.5), make_price(-0.1, -0.1, -0.1, AS_OF),
                  ("DIVERGENCE_BULLISH",))


cases = st.fixed_dictionaries({s: st.tuples(st.sampled_from(["buy", "sell"]), st.floats(0.1, 0.9),
                                             st.sampled_from(BLOCKING + HARMLESS)) for s in SYMBOLS})


def _check(case: dict) -> None:
    _fresh()
    with SESSIONS.begin() as session:
        run = Run(started_at=NOW, status="ok", sentiment_backend="embedded", problems=[])
        session.add(run)
        session.flush()
        for symbol, (side, _, kind) in case.items():
            _arrange(session, run.id, symbol, side, kind)
        before = session.scalar(select(func.max(ProposalRow.id))) or 0
        signals = [_signal(symbol, side, conviction) for symbol, (side, conviction, _) in case.items()]
        rows = {s.symbol: _signal_row(session, run.id, s.symbol, s.direction.value, f"{s.symbol}-story") for s in signals}
        outcome = propose(session, SETTINGS, signals, rows, timedelta(hours=1), NOW)
        made = session.scalars(select(ProposalRow).where(ProposalRow.id > before)).all()
    free = sorted((s for s in signals if case[s.symbol][2] in HARMLESS), key=lambda s: (-s.conviction, s.symbol))
    assert len(made) <= 1
    if made:
        [proposal] = made
        assert case[proposal.symbol][2] in HARMLESS and proposal.side == case[proposal.symbol][0]
        assert outcome.code is OutcomeCode.PROPOSED and outcome.id == proposal.id
        assert proposal.symbol == free[0].symbol  # the strongest that nothing stands in the way of
        assert all(skip.symbol != proposal.symbol for skip in outcome.skipped)
    else:
        assert not free and outcome.code is not OutcomeCode.PROPOSED
        assert {skip.symbol for skip in outcome.skipped} == set(SYMBOLS)


def _property(max_examples: int):
    @hsettings(max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(cases)
    def check(case: dict) -> None:
        _check(case)

    return check


test_nothing_is_proposed_that_is_waiting_in_flight_held_or_proposed_before = _property(25)
test_nothing_is_proposed_that_is_waiting_in_flight_held_or_proposed_before_thoroughly = pytest.mark.slow(_property(400))


def test_a_new_proposal_on_an_asset_says_what_changed_since_the_last() -> None:
    from trading.proposal_builder import changes_since_last

    _fresh()
    with SESSIONS.begin() as session:
        run = Run(started_at=NOW, status="ok", sentiment_backend="embedded", problems=[])
        session.add(run)
        session.flush()
        earlier = _proposal(session, run.id, "ETH", "buy", "rejected", "ETH-older", timedelta(hours=5))
        signal = _signal("ETH", "buy", 0.7)
        row = _signal_row(session, run.id, "ETH", "BUY", "ETH-story")
        outcome = propose(session, SETTINGS, [signal], {"ETH": row}, timedelta(hours=1), NOW)
        assert outcome.code is OutcomeCode.PROPOSED and outcome.id is not None
        stored = changes_since_last(session, outcome.id)
    since = outcome.since_last
    assert since is not None and since == stored
    assert (since.previous_id, since.previous_status, since.previous_side, since.side_changed) == (earlier.id, "rejected", "buy", False)
    assert (since.new_headlines, since.dropped_headlines, since.same_story) == (1, 1, False)
    assert since.probability_change == 0.0 and since.price_change == 0.0  # both at 100 with 60%
    assert since.quantity_change > 0  # the earlier one was sized by hand at 1
