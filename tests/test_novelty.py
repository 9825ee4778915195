"""Exact and near-duplicate folding on real headlines (tests/data/replay and the embedded feeds)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intelligence.novelty import ECHO_GAIN, entities, fold_stories, jaccard, shingles, title_key
from intelligence.relevance import Mention
from intelligence.types import Headline
from tests.conftest import utc

T0 = utc(2018, 4, 6, 14)


def _m(title: str, source: str = "Reuters", hours: float = 0.0) -> Mention:
    return Mention(Headline(source, title, T0 + timedelta(hours=hours)), 1.0, True)


def test_exact_copies_fold_whatever_the_punctuation() -> None:
    # Both tellings are in the Reuters file for 2018-03-22, one with a colon and one with a dash.
    a = _m("Brexit campaigner Banks says: Cambridge Analytica pitched but we did not hire them")
    b = _m("Brexit campaigner Banks says - Cambridge Analytica pitched but we did not hire them", hours=1)
    assert title_key(a.headline.title) == title_key(b.headline.title)
    (story,) = fold_stories([b, a])
    assert story.first is a and story.exact_copies == 1 and story.near_copies == 0 and story.echoes == 0


@pytest.mark.parametrize(("first", "second"), [
    ("U.S. job gains smallest in six months, wage growth firming",
     "Instant view: U.S. job gains smallest in six months, wage growth picks up"),
    ("Stock futures fall after Trump proposes USD 100 billion more in tariffs on China",
     "Trump proposes USD 100 billion more in tariffs on China, cites IP"),
    ("Cramer's favorite market indicator is signaling a potential dip", "A potential dip? Cramer's favorite market indicator"),
])
def test_real_rewordings_of_one_story_fold(first: str, second: str) -> None:
    stories = fold_stories([_m(first), _m(second, hours=2)])
    assert len(stories) == 1 and stories[0].near_copies == 1


@pytest.mark.parametrize(("first", "second"), [
    # Same template, different company: the names keep them apart (Guardian, 17 March 2018).
    ("Goldman Sachs pay gap reveals men paid twice as much as women", "HSBC pay gap reveals men being paid twice as much as women"),
    # Same day, opposite moves (Reuters).
    ("Wall Street closes higher as China tariff fears ease", "Wall Street closes lower in rocky session on Amazon losses"),
    ("Wall Street falls on Syria concerns, interest rate worries", "Wall Street gains on earnings optimism, waning Syria jitters"),
])
def test_different_stories_stay_apart(first: str, second: str) -> None:
    assert len(fold_stories([_m(first), _m(second)])) == 2


def test_echoes_by_other_outlets_add_a_little_and_own_repeats_add_nothing() -> None:
    title = "Toys R Us and Maplin fall into administration putting 5,500 UK jobs at risk"
    story, = fold_stories([_m(title, "Guardian"), _m(title, "Guardian", 3)])
    assert story.echoes == 0 and story.echo_multiplier == 1.0
    story, = fold_stories([_m(title, "Guardian"), _m(title, "Reuters", 1), _m(title, "CNBC", 2), _m(title, "Sky", 3)])
    assert story.sources == ("Guardian", "Reuters", "CNBC", "Sky") and story.echoes == 3
    assert 1.0 < story.echo_multiplier < 1.0 + ECHO_GAIN  # four outlets are worth a little over one story


def test_entities_and_shingles() -> None:
    assert entities("Goldman Sachs pay gap reveals men paid twice as much") == {"goldman", "sachs"}
    assert shingles("Stocks rally") == {"stocks rally"} and shingles("Rally") == {"rally"}
    assert jaccard(frozenset(), frozenset({"a"})) == 0.0


def test_snapshot_feeds_fold_without_losing_headlines(embedded_headlines) -> None:
    mentions = [Mention(h, 1.0, True) for h in embedded_headlines]
    stories = fold_stories(mentions)
    assert sum(len(s.tellings) for s in stories) == len(mentions)
    assert sum(s.exact_copies + s.near_copies for s in stories) == len(mentions) - len(stories)
    assert len(stories) > 0.8 * len(mentions)  # five outlets rarely word one story the same way


TITLES = [
    "Wall Street closes higher as China tariff fears ease", "Wall Street closes lower in rocky session on Amazon losses",
    "U.S. job gains smallest in six months, wage growth firming",
    "Instant view: U.S. job gains smallest in six months, wage growth picks up",
    "Stock futures fall after Trump proposes USD 100 billion more in tariffs on China",
    "Trump proposes USD 100 billion more in tariffs on China, cites IP", "Global stocks bounce on report of U.S.-China trade talks",
]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(TITLES), st.sampled_from(["Reuters", "CNBC", "Guardian"]),
                          st.integers(0, 48)), min_size=1, max_size=12, unique=True), st.randoms())
def test_folding_does_not_depend_on_input_order(items, rnd) -> None:
    mentions = [_m(t, s, h) for t, s, h in items]
    shuffled = list(mentions)
    rnd.shuffle(shuffled)
    key = lambda stories: sorted(tuple(m.headline.id for m in s.tellings) for s in stories)  # noqa: E731
    assert key(fold_stories(mentions)) == key(fold_stories(shuffled))
    assert all(s.first.headline.published == min(m.headline.published for m in s.tellings) for s in fold_stories(mentions))
