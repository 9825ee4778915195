"""The operator service's trading actions on the simulated broker: approve, reject, size, guards, halts."""
from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.models import ProposalRow
from storage.trading_models import ProposalEventRow, SimOrderRow, SimPositionRow
from tests.conftest import utc
from tests.trading_fixtures import (  # noqa: F401  (fixtures)
    DESK_WALL, Clock, add_proposal, bars_dir, db_url, flat_bars, make_world, proposal_status, sim_factory, template_db,
    world, write_bars,
)
from trading import audit
from trading.proposals import ProposalStatus, claim
from trading.state import TradingState, read_state

AS_OF = utc(2025, 12, 13, 10, 14)
WALL = DESK_WALL



def _propose(world, **kw) -> int:
    kw.setdefault("created_at", world.clock.now)
    return add_proposal(world.sessions, **kw)


def _sim_entries(world) -> int:
    with world.sessions() as session:
        return session.scalar(select(func.count()).select_from(SimOrderRow).where(SimOrderRow.parent_id.is_(None)))


def test_approve_fills_at_the_next_bar_and_records_every_transition(world) -> None:
    pid = _propose(world, quantity=2.0)
    result = world.service.approve(pid, "alice")
    assert result.ok and result.code == "OK" and "filled at" in result.message
    assert result.proposal is not None and result.proposal.status == "filled"
    with world.sessions() as session:
        events = session.scalars(select(ProposalEventRow).where(ProposalEventRow.proposal_id == pid).order_by(ProposalEventRow.id)).all()
    assert [(e.from_status, e.to_status, e.actor) for e in events] == [
        ("proposed", "approved", "alice"), ("approved", "submitted", "broker"), ("submitted", "filled", "broker")]
    assert all(e.at == WALL for e in events)
    [entry, take, stop] = sorted(world.service.orders(), key=lambda o: o.id)
    assert (entry.proposal_id, entry.role, entry.status, entry.side) == (pid, "entry", "filled", "buy")
    assert take.role == "take_profit" and take.limit_price == pytest.approx(3000.0 * (1 + 0.03 * 1.5))
    assert stop.role == "stop_loss" and stop.stop_price == pytest.approx(3000.0 * 0.97)
    assert [(p.symbol, p.side, p.quantity) for p in world.service.positions()] == [("ETH", "long", 2.0)]
    assert world.notifier.kinds() == ["fill"]
    pnl = world.service.pnl()
    assert pnl.equity < 100_000.0 and pnl.fees > 0 and pnl.gross_exposure == pytest.approx(6000.0)


def test_a_double_approval_submits_once(world) -> None:
    pid = _propose(world)
    assert world.service.approve(pid, "alice").code == "OK"
    again = world.service.approve(pid, "bob")
    assert again.ok and again.code == "ALREADY_APPROVED" and "by alice" in again.message
    assert _sim_entries(world) == 1


def test_concurrent_approvals_submit_once(db_url: str, bars_dir: Path) -> None:
    worlds = [make_world(db_url, Clock(WALL), sim_factory(bars_dir)) for _ in range(4)]  # four processes, one store
    pid = add_proposal(worlds[0].sessions, created_at=WALL)
    results, barrier = [], threading.Barrier(4)

    def approve(w) -> None:
        barrier.wait()
        results.append(w.service.approve(pid, "op"))

    threads = [threading.Thread(target=approve, args=(w,)) for w in worlds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.code for r in results).count("OK") == 1 and all(r.ok for r in results)
    assert _sim_entries(worlds[0]) == 1
    with worlds[0].sessions() as session:
        assert audit.verify(session).intact  # four writers, one unbroken chain


def test_an_expired_proposal_cannot_be_approved(world) -> None:
    pid = _propose(world, created_at=WALL - timedelta(hours=4, minutes=1))
    result = world.service.approve(pid, "alice")
    assert (result.ok, result.code) == (False, "EXPIRED") and "expired at" in result.message
    assert proposal_status(world.sessions, pid) == "expired" and _sim_entries(world) == 0


def test_reject_and_what_cannot_follow_it(world) -> None:
    pid = _propose(world)
    assert world.service.reject(pid, "alice").code == "OK"
    assert world.service.approve(pid, "bob").code == "NOT_PENDING"
    assert world.service.reject(pid, "bob").code == "NOT_PENDING"
    assert world.service.approve(999, "bob").code == "NOT_FOUND"


