"""Walk-forward baselines: the base rate and the score fits know only moves closed before each signal."""
from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eval.baselines import (
    INTERCEPT_PENALTY, MIN_FIT, SLOPE_PENALTY, KnownMove, Target, direction_probability, fit_logistic, sigmoid,
    walk_forward,
)
from tests.conftest import utc

T0 = utc(2018, 1, 2)
DAY = timedelta(days=1)


def move(day: int, up: bool, price: float = 0.0, narrative: float = 0.0) -> KnownMove:
    return KnownMove(T0 + day * DAY, up, price, narrative)


def target(day: float, price: float = 0.0, narrative: float = 0.0) -> Target:
    return Target(T0 + day * DAY, price, narrative)


def test_climatology_starts_at_a_coin_flip_and_follows_laplaces_rule() -> None:
    history = [move(0, True), move(1, True), move(2, False), move(3, True)]
    forecasts = walk_forward([target(-1), target(3), target(10)], history)
    # nothing known; 3 up of 4 known at day 3 (known at exactly as-of counts); the same later
    assert forecasts.up["climatology"].tolist() == pytest.approx([0.5, 4 / 6, 4 / 6])


def test_a_move_that_closes_after_the_signal_is_not_known_to_it() -> None:
    history = [move(0, True), move(5, False)]
    forecasts = walk_forward([target(4.99)], history)
    assert forecasts.up["climatology"][0] == pytest.approx(2 / 3)


def test_the_score_baselines_are_the_climatology_until_enough_moves_are_known() -> None:
    history = [move(d, d % 3 != 0, price=0.5 if d % 3 else -0.5) for d in range(MIN_FIT - 1)]
    forecasts = walk_forward([target(MIN_FIT, price=0.9, narrative=-0.9)], history)
    assert forecasts.fitted == 0
    assert forecasts.up["price_only"][0] == forecasts.up["sentiment_only"][0] == forecasts.up["climatology"][0]


def test_a_price_score_that_tracked_the_moves_is_learnt_and_the_unrelated_news_is_not() -> None:
    # Up when the price score was positive, whatever the news said.
    history = [move(d, d % 2 == 0, price=0.6 if d % 2 == 0 else -0.6, narrative=0.3 * ((d // 2) % 2 * 2 - 1))
               for d in range(60)]
    forecasts = walk_forward([target(61, price=0.6, narrative=0.3), target(61, price=-0.6, narrative=0.3)], history)
    assert forecasts.fitted == 2
    assert forecasts.up["price_only"][0] > 0.7 and forecasts.up["price_only"][1] < 0.3
    assert abs(forecasts.up["sentiment_only"][0] - 0.5) < 0.05


def test_the_fit_is_the_penalised_maximum_likelihood() -> None:
    x = np.array([-0.8, -0.5, -0.1, 0.0, 0.2, 0.4, 0.7, 0.9])
    y = np.array([0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0])
    theta = fit_logistic(x, y)
    p = sigmoid(theta[0] + theta[1] * x)
    # First-order conditions of the penalised log-likelihood, checked independently of Newton's steps.
    assert np.sum(p - y) + INTERCEPT_PENALTY * theta[0] == pytest.approx(0.0, abs=1e-9)
    assert np.sum((p - y) * x) + SLOPE_PENALTY * theta[1] == pytest.approx(0.0, abs=1e-9)
    assert theta[1] > 0


def test_a_run_of_only_up_moves_keeps_a_finite_fit() -> None:
    theta = fit_logistic(np.linspace(-1, 1, 40), np.ones(40))
    assert np.all(np.isfinite(theta)) and sigmoid(np.array(theta[0])) < 1.0


def test_direction_probability_turns_up_into_right() -> None:
    assert direction_probability(np.array([0.6, 0.6]), np.array([True, False])).tolist() == pytest.approx([0.6, 0.4])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 80), st.booleans(), st.floats(-1, 1), st.floats(-1, 1)), min_size=35,
                max_size=70),
       st.integers(0, 80), st.data())
def test_changing_moves_known_after_a_signal_never_changes_its_forecast(rows, cut: int, data) -> None:
    history = [move(d, up, p, n) for d, up, p, n in rows]
    targets = [target(cut + 0.5, 0.3, -0.2)]
    # Rewrite every move that closes after the signal: flip it and change its scores.
    later = [KnownMove(m.known_at, not m.up, -m.price_score, data.draw(st.floats(-1, 1)))
             if m.known_at > targets[0].as_of else m for m in history]
    before = walk_forward(targets, history)
    after = walk_forward(targets, later)
    for name in before.up:
        assert before.up[name][0] == after.up[name][0]
        assert 0.0 < before.up[name][0] < 1.0
