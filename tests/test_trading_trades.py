"""Round trips from fills and the one definition of realised P&L (trading/trades.py): by hand, and as
properties over random fill sequences."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import utc
from trading.trades import TradeFill, round_trips

T0 = utc(2025, 12, 13, 10)


def _fills(*rows: tuple[str, float, float, float], symbol: str = "ETH") -> list[TradeFill]:
    return [TradeFill(n, n, 7, "sim", symbol, side, q, p, fee, T0 + timedelta(hours=n), "entry" if n == 0 else "close")
            for n, (side, q, p, fee) in enumerate(rows)]


def test_a_round_trip_realises_its_gain_after_every_fee() -> None:
    book = round_trips(_fills(("buy", 2, 100, 0.2), ("sell", 2, 110, 0.22)))
    [trade] = book.trades
    assert trade.closed and trade.direction == "long" and trade.exit_role == "close"
    assert trade.gross_pnl == pytest.approx(20.0) and trade.fees == pytest.approx(0.42)
    assert trade.realized_pnl == pytest.approx(19.58) and book.realized_pnl == pytest.approx(19.58)
    assert (trade.entry_price, trade.exit_price, trade.size) == (100, 110, 2)
    assert trade.return_pct == pytest.approx(19.58 / 200)


def test_an_entry_fee_is_realised_when_paid() -> None:
    book = round_trips(_fills(("buy", 1, 3000, 3.0)))
    [trade] = book.trades
    assert not trade.closed and trade.open_quantity == 1 and trade.realized_pnl == pytest.approx(-3.0)
    assert [f.realized for f in book.flows] == [-3.0]


def test_a_fill_through_flat_closes_one_trade_and_opens_the_next_with_its_fee_split() -> None:
    book = round_trips(_fills(("buy", 1, 100, 0.0), ("sell", 3, 90, 0.3)))
    first, second = book.trades
    assert first.closed and first.realized_pnl == pytest.approx(-10.0 - 0.1)
    assert second.direction == "short" and second.open_quantity == -2 and second.realized_pnl == pytest.approx(-0.2)
    assert second.entry_price == 90 and second.opened_at == first.closed_at


def test_brokers_and_assets_keep_separate_books() -> None:
    fills = _fills(("buy", 1, 100, 0.0), ("sell", 1, 100, 0.0))
    other = [TradeFill(10 + f.fill_id, f.order_id, None, "alpaca", "ETH", f.side, f.quantity, f.price, 0.0, f.filled_at, "entry")
             for f in fills[:1]]
    book = round_trips(fills + other + _fills(("sell", 5, 20, 0.0), symbol="SOL"))
    assert [(t.broker, t.symbol, t.closed) for t in book.trades] == [("sim", "ETH", True), ("sim", "SOL", False),
                                                                      ("alpaca", "ETH", False)]


def test_malformed_fills_are_refused() -> None:
    with pytest.raises(ValueError, match="malformed fill"):
        round_trips(_fills(("hold", 1, 10, 0.0)))
    with pytest.raises(ValueError, match="malformed fill"):
        round_trips(_fills(("buy", 1, 10, -1.0)))


quantities = st.floats(0.001, 50, allow_nan=False)
prices = st.floats(1, 5000, allow_nan=False)
fees = st.floats(0, 5, allow_nan=False)


@st.composite
def closed_trades(draw: st.DrawFn) -> list[tuple[str, float, float, float]]:
    """Open, add and reduce (never through flat), then close what is left: one round trip."""
    side = draw(st.sampled_from(("buy", "sell")))
    other = "sell" if side == "buy" else "buy"
    held = draw(quantities)
    rows = [(side, held, draw(prices), draw(fees))]
    for _ in range(draw(st.integers(0, 6))):
        if draw(st.booleans()):
            q = draw(quantities)
            rows.append((side, q, draw(prices), draw(fees)))
            held += q
        else:
            q = held * draw(st.floats(0.05, 0.9))
            rows.append((other, q, draw(prices), draw(fees)))
            held -= q
    rows.append((other, held, draw(prices), draw(fees)))
    return rows


@given(closed_trades())
def test_a_closed_position_realises_the_sum_of_its_fills_minus_fees(rows) -> None:
    book = round_trips(_fills(*rows))
    [trade] = book.trades
    cash = sum((q * p if side == "sell" else -q * p) for side, q, p, _ in rows)
    paid = sum(fee for *_, fee in rows)
    assert trade.closed and trade.open_quantity == 0
    assert trade.realized_pnl == pytest.approx(cash - paid, rel=1e-9, abs=1e-6)
    assert sum(f.realized for f in book.flows) == pytest.approx(trade.realized_pnl, rel=1e-9, abs=1e-6)
    assert sum(f.closes_trade for f in book.flows) == 1


@given(st.lists(st.tuples(st.sampled_from(("buy", "sell")), quantities, prices, fees), min_size=1, max_size=12), prices)
def test_realised_plus_unrealised_is_what_the_account_made(rows, mark) -> None:
    book = round_trips(_fills(*rows))
    cash = sum((q * p if side == "sell" else -q * p) for side, q, p, _ in rows) - sum(fee for *_, fee in rows)
    position = sum(q if side == "buy" else -q for side, q, _, _ in rows)
    unrealized = sum((mark - t.avg_cost) * t.open_quantity for t in book.open)
    assert book.realized_pnl + unrealized == pytest.approx(cash + position * mark, rel=1e-9, abs=1e-5)
    assert len(book.open) <= 1  # one asset, one broker: at most one trade open at a time
