"""Market hours from exchange_calendars and the catalogue's calendars: holidays, early closes, years ahead."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from providers.catalogue import load_catalogue, use_catalogue
from tests.conftest import utc
from trading import market_hours
from trading.guards import GuardContext, OrderIntent, market_open
from trading.guards import AccountSnapshot, Activity
from trading.state import TradingState


def test_the_calendar_knows_2028_with_its_holidays() -> None:
    nyse = market_hours.sessions("XNYS")
    assert nyse.session_on(utc(2028, 1, 17).date()) is None  # Martin Luther King Jr. Day
    assert nyse.session_on(utc(2028, 11, 23).date()) is None  # Thanksgiving
    assert nyse.session_on(utc(2028, 12, 25).date()) is None  # Christmas
    assert nyse.session_on(utc(2028, 3, 15).date()) == (utc(2028, 3, 15, 13, 30), utc(2028, 3, 15, 20))  # summer time
    assert market_hours.calendar_known(utc(2028, 6, 1, 15)) and market_hours.is_open("SPY", utc(2028, 6, 1, 15))


@pytest.mark.parametrize("day", [(2025, 11, 28), (2026, 11, 27), (2028, 11, 24)])
def test_the_day_after_thanksgiving_closes_at_one(day: tuple[int, int, int]) -> None:
    open_, close = market_hours.sessions("XNYS").session_on(utc(*day).date())
    assert (open_, close) == (utc(*day, 14, 30), utc(*day, 18))  # 09:30 to 13:00 New York
    assert market_hours.is_open("AAPL", close - timedelta(minutes=1))
    assert not market_hours.is_open("AAPL", close) and not market_hours.is_open("AAPL", utc(*day, 20))


def test_christmas_eve_and_independence_day_eve_close_early_when_they_are_sessions() -> None:
    assert market_hours.sessions("XNYS").session_on(utc(2025, 12, 24).date())[1] == utc(2025, 12, 24, 18)
    assert market_hours.sessions("XNYS").session_on(utc(2028, 7, 3).date())[1] == utc(2028, 7, 3, 17)


def test_coins_trade_around_the_clock_and_the_next_open_follows_the_sessions() -> None:
    saturday_night = utc(2028, 11, 25, 3)
    assert market_hours.is_open("BTC", saturday_night) and market_hours.is_open("DOGE", utc(2028, 12, 25, 12))
    assert not market_hours.is_open("SPY", saturday_night)
    assert market_hours.next_open("XNYS", saturday_night) == utc(2028, 11, 27, 14, 30)
    assert market_hours.next_open("24/7", saturday_night) == saturday_night


def test_past_the_years_the_calendar_reads_it_says_it_does_not_know() -> None:
    assert not market_hours.calendar_known(utc(2041, 1, 2, 15))
    assert market_hours.calendar_known(utc(2041, 1, 2, 15), "BTC")


def test_the_asset_class_comes_from_the_catalogue_not_a_guess(tmp_path: Path) -> None:
    assert market_hours.asset_class("SOL") == "crypto" and market_hours.asset_class("QQQ") == "etf"
    assert market_hours.asset_class("MSTR") == "us_equity"
    # Not in the catalogue: treated as a US stock (the stricter hours), until the user's file says otherwise.
    assert market_hours.asset_class("POL") == "us_equity" and not market_hours.is_open("POL", utc(2028, 11, 25, 3))
    mine = tmp_path / "assets.csv"
    mine.write_text("symbol,name,asset_class\nPOL,Polygon,crypto\n", encoding="utf-8")
    use_catalogue(load_catalogue(mine))
    assert market_hours.asset_class("POL") == "crypto" and market_hours.is_open("POL", utc(2028, 11, 25, 3))


def test_an_unknown_calendar_code_is_a_clear_error() -> None:
    with pytest.raises(market_hours.CalendarError, match="unknown exchange calendar 'XNOPE'"):
        market_hours.sessions("XNOPE")


def _context(at) -> GuardContext:
    return GuardContext(TradingState.ACTIVE, AccountSnapshot(100_000.0, 100_000.0, 100_000.0), Activity(), at, at)


def _intent(symbol: str, at) -> OrderIntent:
    return OrderIntent(symbol, "buy", 1.0, 100.0, at, 0.6, 0.02, at)


def test_the_market_hours_guard_refuses_a_stock_after_an_early_close_and_passes_a_coin() -> None:
    after_early_close, morning = utc(2028, 11, 24, 18, 30), utc(2028, 11, 24, 15)
    breach = market_open(_intent("SPY", after_early_close), _context(after_early_close), None)  # type: ignore[arg-type]
    assert breach is not None and breach.code == "GUARD_MARKET_CLOSED"
    assert market_open(_intent("SPY", morning), _context(morning), None) is None  # type: ignore[arg-type]
    assert market_open(_intent("BTC", after_early_close), _context(after_early_close), None) is None  # type: ignore[arg-type]
    later = utc(2041, 3, 4, 15)
    breach = market_open(_intent("AAPL", later), _context(later), None)  # type: ignore[arg-type]
    assert breach is not None and "not known" in breach.message
