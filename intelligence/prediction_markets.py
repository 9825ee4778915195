"""What the prediction markets say about the universe's assets, set beside the engine's own call.

A market's implied probability is its Yes (or Up) price over the sum of its two outcome prices. The
engine's signal is a different kind of statement: "over the next horizon the close will be beyond
the entry in this direction, with probability p". The two are set side by side as numbers only
where they ask the same question, i.e. when the call is *comparable*:

- same asset, and the engine made a call (BUY or SELL, not HOLD);
- the market was seen within MAX_QUOTE_LAG of the call (a live quote beside a snapshot's call is
  not a comparison);
- the market resolves within half a horizon of the end of the engine's horizon;
- the event is a direction: an Up-or-Down candle at least half a horizon long, or "above/below X"
  with X within AT_THE_MONEY of the price at the call (then "above X" is nearly "higher than now").

Then the engine's P(up) is p for a BUY and 1 - p for a SELL, and its P(yes) is P(up) for Up and
Above markets, 1 - P(up) for Below. Bands and touches ("reach", "dip to") ask about other events and
are never comparable. Every matched market still gets a number-free line; the numbers go to the
artifact. Pure: quotes, signals and the time come in as arguments.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Mapping, Sequence

from intelligence.market_questions import AssetNames, MarketKind, MarketQuestion, NotRead, parse_question
from intelligence.signal import Signal
from intelligence.types import Asset, Direction

MAX_QUOTE_LAG = timedelta(hours=2)
END_SLACK = 0.5  # of the horizon: how far the market's end may sit from the end of the engine's horizon
MIN_WINDOW_SHARE = 0.5  # of the horizon: an Up-or-Down candle shorter than this asks about noise
AT_THE_MONEY = 0.01  # |ln(threshold / price)|: within this, "above the threshold" is "higher than now"
PRICE_SUM_TOLERANCE = 0.1  # Yes + No mid prices sum to about one; far from it the quote is not a price
RESOLVED_PRICE = 0.99  # a closed market whose outcome trades at this or more has resolved to it
PER_ASSET = 3  # lines per asset in the digest; the rest are counted
THIN_LIQUIDITY = "thin: liquidity below the minimum"
THIN_VOLUME = "thin: volume below the minimum"
BEYOND_LIMIT = "beyond the lines shown per asset"
SAME_LINE = "the same line as one shown"
SHORT_CANDLE = "a candle much shorter than the engine's horizon"
STALE_CALL = "the engine's call and the market quote are from different times"
_YES = ("yes", "up")
_NO = ("no", "down")
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class MarketQuote:
    """One market as the provider read it: outcomes a list, prices numbers in [0, 1], one price each."""

    market_id: str
    question: str
    outcomes: tuple[str, ...]
    prices: tuple[float, ...]
    volume: float
    liquidity: float
    end: datetime
    closed: bool = False
    slug: str = ""
    event_title: str = ""


@dataclass(frozen=True)
class Comparison:
    comparable: bool
    reason: str  # why not, or what was compared
    engine_yes: float | None = None  # the engine's P(the market resolves Yes), when comparable
    engine_direction: str | None = None
    engine_probability: float | None = None  # the engine's own P(its direction is right)
    signal_as_of: datetime | None = None
    horizon_hours: float | None = None


@dataclass(frozen=True)
class MarketReading:
    """A matched market with every number behind its line (the artifact's row)."""

    quote: MarketQuote
    question: MarketQuestion
    symbol: str
    name: str
    implied: float  # the crowd's P(Yes / Up)
    comparison: Comparison
    line: str
    reference_price: float | None  # the engine's last close at the call, when it had one


@dataclass(frozen=True)
class MarketLine:
    """What the digest carries per market: a line without numbers, and what a renderer needs to place it."""

    symbol: str
    name: str
    market_id: str
    question: str  # the market's own title (it has numbers: for a link or a tooltip, not for the line)
    kind: str
    end: datetime
    comparable: bool
    line: str


@dataclass(frozen=True)
class PredictionMarketsSection:
    """The digest's Prediction markets section as data: lines to show and what was left out, by reason."""

    lines: tuple[MarketLine, ...]
    counts: tuple[tuple[str, int], ...]  # (reason or "seen"/"matched"/"shown", count)
    source: str = "Polymarket (read only)"
    note: str | None = None  # a sentence when the markets could not be read or are not comparable at all

    def count(self, reason: str) -> int:
        return dict(self.counts).get(reason, 0)


@dataclass(frozen=True)
class MarketsRead:
    readings: tuple[MarketReading, ...]  # every matched market that is not thin
    shown: tuple[MarketReading, ...]  # the ones the digest carries
    left_out: Counter[str]  # reason -> count (not a price question, no asset, thin, ...)
    examples: tuple[tuple[str, str], ...]  # (question, reason) of a few left out, for the artifact


def implied_yes(quote: MarketQuote) -> float | NotRead:
    """The crowd's P(Yes) (or P(Up)): the Yes price over Yes + No, so a wide spread does not tilt it."""
    names = [o.strip().lower() for o in quote.outcomes]
    if len(names) != 2 or len(quote.prices) != 2:
        return NotRead("not a two-outcome market")
    yes = next((i for i, n in enumerate(names) if n in _YES), None)
    no = next((i for i, n in enumerate(names) if n in _NO), None)
    if yes is None or no is None or yes == no:
        return NotRead("outcomes are not Yes/No or Up/Down")
    total = quote.prices[yes] + quote.prices[no]
    if not 1 - PRICE_SUM_TOLERANCE <= total <= 1 + PRICE_SUM_TOLERANCE:
        return NotRead("outcome prices do not add up to one")
    return quote.prices[yes] / total


def resolution(quote: MarketQuote) -> bool | None:
    """True when a closed market resolved Yes (Up), False for No (Down), None while it is open or undecided."""
    if not quote.closed:
        return None
    names = [o.strip().lower() for o in quote.outcomes]
    for name, price in zip(names, quote.prices):
        if price >= RESOLVED_PRICE and name in _YES + _NO:
            return name in _YES
    return None


def compare(question: MarketQuestion, end: datetime, signal: Signal | None, seen_at: datetime) -> Comparison:
    """Whether the engine's call on the asset asks what the market asks, and if so its P(Yes)."""
    if signal is None:
        return Comparison(False, "no signal for the asset this cycle")
    horizon = signal.horizon
    base = Comparison(False, "", engine_direction=signal.direction.value, engine_probability=signal.probability,
                      signal_as_of=signal.as_of, horizon_hours=horizon / timedelta(hours=1))
    if abs(seen_at - signal.as_of) > MAX_QUOTE_LAG:
        return replace(base, reason=STALE_CALL)
    if signal.direction is Direction.HOLD or signal.probability is None:
        return replace(base, reason="the engine made no call (HOLD)")
    if question.kind not in (MarketKind.ABOVE, MarketKind.BELOW, MarketKind.UP_DOWN):
        return replace(base, reason=f"a {question.kind.value} market asks about another event than a direction")
    if abs(end - (signal.as_of + horizon)) > END_SLACK * horizon:
        return replace(base, reason="the market ends too far from the end of the engine's horizon")
    if question.kind is MarketKind.UP_DOWN:
        if question.window is None or question.window < MIN_WINDOW_SHARE * horizon:
            return replace(base, reason="the market's candle is much shorter than the engine's horizon")
    else:
        assert question.threshold is not None
        price = signal.price.last_close
        if price <= 0 or abs(math.log(question.threshold / price)) > AT_THE_MONEY:
            return replace(base, reason="the threshold is not near the price at the call")
    up = signal.probability if signal.direction is Direction.BUY else 1.0 - signal.probability
    yes = 1.0 - up if question.kind is MarketKind.BELOW else up
    return replace(base, comparable=True, reason="same asset, direction event and horizon", engine_yes=yes)


def _when(end: datetime, seen_at: datetime) -> str:
    left = end - seen_at
    if left <= timedelta(hours=12):
        return "within hours"
    if left <= timedelta(hours=36):
        return "within a day"
    if left <= timedelta(days=8):
        return "within the week"
    if left <= timedelta(days=40):
        return "within the month"
    return "over the coming months"


def _level(threshold: float | None, price: float | None) -> str:
    """Where a level sits against the price at the call, in words."""
    if threshold is None or threshold <= 0 or price is None or price <= 0:
        return "the market's level"
    distance = math.log(threshold / price)
    if abs(distance) <= AT_THE_MONEY:
        return "about today's price"
    return "a level over today's price" if distance > 0 else "a level under today's price"


def event_phrase(question: MarketQuestion, name: str, price: float | None) -> str:
    kind = question.kind
    if kind is MarketKind.UP_DOWN:
        return f"{name} closing up"
    level = _level(question.threshold, price)
    if kind is MarketKind.ABOVE:
        verb = "ending above" if level == "about today's price" else (
            "climbing above" if "over" in level else "holding above")
        return f"{name} {verb} {level}"
    if kind is MarketKind.BELOW:
        verb = "ending below" if level == "about today's price" else (
            "falling below" if "under" in level else "staying below")
        return f"{name} {verb} {level}"
    if kind is MarketKind.BETWEEN:
        low, high = question.threshold, question.upper
        if low is None or high is None or price is None:
            return f"{name} ending inside the market's band"
        where = "around" if low <= price < high else ("over" if low > price else "under")
        return f"{name} ending inside a band {where} today's price"
    return f"{name} reaching {level}" if kind is MarketKind.REACH else f"{name} dipping to {level}"


def _lean(p: float) -> str:
    if p >= 0.8:
        return "the crowd is confident of"
    if p >= 0.55:
        return "the crowd leans towards"
    if p > 0.45:
        return "the crowd is split on"
    if p > 0.2:
        return "the crowd leans against"
    return "the crowd is confident against"


def _reading(signal: Signal | None, comparison: Comparison) -> str:
    if signal is None:
        return "we have no reading of it this cycle"
    if comparison.reason == STALE_CALL:
        return "our reading of the news is from an earlier snapshot"
    if signal.direction is Direction.BUY:
        return "our reading of the news is bullish"
    if signal.direction is Direction.SELL:
        return "our reading of the news is bearish"
    return "our reading of the news finds no edge"


def crowd_line(question: MarketQuestion, name: str, implied: float, end: datetime, seen_at: datetime,
               signal: Signal | None, comparison: Comparison) -> str:
    """One sentence without numbers: what the crowd leans to, and what the engine reads."""
    price = signal.price.last_close if signal is not None else None
    event = f"{event_phrase(question, name, price)} {_when(end, seen_at)}"
    ours = _reading(signal, comparison)
    joint = ";"
    if comparison.comparable and comparison.engine_yes is not None and abs(implied - 0.5) > 0.05:
        joint = ", and" if (implied > 0.5) == (comparison.engine_yes > 0.5) else ", while"
    line = f"{_lean(implied)} {event}{joint} {ours}."
    line = line[:1].upper() + line[1:]
    return _DIGIT.sub("", line)  # an asset name with a digit: never let a number through


def read_markets(quotes: Sequence[MarketQuote], assets: Sequence[Asset], signals: Mapping[str, Signal],
                 seen_at: datetime, min_liquidity: float, min_volume: float, per_asset: int = PER_ASSET,
                 examples: int = 10) -> MarketsRead:
    """Parse, match, weigh and set beside the engine every quote; what is left out is counted by reason."""
    left_out: Counter[str] = Counter()
    sample: list[tuple[str, str]] = []

    def skip(quote: MarketQuote, reason: str) -> None:
        left_out[reason] += 1
        if len(sample) < examples:
            sample.append((quote.question, reason))

    readings: list[MarketReading] = []
    names = AssetNames(assets)
    for quote in quotes:
        if quote.closed:
            skip(quote, "already closed")
            continue
        question = parse_question(quote.question)
        if isinstance(question, NotRead):
            skip(quote, question.reason)
            continue
        asset = names.match(question.subject)
        if isinstance(asset, NotRead):
            skip(quote, asset.reason)
            continue
        implied = implied_yes(quote)
        if isinstance(implied, NotRead):
            skip(quote, implied.reason)
            continue
        if quote.liquidity < min_liquidity:
            skip(quote, THIN_LIQUIDITY)
            continue
        if quote.volume < min_volume:
            skip(quote, THIN_VOLUME)
            continue
        signal = signals.get(asset.symbol)
        if (question.kind is MarketKind.UP_DOWN and question.window is not None and signal is not None
                and question.window < MIN_WINDOW_SHARE * signal.horizon):
            # Quarter-hour and hourly candles run by the hundred and say nothing about a day's move.
            skip(quote, SHORT_CANDLE)
            continue
        comparison = compare(question, quote.end, signal, seen_at)
        line = crowd_line(question, asset.name, implied, quote.end, seen_at, signal, comparison)
        readings.append(MarketReading(quote, question, asset.symbol, asset.name, implied, comparison, line,
                                      signal.price.last_close if signal is not None else None))
    order = {a.symbol: i for i, a in enumerate(assets)}
    shown: list[MarketReading] = []
    by_asset: Counter[str] = Counter()
    for reading in sorted(readings, key=lambda r: (order[r.symbol], *_worth(r), r.quote.market_id)):
        if by_asset[reading.symbol] >= per_asset:
            left_out[BEYOND_LIMIT] += 1
            continue
        if any(r.line == reading.line for r in shown):  # the crowd saying the same twice is said once
            left_out[SAME_LINE] += 1
            continue
        by_asset[reading.symbol] += 1
        shown.append(reading)
    return MarketsRead(tuple(readings), tuple(shown), left_out, tuple(sample))


def _worth(reading: MarketReading) -> tuple[int, float, float]:
    """Which of an asset's markets the digest shows first: those set beside the engine, then direction
    questions over a day or more, then bands and touches, then short candles; nearest the price, most traded."""
    question, price = reading.question, reading.reference_price
    if reading.comparison.comparable:
        rank = 0
    elif question.kind is MarketKind.UP_DOWN:
        rank = 1 if question.window is not None and question.window >= timedelta(days=1) else 3
    else:
        rank = 1 if question.kind in (MarketKind.ABOVE, MarketKind.BELOW) else 2
    distance = abs(math.log(question.threshold / price)) if question.threshold and price else 0.0
    return rank, distance, -reading.quote.volume


def section(read: MarketsRead, seen: int, extra_counts: Mapping[str, int] | None = None,
            note: str | None = None) -> PredictionMarketsSection:
    """The digest's data: the shown lines and every count (`extra_counts`: what the provider skipped)."""
    lines = tuple(MarketLine(r.symbol, r.name, r.quote.market_id, r.quote.question, r.question.kind.value, r.quote.end,
                             r.comparison.comparable, r.line) for r in read.shown)
    counts: Counter[str] = Counter({"seen": seen, "matched": len(read.readings), "shown": len(lines),
                                    "comparable": sum(r.comparison.comparable for r in read.readings)})
    counts.update(read.left_out)
    counts.update(extra_counts or {})
    return PredictionMarketsSection(lines, tuple(sorted(counts.items())), note=note)
