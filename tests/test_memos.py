"""What the speed-ups remember or batch gives exactly what computing it afresh gives."""
from __future__ import annotations

import dataclasses
import pickle
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intelligence import novelty, relevance
from providers.catalogue import load_catalogue

from intelligence.outcomes import resolve_outcome, resolve_outcomes
from intelligence.types import Asset, Direction, Headline
from providers.bars import read_bars
from tests.conftest import utc

CATALOGUE = load_catalogue()

EMBEDDED = Path(__file__).resolve().parent.parent / "providers" / "embedded" / "bars"
BTC = read_bars(EMBEDDED / "BTCUSDT_1h.csv", "BTC")
HOUR = timedelta(hours=1)


@settings(max_examples=40, deadline=None)
@given(calls=st.lists(st.tuples(st.integers(0, 60 * 24 * 62), st.sampled_from(list(Direction)), st.integers(1, 96)),
                      max_size=12))
def test_resolving_many_calls_at_once_equals_resolving_each(calls: list[tuple[int, Direction, int]]) -> None:
    made = [(utc(2025, 11, 1) + timedelta(minutes=m), d, h * HOUR) for m, d, h in calls]
    one_by_one = [resolve_outcome(a, d, h, BTC.bars, BTC.interval) for a, d, h in made]
    assert resolve_outcomes(made, BTC.bars, BTC.interval) == one_by_one


def test_batch_resolution_refuses_what_the_single_one_refuses() -> None:
    backwards = list(reversed(BTC.bars[:30]))
    with pytest.raises(ValueError, match="increasing time order") as single:
        resolve_outcome(utc(2025, 11, 1), Direction.BUY, HOUR, backwards, HOUR)
    with pytest.raises(ValueError, match="increasing time order") as batch:
        resolve_outcomes([(utc(2025, 11, 1), Direction.BUY, HOUR)], backwards, HOUR)
    assert str(single.value) == str(batch.value)
    with pytest.raises(ValueError, match="horizon must be positive"):
        resolve_outcomes([(utc(2025, 11, 1), Direction.BUY, timedelta(0))], BTC.bars, HOUR)
    assert resolve_outcomes([], BTC.bars, HOUR) == []


class ListScorer:
    """A scorer that cannot be hashed (it defines equality only): the relevance memo must step aside."""

    name = "list"

    def __init__(self, terms: list[str]) -> None:
        self.terms = terms

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ListScorer) and other.terms == self.terms

    __hash__ = None  # type: ignore[assignment]

    def similarity(self, asset: Asset, text: str) -> float:
        return 0.9 if any(t in text.lower() for t in self.terms) else 0.0


def test_relevance_is_the_same_remembered_or_not_and_with_an_unhashable_scorer() -> None:
    btc = CATALOGUE["BTC"]
    titles = ["Bitcoin tops $100k", "Crypto miners buy more rigs", "Fed holds rates", "Bitcoin tops $100k"]
    for title in titles:
        for scorer in (relevance.DEFAULT_SCORER, ListScorer(["miners"])):
            assert relevance._named(btc, title, scorer) == relevance._named_uncached(btc, title, scorer)
    headline = Headline("Wire", "Crypto miners buy more rigs", utc(2025, 12, 1))
    found = relevance.relevance(btc, headline, ListScorer(["miners"]))
    assert found is not None and not found.named


def test_title_features_are_the_key_bigrams_and_names() -> None:
    title = "Goldman Sachs’ pay gap reveals men paid twice as much as women"
    assert novelty._title_features(title) == (novelty.title_key(title), novelty.shingles(title), novelty.entities(title))


def test_a_headline_remembers_its_identity_without_changing_equality() -> None:
    one = Headline("Wire", "Bitcoin  tops $100k", utc(2025, 12, 1), url="https://x/1")
    other = Headline("Wire", "Bitcoin  tops $100k", utc(2025, 12, 1), url="https://x/1")
    first_id, first_hash = one.id, one.content_hash  # remembered on `one` only
    assert one == other and hash(one) == hash(other) and (one.id, one.content_hash) == (other.id, other.content_hash)
    assert "id" not in repr(one).split("(", 1)[1] and list(dataclasses.asdict(one)) == [
        "source", "title", "published", "url", "summary", "symbols"]
    retitled = dataclasses.replace(one, title="Bitcoin slips")
    assert retitled.id != first_id and retitled.content_hash != first_hash
    assert pickle.loads(pickle.dumps(one)) == one
