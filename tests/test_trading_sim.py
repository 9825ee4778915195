"""The simulated broker: next-bar-open fills, slippage and fees, brackets, persisted books, its clock."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from providers.bars import EmbeddedMarketData
from storage.db import open_store
from tests.conftest import utc
from tests.trading_fixtures import Clock, db_url, flat_bars, template_db, write_bars  # noqa: F401
from trading.broker import DuplicateClientOrderId, OrderRejected, OrderRequest
from trading.sim_broker import SimBroker

DAY0 = utc(2025, 12, 13)
AS_OF = utc(2025, 12, 13, 10, 14)
WALL = utc(2026, 3, 1, 12)


def _bars(directory: Path, rows=None) -> Path:
    # Flat at 3000 except where a test says otherwise; bar i opens at DAY0 + i hours.
    return write_bars(directory, "ETH", DAY0, rows or flat_bars(3000.0, 48))


@pytest.fixture
def world(db_url: str, tmp_path: Path):
    clock = Clock(WALL)
    sessions = open_store(db_url)

    def broker(rows=None) -> SimBroker:
        _bars(tmp_path / "bars", rows)
        sim = SimBroker(sessions, EmbeddedMarketData(tmp_path / "bars"), clock, 100_000.0, slippage_bps=10, fee_bps=20)
        sim.observe_data(AS_OF, WALL)
        return sim

    return clock, broker


def test_market_order_fills_at_the_next_bar_open_with_slippage_and_fee(world) -> None:
    clock, make = world
    rows = flat_bars(3000.0, 48)
    rows[11] = (3010.0, 3020.0, 3000.0, 3015.0)  # the 11:00 bar: the first to open after 10:14
    sim = make(rows)
    order = sim.submit(OrderRequest("c1", "ETH", "buy", 2.0))
    assert order.status == "filled" and order.filled_at == utc(2025, 12, 13, 11)
    assert order.filled_avg_price == pytest.approx(3010.0 * 1.001)
    fee = 2.0 * 3010.0 * 1.001 * 0.002
    assert order.fees == pytest.approx(fee)
    account = sim.account()
    assert account.cash == pytest.approx(100_000.0 - 2.0 * 3010.0 * 1.001 - fee)
    [position] = sim.positions()
    assert (position.symbol, position.quantity) == ("ETH", 2.0)
    assert position.market_price == 3000.0  # marked at the last close by 10:14 (the 09:00 bar)


def test_the_market_clock_replays_history_at_wall_speed_and_never_runs_back(world) -> None:
    clock, make = world
    sim = make()
    assert sim.market_time() == AS_OF
    clock.advance(minutes=50)
    assert sim.market_time() == AS_OF + timedelta(minutes=50)
    sim.observe_data(AS_OF - timedelta(hours=5), clock.now)  # an older snapshot seen later: no rewind
    assert sim.market_time() == AS_OF + timedelta(minutes=50)
    sim.observe_data(AS_OF + timedelta(hours=3), clock.now)  # newer data moves it forward
    assert sim.market_time() == AS_OF + timedelta(hours=3)
    assert sim.quote("ETH").at == utc(2025, 12, 13, 13)  # the last bar closed by 13:14


def test_take_profit_fills_when_a_closed_bar_trades_through_it_and_cancels_the_stop(world) -> None:
    clock, make = world
    rows = flat_bars(3000.0, 48)
    rows[13] = (3000.0, 3400.0, 2990.0, 3300.0)  # the 13:00 bar reaches the take-profit
    sim = make(rows)
    order = sim.submit(OrderRequest("c1", "ETH", "buy", 1.0, take_profit=3300.0, stop_loss=2800.0))
    assert order.status == "filled" and [leg.status for leg in order.legs] == ["new", "new"]
    clock.advance(hours=3, minutes=45)  # market 13:59: the 13:00 bar has not closed yet
    assert [leg.status for leg in sim.order_by_client_id("c1").legs] == ["new", "new"]
    clock.advance(minutes=1)
    take, stop = sim.order_by_client_id("c1").legs
    assert (take.role, take.status, take.filled_avg_price) == ("take_profit", "filled", 3300.0)
    assert (stop.role, stop.status) == ("stop_loss", "canceled")
    assert sim.positions() == []
    assert sim.account().equity == pytest.approx(100_000.0 + 300.0 - 3000.0 * 0.001 - 0.002 * (3000.0 * 1.001 + 3300.0), rel=1e-9)


def test_a_bar_through_both_exits_takes_the_stop_first(world) -> None:
    clock, make = world
    rows = flat_bars(3000.0, 48)
    rows[12] = (3000.0, 3400.0, 2700.0, 3000.0)
    sim = make(rows)
    sim.submit(OrderRequest("c1", "ETH", "buy", 1.0, take_profit=3300.0, stop_loss=2800.0))
    clock.advance(hours=3)
    take, stop = sim.order_by_client_id("c1").legs
    assert (stop.status, take.status) == ("filled", "canceled")
    assert stop.filled_avg_price == pytest.approx(2800.0 * 0.999)


def test_a_stop_gapped_through_fills_at_the_open(world) -> None:
    clock, make = world
    rows = flat_bars(3000.0, 48)
    rows[12] = (2500.0, 2600.0, 2400.0, 2550.0)
    sim = make(rows)
    sim.submit(OrderRequest("c1", "ETH", "buy", 1.0, take_profit=3300.0, stop_loss=2800.0))
    clock.advance(hours=3)
    _, stop = sim.order_by_client_id("c1").legs
    assert stop.filled_avg_price == pytest.approx(2500.0 * 0.999)


def test_a_limit_order_waits_for_a_closed_bar_through_its_price(world) -> None:
    clock, make = world
    rows = flat_bars(3000.0, 48)
    rows[12] = (3000.0, 3005.0, 2940.0, 2990.0)
    sim = make(rows)
    order = sim.submit(OrderRequest("c1", "ETH", "buy", 1.0, order_type="limit", limit_price=2950.0))
    assert order.status == "new"
    clock.advance(hours=2, minutes=45)
    assert sim.order_by_client_id("c1").status == "new"
    clock.advance(minutes=1)
    filled = sim.order_by_client_id("c1")
    assert (filled.status, filled.filled_avg_price, filled.filled_at) == ("filled", 2950.0, utc(2025, 12, 13, 12))


def test_without_a_next_bar_the_order_waits_and_the_books_survive_a_restart(world, tmp_path: Path) -> None:
    clock, make = world
    sim = make(flat_bars(3000.0, 11))  # the history ends with the 10:00 bar
    assert sim.submit(OrderRequest("c1", "ETH", "buy", 1.0)).status == "new"
    assert [o.client_order_id for o in sim.open_orders()] == ["c1"]
    restarted = make(flat_bars(3000.0, 12)[:11] + [(3100.0, 3110.0, 3090.0, 3100.0)])  # the 11:00 bar arrives
    order = restarted.order_by_client_id("c1")
    assert order.status == "filled" and order.filled_avg_price == pytest.approx(3100.0 * 1.001)
    assert restarted.open_orders() == [] and restarted.positions()[0].quantity == 1.0


def test_selling_without_a_position_opens_a_short(world) -> None:
    clock, make = world
    sim = make()
    sim.submit(OrderRequest("c1", "ETH", "sell", 2.0))
    [position] = sim.positions()
    assert position.quantity == -2.0
    account = sim.account()
    assert account.equity == pytest.approx(account.cash - 2.0 * 3000.0)


@pytest.mark.parametrize(("request_", "match"), [
    (OrderRequest("c2", "DOGE", "buy", 1.0), "no market data for DOGE"),
    (OrderRequest("c2", "ETH", "buy", 40.0), "insufficient buying power"),
    (OrderRequest("c2", "ETH", "sell", 40.0), "insufficient margin"),
    (OrderRequest("c2", "ETH", "buy", 0.0), "quantity must be positive"),
    (OrderRequest("c2", "ETH", "buy", 1.0, take_profit=2900.0, stop_loss=2800.0), "straddle"),
])
def test_rejections(world, request_: OrderRequest, match: str) -> None:
    clock, make = world
    sim = make()
    with pytest.raises(OrderRejected, match=match):
        sim.submit(request_)
    assert sim.order_by_client_id("c2") is None


def test_a_client_order_id_is_taken_once(world) -> None:
    clock, make = world
    sim = make()
    sim.submit(OrderRequest("c1", "ETH", "buy", 1.0))
    with pytest.raises(DuplicateClientOrderId):
        sim.submit(OrderRequest("c1", "ETH", "buy", 1.0))
    assert sim.positions()[0].quantity == 1.0


# --- a stock fills in its sessions ---------------------------------------------------------------------

STOCK_BARS = Path(__file__).resolve().parent / "data" / "bars" / "MSTR_1d.csv"  # daily, 2025-11-03 → 2025-12-15


def _stock_broker(db_url: str, tmp_path: Path, market_time) -> tuple[Clock, SimBroker]:
    (tmp_path / "stock").mkdir()
    (tmp_path / "stock" / "MSTR_1d.csv").write_bytes(STOCK_BARS.read_bytes())
    clock = Clock(WALL)
    sim = SimBroker(open_store(db_url), EmbeddedMarketData(tmp_path / "stock"), clock, 100_000.0, slippage_bps=0, fee_bps=0)
    sim.observe_data(market_time, WALL)
    return clock, sim


def _open_of(day) -> float:
    series = EmbeddedMarketData(STOCK_BARS.parent).bars_between("MSTR", day, day + timedelta(days=1))
    return series.bars[0].open


def test_a_stock_order_placed_on_a_saturday_fills_at_mondays_open(db_url: str, tmp_path: Path) -> None:
    saturday = utc(2025, 11, 8, 15)
    _, sim = _stock_broker(db_url, tmp_path, saturday)
    order = sim.submit(OrderRequest("s1", "MSTR", "buy", 10.0))
    # Monday 2025-11-10 09:30 New York is 14:30 UTC: the session's open, at that daily bar's open price.
    assert order.status == "filled" and order.filled_at == utc(2025, 11, 10, 14, 30)
    assert order.filled_avg_price == pytest.approx(_open_of(utc(2025, 11, 10)))


def test_a_stock_order_placed_before_the_bell_fills_at_that_days_open(db_url: str, tmp_path: Path) -> None:
    _, sim = _stock_broker(db_url, tmp_path, utc(2025, 11, 12, 11))  # Wednesday 06:00 New York
    order = sim.submit(OrderRequest("s2", "MSTR", "buy", 1.0))
    assert order.filled_at == utc(2025, 11, 12, 14, 30)
    assert order.filled_avg_price == pytest.approx(_open_of(utc(2025, 11, 12)))


def test_a_stock_order_in_session_fills_at_the_next_sessions_open_never_on_a_holiday(db_url: str, tmp_path: Path) -> None:
    # Wednesday before Thanksgiving, in session: the next bar is Friday's (Thursday is a holiday), a short session.
    _, sim = _stock_broker(db_url, tmp_path, utc(2025, 11, 26, 16))
    order = sim.submit(OrderRequest("s3", "MSTR", "buy", 1.0))
    assert order.filled_at == utc(2025, 11, 28, 14, 30)
    assert order.filled_avg_price == pytest.approx(_open_of(utc(2025, 11, 28)))
