"""When a market is open. Pure: the time is an argument.

Crypto trades around the clock. US equities trade 09:30-16:00 New York time on weekdays that are
not NYSE full holidays; early closes (13:00 the day after Thanksgiving, Christmas Eve and some
July 3rds) are treated as full days on purpose: the guard errs on the side of allowing a
regular-hours order that the broker itself will still refuse after an early close.
"""
from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
OPEN, CLOSE = time(9, 30), time(16, 0)
# NYSE full-day closures (nyse.com/markets/hours-calendars), through the end of 2027.
NYSE_HOLIDAYS = frozenset(date.fromisoformat(d) for d in (
    "2025-01-01", "2025-01-09", "2025-01-20", "2025-02-17", "2025-04-18", "2025-05-26", "2025-06-19",
    "2025-07-04", "2025-09-01", "2025-11-27", "2025-12-25",
    "2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25", "2026-06-19", "2026-07-03",
    "2026-09-07", "2026-11-26", "2026-12-25",
    "2027-01-01", "2027-01-18", "2027-02-15", "2027-03-26", "2027-05-31", "2027-06-18", "2027-07-05",
    "2027-09-06", "2027-11-25", "2027-12-24",
))
CALENDAR_END = date(2027, 12, 31)
# The asset catalogue has no asset class (it holds crypto and SPY alike), so crypto is named here:
# the embedded nine and the other coins Alpaca lists against USD.
CRYPTO = frozenset({
    "BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "AVAX", "LINK", "BNB",
    "AAVE", "BAT", "BCH", "CRV", "DOT", "GRT", "LTC", "MKR", "PEPE", "SHIB", "SUSHI", "TRUMP", "UNI", "USDC",
    "USDT", "XTZ", "YFI",
})


def asset_class(symbol: str) -> str:
    """"crypto" for the coins above, "us_equity" for anything else (SPY, single stocks)."""
    return "crypto" if symbol.upper() in CRYPTO else "us_equity"


def is_open(symbol: str, at: datetime) -> bool:
    if asset_class(symbol) == "crypto":
        return True
    local = at.astimezone(NEW_YORK)
    if local.weekday() >= 5 or local.date() in NYSE_HOLIDAYS:
        return False
    return OPEN <= local.time() < CLOSE


def calendar_known(at: datetime) -> bool:
    """Past the holiday table the answer is a guess: the guard says so rather than trade on it."""
    return at.astimezone(NEW_YORK).date() <= CALENDAR_END
