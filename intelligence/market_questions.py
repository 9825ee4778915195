"""Prediction-market questions read into what they ask: which asset, what kind of price event, which level, when.

Polymarket titles its price markets in a handful of shapes, seen in its Gamma API answers:

- "Will the price of Bitcoin be above $96,000 on November 10?" / "... less than $3,000 on ...": the price
  at a moment against a threshold (ABOVE, BELOW);
- "Will the price of Ethereum be between $4,200 and $4,400 on October 4?": a band (BETWEEN);
- "Bitcoin Up or Down - November 25, 2PM ET", "Bitcoin Up or Down on December 25?": whether one candle
  (a quarter hour, an hour, a day) closes at or above its open (UP_DOWN);
- "Will NVIDIA (NVDA) close above $240 end of January?": a stock's official close (ABOVE, BELOW);
- "Will Bitcoin reach $150,000 in October?", "Will Bitcoin dip to $94,000 November 10-16?": a level
  touched at any time before the end (REACH, DIP).

Anything else (elections, box office, "Will MicroStrategy buy more Bitcoin?") is not a price question
and says so. Which asset a question names is decided against the universe's assets by their name,
aliases and tickers, never against a list kept here. Pure: text in, a reading out.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from datetime import timedelta
from enum import Enum
from typing import Sequence

from intelligence.types import Asset, normalize_text


class MarketKind(str, Enum):
    ABOVE = "above"  # the price at the end is above the threshold
    BELOW = "below"
    BETWEEN = "between"  # the price at the end lies in [threshold, upper)
    UP_DOWN = "up_down"  # one candle closes at or above its open ("Up")
    REACH = "reach"  # the price touches the threshold before the end
    DIP = "dip"


@dataclass(frozen=True)
class MarketQuestion:
    subject: str  # the asset as the question names it: "Bitcoin", "NVIDIA (NVDA)"
    kind: MarketKind
    threshold: float | None  # None for UP_DOWN
    upper: float | None  # the top of a BETWEEN band
    when: str  # the date words as written: "November 10", "November 25, 2PM ET", "end of January"
    window: timedelta | None  # UP_DOWN: the candle it compares; None when the title does not say


@dataclass(frozen=True)
class NotRead:
    """Why a question is left alone, in words fit for a count in the artifact."""

    reason: str


NOT_PRICE = "not a price question"
NO_ASSET = "names no asset of the universe"
SEVERAL_ASSETS = "names more than one asset of the universe"

_MONEY = r"\$\s?(?P<{n}>\d[\d,]*(?:\.\d+)?)\s?(?P<{n}s>[kmb])?\b"
_LEAD = r"^(?:will\s+)?(?:the\s+price\s+of\s+)?(?P<subject>[^?]+?)"
_VERB = r"(?:\s+(?:be|close|trade|finish|end|settle|stay|remain|hold))?(?:\s+the\s+(?:day|week|month|year))?"
_WHEN = r"(?P<when>[^?]*?)\s*\??$"
_ABOVE = ("above", "over", "higher than", "greater than", "at or above", "more than")
_BELOW = ("below", "under", "lower than", "less than", "at or below")
_REACH = ("reach", "hit", "rise to", "climb to", "surpass", "exceed")
_DIP = ("dip to", "fall to", "drop to", "sink to", "dip below", "fall below")


def _alternatives(words: Sequence[str]) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


_BETWEEN_RE = re.compile(
    _LEAD + _VERB + r"\s+between\s+" + _MONEY.format(n="low") + r"\s+and\s+" + _MONEY.format(n="high") + r"\s*" + _WHEN,
    re.IGNORECASE)
_THRESHOLD_RE = re.compile(
    _LEAD + _VERB + rf"\s+(?P<side>{_alternatives(_ABOVE + _BELOW)})\s+" + _MONEY.format(n="x") + r"\s*" + _WHEN,
    re.IGNORECASE)
_TOUCH_RE = re.compile(
    _LEAD + rf"\s+(?P<side>{_alternatives(_REACH + _DIP)})\s+" + _MONEY.format(n="x") + r"\s*" + _WHEN, re.IGNORECASE)
_UP_DOWN_RE = re.compile(r"^(?P<subject>[^?]+?)\s+up\s+or\s+down\b\s*(?:on\b|[-–—:,])?\s*" + _WHEN, re.IGNORECASE)
# "6:45AM-7:00AM ET", "4PM-8PM ET": a window with both ends; "2PM ET": an hourly candle.
_CLOCK = r"(?P<{n}h>\d{{1,2}})(?::(?P<{n}m>\d{{2}}))?\s?(?P<{n}p>[ap]m)"
_RANGE_RE = re.compile(_CLOCK.format(n="a") + r"\s*[-–]\s*" + _CLOCK.format(n="b"), re.IGNORECASE)
_ONE_TIME_RE = re.compile(r"\b" + _CLOCK.format(n="a") + r"\b", re.IGNORECASE)
_MONTH_DAY_RE = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|december)\s+\d{1,2}\b",
    re.IGNORECASE)
_SUFFIX = {"k": 1e3, "m": 1e6, "b": 1e9}
_LEADING_WORDS = re.compile(r"^(?:the\s+)", re.IGNORECASE)
_TRAILING_WORDS = re.compile(r"(?:'s|’s)?(?:\s+(?:price|token|coin|stock|shares))?$", re.IGNORECASE)
# A subject is a name, not a clause: these words mean the question is about something else.
_CLAUSE_WORDS = re.compile(r"\b(?:be|will|who|what|which|market\s+cap|holdings|etf|volume|supply)\b", re.IGNORECASE)


def _money(match: re.Match[str], name: str) -> float | None:
    digits = match.group(name).replace(",", "")
    suffix = (match.group(name + "s") or "").lower()
    try:
        value = float(digits) * _SUFFIX.get(suffix, 1.0)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _minutes(match: re.Match[str], prefix: str) -> int:
    hour = int(match.group(prefix + "h")) % 12
    if match.group(prefix + "p").lower() == "pm":
        hour += 12
    return hour * 60 + int(match.group(prefix + "m") or 0)


def candle_window(when: str) -> timedelta | None:
    """How long the candle of an Up-or-Down market lasts, from its date words; None when they do not say."""
    found = _RANGE_RE.search(when)
    if found:
        span = (_minutes(found, "b") - _minutes(found, "a")) % (24 * 60)
        return timedelta(minutes=span) if span else None
    if _ONE_TIME_RE.search(when):
        return timedelta(hours=1)
    if _MONTH_DAY_RE.search(when):
        return timedelta(days=1)
    return None


@lru_cache(maxsize=8192)
def parse_question(text: str) -> MarketQuestion | NotRead:
    """The price event a market's question asks about, or why it is not one read here. Cached: a market is
    asked about every cycle for as long as it runs, and its title does not change."""
    question = normalize_text(text.replace("’", "'"))
    if not question:
        return NotRead("empty question")
    lowered = question.lower()
    if "up or down" not in lowered and "$" not in question:  # every shape read here has one or the other
        return NotRead(NOT_PRICE)
    found = _UP_DOWN_RE.match(question) if "up or down" in lowered else None
    if found:
        when = found.group("when").strip()
        return _checked(MarketQuestion(found.group("subject"), MarketKind.UP_DOWN, None, None, when, candle_window(when)))
    found = _BETWEEN_RE.match(question)
    if found:
        low, high = _money(found, "low"), _money(found, "high")
        if low is None or high is None or high <= low:
            return NotRead("a band whose top is not above its bottom")
        return _checked(MarketQuestion(found.group("subject"), MarketKind.BETWEEN, low, high, _when(found), None))
    for pattern in (_THRESHOLD_RE, _TOUCH_RE):
        found = pattern.match(question)
        if found:
            level = _money(found, "x")
            if level is None:
                return NotRead("a price level that is not a positive number")
            return _checked(MarketQuestion(found.group("subject"), _side(found.group("side")), level, None, _when(found),
                                           None))
    return NotRead(NOT_PRICE)


def _when(match: re.Match[str]) -> str:
    return re.sub(r"^(?:on|at|by|in)\s+", "", match.group("when").strip(), flags=re.IGNORECASE)


def _side(word: str) -> MarketKind:
    word = " ".join(word.lower().split())
    if word in _ABOVE:
        return MarketKind.ABOVE
    if word in _BELOW:
        return MarketKind.BELOW
    return MarketKind.REACH if word in _REACH else MarketKind.DIP


def _checked(question: MarketQuestion) -> MarketQuestion | NotRead:
    subject = question.subject.strip(" \"'")
    if not subject or _CLAUSE_WORDS.search(subject) or len(subject.split()) > 5:
        return NotRead(NOT_PRICE)
    return MarketQuestion(subject, question.kind, question.threshold, question.upper, question.when, question.window)


def subject_names(subject: str) -> tuple[str, ...]:
    """The names a subject offers: "NVIDIA (NVDA)" offers "NVIDIA" and "NVDA"; "Bitcoin's price" offers "Bitcoin"."""
    parts = [subject]
    inside = re.findall(r"\(([^)]*)\)", subject)
    if inside:
        parts = [re.sub(r"\([^)]*\)", " ", subject), *inside]
    names = []
    for part in parts:
        part = _TRAILING_WORDS.sub("", _LEADING_WORDS.sub("", normalize_text(part))).strip(" $\"'")
        if part:
            names.append(part)
    return tuple(names)


class AssetNames:
    """The universe's names, aliases and tickers, indexed once for the many questions of a cycle."""

    def __init__(self, assets: Sequence[Asset]) -> None:
        self._assets = {asset.symbol: asset for asset in assets}
        self._spoken: dict[str, set[str]] = {}  # name or alias in lower case -> symbols
        self._written: dict[str, set[str]] = {}  # ticker or symbol as written -> symbols
        for asset in assets:
            for name in (asset.name, *asset.aliases):
                self._spoken.setdefault(name.lower(), set()).add(asset.symbol)
            for ticker in (*asset.tickers, asset.symbol):
                self._written.setdefault(ticker, set()).add(asset.symbol)

    def match(self, subject: str) -> Asset | NotRead:
        """The one asset the subject names (name and aliases case-insensitively, tickers and symbol exactly);
        the whole subject must be a name, so "Bitcoin miners" names no asset."""
        symbols: set[str] = set()
        for name in subject_names(subject):
            symbols |= self._spoken.get(name.lower(), set()) | self._written.get(name, set())
        if not symbols:
            return NotRead(NO_ASSET)
        if len(symbols) > 1:
            return NotRead(SEVERAL_ASSETS)
        return self._assets[symbols.pop()]


def match_asset(subject: str, assets: Sequence[Asset]) -> Asset | NotRead:
    """The one asset of `assets` the subject names; see AssetNames.match."""
    return AssetNames(assets).match(subject)