def test_size_forms_and_garbled_sizes(world) -> None:
    pid = _propose(world, quantity=2.0)
    assert world.service.size(pid, "0.5x", "alice").proposal.quantity == pytest.approx(1.0)
    assert world.service.size(pid, "0.25", "alice").proposal.quantity == pytest.approx(0.25)
    sized = world.service.size(pid, "3%", "alice")
    assert sized.ok and sized.proposal.quantity == pytest.approx(100_000.0 * 0.03 / 3000.0)
    bad = world.service.size(pid, "lots", "alice")
    assert (bad.ok, bad.code) == (False, "BAD_SIZE") and "0.5x" in bad.message
    too_big = world.service.size(pid, "8", "alice", confirm=True)  # 24k USD > 20% of equity
    assert too_big.code == "GUARD_MAX_POSITION"
    with world.sessions() as session:
        notes = [e.note for e in session.scalars(select(ProposalEventRow).where(ProposalEventRow.proposal_id == pid))]
    assert notes[0] == "resized from 2 to 1 (0.5x the suggested size)" and len(notes) == 3


def test_sizing_or_approving_above_the_suggestion_needs_a_confirmation(world) -> None:
    pid = _propose(world, quantity=1.0)
    asked = world.service.size(pid, "2x", "alice")
    assert asked.needs_confirmation and not asked.ok and asked.proposal.quantity == 1.0
    assert world.service.size(pid, "2x", "alice", confirm=True).proposal.quantity == 2.0
    assert world.service.approve(pid, "alice").code == "OK"  # the size was confirmed already

    oversized = _propose(world, symbol="BTC", price=90_000.0, quantity=0.2, suggested=0.1, as_of=AS_OF + timedelta(minutes=1))
    first = world.service.approve(oversized, "alice")
    assert first.needs_confirmation and proposal_status(world.sessions, oversized) == "proposed"
    assert world.service.approve(oversized, "alice", confirm=True).code == "OK"


def test_a_guard_at_approval_leaves_the_proposal_waiting(world) -> None:
    pid = _propose(world)
    world.service.pause("alice")
    blocked = world.service.approve(pid, "alice")
    assert (blocked.ok, blocked.code) == (False, "GUARD_HALTED")
    assert proposal_status(world.sessions, pid) == "proposed"
    assert world.service.resume("alice").code == "OK"  # a manual pause needs no confirmation
    assert world.service.approve(pid, "alice").code == "OK"


def test_reducing_lets_only_exits_through(world) -> None:
    assert world.service.approve(_propose(world, quantity=2.0), "alice").code == "OK"
    world.service.reduce("alice")
    more = _propose(world, symbol="SOL", price=130.0, quantity=10.0)
    assert world.service.approve(more, "alice").code == "GUARD_REDUCING"
    exit_ = _propose(world, side="sell", quantity=1.0, probability=0.51, as_of=AS_OF + timedelta(minutes=2))
    assert world.service.approve(exit_, "alice").code == "OK"  # shrinks the ETH position: passes
    assert [(p.symbol, p.quantity) for p in world.service.positions()] == [("ETH", 1.0)]
    assert [o.role for o in world.service.orders() if o.proposal_id == exit_] == ["entry"]  # an exit has no bracket
    assert world.service.resume("alice").message == "Trading resumed (it was REDUCING)."


def _approve_without_order(world, pid: int) -> None:
    """Approved, then the process stopped before the order was written down."""
    with world.sessions.begin() as session:
        claim(session, session.get_one(ProposalRow, pid), ProposalStatus.PROPOSED, ProposalStatus.APPROVED, "alice", world.clock.now)


def test_an_approval_interrupted_before_submission_is_submitted_through_the_guards(world) -> None:
    ready = _propose(world)
    _approve_without_order(world, ready)
    world.service.trading_tick()
    assert proposal_status(world.sessions, ready) == "approved"  # too recent: left to the approving call
    world.clock.advance(seconds=31)
    world.service.trading_tick()
    assert proposal_status(world.sessions, ready) == "filled"

    blocked = _propose(world, symbol="SOL", price=130.0, quantity=10.0)
    _approve_without_order(world, blocked)
    world.service.pause("alice")
    world.clock.advance(seconds=31)
    world.service.trading_tick()
    assert proposal_status(world.sessions, blocked) == "cancelled"
    with world.sessions() as session:
        assert session.get_one(ProposalRow, blocked).updated_by == "guard:GUARD_HALTED"
    assert world.notifier.alerts[-1].kind == "guard_breach" and "GUARD_HALTED" in world.notifier.alerts[-1].text
    assert _sim_entries(world) == 1


