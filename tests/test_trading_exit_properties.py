"""Property tests of exits on the simulated broker: whatever operators, the horizon, brackets, pauses,
restarts and interrupted submissions do, and in whatever order, one position is closed by at most one
order at the broker, and an exit never turns a position into its opposite."""
from __future__ import annotations

import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select

from providers.bars import EmbeddedMarketData
from storage.db import open_store
from storage.models import StateRow
from storage.trading_models import OrderRow, SimOrderRow, SimPositionRow
from tests.conftest import utc
from tests.trading_fixtures import Clock, RecordingNotifier, add_proposal, bars_from_moves, empty_store, settings
from trading.broker import OrderRequest
from trading.desk import DeskConfig, TradingDesk
from trading.sim_broker import SimBroker
from trading.state import TradingState, write_state
from trading.trades import EXIT_ROLES, load_book

START = utc(2025, 12, 1)
WALL = utc(2026, 2, 1, 9)
AS_OF = START + timedelta(hours=6, minutes=10)
SYMBOLS = {"ETH": 3000.0, "SOL": 130.0}
CONFIG = settings("sqlite://", symbol_cooldown_minutes=0, max_data_age_minutes=24 * 60, min_probability=0.5)
SESSIONS = open_store("sqlite://")

paths = st.lists(st.floats(-0.03, 0.03), min_size=96, max_size=96)
actions = st.lists(st.one_of(
    st.tuples(st.just("close"), st.sampled_from(sorted(SYMBOLS)), st.booleans()),
    st.tuples(st.just("flatten"), st.booleans()),
    st.tuples(st.just("tick"), st.integers(0, 30 * 60)),
    st.tuples(st.just("keep"), st.sampled_from(sorted(SYMBOLS)), st.booleans()),
    st.tuples(st.just("state"), st.sampled_from(list(TradingState))),
    st.tuples(st.just("restart")),
    st.tuples(st.just("interrupted"), st.sampled_from(sorted(SYMBOLS))),
), min_size=1, max_size=10)


def _desk(directory: Path, clock: Clock) -> TradingDesk:
    broker = SimBroker(SESSIONS, EmbeddedMarketData(directory), clock, 100_000.0, 5.0, 10.0)
    return TradingDesk(DeskConfig.from_settings(CONFIG), SESSIONS, clock, broker, RecordingNotifier(), sleep=lambda _: None)


def _interrupt(desk: TradingDesk, symbol: str) -> None:
    """A close whose intent was written, then the process died before the broker heard of it."""
    with SESSIONS() as session:
        trade = load_book(session, "sim").open_trade("sim", symbol)
        store = session.get_one(StateRow, "trading.store_id").value
    if trade is not None:
        request = OrderRequest(f"tb-{store}-x{trade.opening_order_id}-9", symbol, "sell" if trade.open_quantity > 0 else "buy",
                               abs(trade.open_quantity))
        desk.executor.open(trade.proposal_ids[0], request, "op", role="close")


def _check(signs: dict[str, int]) -> None:
    with SESSIONS() as session:
        exits = session.scalars(select(OrderRow.client_order_id).where(OrderRow.role.in_(EXIT_ROLES))).all()
        at_broker = session.scalars(select(SimOrderRow.client_order_id).where(SimOrderRow.client_order_id.in_(exits))).all()
        positions = {r.symbol: r.quantity for r in session.scalars(select(SimPositionRow))}
    per_position = Counter(cid.rsplit("-", 1)[0] for cid in at_broker)
    assert all(n == 1 for n in per_position.values()), f"two closes for one position: {per_position}"
    for symbol, quantity in positions.items():
        assert quantity * signs[symbol] >= -1e-9, f"an exit turned {symbol} into its opposite"


def _run(moves: dict[str, list[float]], sides: dict[str, str], plan: list[tuple]) -> None:
    empty_store(SESSIONS)
    clock = Clock(WALL)
    with tempfile.TemporaryDirectory() as directory:
        bars_from_moves(Path(directory), SYMBOLS, START, moves)
        desk = _desk(Path(directory), clock)
        desk.broker.observe_data(AS_OF, WALL)
        for n, (symbol, side) in enumerate(sorted(sides.items())):
            quote = desk.broker.quote(symbol)
            assert quote is not None
            pid = add_proposal(SESSIONS, symbol=symbol, side=side, quantity=10_000.0 / quote.price, price=quote.price,
                               probability=0.6, as_of=AS_OF + timedelta(minutes=n), created_at=clock.now, stop_distance=0.05,
                               quote_time=quote.at)
            assert desk.approve(pid, "op").ok
        signs = {s: 1 if side == "buy" else -1 for s, side in sides.items()}
        for step in plan:
            kind = step[0]
            if kind == "close":
                desk.exits.close(step[1], "op", confirm=step[2])
            elif kind == "flatten":
                desk.exits.flatten("op", confirm=step[1])
            elif kind == "tick":
                clock.advance(minutes=step[1])
                desk.tick()
            elif kind == "keep":
                desk.exits.keep(step[1], "op", keep=step[2])
            elif kind == "state":
                with SESSIONS.begin() as session:
                    write_state(session, step[1], "op", clock.now)
            elif kind == "restart":
                desk = _desk(Path(directory), clock)
            elif kind == "interrupted":
                _interrupt(desk, step[1])
            _check(signs)
        event(f"closes at the broker: {sum(1 for _ in _closes())}")


def _closes() -> list[str]:
    with SESSIONS() as session:
        return list(session.scalars(select(SimOrderRow.client_order_id).where(SimOrderRow.client_order_id.like("%-x%"))))


def _exit_test(max_examples: int):
    @hsettings(max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(eth=paths, sol=paths, sides=st.fixed_dictionaries({"ETH": st.sampled_from(["buy", "sell"]),
                                                               "SOL": st.sampled_from(["buy", "sell"])}), plan=actions)
    def check(eth: list[float], sol: list[float], sides: dict[str, str], plan: list[tuple]) -> None:
        _run({"ETH": eth, "SOL": sol}, sides, plan)

    return check


test_one_close_per_position_whatever_happens = _exit_test(8)
test_one_close_per_position_whatever_happens_thoroughly = pytest.mark.slow(_exit_test(150))
