from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intelligence.signal import MAX_PRIOR_EDGE, classify, prior_probability
from intelligence.types import Direction

scores = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)


@pytest.mark.parametrize(
    ("narrative", "price", "direction", "reason"),
    [
        (0.5, -0.3, Direction.BUY, "DIVERGENCE_BULLISH"),
        (-0.5, 0.3, Direction.SELL, "DIVERGENCE_BEARISH"),
        (0.4, 0.5, Direction.BUY, "CONFIRMED_BULLISH"),
        (-0.4, -0.5, Direction.SELL, "CONFIRMED_BEARISH"),
        (0.05, -0.9, Direction.HOLD, "WEAK_NARRATIVE"),
        (0.2, 0.9, Direction.HOLD, "PRICE_AHEAD_OF_STORY"),
        (-0.2, -0.9, Direction.HOLD, "PRICE_AHEAD_OF_STORY"),
        (0.2, -0.05, Direction.HOLD, "NO_EDGE"),
    ],
)
def test_classification(narrative: float, price: float, direction: Direction, reason: str) -> None:
    assert classify(narrative, price) == (direction, reason)


@given(scores, scores)
def test_direction_never_fights_the_story(narrative: float, price: float) -> None:
    direction, _ = classify(narrative, price)
    if direction is Direction.BUY:
        assert narrative > 0
    if direction is Direction.SELL:
        assert narrative < 0


@given(st.floats(min_value=0, max_value=1), st.floats(min_value=0, max_value=100))
def test_prior_probability_stays_near_the_base_rate(strength: float, mass: float) -> None:
    p = prior_probability(strength, mass)
    assert 0.5 <= p <= 0.5 + MAX_PRIOR_EDGE


def test_prior_probability_grows_with_strength_and_evidence() -> None:
    assert prior_probability(0.8, 3.0) > prior_probability(0.3, 3.0) > prior_probability(0.0, 3.0) == 0.5
    assert prior_probability(0.5, 10.0) > prior_probability(0.5, 1.0)
