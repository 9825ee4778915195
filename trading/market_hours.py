"""When a market is open. The time is an argument; the sessions come from a maintained calendar library.

An asset's calendar comes from the catalogue (its `calendar` column): crypto trades around the clock
("24/7"), US stocks and funds trade NYSE's sessions ("XNYS"). Sessions, holidays and early closes
(13:00 New York the day after Thanksgiving, Christmas Eve, some July 3rds) are exchange_calendars',
whose rules are kept up to date by its maintainers rather than typed into a table here; they are
read for 2000-2040 and past that the guard says the calendar is unknown rather than guess.
"""
from __future__ import annotations

import warnings
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from intelligence.types import ROUND_THE_CLOCK

NEW_YORK = ZoneInfo("America/New_York")
CALENDAR_START, CALENDAR_END = date(2000, 1, 1), date(2040, 12, 31)
# A symbol the catalogue does not know is treated as a US stock: the stricter hours, never the wider.
UNKNOWN_CALENDAR = "XNYS"


class CalendarError(ValueError):
    """A calendar code exchange_calendars does not know (a typo in the catalogue's calendar column)."""


@dataclass(frozen=True)
class Sessions:
    """The sessions of one exchange calendar as UTC times: opens[i] <= t < closes[i] is open."""

    code: str
    opens: tuple[datetime, ...]
    closes: tuple[datetime, ...]

    def is_open(self, at: datetime) -> bool:
        index = bisect_right(self.opens, at) - 1
        return index >= 0 and at < self.closes[index]

    def next_open(self, at: datetime) -> datetime | None:
        """The first session open at or after `at`; None past the calendar's end."""
        index = bisect_left(self.opens, at)
        return self.opens[index] if index < len(self.opens) else None

    def session_on(self, day: date) -> tuple[datetime, datetime] | None:
        """(open, close) of the session on this (exchange-local) day, None when there is none."""
        index = bisect_left(self.opens, datetime(day.year, day.month, day.day, tzinfo=timezone.utc))
        for i in (index, index - 1):
            if 0 <= i < len(self.opens) and self.opens[i].astimezone(NEW_YORK).date() == day:
                return self.opens[i], self.closes[i]
        return None


@lru_cache(maxsize=8)
def sessions(code: str) -> Sessions:
    """The sessions of an exchange calendar (built once per process: exchange_calendars takes about a second)."""
    import exchange_calendars as xcals  # with pandas: loaded only when a market with sessions is asked about

    try:
        with warnings.catch_warnings():
            # exchange_calendars 4.x reads Series.values, which pandas 3.1 marks as changing; its problem to
            # solve upstream, and noise in every log here until then.
            warnings.simplefilter("ignore", DeprecationWarning)
            calendar = xcals.get_calendar(code, start=CALENDAR_START.isoformat(), end=CALENDAR_END.isoformat())
    except xcals.errors.InvalidCalendarName:
        raise CalendarError(f"unknown exchange calendar {code!r} (e.g. XNYS)") from None
    schedule = calendar.schedule
    opens = tuple(datetime.fromtimestamp(ns / 1e9, timezone.utc) for ns in schedule["open"].astype("int64"))
    closes = tuple(datetime.fromtimestamp(ns / 1e9, timezone.utc) for ns in schedule["close"].astype("int64"))
    return Sessions(code, opens, closes)


def calendar_of(symbol: str) -> str:
    from providers.catalogue import catalogue_in_force

    asset = catalogue_in_force().get(symbol.upper())
    return asset.calendar if asset is not None else UNKNOWN_CALENDAR


def asset_class(symbol: str) -> str:
    """The catalogue's class of a symbol (crypto, us_equity, etf); "us_equity" when the catalogue lacks it."""
    from providers.catalogue import catalogue_in_force

    asset = catalogue_in_force().get(symbol.upper())
    return asset.asset_class if asset is not None else "us_equity"


def is_crypto(symbol: str) -> bool:
    return asset_class(symbol) == "crypto"


def calendar_open(code: str, at: datetime) -> bool:
    return code == ROUND_THE_CLOCK or sessions(code).is_open(at)


def is_open(symbol: str, at: datetime) -> bool:
    return calendar_open(calendar_of(symbol), at)


def next_open(code: str, at: datetime) -> datetime | None:
    """When the market next opens at or after `at` (`at` itself around the clock)."""
    return at if code == ROUND_THE_CLOCK else sessions(code).next_open(at)


def calendar_known(at: datetime, symbol: str | None = None) -> bool:
    """Past the calendar's years the answer would be a guess: the guard says so rather than trade on it."""
    if symbol is not None and calendar_of(symbol) == ROUND_THE_CLOCK:
        return True
    return CALENDAR_START <= at.astimezone(NEW_YORK).date() <= CALENDAR_END
