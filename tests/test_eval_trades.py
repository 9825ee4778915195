"""Realised P&L of approved trades from their fills, by hand (trading/trades.py's round trips, which the
evaluation reads) and through a real store."""
from __future__ import annotations

import pytest

from eval.trades import load_trades
from storage.db import open_store
from tests.conftest import utc
from tests.eval_fixtures import store_filled_trade, store_signal
from trading.trades import Trade, TradeFill, round_trips

T = utc(2025, 12, 13, 10)


def fills(*rows: tuple[str, float, float, float]) -> list[TradeFill]:
    return [TradeFill(n, 0, 1, "sim", "BTC", side, q, p, fee, utc(2025, 12, 13, 10 + n), "entry")
            for n, (side, q, p, fee) in enumerate(rows)]


def trade_pnl(rows: list[TradeFill]) -> Trade:
    [trade] = round_trips(rows).trades
    return trade


def test_a_long_closed_in_two_exits_realises_each_part_after_fees() -> None:
    # +4 x (110 - 100) - 6 x (100 - 95) = 40 - 30 = 10, minus 2 in fees
    trade = trade_pnl(fills(("buy", 10, 100, 1.0), ("sell", 4, 110, 0.5), ("sell", 6, 95, 0.5)))
    assert trade.realized_pnl == pytest.approx(8.0) and trade.fees == pytest.approx(2.0)
    assert trade.closed


def test_a_short_gains_when_it_buys_back_lower() -> None:
    trade = trade_pnl(fills(("sell", 2, 50, 0.0), ("buy", 2, 45, 0.0)))
    assert trade.realized_pnl == pytest.approx(10.0) and trade.closed


def test_a_trade_still_open_counts_only_what_it_closed() -> None:
    trade = trade_pnl(fills(("buy", 5, 10, 0.0), ("sell", 2, 12, 0.0)))
    assert trade.realized_pnl == pytest.approx(4.0)
    assert not trade.closed and trade.open_quantity == pytest.approx(3.0)


def test_malformed_fills_are_refused() -> None:
    with pytest.raises(ValueError, match="malformed fill"):
        round_trips(fills(("hold", 1, 10, 0.0)))
    assert round_trips([]).trades == ()


def test_trades_come_from_the_stored_fills_of_each_proposal(database_url: str) -> None:
    sessions = open_store(database_url)
    first = store_signal(sessions, "BTC", T, "BUY", 0.6)
    second = store_signal(sessions, "ETH", T, "SELL", 0.55)
    store_filled_trade(sessions, first, "BTC", [("buy", 0.1, 90_000.0, 1.0), ("sell", 0.1, 91_000.0, 1.0)], T)
    store_filled_trade(sessions, second, "ETH", [("sell", 2.0, 3_000.0, 0.5)], T)
    with sessions() as session:
        summary = load_trades(session)
    by_symbol = {t.symbol: t for t in summary.trades}
    assert by_symbol["BTC"].realized_pnl == pytest.approx(100.0 - 2.0) and by_symbol["BTC"].signal_id == first
    assert not by_symbol["ETH"].closed and by_symbol["ETH"].realized_pnl == pytest.approx(-0.5)
    assert summary.winners == 1 and len(summary.closed) == 1
    assert summary.realized_pnl == pytest.approx(97.5)
