"""The crowd beside the engine: implied probabilities, when a call is comparable, the number-free lines, counts."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.catalogue import load_catalogue
from intelligence.market_questions import MarketKind, MarketQuestion, NotRead, parse_question
from intelligence.prediction_markets import (
    BEYOND_LIMIT, SHORT_CANDLE, STALE_CALL, THIN_LIQUIDITY, THIN_VOLUME, MarketQuote, compare, crowd_line, implied_yes,
    read_markets, resolution, section,
)
from intelligence.signal import Signal
from intelligence.types import Direction
from tests.conftest import utc
from tests.signal_fixtures import make_narrative, make_price

NOW = utc(2025, 12, 13, 11, 0)
DAY = timedelta(days=1)
# The ten assets the parser was first written against (the whole catalogue knows hundreds more).
CATALOGUE = {s: load_catalogue()[s] for s in ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "AVAX", "LINK", "BNB", "SPY")}
ASSETS = [CATALOGUE["BTC"], CATALOGUE["ETH"]]


def signal(symbol: str = "BTC", direction: Direction = Direction.SELL, probability: float | None = 0.6,
           close: float = 90_000.0, as_of=NOW) -> Signal:
    price = replace(make_price(-0.2, -0.1, 0.1, as_of), last_close=close)
    return Signal(symbol, as_of, direction, probability, 0.5, -0.3, DAY, make_narrative(-0.4), price,
                  ("DIVERGENCE_BEARISH",) if direction is not Direction.HOLD else ("NO_EDGE",))


def quote(question: str, yes: float = 0.7, end=NOW + DAY, volume: float = 200_000.0, liquidity: float = 30_000.0,
          outcomes: tuple[str, str] = ("Yes", "No"), closed: bool = False, market_id: str = "1") -> MarketQuote:
    return MarketQuote(market_id, question, outcomes, (yes, round(1 - yes, 6)), volume, liquidity, end, closed)


def question(text: str) -> MarketQuestion:
    parsed = parse_question(text)
    assert isinstance(parsed, MarketQuestion)
    return parsed


def test_implied_probability_is_the_yes_share_whatever_the_outcome_order() -> None:
    assert implied_yes(quote("q", yes=0.62)) == pytest.approx(0.62)
    flipped = MarketQuote("2", "q", ("No", "Yes"), (0.38, 0.62), 1, 1, NOW)
    assert implied_yes(flipped) == pytest.approx(0.62)
    up = MarketQuote("3", "q", ("Up", "Down"), (0.505, 0.495), 1, 1, NOW)
    assert implied_yes(up) == pytest.approx(0.505)
    assert implied_yes(MarketQuote("4", "q", ("Yes", "No"), (0.0, 0.0), 1, 1, NOW)) == NotRead(
        "outcome prices do not add up to one")
    assert implied_yes(MarketQuote("5", "q", ("Trump", "Harris"), (0.6, 0.4), 1, 1, NOW)) == NotRead(
        "outcomes are not Yes/No or Up/Down")


def test_resolution_is_read_only_from_a_closed_market_at_one_or_zero() -> None:
    assert resolution(quote("q", yes=1.0, closed=True)) is True
    assert resolution(quote("q", yes=0.0, closed=True)) is False
    assert resolution(quote("q", yes=1.0, closed=False)) is None
    assert resolution(quote("q", yes=0.6, closed=True)) is None  # closed, not yet settled


def test_a_daily_up_or_down_at_the_end_of_the_horizon_is_comparable() -> None:
    found = compare(question("Bitcoin Up or Down on December 14?"), NOW + DAY, signal(), NOW)
    assert found.comparable and found.engine_yes == pytest.approx(0.4)  # SELL at 0.6 is P(up) 0.4
    buy = compare(question("Bitcoin Up or Down on December 14?"), NOW + DAY, signal(direction=Direction.BUY), NOW)
    assert buy.engine_yes == pytest.approx(0.6)


def test_above_and_below_at_the_money_are_comparable_and_below_flips() -> None:
    above = compare(question("Will the price of Bitcoin be above $90,200 on December 14?"), NOW + DAY, signal(), NOW)
    below = compare(question("Will the price of Bitcoin be less than $89,500 on December 14?"), NOW + DAY, signal(), NOW)
    assert above.comparable and above.engine_yes == pytest.approx(0.4)
    assert below.comparable and below.engine_yes == pytest.approx(0.6)


@pytest.mark.parametrize("title, end, call, reason", [
    ("Will the price of Bitcoin be above $96,000 on December 14?", NOW + DAY, signal(),
     "the threshold is not near the price at the call"),
    ("Bitcoin Up or Down - December 14, 2PM ET", NOW + DAY, signal(),
     "the market's candle is much shorter than the engine's horizon"),
    ("Bitcoin Up or Down on December 20?", NOW + 7 * DAY, signal(),
     "the market ends too far from the end of the engine's horizon"),
    ("Will the price of Bitcoin be between $89,000 and $91,000 on December 14?", NOW + DAY, signal(),
     "a between market asks about another event than a direction"),
    ("Will Bitcoin reach $100,000 in December?", NOW + DAY, signal(),
     "a reach market asks about another event than a direction"),
    ("Bitcoin Up or Down on December 14?", NOW + DAY, signal(direction=Direction.HOLD, probability=None),
     "the engine made no call (HOLD)"),
    ("Bitcoin Up or Down on December 14?", NOW + DAY, signal(as_of=NOW - 300 * DAY), STALE_CALL),
    ("Bitcoin Up or Down on December 14?", NOW + DAY, None, "no signal for the asset this cycle"),
])
def test_what_is_not_comparable_says_why(title, end, call, reason) -> None:
    found = compare(question(title), end, call, NOW)
    assert not found.comparable and found.reason == reason and found.engine_yes is None


def test_lines_say_where_the_crowd_leans_and_what_we_read_without_numbers() -> None:
    daily = question("Bitcoin Up or Down on December 14?")
    call = signal()
    line = crowd_line(daily, "Bitcoin", 0.7, NOW + DAY, NOW, call, compare(daily, NOW + DAY, call, NOW))
    assert line == "The crowd leans towards Bitcoin closing up within a day, while our reading of the news is bearish."
    above = question("Will the price of Bitcoin be above $80,000 on December 19?")
    line = crowd_line(above, "Bitcoin", 0.93, NOW + 6 * DAY, NOW, call, compare(above, NOW + 6 * DAY, call, NOW))
    assert line == ("The crowd is confident of Bitcoin holding above a level under today's price within the week; "
                    "our reading of the news is bearish.")
    stale = signal(as_of=NOW - 300 * DAY)
    line = crowd_line(daily, "Bitcoin", 0.3, NOW + DAY, NOW, stale, compare(daily, NOW + DAY, stale, NOW))
    assert line.endswith("our reading of the news is from an earlier snapshot.") and "leans against" in line


def test_reading_counts_what_it_leaves_out_and_keeps_a_few_lines_per_asset() -> None:
    quotes = [
        quote("Bitcoin Up or Down on December 14?", market_id="10"),
        *[quote(f"Will the price of Bitcoin be above ${k},000 on December 14?", yes=0.5, market_id=str(k))
          for k in (86, 88, 90, 92, 94)],
        quote("Will the price of Ethereum be above $3,100 on December 14?", market_id="20", volume=50.0),
        quote("Will the price of Ethereum be above $3,200 on December 14?", market_id="21", liquidity=10.0),
        quote("Will the price of Solana be above $140 on December 14?", market_id="30"),
        quote("Will Bad Bunny be the top Spotify artist for 2025?", market_id="40"),
        quote("Bitcoin Up or Down on December 12?", market_id="50", closed=True, yes=1.0),
        quote("Bitcoin Up or Down - December 13, 6:00AM-6:15AM ET", market_id="60"),
    ]
    read = read_markets(quotes, ASSETS, {"BTC": signal()}, NOW, min_liquidity=1000, min_volume=10_000)
    # Comparable first, then nearest the price: the ladder's far rungs say the least.
    assert [r.quote.market_id for r in read.shown] == ["10", "90", "92"]
    assert len(read.readings) == 6 and read.shown[0].comparison.comparable
    assert read.left_out == {THIN_VOLUME: 1, THIN_LIQUIDITY: 1, "names no asset of the universe": 1,
                             "not a price question": 1, "already closed": 1, BEYOND_LIMIT: 3, SHORT_CANDLE: 1}
    digest = section(read, seen=len(quotes), extra_counts={"malformed: outcomePrices is not JSON": 2})
    assert digest.count("seen") == 12 and digest.count("matched") == 6 and digest.count("shown") == 3
    assert digest.count("malformed: outcomePrices is not JSON") == 2 and digest.count("comparable") == 2
    assert [line.symbol for line in digest.lines] == ["BTC"] * 3


@given(st.floats(min_value=0.0, max_value=1.0), st.floats(min_value=0.0, max_value=1.0))
def test_implied_probability_is_a_probability_and_symmetric(yes: float, no: float) -> None:
    first = implied_yes(MarketQuote("1", "q", ("Yes", "No"), (yes, no), 1, 1, NOW))
    second = implied_yes(MarketQuote("1", "q", ("No", "Yes"), (no, yes), 1, 1, NOW))
    assert first == second
    if not isinstance(first, NotRead):
        assert 0.0 <= first <= 1.0


@given(p=st.floats(min_value=0.0, max_value=1.0), implied=st.floats(min_value=0.0, max_value=1.0),
       threshold=st.floats(min_value=1e-6, max_value=1e7), hours=st.floats(min_value=0, max_value=24 * 90),
       kind=st.sampled_from(list(MarketKind)), direction=st.sampled_from([Direction.BUY, Direction.SELL]))
def test_lines_never_carry_a_number_and_engine_odds_stay_probabilities(p, implied, threshold, hours, kind,
                                                                        direction) -> None:
    asked = MarketQuestion("Bitcoin", kind, None if kind is MarketKind.UP_DOWN else threshold,
                           threshold * 1.1 if kind is MarketKind.BETWEEN else None, "December 14", DAY)
    end = NOW + timedelta(hours=hours)
    call = signal(direction=direction, probability=p)
    found = compare(asked, end, call, NOW)
    if found.comparable:
        assert found.engine_yes is not None and 0.0 <= found.engine_yes <= 1.0
        up = p if direction is Direction.BUY else 1 - p
        assert found.engine_yes == pytest.approx(1 - up if kind is MarketKind.BELOW else up)
    line = crowd_line(asked, "Bitcoin", implied, end, NOW, call, found)
    assert not any(ch.isdigit() for ch in line) and line.endswith(".") and line[0].isupper()
