"""Values as typed in chat or the shell, each to one checked value or a ValueError that says what was
expected: proposal ids, counts, asset symbols, days; and /subscribe's words. Standard library only:
every command-line call, `--help` included, imports the command table and with it this module."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from service.roles import UsageError

MAX_SYMBOL = 16
MAX_ID_DIGITS = 18  # every id fits a signed 64-bit column
MAX_COUNT = 1000
MAX_DAYS = 90  # the longest chart window (service/charts.py checks it again)
_DAYS = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3})?")


def parse_id(text: str) -> int:
    """A proposal id as typed: ASCII digits (a leading # allowed), within the id range."""
    digits = text[1:] if text.startswith("#") else text
    if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > MAX_ID_DIGITS or int(digits) == 0:
        raise ValueError(f"{text!r} is not a proposal id (a number such as 12)")
    return int(digits)


def parse_count(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_COUNT:
        raise ValueError(f"{text!r} is not a count from 1 to {MAX_COUNT}")
    return int(text)


def parse_symbol(text: str) -> str:
    """An asset's symbol as typed (eth, $ETH, ETH): upper case; letters, digits, '.' and '-' only."""
    symbol = text.removeprefix("$").upper()
    if not symbol or len(symbol) > MAX_SYMBOL or not symbol.isascii() or not all(c.isalnum() or c in ".-" for c in symbol):
        raise ValueError(f"{text[:40]!r} is not an asset symbol (such as ETH or SPY)")
    return symbol


def parse_days(text: str) -> float:
    """A number of days as typed: ASCII digits with at most one decimal point, more than 0 and at most MAX_DAYS."""
    if not _DAYS.fullmatch(text) or not 0 < float(text) <= MAX_DAYS:
        raise ValueError(f"{text[:40]!r} is not a number of days from more than 0 to {MAX_DAYS}")
    return float(text)


PARSERS: dict[str, Callable[[str], Any]] = {"id": parse_id, "count": parse_count, "symbol": parse_symbol,
                                             "days": parse_days}


SUBSCRIBE_USAGE = ("Usage: /subscribe [HH:MM] [Area/City] [alerts|noalerts] [sound|silent], "
                   "e.g. /subscribe 07:30 Europe/Berlin silent")
_TIME = re.compile(r"^\d{1,2}:\d{2}$")
_SWITCHES = {"alerts": ("alerts", True), "noalerts": ("alerts", False), "sound": ("silent", False),
             "silent": ("silent", True)}


@dataclass(frozen=True)
class SubscriptionRequest:
    """/subscribe's words: unset parts take the defaults (the settings' time and zone, alerts on, with sound)."""

    time: str | None = None
    zone: str | None = None
    alerts: bool = True
    silent: bool = False  # digests and alerts arrive without a sound (Telegram's disable_notification)


def subscription_request(tokens: Sequence[str]) -> SubscriptionRequest:
    """/subscribe's words in any order, each part at most once (a time, a zone, alerts|noalerts, sound|silent)."""
    found: dict[str, Any] = {}
    for token in tokens:
        switch = _SWITCHES.get(token.lower())
        part, value = switch if switch is not None else ("time", token) if _TIME.match(token) else ("zone", token)
        if part in found:
            raise UsageError(SUBSCRIBE_USAGE)
        found[part] = value
    return SubscriptionRequest(**found)
