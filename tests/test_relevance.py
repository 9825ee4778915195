from __future__ import annotations

import math
from pathlib import Path

import pytest

from providers.catalogue import load_catalogue

from intelligence.relevance import (
    SEMANTIC_MIN, SEMANTIC_WEIGHT, SUMMARY_WEIGHT, TITLE_WEIGHT, ContextTermScorer, mentions, relevance,
    relevant_headlines,
)
from intelligence.types import Headline
from providers.replay_news import read_news
from tests.conftest import utc

CATALOGUE = load_catalogue()

REPLAY = Path(__file__).resolve().parent / "data" / "replay"


def _h(title: str, summary: str = "") -> Headline:
    return Headline("Test", title, utc(2025, 12, 1), summary=summary)


def test_aliases_and_tickers_match_whole_words() -> None:
    assert mentions(CATALOGUE["BTC"], "Bitcoin slides below support")
    assert mentions(CATALOGUE["BTC"], "$BTC funding flips negative")
    assert not mentions(CATALOGUE["BTC"], "WBTC bridge paused")
    assert mentions(CATALOGUE["ETH"], "Ether treasury firms keep buying")
    assert not mentions(CATALOGUE["ETH"], "Ethena stablecoin supply shrinks")


def test_tickers_that_are_words_match_only_in_capitals() -> None:
    link = CATALOGUE["LINK"]
    assert mentions(link, "LINK jumps as Chainlink adds partners")
    assert mentions(link, "chainlink oracle update")
    assert not mentions(link, "Exchanges link up with banks")
    assert not mentions(CATALOGUE["SOL"], "Sol Campbell joins the board")


def test_title_mentions_outweigh_summary_mentions() -> None:
    sol = CATALOGUE["SOL"]
    assert relevance(sol, _h("Solana ETF sees inflows")).relevance == 1.0
    only_summary = relevance(sol, _h("Altcoins rally", summary="Solana led the move"))
    assert only_summary.relevance == SUMMARY_WEIGHT and not only_summary.in_title
    assert relevance(sol, _h("Bitcoin rallies")) is None


def test_real_headlines_are_found_per_asset(embedded_headlines) -> None:
    found = {s: relevant_headlines(a, embedded_headlines) for s, a in CATALOGUE.items()}
    assert len(found["BTC"]) > len(found["SOL"]) > len(found["DOGE"]) > 0
    for m in found["XRP"]:
        text = m.headline.title if m.in_title else m.headline.summary
        # Named mentions say the name; others were found by XRP's context terms (XRPL, Garlinghouse, RLUSD).
        assert ("xrp" in text.lower() or "ripple" in text.lower()) if m.named else m.semantic >= SEMANTIC_MIN
    # No snapshot headline speaks of Avalanche: the asset is scored on its tape alone.
    assert found["AVAX"] == []


# --- the broad US market (SPY) on real replay headlines (tests/data/replay) ------------------------

SPY = CATALOGUE["SPY"]


@pytest.mark.parametrize("title", [
    "Wall Street closes higher as China tariff fears ease",  # Reuters
    "Daryl Guppy: 'Very bearish' on S&P 500, Nasdaq and Dow Jones",  # CNBC
    "Dow Jones rallies strongly after China promises lower tariffs",  # Guardian
    "S&P 500 futures fall after Trump ousts McMaster",  # Reuters
])
def test_broad_market_headlines_name_spy(title: str) -> None:
    found = relevance(SPY, _h(title))
    assert found is not None and found.named and found.relevance == TITLE_WEIGHT


@pytest.mark.parametrize("title", [
    "Exclusive: S&P Global cuts top sovereign analysts as part of broader cull",  # the rating agency
    "Deutsche Bank's S&P rating put on credit watch after CEO change",
    "DowDuPont says U.S.-China conflict could hit its agriculture unit",  # a chemicals company
    "Wolf of Wall Street producers to pay $60m to US government",  # a film
    "Saudi Arabia's new crown prince to sit down with Wall Street",  # the finance industry
    "Cramer: Top oil and solar stocks may have more room to run, charts show",  # one sector
])
def test_look_alikes_and_the_finance_industry_are_not_the_market(title: str) -> None:
    assert relevance(SPY, _h(title)) is None


