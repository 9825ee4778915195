from __future__ import annotations

from datetime import timedelta

from intelligence.evidence import describe_tape, evidence_line, has_number, join_names
from intelligence.narrative import Contribution, NarrativeScore
from intelligence.price import PriceScore
from intelligence.signal import build_signal
from intelligence.types import Direction
from tests.conftest import utc

AS_OF = utc(2025, 12, 13, 10, 14)


def _price(short: float, mid: float, long: float, volume_ratio: float = 1.0) -> PriceScore:
    scores = {"short": short, "mid": mid, "long": long}
    return PriceScore(
        score=0.25 * short + 0.4 * mid + 0.35 * long, timescales=scores, returns=dict(scores), volatility=0.01,
        volume_ratio=volume_ratio, aligned=len({s > 0 for s in scores.values()}) == 1, last_close=100.0,
        last_bar_end=AS_OF, bars_used=200, problems=(),
    )


def _narrative(score: float, positive=("Decrypt",), negative=(), titles=("Ether rallies as treasuries keep buying",)) -> NarrativeScore:
    contributions = tuple(Contribution(f"h{i}", "Decrypt", t, 0.8 if score > 0 else -0.8, 0.5) for i, t in enumerate(titles))
    return NarrativeScore(score, score, 2.0, len(titles), 0, tuple(positive), tuple(negative), contributions)


def test_join_names_reads_like_english_and_drops_names_with_digits() -> None:
    assert join_names(["A"]) == "A"
    assert join_names(["A", "B", "C"]) == "A, B and C"
    assert join_names(["A", "Channel 4"]) == "A"


def test_tape_description_names_each_timescale_that_says_something_new() -> None:
    text = describe_tape(_price(0.3, -0.5, -0.5, volume_ratio=0.5))
    assert text == "the tape is slipping over the day but edging up in recent hours on light volume"
    assert describe_tape(_price(0.0, 0.0, 0.0)) == "the tape is flat over the day"


def test_bullish_divergence_line_names_sources_tape_story_and_invalidation() -> None:
    signal = build_signal("ETH", AS_OF, _narrative(0.5, positive=("Decrypt", "CoinDesk"), negative=("The Block",)),
                          _price(-0.2, -0.5, -0.3), timedelta(hours=24))
    assert signal.direction is Direction.BUY
    line = evidence_line(signal)
    assert line.startswith("Decrypt and CoinDesk lean bullish on Ethereum though The Block leans the other way while the tape is")
    assert "\u201cEther rallies as treasuries keep buying\u201d" in line
    assert line.endswith("It is wrong if price keeps sliding while the coverage stays upbeat.")


def test_headlines_with_numbers_are_not_quoted() -> None:
    signal = build_signal("BTC", AS_OF, _narrative(-0.6, positive=(), negative=("CoinDesk",), titles=("Bitcoin plunges below $90K",)),
                          _price(0.3, 0.4, 0.2), timedelta(hours=24))
    line = evidence_line(signal)
    assert signal.direction is Direction.SELL and not has_number(line) and "plunges" not in line


def test_different_signals_get_different_sentences() -> None:
    lines = {
        evidence_line(build_signal(symbol, AS_OF, _narrative(n), _price(*tape), timedelta(hours=24)))
        for symbol, n, tape in [
            ("ETH", 0.5, (-0.2, -0.5, -0.3)), ("SOL", 0.5, (-0.2, -0.5, -0.3)),
            ("ETH", 0.5, (0.5, 0.5, 0.5)), ("ETH", 0.05, (0.1, 0.0, 0.0)), ("ETH", 0.3, (0.9, 0.9, 0.9)),
        ]
    }
    assert len(lines) == 5 and not any(has_number(line) for line in lines)
