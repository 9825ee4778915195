"""Evidence that names its weight: one story carrying the case, and speculation counting less (issue 12, item 4).

The headlines are the six real ETH stories of the embedded snapshot (providers/embedded/feeds), with
polarities close to what the embedded model gives them: one Cointelegraph question far above the rest.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from intelligence.evidence import evidence_line, has_number
from intelligence.narrative import SPECULATION_WEIGHT, Contribution, NarrativeScore, narrative_score
from intelligence.relevance import Mention
from intelligence.signal import NARRATIVE_MIN, build_signal
from intelligence.types import Direction, Headline, Polarity
from tests.conftest import utc
from tests.signal_fixtures import make_price

AS_OF = utc(2025, 12, 13, 10, 14)
HALF_LIFE, WINDOW = timedelta(hours=12), timedelta(hours=72)
QUESTION = "Ether price rallied 260% last time this happened: Can ETH reach $5K?"
ETH_STORIES = [  # (source, title, hours before as-of, positive, negative)
    ("Cointelegraph", QUESTION, 20.6, 0.97, 0.01),
    ("Decrypt", "Bitcoin Isn\u2019t Buying What the Fed Is Selling: Here\u2019s What the Charts Suggest Happens Next", 39.8,
     0.05, 0.10),
    ("Decrypt", "XRP Is Launching on Ethereum and Solana\u2014Here's Why (and How)", 14.0, 0.05, 0.06),
    ("Decrypt", "Bitcoin Giant Strategy's Cash Reserve Was a 'Smart' Move, Says BitMine's Tom Lee", 18.8, 0.08, 0.05),
    ("CoinDesk", "Backed, Chainlink Unveil xBridge to Move Tokenized Stocks Between Solana and Ethereum", 19.2, 0.05, 0.05),
    ("Decrypt", "Myriad Moves: Will Santa Bring a Pump or Dump for Bitcoin, Ethereum and Solana?", 37.5, 0.05, 0.05),
]


def _mentions(stories) -> tuple[list[Mention], dict[str, Polarity]]:
    mentions, polarity = [], {}
    for source, title, hours, pos, neg in stories:
        headline = Headline(source, title, AS_OF - timedelta(hours=hours))
        mentions.append(Mention(headline, 1.0, True))
        polarity[headline.content_hash] = Polarity(pos, neg, 1.0 - pos - neg)
    return mentions, polarity


def test_a_question_weighs_half_of_the_same_story_told_as_a_report() -> None:
    report = ("Cointelegraph", "Ether price rallies as treasuries keep buying", 5, 0.9, 0.05)
    question = ("Cointelegraph", "Can Ether price rally as treasuries keep buying?", 5, 0.9, 0.05)
    told = narrative_score(*_mentions([report]), AS_OF, HALF_LIFE, WINDOW)
    asked = narrative_score(*_mentions([question]), AS_OF, HALF_LIFE, WINDOW)
    assert asked.contributions[0].weight == pytest.approx(SPECULATION_WEIGHT * told.contributions[0].weight)
    assert asked.contributions[0].speculation and not told.contributions[0].speculation
    assert abs(asked.score) < abs(told.score)
    assert asked.speculative_share == 1.0 and told.speculative_share == 0.0


def test_the_embedded_eth_story_rests_on_one_question() -> None:
    narrative = narrative_score(*_mentions(ETH_STORIES), AS_OF, HALF_LIFE, WINDOW)
    lead = narrative.contributions[0]
    assert lead.title == QUESTION and lead.speculation
    assert narrative.lead_share > 0.9  # the other five are near neutral
    # Weighed as speculation, the question no longer moves the narrative far enough to act on.
    assert abs(narrative.score) < NARRATIVE_MIN


def _carried(speculative: bool) -> NarrativeScore:
    """A narrative that leans far enough to trade, carried by one strong story among near-neutral ones."""
    cue = "Can ETH reach $5K?" if speculative else ""
    title = QUESTION if speculative else "Ether rallies as treasuries keep buying"
    strong = Contribution("h0", "Cointelegraph", title, 0.95, 0.8, AS_OF - timedelta(hours=20), speculation=cue)
    quiet = tuple(Contribution(f"h{i}", "Decrypt", f"Story {chr(64 + i)} about Ethereum", 0.02, 0.3,
                               AS_OF - timedelta(hours=10)) for i in range(1, 4))
    contributions = (strong, *quiet)
    total = sum(abs(c.weight * c.polarity) for c in contributions)
    return NarrativeScore(0.3, 0.4, 1.7, 4, 0, ("Cointelegraph",), (), contributions, effective_sources=2.0,
                          lead_share=abs(strong.weight * strong.polarity) / total,
                          speculative_share=abs(strong.weight * strong.polarity) / total if speculative else 0.0)


def test_a_call_carried_by_one_story_says_so_and_quotes_it_with_source_and_age() -> None:
    signal = build_signal("ETH", AS_OF, _carried(False), make_price(0.2, -0.5, -0.5, AS_OF), timedelta(hours=24))
    assert signal.direction is Direction.BUY
    assert "ONE_STORY_CARRIES" in signal.reason_codes and "MOSTLY_SPECULATION" not in signal.reason_codes
    line = evidence_line(signal)
    assert ("one story carries it, from Cointelegraph within the last day: "
            "\u201cEther rallies as treasuries keep buying\u201d") in line
    assert not has_number(line)


def test_a_call_resting_on_a_question_quotes_it_without_its_numbers_and_says_it_is_not_a_report() -> None:
    signal = build_signal("ETH", AS_OF, _carried(True), make_price(0.2, -0.5, -0.5, AS_OF), timedelta(hours=24))
    assert {"ONE_STORY_CARRIES", "MOSTLY_SPECULATION"} <= set(signal.reason_codes)
    line = evidence_line(signal)
    assert ("one story carries it, from Cointelegraph within the last day: \u201cEther price rallied \u2026 last time "
            "this happened: Can ETH reach \u2026?\u201d, a question rather than a report") in line
    assert "questions and guesses rather than reports" in line
    assert not has_number(line)


def test_a_narrative_spread_over_many_stories_carries_no_such_code() -> None:
    stories = [("Decrypt", "Ether climbs as staking deposits hit a record", 5, 0.8, 0.05),
               ("CoinDesk", "BlackRock files for a staked Ethereum fund", 6, 0.7, 0.05),
               ("The Block", "Ethereum upgrade goes live on mainnet without a hitch", 7, 0.75, 0.05),
               ("Cointelegraph", "Corporate treasuries add Ether for a third straight week", 8, 0.8, 0.05)]
    narrative = narrative_score(*_mentions(stories), AS_OF, HALF_LIFE, WINDOW)
    assert narrative.lead_share < 0.5
    signal = build_signal("ETH", AS_OF, narrative, make_price(0.2, -0.5, -0.5, AS_OF), timedelta(hours=24))
    assert "ONE_STORY_CARRIES" not in signal.reason_codes and "MOSTLY_SPECULATION" not in signal.reason_codes
