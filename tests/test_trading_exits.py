"""Exits on the simulated broker: /close, /flatten, /keep and the horizon exit, through the guards and the
audit chain, once however often they are asked; and one realised P&L in /pnl, /profit, /trades,
/daily and the evaluation."""
from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from eval.trades import load_trades
from storage.models import StateRow
from storage.trading_models import AuditRow, OrderRow, SimOrderRow, SimPositionRow
from tests.conftest import utc
from tests.trading_fixtures import (  # noqa: F401  (fixtures)
    DESK_WALL, Clock, add_proposal, bars_dir, db_url, make_world, sim_factory, template_db, world,
)
from trading import audit
from trading.trades import EXIT_ROLES

AS_OF = utc(2025, 12, 13, 10, 14)
WALL = DESK_WALL
# Buy 1 ETH at the 11:00 open with 5 bps slippage and 10 bps fee, sell it at a later open the same way.
ENTRY, EXIT = 3000.0 * 1.0005, 3000.0 * 0.9995
ROUND_TRIP = (EXIT - ENTRY) - (ENTRY + EXIT) * 0.001



def _bought(world, symbol: str = "ETH", price: float = 3000.0, quantity: float = 1.0, side: str = "buy", **kw) -> int:
    pid = add_proposal(world.sessions, symbol=symbol, price=price, quantity=quantity, side=side, created_at=world.clock.now, **kw)
    assert world.service.approve(pid, "alice").code == "OK"
    return pid


def _exits(world) -> list[OrderRow]:
    with world.sessions() as session:
        return list(session.scalars(select(OrderRow).where(OrderRow.role.in_(EXIT_ROLES)).order_by(OrderRow.id)))


def _sim_held(world, symbol: str) -> float:
    with world.sessions() as session:
        row = session.get(SimPositionRow, symbol)
        return row.quantity if row is not None else 0.0


def _audit_kinds(world) -> list[str]:
    with world.sessions() as session:
        return list(session.scalars(select(AuditRow.kind).order_by(AuditRow.seq)))


def test_close_asks_first_then_cancels_the_bracket_and_sells_the_whole_position_once(world) -> None:
    pid = _bought(world)
    ask = world.service.close("eth", "alice")
    assert (ask.ok, ask.code, ask.needs_confirmation) == (False, "CONFIRM_CLOSE", True)
    assert "LONG 1 ETH" in ask.message and "take-profit at 3,135" in ask.message and "stop-loss at 2,910" in ask.message
    assert ask.close is not None and ask.close.client_order_id is None and _exits(world) == []

    done = world.service.close("ETH", "alice", confirm=True)
    assert (done.ok, done.code) == (True, "OK") and done.close is not None
    assert done.close.fill_price == pytest.approx(EXIT) and done.close.status == "filled"
    assert done.close.realized_pnl == pytest.approx(ROUND_TRIP)
    [close] = _exits(world)
    assert (close.role, close.side, close.quantity, close.proposal_id) == ("close", "sell", 1.0, pid)
    assert close.client_order_id.endswith(f"-x{_entry_id(world, pid)}-1")
    legs = {o.role: o.status for o in world.service.orders() if o.role in ("take_profit", "stop_loss")}
    assert legs == {"take_profit": "canceled", "stop_loss": "canceled"}
    assert _sim_held(world, "ETH") == 0.0 and world.service.positions() == []

    again = world.service.close("ETH", "bob", confirm=True)
    assert (again.ok, again.code) == (True, "ALREADY_CLOSED") and "ended by an operator's /close" in again.message
    assert "Nothing was sent" in again.message and len(_exits(world)) == 1
    assert world.service.close("SOL", "alice", confirm=True).code == "NO_POSITION"
    kinds = _audit_kinds(world)
    assert kinds.count("position.close") == 1 and kinds.count("order.cancel") == 2
    with world.sessions() as session:
        assert audit.verify(session).intact


def _entry_id(world, pid: int) -> int:
    with world.sessions() as session:
        return session.scalars(select(OrderRow.id).where(OrderRow.proposal_id == pid, OrderRow.role == "entry")).one()


