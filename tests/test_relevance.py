from __future__ import annotations

from intelligence.assets import CATALOGUE
from intelligence.relevance import SUMMARY_WEIGHT, mentions, relevance, relevant_headlines
from intelligence.types import Headline
from tests.conftest import utc


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
        assert "xrp" in text.lower() or "ripple" in text.lower()
    # No snapshot headline speaks of Avalanche: the asset is scored on its tape alone.
    assert found["AVAX"] == []
