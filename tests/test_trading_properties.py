"""Property tests over random trading sessions on the simulated broker: random proposals, approvals
(some twice), resizes, price paths and the passing of time never leave the daily loss or exposure
limits breached without a HALT, never trade while halted, and never put two orders at the broker
for one proposal."""
from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from providers.bars import EmbeddedMarketData
from storage.db import open_store
from storage.models import ProposalRow
from storage.trading_models import AccountSnapshotRow, OrderRow, SimOrderRow
from tests.conftest import utc
from tests.fake_alpaca import KEY, SECRET, FakeAlpaca, Fault
from tests.trading_fixtures import Clock, RecordingNotifier, add_proposal, bars_from_moves, empty_store, settings
from trading.desk import DeskConfig, TradingDesk
from trading.factory import build_broker
from trading.sim_broker import SimBroker
from trading.state import TradingState, read_state
from trading.trades import EXIT_ROLES

START = utc(2025, 12, 1)
WALL = utc(2026, 2, 1, 9)
SYMBOLS = {"ETH": 3000.0, "SOL": 130.0, "BTC": 90_000.0}
PRICES = {"ETH/USD": 3000.0}
LIMITS = dict(daily_loss_limit=0.02, max_drawdown=0.04, max_gross_exposure=0.6, max_position_pct=0.4,
              max_position_notional=50_000.0, max_risk_per_trade=0.2, min_probability=0.5, symbol_cooldown_minutes=0,
              max_orders_per_minute=1000, max_data_age_minutes=24 * 60, confirm_size_multiple=1.5)
# One in-memory store for every example (emptied in between): the compiled statements stay warm.
SESSIONS = open_store("sqlite://")

paths = st.lists(st.one_of(st.floats(-0.02, 0.02), st.floats(-0.12, 0.12)), min_size=60, max_size=60)
# A round: a proposal, maybe resized, maybe approved (and approved again), then time passes.
rounds = st.lists(st.tuples(
    st.sampled_from(sorted(SYMBOLS)), st.sampled_from(["buy", "sell"]), st.floats(0.05, 0.45), st.floats(0.5, 0.7),
    st.sampled_from([None, "0.5x", "2x", "10%", "0.01", "garbled"]), st.booleans(), st.integers(0, 7),
    st.integers(0, 480),
), min_size=2, max_size=8)


def _breached(desk: TradingDesk) -> list[str]:
    """Recomputed here from the simulator's books, not taken from the guards."""
    account, positions = desk.broker.account(), desk.broker.positions()
    market_now = desk.broker.market_time()
    midnight = market_now.replace(hour=0, minute=0, second=0, microsecond=0)
    with SESSIONS() as session:
        day_start = session.scalar(select(AccountSnapshotRow.equity).where(AccountSnapshotRow.market_time >= midnight)
                                   .order_by(AccountSnapshotRow.market_time, AccountSnapshotRow.id).limit(1))
    problems = []
    if day_start and (day_start - account.equity) / day_start >= LIMITS["daily_loss_limit"]:
        problems.append("daily loss")
    exposure = sum(abs(p.quantity) * (p.market_price or p.avg_price) for p in positions)
    if exposure > LIMITS["max_gross_exposure"] * account.equity:
        problems.append("exposure")
    return problems


def _state() -> TradingState:
    with SESSIONS() as session:
        return read_state(session).state


def _entries() -> int:
    with SESSIONS() as session:
        return session.scalar(select(func.count()).select_from(SimOrderRow).where(SimOrderRow.parent_id.is_(None))) or 0


def _run(moves: dict[str, list[float]], plan: list[tuple]) -> None:
    empty_store(SESSIONS)
    clock = Clock(WALL)
    with tempfile.TemporaryDirectory() as directory:
        bars_from_moves(Path(directory), SYMBOLS, START, moves)
        broker = SimBroker(SESSIONS, EmbeddedMarketData(Path(directory)), clock, 100_000.0, 5.0, 10.0)
        broker.observe_data(START + timedelta(hours=6, minutes=10), WALL)
        desk = TradingDesk(DeskConfig.from_settings(settings("sqlite://", **LIMITS)), SESSIONS, clock, broker, RecordingNotifier(), sleep=lambda _: None)
        desk.watch()
        proposals: list[int] = []
        for round_ in plan:
            for step in _steps(round_, proposals):
                halted_before, entries_before = _state() is TradingState.HALTED, _entries()
                _act(desk, clock, proposals, step)
                if halted_before:
                    assert _entries() == entries_before, "an order went out while trading was halted"
                if _state() is not TradingState.HALTED:
                    assert _breached(desk) == [], f"limits breached without a halt after {step}"
        _check_one_order_per_proposal()
        event(f"halted: {_state() is TradingState.HALTED}")
        event(f"orders sent: {min(_entries(), 3)}{'+' if _entries() >= 3 else ''}")


def _steps(round_: tuple, proposals: list[int]) -> list[tuple]:
    symbol, side, fraction, probability, resize, approve, again, minutes = round_
    steps: list[tuple] = [("propose", symbol, side, fraction, probability)]
    if resize:
        steps.append(("size", -1, resize))
    if approve:
        steps.append(("approve", -1, True))
    if proposals and again:  # an earlier proposal approved once more
        steps.append(("approve", again, False))
    steps.append(("advance", minutes))
    return steps


