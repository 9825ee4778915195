"""The question parser on real Polymarket titles: the price varieties it reads, and what it must leave alone.

Every title below is a real market or event title, found with the search tool's code index (the
`find_string` look-up, which names a stored file by id rather than by repository) in public code
that quotes Gamma API answers, logs or tests:
- "Will the price of Bitcoin be above $96,000 on November 10?" (event bitcoin-above-on-november-10,
  market 662278, endDate 2025-11-10T17:00:00Z): file 13142066962.
- "Will the price of Bitcoin be above $80,000 on December 2?" (event "Bitcoin above ___ on December 2?",
  market 703579): file 11981244104.
- "Will the price of Ethereum be less than $3,000 on November 16?", "... XRP be above $2.20 on November 21?",
  "... Solana be above $140 on November 20?", "Bitcoin Up or Down - November 14, 6:00PM",
  "Will Bitcoin dip to $94,000 November 10-16?", and the non-price titles "Will Bad Bunny be the top Spotify
  artist for 2025?", "Will 'The Running Man' Opening Weekend Box Office be above $50M?", "Fed decreases
  interest rates by 25 bps", "Will Russia capture Pokrovsk by November 30?": file 41777677965.
- "Ethereum Up or Down - November 23, 4:00AM-4:15AM ET", "Bitcoin Up or Down - November 23, 6:45AM-7:00AM ET",
  "Ethereum Up or Down - November 25, 2PM ET": file 48176744250.
- "Will NVIDIA (NVDA) close above $240 end of January?" (market 1031769, slug nvda-above-240-on-january-30-2026):
  file 58811295658 (Polymarket's CLOB websocket documentation, new_market message).
- "Will the price of Ethereum be between $4,200 and $4,400 on October 4?", "Will the price of Bitcoin be less
  than $100k on October 4?", "Will Bitcoin reach $150,000 in October?": file 71052435183.
- "Will the price of Bitcoin be between $92,000 and $94,000 on November 15?": file 62670690890.
- "Will the price of Ethereum be greater than $2,300 on July 30?", "Will Solana settle $30 to $40 on August 1?":
  file 68567378079.
- "Will the price of Bitcoin be above $110,500 on September 26 at 4AM ET?": file 58112567818.
- "Will Elon Musk post 200-219 tweets from February 10 to February 17, 2026?": file 23988387745.
- "US forces enter Iran by March 31?": file 56845434699; "Russia-Ukraine Ceasefire before GTA VI?": 55401563169.
- The daily Up-or-Down event slug bitcoin-up-or-down-on-december-25: file 34150593202.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from providers.catalogue import load_catalogue
from intelligence.market_questions import (
    NO_ASSET, NOT_PRICE, SEVERAL_ASSETS, MarketKind, MarketQuestion, NotRead, candle_window, match_asset,
    parse_question,
)
from intelligence.types import Asset

# The ten assets the parser was first written against (the whole catalogue knows hundreds more).
CATALOGUE = {s: load_catalogue()[s] for s in ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "AVAX", "LINK", "BNB", "SPY")}
NVDA = Asset("NVDA", "NVIDIA", aliases=("nvidia",), tickers=("NVDA",))
UNIVERSE = [*CATALOGUE.values(), NVDA]
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

READ = [
    ("Will the price of Bitcoin be above $96,000 on November 10?", "BTC", MarketKind.ABOVE, 96000, None, None),
    ("Will the price of Bitcoin be above $80,000 on December 2?", "BTC", MarketKind.ABOVE, 80000, None, None),
    ("Will the price of Ethereum be less than $3,000 on November 16?", "ETH", MarketKind.BELOW, 3000, None, None),
    ("Will the price of XRP be above $2.20 on November 21?", "XRP", MarketKind.ABOVE, 2.2, None, None),
    ("Will the price of Solana be above $140 on November 20?", "SOL", MarketKind.ABOVE, 140, None, None),
    ("Will the price of Ethereum be greater than $2,300 on July 30?", "ETH", MarketKind.ABOVE, 2300, None, None),
    ("Will the price of Bitcoin be less than $100k on October 4?", "BTC", MarketKind.BELOW, 100000, None, None),
    ("Will the price of Bitcoin be above $110,500 on September 26 at 4AM ET?", "BTC", MarketKind.ABOVE, 110500,
     None, None),
    ("Will NVIDIA (NVDA) close above $240 end of January?", "NVDA", MarketKind.ABOVE, 240, None, None),
    ("Will the price of Ethereum be between $4,200 and $4,400 on October 4?", "ETH", MarketKind.BETWEEN, 4200, 4400,
     None),
    ("Will the price of Bitcoin be between $92,000 and $94,000 on November 15?", "BTC", MarketKind.BETWEEN, 92000,
     94000, None),
    ("Bitcoin Up or Down - November 14, 6:00PM", "BTC", MarketKind.UP_DOWN, None, None, HOUR),
    ("Ethereum Up or Down - November 23, 4:00AM-4:15AM ET", "ETH", MarketKind.UP_DOWN, None, None,
     timedelta(minutes=15)),
    ("Bitcoin Up or Down - November 23, 6:45AM-7:00AM ET", "BTC", MarketKind.UP_DOWN, None, None,
     timedelta(minutes=15)),
    ("Ethereum Up or Down - November 25, 2PM ET", "ETH", MarketKind.UP_DOWN, None, None, HOUR),
    ("Bitcoin Up or Down on December 25?", "BTC", MarketKind.UP_DOWN, None, None, DAY),
    ("Will Bitcoin dip to $94,000 November 10-16?", "BTC", MarketKind.DIP, 94000, None, None),
    ("Will Bitcoin reach $150,000 in October?", "BTC", MarketKind.REACH, 150000, None, None),
]

NOT_READ = [
    ("Will Bad Bunny be the top Spotify artist for 2025?", NOT_PRICE),
    ("Will 'The Running Man' Opening Weekend Box Office be above $50M?", NOT_PRICE),
    ("Fed decreases interest rates by 25 bps", NOT_PRICE),
    ("Will Russia capture Pokrovsk by November 30?", NOT_PRICE),
    ("Will Elon Musk post 200-219 tweets from February 10 to February 17, 2026?", NOT_PRICE),
    ("US forces enter Iran by March 31?", NOT_PRICE),
    ("Russia-Ukraine Ceasefire before GTA VI?", NOT_PRICE),
    ("Will Solana settle $30 to $40 on August 1?", NOT_PRICE),  # a bucket of an event, no direction of its own
    # Shaped like price questions, about something that is not an asset's price.
    ("Will Bitcoin ETF flows be above $500M on December 5?", NOT_PRICE),
    ("Will MicroStrategy's Bitcoin holdings be above $60B on December 31?", NOT_PRICE),
]


@pytest.mark.parametrize("title, symbol, kind, threshold, upper, window", READ, ids=[r[0][:48] for r in READ])
def test_price_questions_are_read(title, symbol, kind, threshold, upper, window) -> None:
    question = parse_question(title)
    assert isinstance(question, MarketQuestion), question
    assert (question.kind, question.threshold, question.upper, question.window) == (kind, threshold, upper, window)
    asset = match_asset(question.subject, UNIVERSE)
    assert isinstance(asset, Asset) and asset.symbol == symbol


@pytest.mark.parametrize("title, reason", NOT_READ, ids=[r[0][:48] for r in NOT_READ])
def test_other_questions_are_left_alone_with_a_reason(title, reason) -> None:
    assert parse_question(title) == NotRead(reason)


def test_an_asset_outside_the_universe_is_not_matched() -> None:
    question = parse_question("Will NVIDIA (NVDA) close above $240 end of January?")
    assert isinstance(question, MarketQuestion)
    assert match_asset(question.subject, list(CATALOGUE.values())) == NotRead(NO_ASSET)
    doge = parse_question("Will the price of Dogecoin be above $0.15 on December 5?")
    assert isinstance(doge, MarketQuestion) and doge.threshold == 0.15
    assert match_asset(doge.subject, [CATALOGUE["BTC"]]) == NotRead(NO_ASSET)


def test_a_subject_naming_two_assets_is_not_guessed() -> None:
    twins = [Asset("AAA", "Alpha", aliases=("alpha",)), Asset("BBB", "Beta", aliases=("alpha coin",), tickers=("AAA",))]
    assert match_asset("Alpha (AAA)", twins) == NotRead(SEVERAL_ASSETS)


def test_tickers_match_exactly_and_names_whole() -> None:
    link = CATALOGUE["LINK"]
    assert match_asset("LINK", [link]) == link and match_asset("Chainlink", [link]) == link
    assert match_asset("link", [link]) == NotRead(NO_ASSET)  # lower case "link" is a word, LINK is a ticker
    assert match_asset("Bitcoin miners", [CATALOGUE["BTC"]]) == NotRead(NO_ASSET)
    assert match_asset("Bitcoin's", [CATALOGUE["BTC"]]) == CATALOGUE["BTC"]


def test_candle_windows() -> None:
    assert candle_window("November 25, 4PM-8PM ET") == 4 * HOUR
    assert candle_window("November 25, 11:45PM-12:00AM ET") == timedelta(minutes=15)  # across midnight
    assert candle_window("") is None


def test_a_band_upside_down_is_not_a_band() -> None:
    assert parse_question("Will the price of Bitcoin be between $94,000 and $92,000 on November 15?") == NotRead(
        "a band whose top is not above its bottom")


@given(st.integers(min_value=1, max_value=10**9), st.sampled_from(["Bitcoin", "Ethereum", "XRP", "Solana"]),
       st.sampled_from(["above", "below", "less than", "greater than"]))
def test_any_written_threshold_is_read_back(amount: int, name: str, side: str) -> None:
    question = parse_question(f"Will the price of {name} be {side} ${amount:,} on December 5?")
    assert isinstance(question, MarketQuestion)
    assert question.threshold == amount and question.when == "December 5"
    assert question.kind is (MarketKind.ABOVE if side in ("above", "greater than") else MarketKind.BELOW)


@given(st.text(max_size=200))
def test_any_text_is_read_or_refused_never_crashes(text: str) -> None:
    result = parse_question(text)
    assert isinstance(result, (MarketQuestion, NotRead))
    if isinstance(result, MarketQuestion) and result.threshold is not None:
        assert result.threshold > 0
