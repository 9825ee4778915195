from __future__ import annotations

from datetime import timedelta

import pytest

from intelligence.assets import CATALOGUE
from intelligence.narrative import decay, fold_duplicates, narrative_score
from intelligence.relevance import Mention, relevant_headlines
from intelligence.types import Headline, Polarity
from tests.conftest import utc

AS_OF = utc(2025, 12, 13, 10, 14)
HALF_LIFE = timedelta(hours=12)
WINDOW = timedelta(hours=72)
BULL, BEAR, FLAT = Polarity(0.9, 0.05, 0.05), Polarity(0.05, 0.9, 0.05), Polarity(0.05, 0.05, 0.9)


def _m(title: str, hours_ago: float, source: str = "Decrypt") -> Mention:
    return Mention(Headline(source, title, AS_OF - timedelta(hours=hours_ago)), 1.0, True)


def test_decay_halves_every_half_life() -> None:
    assert decay(timedelta(0), HALF_LIFE) == 1.0
    assert decay(HALF_LIFE, HALF_LIFE) == pytest.approx(0.5)
    assert decay(3 * HALF_LIFE, HALF_LIFE) == pytest.approx(0.125)


def test_duplicates_fold_to_the_earliest_telling() -> None:
    first, copy = _m("Bitcoin ETF sees record inflows", 5, "Decrypt"), _m("bitcoin ETF  sees record inflows", 2, "CoinDesk")
    kept, folded = fold_duplicates([copy, first])
    assert kept == [first] and folded == 1


def test_fresh_news_outweighs_old_news() -> None:
    mentions = [_m("Bitcoin surges", 1), _m("Bitcoin collapses", 40, "CoinDesk")]
    score = narrative_score(mentions, {m.headline.content_hash: p for m, p in zip(mentions, (BULL, BEAR))}, AS_OF, HALF_LIFE, WINDOW)
    assert score.score > 0
    assert score.sources_positive == ("Decrypt",) and score.sources_negative == ("CoinDesk",)


def test_one_loud_source_does_not_outvote_several() -> None:
    loud = [_m(f"Bitcoin doom story {chr(65 + i)}", 1, "Loud") for i in range(9)]
    quiet = [_m("Bitcoin rebounds", 1, "A"), _m("Bitcoin demand returns", 1, "B"), _m("Bitcoin buyers step in", 1, "C")]
    polarity = {m.headline.content_hash: BEAR for m in loud} | {m.headline.content_hash: BULL for m in quiet}
    score = narrative_score(loud + quiet, polarity, AS_OF, HALF_LIFE, WINDOW)
    # Nine bearish items against three bullish ones, yet per source the bulls are three to one.
    assert score.score == pytest.approx(0.0, abs=0.01)


def test_more_evidence_means_a_stronger_score_for_the_same_lean() -> None:
    one = [_m("Solana rallies", 1)]
    many = [_m(f"Solana rally story {chr(65 + i)}", 1, f"S{chr(65 + i)}") for i in range(5)]
    polarity = {m.headline.content_hash: BULL for m in one + many}
    assert narrative_score(many, polarity, AS_OF, HALF_LIFE, WINDOW).score > narrative_score(one, polarity, AS_OF, HALF_LIFE, WINDOW).score


def test_headlines_outside_the_window_or_after_as_of_are_ignored() -> None:
    mentions = [_m("Ether slumps", 100), _m("Ether rallies", -1)]
    polarity = {m.headline.content_hash: BEAR for m in mentions}
    score = narrative_score(mentions, polarity, AS_OF, HALF_LIFE, WINDOW)
    assert score.headline_count == 0 and score.score == 0.0


def test_neutral_coverage_dilutes_but_does_not_flip() -> None:
    mentions = [_m("XRP jumps on ETF news", 1), _m("XRP ledger upgrade scheduled", 1, "CoinDesk")]
    polarity = {mentions[0].headline.content_hash: BULL, mentions[1].headline.content_hash: FLAT}
    alone = narrative_score(mentions[:1], polarity, AS_OF, HALF_LIFE, WINDOW)
    both = narrative_score(mentions, polarity, AS_OF, HALF_LIFE, WINDOW)
    assert 0 < both.raw < alone.raw


def test_real_snapshot_headlines_score_within_bounds(embedded_headlines) -> None:
    for asset in CATALOGUE.values():
        mentions = relevant_headlines(asset, embedded_headlines)
        polarity = {m.headline.content_hash: (BULL if len(m.headline.title) % 2 else BEAR) for m in mentions}
        score = narrative_score(mentions, polarity, AS_OF, HALF_LIFE, WINDOW)
        assert -1.0 <= score.score <= 1.0
        assert score.headline_count <= len(mentions)
        assert abs(score.score) <= abs(score.raw) + 1e-12
