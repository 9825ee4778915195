from __future__ import annotations

from datetime import timedelta

from pathlib import Path

import pytest

from providers.catalogue import load_catalogue

from intelligence.cycle import CycleParams
from intelligence.evidence import describe_tape, evidence_line, has_number, join_names, quote_text, span_words
from intelligence.narrative import Contribution, NarrativeScore
from intelligence.price import PriceScore
from intelligence.signal import build_signal
from intelligence.types import Direction
from intelligence.relevance import relevant_headlines
from intelligence.walk_forward import WalkConfig, walk_forward
from providers.bars import read_bars
from providers.replay_news import read_news
from providers.sentiment_models import load_backend
from tests.conftest import utc

CATALOGUE = load_catalogue()

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
    assert text == "the tape is slipping over the day and the past few days but edging up in recent hours on light volume"
    assert describe_tape(_price(0.0, 0.0, 0.0)) == "the tape is flat over the day, over the past few days and in recent hours on ordinary volume"


def test_spans_in_words_follow_the_bar_size() -> None:
    day = timedelta(days=1)
    assert span_words("short", day, daily=True) == "over the last session"
    assert span_words("mid", 7 * day, daily=True) == "over the past week"
    assert span_words("long", 28 * day, daily=True) == "over the past month"
    assert span_words("short", timedelta(hours=4), daily=False) == "in recent hours"
    assert span_words("mid", day, daily=False) == "over the day"
    assert span_words("long", 3 * day, daily=False) == "over the past few days"


def test_bullish_divergence_line_names_sources_tape_story_and_invalidation() -> None:
    signal = build_signal("ETH", AS_OF, _narrative(0.5, positive=("Decrypt", "CoinDesk"), negative=("The Block",)),
                          _price(-0.2, -0.5, -0.3), timedelta(hours=24))
    assert signal.direction is Direction.BUY
    assert evidence_line(signal).startswith("Decrypt and CoinDesk lean bullish on ETH ")  # no name given: the symbol
    line = evidence_line(signal, CATALOGUE["ETH"].name)
    assert line.startswith("Decrypt and CoinDesk lean bullish on Ethereum though The Block leans the other way while the tape is")
    assert "\u201cEther rallies as treasuries keep buying\u201d" in line
    # What would prove it wrong names the timescale where the tape is weakest and the source to watch.
    assert line.endswith("It is wrong if price keeps sliding over the day while the coverage stays upbeat or Decrypt turns sour.")


def test_headlines_with_numbers_are_quoted_with_the_numbers_left_out() -> None:
    signal = build_signal("BTC", AS_OF, _narrative(-0.6, positive=(), negative=("CoinDesk",), titles=("Bitcoin plunges below $90K",)),
                          _price(0.3, 0.4, 0.2), timedelta(hours=24))
    line = evidence_line(signal)
    assert signal.direction is Direction.SELL and not has_number(line)
    assert "\u201cBitcoin plunges below \u2026\u201d" in line


def test_a_title_that_is_mostly_figures_is_not_quoted() -> None:
    assert quote_text("Ether price rallied 260% last time this happened: Can ETH reach $5K?") == (
        "Ether price rallied \u2026 last time this happened: Can ETH reach \u2026?")
    assert quote_text("Kroger to hire 11,000 employees") == "Kroger to hire \u2026 employees"
    assert quote_text("Dow up 1.2%, S&P 500 up 0.8%, Nasdaq up 1%") == ""  # four figures: nothing left to quote
    assert quote_text("He said \u201cbuy\u201d") == ""


def test_different_signals_get_different_sentences() -> None:
    lines = {
        evidence_line(build_signal(symbol, AS_OF, _narrative(n), _price(*tape), timedelta(hours=24)))
        for symbol, n, tape in [
            ("ETH", 0.5, (-0.2, -0.5, -0.3)), ("SOL", 0.5, (-0.2, -0.5, -0.3)),
            ("ETH", 0.5, (0.5, 0.5, 0.5)), ("ETH", 0.05, (0.1, 0.0, 0.0)), ("ETH", 0.3, (0.9, 0.9, 0.9)),
        ]
    }
    assert len(lines) == 5 and not any(has_number(line) for line in lines)


# --- on real headlines: the March-April 2018 replay copy, scored by the embedded sentiment model ----

REPLAY = Path(__file__).resolve().parent / "data" / "replay"


@pytest.fixture(scope="module")
def replay_signals():
    headlines = [h for name in ("cnbc_headlines.csv", "guardian_headlines.csv", "reuters_headlines.csv")
                 for h in read_news(REPLAY / name).headlines]
    mentions = relevant_headlines(CATALOGUE["SPY"], headlines)
    backend = load_backend("embedded", "unused").backend
    polarity = dict(zip((m.headline.content_hash for m in mentions), backend.score([m.headline.title for m in mentions])))
    bars = read_bars(REPLAY / "spy_daily.csv", "SPY")
    params = CycleParams(timedelta(hours=24), timedelta(hours=72), timedelta(hours=24), timedelta(hours=24))
    config = WalkConfig(params, history_length=60, min_outcomes=30, start=utc(2018, 2, 26))
    return walk_forward(CATALOGUE["SPY"], mentions, polarity, bars.bars, bars.interval, config).signals


def test_real_signals_get_their_own_sentences(replay_signals) -> None:
    lines = [evidence_line(s) for s in replay_signals]
    assert len(lines) > 30
    assert len(set(lines)) == len(lines)  # no two sessions share a sentence
    assert not any(has_number(line) for line in lines)
    # Daily bars are described in sessions, weeks and months, never in hours.
    assert all("recent hours" not in line and "over the day" not in line for line in lines)
    assert any("over the last session" in line for line in lines)


def test_real_calls_quote_their_story_and_say_what_would_prove_them_wrong(replay_signals) -> None:
    calls = [s for s in replay_signals if s.actionable]
    assert calls
    for signal in calls:
        line = evidence_line(signal)
        assert "It is wrong if" in line
        assert any(source in line for source in ("Reuters", "CNBC", "Guardian"))
    quoted = [s for s in calls if "\u201c" in evidence_line(s)]
    assert quoted and all(any(quote_text(c.title) in evidence_line(s) for c in s.narrative.contributions)
                          for s in quoted)