def test_unnamed_market_news_counts_by_its_context_but_less() -> None:
    found = relevance(SPY, _h("Fed's Powell: Too early to say how tariffs would affect U.S. economic outlook"))
    assert found is not None and not found.named
    assert SEMANTIC_MIN <= found.semantic < 1 and found.relevance == pytest.approx(SEMANTIC_WEIGHT * found.semantic)
    assert found.relevance < relevance(SPY, _h("Wall Street falls on Syria concerns, interest rate worries")).relevance


def test_context_terms_shared_by_assets_are_split() -> None:
    scorer = ContextTermScorer({"BTC": {"halving": 1.0, "etf": 1.0}, "ETH": {"etf": 1.0}})
    btc, eth = CATALOGUE["BTC"], CATALOGUE["ETH"]
    assert scorer.similarity(btc, "ETF flows") == pytest.approx(1 - math.exp(-0.5))
    assert scorer.similarity(eth, "ETF flows") == pytest.approx(1 - math.exp(-0.5))
    assert scorer.similarity(btc, "Halving ahead") == pytest.approx(1 - math.exp(-1.0))
    assert scorer.similarity(CATALOGUE["SOL"], "ETF flows") == 0.0


def test_a_semantic_scorer_plugs_in() -> None:
    class KeywordEncoder:
        """A stand-in with the protocol's shape, like a sentence encoder would have."""

        name = "keyword-encoder"

        def similarity(self, asset, text: str) -> float:
            return 0.9 if asset.symbol == "SPY" and "economy" in text.lower() else 0.0

    title = "Strong economy lifts hopes"  # no context term of the default scorer fires this strongly
    assert relevance(SPY, _h(title)) is None
    found = relevance(SPY, _h(title), KeywordEncoder())
    assert found is not None and not found.named and found.semantic == 0.9
    found = relevant_headlines(SPY, [_h(title), _h("Oil prices slip")], KeywordEncoder())
    assert [m.headline.title for m in found] == [title]


def test_real_replay_headlines_for_spy() -> None:
    news = [read_news(REPLAY / name) for name in ("cnbc_headlines.csv", "guardian_headlines.csv", "reuters_headlines.csv")]
    headlines = [h for f in news for h in f.headlines]
    found = relevant_headlines(SPY, headlines)
    named = [m for m in found if m.named]
    # A few percent of general business news is about the market as a whole.
    assert 0.02 * len(headlines) < len(found) < 0.15 * len(headlines)
    assert len(named) > len(found) - len(named) > 0
    assert {m.headline.source for m in found} == {"CNBC", "Guardian", "Reuters"}
    assert all(0 < m.relevance <= 1 for m in found)


def test_a_coin_named_after_another_is_not_the_other() -> None:
    # Real headlines (../shared/data/sentiment/sent_train.csv, MIT): Bitcoin Cash is not Bitcoin.
    assert not mentions(CATALOGUE["BTC"], "Latest Bitcoin Cash price and analysis (BCH to USD)")
    assert mentions(CATALOGUE["BCH"], "Latest Bitcoin Cash price and analysis (BCH to USD)")
    said = "Bitcoin Cash ABC, EOS and Ethereum – Daily Tech Analysis – 15/12/19"
    assert not mentions(CATALOGUE["BTC"], said) and mentions(CATALOGUE["ETH"], said)
    assert mentions(CATALOGUE["BTC"], "Bitcoin and Bitcoin Cash both slide")  # the one named on its own still counts
    assert not mentions(CATALOGUE["ETH"], "Ethereum Classic hit by 51% attack")
