"""The data types that cross the boundary between the providers (I/O) and the pure core."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from functools import cached_property
from typing import Protocol


def _require_utc(ts: datetime, what: str) -> None:
    if ts.tzinfo is None or ts.utcoffset() != timedelta(0):
        raise ValueError(f"{what} must be a timezone-aware UTC datetime, got {ts!r}")


_SPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Headline:
    source: str
    title: str
    published: datetime
    url: str = ""
    summary: str = ""
    # Symbols the publisher tagged the story with (Alpaca news): a tag names the asset like its name does.
    symbols: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _require_utc(self.published, "Headline.published")
        if not self.title.strip():
            raise ValueError("Headline.title is empty")

    # Cached (in the instance's __dict__, outside the dataclass fields, so equality and hashing are
    # unchanged): a cycle looks a headline's identity and text hash up many times, and a re-read feed
    # hands back the very same Headline objects (providers/feeds.py).
    @cached_property
    def id(self) -> str:
        """Stable identity: the same story from the same source is the same headline."""
        key = f"{self.source}\n{normalize_text(self.title).lower()}\n{self.url}"
        return hashlib.sha256(key.encode()).hexdigest()[:32]

    @cached_property
    def content_hash(self) -> str:
        """Identity of the text alone: sentiment is a function of it, whoever published it."""
        return hashlib.sha256(normalize_text(self.title).encode()).hexdigest()


@dataclass(frozen=True)
class Bar:
    """One OHLCV bar; `start` is the open time, the bar is known once `start + interval` has passed."""

    start: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float

    def __post_init__(self) -> None:
        _require_utc(self.start, "Bar.start")


ASSET_CLASSES = ("crypto", "us_equity", "etf")
ROUND_THE_CLOCK = "24/7"  # the calendar of a market that never closes (crypto)


@dataclass(frozen=True)
class BarSeries:
    """One symbol's bars in time order, their interval, and what was wrong with the source."""

    symbol: str
    interval: timedelta
    bars: tuple[Bar, ...]
    problems: tuple["Problem", ...]


class BarSource(Protocol):
    """Bars point in time: what a cycle reads, outcomes are judged on and the simulator fills from."""

    def bars_until(self, symbol: str, as_of: datetime) -> BarSeries: ...

    def bars_between(self, symbol: str, start: datetime, end: datetime) -> BarSeries: ...


@dataclass(frozen=True)
class Asset:
    """One entry of the asset catalogue (providers/embedded/catalogue/assets.csv, README "Universe").

    Aliases, ambiguous aliases, exclusions and context terms are matched as whole words; one written
    all in lower case matches in any case, one that starts with a capital needs that capital ("Target"
    the retailer, not a target). Tickers are matched case-sensitively ("LINK", not "link"); the
    symbol also counts as a cashtag ("$AAPL") or after an exchange ("NYSE: F")."""

    symbol: str
    name: str
    aliases: tuple[str, ...] = ()
    tickers: tuple[str, ...] = ()
    asset_class: str = "crypto"
    calendar: str = ROUND_THE_CLOCK  # an exchange_calendars code such as XNYS, or 24/7
    # Aliases that name the asset only when the text is also about it ("Wall Street", "Target").
    ambiguous: tuple[str, ...] = ()
    # Phrases that contain an alias but name something else ("S&P Global", "Dow Chemical").
    exclusions: tuple[str, ...] = ()
    # What the asset's news is about without naming it, with how much each term says on its own
    # (1 = as telling as a name). Weights here are the catalogue's, already split between the
    # assets that share a term (intelligence/assets.py).
    context: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if self.asset_class not in ASSET_CLASSES:
            raise ValueError(f"asset class {self.asset_class!r} is not one of {', '.join(ASSET_CLASSES)}")

    @property
    def is_crypto(self) -> bool:
        return self.asset_class == "crypto"


class Direction(str, Enum):
    BUY = "BUY"
    SELL = "SELL"
    HOLD = "HOLD"


@dataclass(frozen=True)
class Problem:
    """Something that went wrong in I/O and made the cycle degraded, said in plain words."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass(frozen=True)
class Polarity:
    positive: float
    negative: float
    neutral: float

    @property
    def label(self) -> str:
        scores = {"positive": self.positive, "negative": self.negative, "neutral": self.neutral}
        return max(scores, key=scores.__getitem__)

    @property
    def score(self) -> float:
        """Net polarity in [-1, 1]."""
        return self.positive - self.negative


@dataclass
class CycleInput:
    as_of: datetime
    headlines: list[Headline]
    bars: dict[str, list[Bar]]
    bar_interval: timedelta
    polarity: dict[str, Polarity] = field(default_factory=dict)  # by Headline.content_hash
