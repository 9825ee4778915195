from __future__ import annotations

from datetime import timedelta

import pytest

from providers.catalogue import load_catalogue

from hypothesis import given
from hypothesis import strategies as st

from intelligence.narrative import decay, fold_duplicates, huber_center, narrative_score
from intelligence.relevance import Mention, relevant_headlines
from intelligence.types import Headline, Polarity
from tests.conftest import utc

CATALOGUE = load_catalogue()

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
    # Real, distinct Reuters stories from the March 2018 tariff sell-off against one story each from
    # CNBC and the Guardian (tests/data/replay); polarity hand-labelled.
    loud = [_m(t, 1, "Reuters") for t in (
        "Wall Street nosedives as investors flee on trade war fears",
        "Trade war fears roil equity markets while yen, bonds gain",
        "Instant View: U.S. stocks tumble on trade worries",
        "Equities, commodities hit by trade war worries",
    )]
    quiet = [_m("Cramer: Trump, the Fed and the cloud can get this market back on track", 1, "CNBC"),
             _m("Dow Jones rallies strongly after China promises lower tariffs", 1, "Guardian")]
    polarity = {m.headline.content_hash: BEAR for m in loud} | {m.headline.content_hash: BULL for m in quiet}
    score = narrative_score(loud + quiet, polarity, AS_OF, HALF_LIFE, WINDOW)
    # Four bearish stories against two bullish ones, yet per source the bulls are two to one.
    assert score.headline_count == 6 and score.duplicates_folded == 0
    assert score.score == pytest.approx(0.0, abs=0.01)
    assert score.effective_sources == pytest.approx(2 ** 1.5)  # shares one half, a quarter, a quarter


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


def test_decay_runs_from_each_headlines_own_time() -> None:
    fresh, old = _m("Wall Street roars back as trade war fears fade", 0, "Reuters"), _m("Global stocks bounce on report of U.S.-China trade talks", 24, "CNBC")
    score = narrative_score([fresh, old], {fresh.headline.content_hash: BULL, old.headline.content_hash: BULL}, AS_OF, HALF_LIFE, WINDOW)
    weights = {c.title: c.weight for c in score.contributions}
    assert weights[old.headline.title] / weights[fresh.headline.title] == pytest.approx(decay(timedelta(hours=24), HALF_LIFE))


def test_copies_fold_and_count_once() -> None:
    first = _m("U.S. job gains smallest in six months, wage growth firming", 3, "Reuters")
    copy = _m("Instant view: U.S. job gains smallest in six months, wage growth picks up", 2, "Reuters")
    echo = _m("U.S. job gains smallest in six months, wage growth firming", 1, "CNBC")
    polarity = {m.headline.content_hash: BEAR for m in (first, copy, echo)}
    score = narrative_score([echo, copy, first], polarity, AS_OF, HALF_LIFE, WINDOW)
    assert score.headline_count == 1 and score.duplicates_folded == 2 and score.headlines_seen == 3
    assert (score.exact_duplicates, score.near_duplicates, score.echoes) == (1, 1, 1)
    (story,) = score.contributions
    assert story.title == first.headline.title and story.echoes == ("CNBC",)


def test_one_extreme_story_moves_the_robust_centre_less_than_the_mean() -> None:
    mild = [_m(t, 1, s) for t, s in (
        ("Wall Street gains on earnings optimism, waning Syria jitters", "Reuters"),
        ("Wall Street rises as Chinese president eases trade worries", "CNBC"),
        ("Global stocks up as Xi calms U.S.-China trade fears; oil rallies", "Guardian"),
    )]
    outlier = _m("Wall Street nosedives as investors flee on trade war fears", 1, "Decrypt")
    polarity = {m.headline.content_hash: Polarity(0.6, 0.1, 0.3) for m in mild} | {outlier.headline.content_hash: Polarity(0.0, 1.0, 0.0)}
    score = narrative_score(mild + [outlier], polarity, AS_OF, HALF_LIFE, WINDOW)
    assert score.mean < score.raw < 0.5  # pulled toward the outlier, but less than the mean is
    assert huber_center([0.5, 0.5, 0.5, -1.0], [1, 1, 1, 1]) > sum([0.5, 0.5, 0.5, -1.0]) / 4


@given(st.lists(st.tuples(st.floats(-1, 1), st.floats(0.01, 5)), min_size=1, max_size=30))
def test_huber_centre_lies_within_the_values(pairs) -> None:
    values, weights = zip(*pairs)
    assert min(values) - 1e-9 <= huber_center(values, weights) <= max(values) + 1e-9