def test_a_short_is_bought_back(world) -> None:
    _bought(world, side="sell", probability=0.58)
    assert _sim_held(world, "ETH") == -1.0
    done = world.service.close("ETH", "alice", confirm=True)
    assert done.code == "OK" and done.close is not None and done.close.side == "short"
    assert _exits(world)[0].side == "buy" and _sim_held(world, "ETH") == 0.0


def test_two_closes_at_once_send_one_order(db_url: str, bars_dir: Path) -> None:
    worlds = [make_world(db_url, Clock(WALL), sim_factory(bars_dir)) for _ in range(3)]  # three processes, one store
    _bought(worlds[0])
    results, barrier = [], threading.Barrier(3)

    def close(w) -> None:
        barrier.wait()
        results.append(w.service.close("ETH", "alice", confirm=True))

    threads = [threading.Thread(target=close, args=(w,)) for w in worlds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # One close goes out; the others find it on its way, or (a slow thread) the position already closed.
    codes = [r.code for r in results]
    assert codes.count("OK") == 1 and set(codes) <= {"OK", "ALREADY_CLOSING", "ALREADY_CLOSED", "NO_POSITION"}, codes
    with worlds[0].sessions() as session:
        closes = session.scalars(select(SimOrderRow).where(SimOrderRow.client_order_id.like("%-x%"))).all()
    assert len(closes) == 1 and _sim_held(worlds[0], "ETH") == 0.0


def test_a_close_interrupted_before_it_was_sent_is_never_sent_twice(world) -> None:
    from trading.broker import OrderRequest

    pid = _bought(world)
    with world.sessions() as session:
        prefix = f"tb-{session.get_one(StateRow, 'trading.store_id').value}-x{_entry_id(world, pid)}"
    # The intent was written, then the process died before the broker heard of it.
    assert world.desk.executor.open(pid, OrderRequest(f"{prefix}-1", "ETH", "sell", 1.0), "alice", role="close")
    waiting = world.service.close("ETH", "alice", confirm=True)
    assert (waiting.ok, waiting.code) == (True, "ALREADY_CLOSING") and _sim_held(world, "ETH") == 1.0
    world.clock.advance(minutes=3)
    world.desk.reconcile()  # not at the broker after the grace period: failed, never resent
    assert [o.status for o in _exits(world)] == ["failed"]
    done = world.service.close("ETH", "alice", confirm=True)
    assert done.code == "OK" and done.close is not None and done.close.client_order_id == f"{prefix}-2"
    assert _sim_held(world, "ETH") == 0.0


def test_the_horizon_exit_closes_a_position_once_its_signal_horizon_has_passed(world) -> None:
    pid = _bought(world)
    world.clock.advance(hours=23)  # market 2025-12-14 09:14: the 24 h horizon ends at 10:14
    assert world.service.trading_tick().exits == () and _sim_held(world, "ETH") == 1.0
    [held] = world.service.held()
    assert held.horizon_end == AS_OF + timedelta(hours=24) and not held.kept and held.proposal_ids == (pid,)
    world.clock.advance(hours=1, minutes=1)
    assert world.service.trading_tick().exits == ("ETH",)
    assert _sim_held(world, "ETH") == 0.0
    [close] = _exits(world)
    assert close.role == "horizon_exit" and close.status == "filled"
    alert = world.notifier.alerts[-1]
    assert alert.kind == "exit" and "horizon ended at 2025-12-14 10:14 UTC" in alert.text
    [trade] = world.service.trades()
    assert trade.exit == "horizon_exit" and trade.realized_pnl == pytest.approx(ROUND_TRIP)
    assert world.service.trading_tick().exits == ()  # and only once


def test_keep_holds_a_position_past_its_horizon_until_released(world) -> None:
    _bought(world)
    kept = world.service.keep("ETH", "alice")
    assert kept.ok and kept.position is not None and kept.position.kept
    assert "stays open past its signal's horizon (2025-12-14 10:14 UTC)" in kept.message
    world.clock.advance(hours=26)
    assert world.service.trading_tick().exits == () and _sim_held(world, "ETH") == 1.0
    assert world.service.keep("ETH", "alice", keep=False).ok
    assert world.service.trading_tick().exits == ("ETH",)
    assert world.service.keep("ETH", "alice").code == "NO_POSITION"
    assert "position.keep" in _audit_kinds(world)


def test_the_horizon_exit_can_be_switched_off(db_url: str, bars_dir: Path) -> None:
    world = make_world(db_url, Clock(WALL), sim_factory(bars_dir), horizon_exit=False)
    _bought(world)
    world.clock.advance(hours=30)
    assert world.service.trading_tick().exits == () and _sim_held(world, "ETH") == 1.0
    assert world.service.held()[0].horizon_exit is False


def test_reducing_sends_exits_and_halted_waits_for_an_operator(world) -> None:
    _bought(world)
    _bought(world, symbol="SOL", price=130.0, quantity=10.0, as_of=AS_OF + timedelta(minutes=1))
    pause = world.service.pause("alice")
    assert pause.protected == 2 and pause.horizon_exit
    world.clock.advance(hours=25)
    assert world.service.trading_tick().exits == ()  # HALTED: no automatic exit
    assert _sim_held(world, "ETH") == 1.0
    by_operator = world.service.close("ETH", "alice", confirm=True)  # the exit rule: an operator's close passes
    assert by_operator.code == "OK" and _sim_held(world, "ETH") == 0.0
    world.service.reduce("alice")
    assert world.service.trading_tick().exits == ("SOL",)  # REDUCING: exits go on
    assert _sim_held(world, "SOL") == 0.0


def test_flatten_asks_then_closes_everything(world) -> None:
    _bought(world)
    _bought(world, symbol="SOL", price=130.0, quantity=10.0, as_of=AS_OF + timedelta(minutes=1))
    ask = world.service.flatten("alice")
    assert ask.needs_confirmation and [c.symbol for c in ask.closes] == ["ETH", "SOL"]
    assert "LONG 1 ETH" in ask.message and "LONG 10 SOL" in ask.message and _exits(world) == []
    done = world.service.flatten("alice", confirm=True)
    assert done.ok and [(c.symbol, c.status) for c in done.closes] == [("ETH", "filled"), ("SOL", "filled")]
    assert [o.role for o in _exits(world)] == ["flatten", "flatten"]
    assert world.service.positions() == []
    assert world.service.flatten("alice", confirm=True).code == "NOTHING_OPEN"


def test_pnl_profit_trades_daily_and_eval_agree_on_the_same_fills(world) -> None:
    _bought(world)  # closed below at the next bar: a loss of the spread and fees
    _bought(world, symbol="SOL", price=130.0, quantity=10.0, as_of=AS_OF + timedelta(minutes=1))  # still open
    world.clock.advance(hours=2)
    assert world.service.close("ETH", "alice", confirm=True).code == "OK"
    pnl = world.service.pnl()
    profit = world.service.profit()
    trades = world.service.trades()
    daily = world.service.daily(3)
    with world.sessions() as session:
        evaluation = load_trades(session)
    sol_fee = 130.0 * 1.0005 * 10 * 0.001
    assert pnl.realized_pnl == pytest.approx(ROUND_TRIP - sol_fee)
    assert profit.realized_pnl == pytest.approx(pnl.realized_pnl) and profit.fees == pytest.approx(pnl.fees)
    assert sum(t.realized_pnl for t in trades) == pytest.approx(pnl.realized_pnl)
    assert daily.realized_pnl == pytest.approx(pnl.realized_pnl)
    assert evaluation.realized_pnl == pytest.approx(pnl.realized_pnl)
    assert (profit.closed, profit.trades, profit.winners, profit.losers) == (1, 2, 0, 1)
    assert profit.best is not None and profit.best.symbol == "ETH" and profit.closed_pnl == pytest.approx(ROUND_TRIP)
    [(symbol, closed)] = [(r.symbol, r.closed) for r in world.service.performance() if r.closed]
    assert symbol == "ETH" and closed == 1
    # Equity is the start plus realised plus unrealised, to the cent.
    assert pnl.equity == pytest.approx(100_000.0 + pnl.realized_pnl + pnl.unrealized_pnl)
    assert [d.day for d in daily.days] == ["2025-12-13", "2025-12-12", "2025-12-11"]