def _act(desk: TradingDesk, clock: Clock, proposals: list[int], step: tuple) -> None:
    kind = step[0]
    if kind == "propose":
        _, symbol, side, fraction, probability = step
        market_now = desk.broker.market_time()
        quote = desk.broker.quote(symbol)
        price = quote.price if quote else SYMBOLS[symbol]
        proposals.append(add_proposal(SESSIONS, symbol=symbol, side=side, quantity=fraction * 100_000.0 / price, price=price,
                                      probability=probability, as_of=market_now, created_at=clock.now, stop_distance=0.15,
                                      quote_time=quote.at if quote else market_now))
    elif kind == "approve":
        pid = proposals[step[1] % len(proposals)]
        desk.approve(pid, "op", confirm=step[2])
        desk.approve(pid, "op2", confirm=True)  # a second approval must not send anything
    elif kind == "size":
        desk.size(proposals[step[1] % len(proposals)], step[2], "op", confirm=True)
    elif kind == "advance":
        clock.advance(minutes=step[1])
        desk.tick()


def _check_one_order_per_proposal() -> None:
    with SESSIONS() as session:
        ours = session.execute(select(OrderRow.proposal_id, func.count()).where(OrderRow.role == "entry")
                               .group_by(OrderRow.proposal_id)).all()
        assert all(count == 1 for _, count in ours)
        exits = set(session.scalars(select(OrderRow.client_order_id).where(OrderRow.role.in_(EXIT_ROLES))))  # horizon exits
        client_ids = [cid for (cid,) in session.execute(select(SimOrderRow.client_order_id).where(SimOrderRow.parent_id.is_(None)))
                      if cid not in exits]
        assert len(client_ids) == len(set(client_ids)) == len(ours)
        filled = session.scalars(select(ProposalRow.id).where(ProposalRow.status.in_(("filled", "partially_filled", "submitted"))))
        assert set(filled) <= {pid for pid, _ in ours}


def _session_test(max_examples: int):
    @hsettings(max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(eth=paths, sol=paths, btc=paths, plan=rounds)
    def check(eth: list[float], sol: list[float], btc: list[float], plan: list[tuple]) -> None:
        _run({"ETH": eth, "SOL": sol, "BTC": btc}, plan)

    return check


test_random_sessions_keep_the_limits_or_halt = _session_test(6)
test_random_sessions_keep_the_limits_or_halt_thoroughly = pytest.mark.slow(_session_test(200))


# --- the same promise through alpaca-py and a faulty network ---

faults = st.lists(st.sampled_from(["500", "503", "429", "hang_after_accept", "hang", "partial"]), max_size=3)


def _alpaca_run(server: FakeAlpaca, batches: list[list[str]]) -> None:
    empty_store(SESSIONS)
    server.orders.clear(), server.faults.clear(), server.posted.clear(), server.positions.clear()
    server.fill_mode = "fill"
    clock = Clock(utc(2025, 12, 15, 15, 10))
    config = settings("sqlite://", alpaca_key=KEY, alpaca_secret=SECRET, alpaca_trading_url=server.url,
                      broker_timeout_seconds=0.3, symbol_cooldown_minutes=0)
    desk = TradingDesk(DeskConfig.from_settings(config), SESSIONS, clock, build_broker(config, SESSIONS, clock), RecordingNotifier(), sleep=lambda _: None)
    proposals = []
    for batch in batches:
        pid = add_proposal(SESSIONS, symbol="ETH", quantity=0.5, created_at=clock.now, as_of=clock.now - timedelta(minutes=5))
        proposals.append(pid)
        server.fill_mode = "partial" if "partial" in batch else "fill"
        server.faults.extend(Fault("status", status=int(f)) if f.isdigit() else Fault(f) for f in batch if f != "partial")
        desk.approve(pid, "op")
        desk.approve(pid, "op2")
        server.faults.clear()
        clock.advance(minutes=3)
        desk.tick()
    desk.reconcile()
    by_client: dict[str, int] = {}
    for order in server.orders:
        by_client[order["client_order_id"]] = by_client.get(order["client_order_id"], 0) + 1
    assert all(count == 1 for count in by_client.values())
    with SESSIONS() as session:
        ours = dict(session.execute(select(OrderRow.client_order_id, OrderRow.status).where(OrderRow.role == "entry")).all())
        statuses = dict(session.execute(select(ProposalRow.id, ProposalRow.status)).all())
    assert set(by_client) <= set(ours)  # nothing at the broker that the store does not know
    for pid in proposals:  # after reconciliation every proposal says what the broker has
        at_broker = [cid for cid in by_client if cid.endswith(f"-p{pid}")]
        assert statuses[pid] in (("filled", "partially_filled", "submitted") if at_broker else ("failed", "approved", "proposed"))
    event(f"orders at the broker: {len(server.orders)} of {len(proposals)}")


def _alpaca_test(max_examples: int):
    @hsettings(max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches=st.lists(faults, min_size=1, max_size=3))
    def check(batches: list[list[str]]) -> None:
        server = FakeAlpaca(dict(PRICES), hang_seconds=0.5).start()
        try:
            _alpaca_run(server, batches)
        finally:
            server.stop()

    return check


test_faults_never_make_two_orders_for_one_proposal = _alpaca_test(4)
test_faults_never_make_two_orders_for_one_proposal_thoroughly = pytest.mark.slow(_alpaca_test(60))