def _crash(world, bars_dir: Path, symbol: str, price: float, factor: float) -> None:
    """From 12:00 on the history has the price at `factor` times what it was."""
    rows = flat_bars(price, 12) + flat_bars(price * factor, 60)
    write_bars(bars_dir, symbol, utc(2025, 12, 13), rows)


def test_a_daily_loss_halts_trading_and_a_resume_needs_a_confirmation(db_url: str, bars_dir: Path) -> None:
    world = make_world(db_url, Clock(WALL), sim_factory(bars_dir))
    first = _propose(world, quantity=6.0, stop_distance=0.01)  # 18k USD of ETH
    second = _propose(world, symbol="SOL", price=130.0, quantity=10.0, as_of=AS_OF + timedelta(minutes=5))
    assert world.service.approve(first, "alice").code == "OK"
    _crash(world, bars_dir, "ETH", 3000.0, 0.8)  # 3,600 USD lost: 3.6% of the day's start
    world = make_world(db_url, world.clock, sim_factory(bars_dir))  # fresh bar cache (a new process)
    world.clock.advance(hours=3)  # market 13:14: the 12:00 bar has closed, gapping through the stop
    report = world.service.trading_tick()
    assert report.halted == "GUARD_DAILY_LOSS"
    with world.sessions() as session:
        state = read_state(session)
    assert (state.state, state.by) == (TradingState.HALTED, "guard:GUARD_DAILY_LOSS")
    [halt] = [a for a in world.notifier.alerts if a.kind == "halt"]
    assert "daily_loss_limit" in halt.text
    assert world.service.approve(second, "alice").code == "GUARD_HALTED"
    assert world.service.status().halted_by_guard == "GUARD_DAILY_LOSS"
    asked = world.service.resume("alice")
    assert asked.needs_confirmation and asked.code == "CONFIRM_RESUME"
    assert world.service.resume("alice", confirm=True).code == "OK"
    assert world.service.status().halted_by_guard is None
    assert world.service.trading_tick().halted is None  # acknowledged for the day: no second halt
    assert world.service.approve(second, "alice").code == "GUARD_DAILY_LOSS"  # but no new risk while it lasts


def test_a_drawdown_from_the_peak_halts_trading(db_url: str, bars_dir: Path) -> None:
    world = make_world(db_url, Clock(WALL), sim_factory(bars_dir), daily_loss_limit=0.5, max_drawdown=0.02)
    assert world.service.approve(_propose(world, quantity=6.0, stop_distance=0.01), "alice").code == "OK"
    _crash(world, bars_dir, "ETH", 3000.0, 0.8)
    world = make_world(db_url, world.clock, sim_factory(bars_dir), daily_loss_limit=0.5, max_drawdown=0.02)
    world.clock.advance(hours=3)
    assert world.service.trading_tick().halted == "GUARD_DRAWDOWN"
    assert world.service.pnl().drawdown_pct > 0.02


def test_stale_prices_block_an_old_proposal(db_url: str, tmp_path: Path) -> None:
    write_bars(tmp_path / "short", "ETH", utc(2025, 12, 13), flat_bars(3000.0, 11))  # history ends at 11:00
    world = make_world(db_url, Clock(WALL), sim_factory(tmp_path / "short"))
    pid = _propose(world, created_at=WALL - timedelta(hours=3, minutes=30))  # seen 3.5 h ago: market 13:44
    result = world.service.approve(pid, "alice")
    assert result.code == "GUARD_STALE_DATA" and "hours old" in result.message


