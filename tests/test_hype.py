"""Hype cascades: bursts of same-direction stories, flagged and damped; on real replay headlines."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intelligence.hype import DAMPING, MIN_BURST, detect_hype
from intelligence.narrative import narrative_score
from intelligence.relevance import Mention
from intelligence.types import Headline, Polarity
from tests.conftest import utc

AS_OF = utc(2018, 3, 27)
DAY = timedelta(hours=24)
WINDOW = timedelta(hours=72)
BULL, BEAR, FLAT = Polarity(0.9, 0.05, 0.05), Polarity(0.05, 0.9, 0.05), Polarity(0.05, 0.05, 0.9)


def _at(hours_ago: float) -> object:
    return AS_OF - timedelta(hours=hours_ago)


def test_a_one_sided_burst_above_the_usual_pace_is_a_cascade() -> None:
    stories = [(_at(h), 0.8) for h in (1, 2, 3, 5, 8, 12)] + [(_at(30), -0.6), (_at(50), 0.5)]
    check = detect_hype(stories, AS_OF, DAY, WINDOW)
    assert check.flagged and check.side == 1 and check.burst == 6 and check.expected == pytest.approx(1.0)
    assert check.damping == pytest.approx(DAMPING * (MIN_BURST / 6) ** 0.5)


@pytest.mark.parametrize("stories", [
    [(_at(h), 0.8) for h in (1, 2, 3, 4)],  # too few
    [(_at(h), 0.8) for h in (1, 2, 3, 4, 5)] + [(_at(h), -0.8) for h in (6, 7, 8)],  # two-sided
    [(_at(h), 0.8) for h in (1, 2, 3, 4, 5)] + [(_at(h), 0.7) for h in range(25, 70, 5)],  # the usual pace
    [(_at(h), 0.1) for h in range(1, 20)],  # many stories, none leaning
])
def test_no_cascade(stories) -> None:
    check = detect_hype(stories, AS_OF, DAY, WINDOW)
    assert not check.flagged and check.damping == 1.0


def test_bearish_cascades_too_and_bigger_bursts_are_damped_more() -> None:
    five = detect_hype([(_at(h), -0.9) for h in range(1, 6)], AS_OF, DAY, WINDOW)
    twenty = detect_hype([(_at(h / 2), -0.9) for h in range(1, 21)], AS_OF, DAY, WINDOW)
    assert five.side == twenty.side == -1
    assert 0 < twenty.damping < five.damping == DAMPING


def test_window_must_be_longer_than_the_burst() -> None:
    with pytest.raises(ValueError, match="burst window"):
        detect_hype([], AS_OF, WINDOW, WINDOW)


@given(st.lists(st.tuples(st.floats(0, 71.9), st.floats(-1, 1)), max_size=40))
def test_damping_is_a_fraction_and_only_with_a_flag(items) -> None:
    check = detect_hype([(_at(h), p) for h, p in items], AS_OF, DAY, WINDOW)
    assert 0 < check.damping <= 1 and (check.damping < 1) == check.flagged
    assert 0 <= check.one_sided <= 1


# The rebound of Monday 26 March 2018 after the tariff sell-off, as the replay sees it at the next
# open: Reuters' Monday stories (known at the end of the UTC day) against the weekend's.
# Polarity is hand-labelled, so the test does not move when the sentiment model is retrained.
REBOUND = [
    ("Reuters", "Wall Street nosedives as investors flee on trade war fears", 72 - 48, BEAR),
    ("Reuters", "Trade war fears roil equity markets while yen, bonds gain", 72 - 48, BEAR),
    ("Guardian", "Business live US trade war: Dow recovers in early trading after China signals tariff retaliation – as it happened", 72 - 48, BULL),
    ("Guardian", "Dow dreamers show Trump's war on elites is pure fantasy", 25, FLAT),
    ("CNBC", "Cramer's game plan: Be prepared for more White House chaos", 10.8, BEAR),
    ("Reuters", "Wall Street roars back as trade war fears fade", 0, BULL),
    ("Reuters", "Global stocks bounce on report of U.S.-China trade talks", 0, BULL),
    ("Reuters", "Wall Street rebounds on hopes for U.S.-China talks on trade", 0, BULL),
    ("Reuters", "Wall Street bonuses rise 17 percent in 2017: report", 0, BULL),
    ("Reuters", "South Korea steel shares rise on U.S. steel tariff exemption", 0, BULL),
]


def _mentions(rows):
    mentions = [Mention(Headline(source, title, AS_OF - timedelta(hours=hours)), 1.0, True) for source, title, hours, _ in rows]
    return mentions, {m.headline.content_hash: p for m, (*_, p) in zip(mentions, rows)}


def test_the_real_rebound_burst_is_flagged_and_damped() -> None:
    mentions, polarity = _mentions(REBOUND)
    score = narrative_score(mentions, polarity, AS_OF, DAY, WINDOW, DAY)
    assert score.hype is not None and score.hype.side == 1 and score.hype.burst == 5
    assert score.hype.expected == pytest.approx(1.5)  # three leaning stories in the two days before
    hyped = {c.title: c for c in score.contributions if c.hyped}
    assert set(hyped) == {title for source, title, hours, p in REBOUND if hours == 0}
    # One story fewer and the burst is below the minimum: same stories, undamped.
    calm = narrative_score(mentions[:-1], polarity, AS_OF, DAY, WINDOW, DAY)
    assert not calm.hype.flagged and not any(c.hyped for c in calm.contributions)
    before = next(c for c in calm.contributions if c.title == "Wall Street roars back as trade war fears fade")
    after = hyped["Wall Street roars back as trade war fears fade"]
    # Reuters has one story more in the cascade case (sqrt source-diversity), and the damping.
    assert after.weight / before.weight == pytest.approx(score.hype.damping * (6 / 7) ** 0.5)