@pytest.mark.parametrize(("setup", "code"), [
    ("cooldown", "GUARD_COOLDOWN"), ("duplicate", "GUARD_DUPLICATE_SIGNAL"), ("min_probability", "GUARD_MIN_PROBABILITY"),
])
def test_flow_guards_through_the_desk(world, setup: str, code: str) -> None:
    assert world.service.approve(_propose(world), "alice").code == "OK"
    later = {"cooldown": AS_OF + timedelta(minutes=30), "duplicate": AS_OF, "min_probability": AS_OF}[setup]
    probability = 0.51 if setup == "min_probability" else 0.56
    symbol = "SOL" if setup == "min_probability" else "ETH"
    pid = _propose(world, as_of=later, probability=probability, symbol=symbol, price=130.0 if symbol == "SOL" else 3000.0)
    world.clock.advance(minutes=5 if setup != "duplicate" else 61)
    assert world.service.approve(pid, "alice").code == code


def test_the_submit_rate_is_throttled(db_url: str, bars_dir: Path) -> None:
    world = make_world(db_url, Clock(WALL), sim_factory(bars_dir), max_orders_per_minute=2, symbol_cooldown_minutes=0)
    ids = [_propose(world, symbol=s, price=p, quantity=0.01) for s, p in (("ETH", 3000.0), ("BTC", 90_000.0), ("SOL", 130.0))]
    assert [world.service.approve(i, "alice").code for i in ids] == ["OK", "OK", "GUARD_RATE_LIMIT"]
    world.clock.advance(seconds=61)
    assert world.service.approve(ids[2], "alice").code == "OK"


def test_auto_approve_is_off_by_default_and_still_guarded(db_url: str, bars_dir: Path) -> None:
    world = make_world(db_url, Clock(WALL), sim_factory(bars_dir))
    pid = _propose(world, probability=0.6)
    assert world.service.trading_tick().auto_approved == () and proposal_status(world.sessions, pid) == "proposed"
    auto = make_world(db_url, world.clock, sim_factory(bars_dir), auto_approve_probability=0.58)
    low = _propose(auto, symbol="SOL", price=130.0, probability=0.55)
    big = _propose(auto, symbol="BTC", price=90_000.0, probability=0.7, quantity=0.2, suggested=0.1)
    assert auto.service.trading_tick().auto_approved == (pid,)
    assert [proposal_status(auto.sessions, i) for i in (pid, low, big)] == ["filled", "proposed", "proposed"]
    with auto.sessions() as session:
        assert session.scalar(select(ProposalEventRow.actor).where(ProposalEventRow.to_status == "approved")) == "auto-approve"


def test_reconciliation_reports_a_position_the_store_does_not_explain(world) -> None:
    assert world.service.approve(_propose(world), "alice").code == "OK"
    assert world.service.reconcile().clean
    with world.sessions.begin() as session:  # someone trades the account behind our back
        session.get_one(SimPositionRow, "ETH").quantity = 3.0
    result = world.service.reconcile()
    assert result.differences == ("ETH: the broker holds 3, our fills add up to 1.",)
    assert world.notifier.alerts[-1].kind == "reconciliation"


def test_the_run_once_proposal_is_approved_and_filled_on_the_embedded_history(db_url: str, tmp_path: Path) -> None:
    """The path a user takes: a cycle on the embedded snapshot proposes, an operator approves."""
    from pipeline.cycle import run_once
    from providers.bars import EmbeddedMarketData
    from providers.sentiment_models import load_backend
    from tests.trading_fixtures import settings as make_settings
    from trading.factory import build_broker

    from tests.snapshot_fixtures import feeds_until

    # The snapshot cut where the engine makes a call that sizes to a proposal (tests/snapshot_fixtures.py).
    chosen = make_settings(db_url, feeds_dir=feeds_until(tmp_path / "feeds"))
    world = make_world(db_url, Clock(WALL), lambda sessions, clock: build_broker(chosen, sessions, clock))
    loaded = load_backend("embedded", "unused")
    report = run_once(chosen, world.sessions, loaded.backend, loaded.problems, EmbeddedMarketData(), WALL)
    assert report.proposal_id is not None
    world.clock.advance(minutes=3)
    result = world.service.approve(report.proposal_id, "shell")
    assert result.ok and result.proposal.status == "filled", result.message
    [order] = [o for o in world.service.orders() if o.role == "entry"]
    assert order.client_order_id.endswith(f"-p{report.proposal_id}") and order.broker == "sim"
    assert world.desk.broker.market_time() == report.digest.as_of + timedelta(minutes=3)
