"""Probability: the prior centred on the base rate before enough outcomes, a Platt fit blended in after."""
from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from intelligence.calibration import P_MAX, P_MIN, Resolved, fit_calibrator, platt_fit
from intelligence.signal import prior_probability
from intelligence.types import Direction

BUY, SELL = Direction.BUY, Direction.SELL


def test_with_no_outcomes_the_prior_speaks_alone() -> None:
    calibrator = fit_calibrator([], min_outcomes=30)
    assert calibrator.method == "prior" and calibrator.base_rate == 0.5 and calibrator.fit_weight == 0.0
    for strength, mass in ((0.1, 1.0), (0.6, 4.0)):
        prior = prior_probability(strength, mass)
        assert calibrator.probability(prior, strength, BUY) == pytest.approx(prior)


def test_before_the_minimum_the_prior_is_centred_on_the_base_rate() -> None:
    # Twenty calls, fifteen right: the engine has been right more often than a coin.
    calls = [Resolved(0.5, BUY, i % 4 != 0) for i in range(20)]
    calibrator = fit_calibrator(calls, min_outcomes=30)
    assert calibrator.method == "prior"
    assert 0.5 < calibrator.base_rate < 0.75  # shrunk toward one half: twenty calls are not many
    weak, strong = prior_probability(0.1, 2.0), prior_probability(0.8, 2.0)
    p_weak, p_strong = calibrator.probability(weak, 0.1, BUY), calibrator.probability(strong, 0.8, BUY)
    assert p_weak == pytest.approx(calibrator.side_rates["BUY"] + weak - 0.5)
    assert p_strong > p_weak  # never a constant


def test_platt_learns_that_conviction_pays() -> None:
    rng = random.Random(7)
    calls = []
    for _ in range(400):
        conviction = rng.random()
        calls.append(Resolved(conviction, rng.choice([BUY, SELL]), rng.random() < 0.35 + 0.3 * conviction))
    calibrator = fit_calibrator(calls, min_outcomes=30)
    assert calibrator.method == "platt" and calibrator.coef[1] > 0.5
    assert calibrator.fit_weight == pytest.approx(400 / 450)
    low = calibrator.probability(prior_probability(0.05, 3), 0.05, BUY)
    high = calibrator.probability(prior_probability(0.95, 3), 0.95, BUY)
    assert low < 0.45 and high > 0.58  # close to the truth (0.365, 0.635), pulled a little toward the prior


def test_a_side_that_keeps_losing_gets_a_lower_probability() -> None:
    calls = [Resolved(0.5, BUY, i % 3 != 0) for i in range(60)] + [Resolved(0.5, SELL, i % 3 == 0) for i in range(60)]
    calibrator = fit_calibrator(calls, min_outcomes=30)
    prior = prior_probability(0.5, 2.0)
    assert calibrator.side_rates["BUY"] > 0.5 > calibrator.side_rates["SELL"]
    assert calibrator.probability(prior, 0.5, BUY) > calibrator.probability(prior, 0.5, SELL)


def test_holds_are_not_calls() -> None:
    assert fit_calibrator([Resolved(0.2, Direction.HOLD, True)], 1).count == 0
    with pytest.raises(ValueError, match="HOLD"):
        fit_calibrator([], 1).probability(0.55, 0.2, Direction.HOLD)
    with pytest.raises(ValueError, match="min_outcomes"):
        fit_calibrator([], 0)


def test_platt_fit_matches_a_known_logistic() -> None:
    rng = np.random.default_rng(3)
    x = np.column_stack([np.ones(5000), rng.normal(size=5000), rng.choice([-1.0, 1.0], 5000)])
    truth = np.array([0.3, 1.5, -0.4])
    y = (rng.random(5000) < 1 / (1 + np.exp(-x @ truth))).astype(float)
    assert platt_fit(x, y, l2=0.0) == pytest.approx(truth, abs=0.12)


@given(
    st.lists(st.tuples(st.floats(0, 1), st.sampled_from([BUY, SELL]), st.booleans()), max_size=80),
    st.floats(0, 1), st.floats(0, 20), st.sampled_from([BUY, SELL]), st.integers(1, 40),
)
def test_probability_is_always_inside_the_open_interval(calls, conviction, mass, side, minimum) -> None:
    calibrator = fit_calibrator([Resolved(c, d, h) for c, d, h in calls], minimum)
    p = calibrator.probability(prior_probability(conviction, mass), conviction, side)
    assert 0 < P_MIN <= p <= P_MAX < 1


def test_a_call_the_record_speaks_against_is_flagged_and_sized_to_nothing() -> None:
    from datetime import timedelta

    from intelligence.signal import build_signal
    from intelligence.sizing import risk_units
    from tests.conftest import utc
    from tests.signal_fixtures import make_narrative, make_price

    as_of = utc(2018, 3, 27)
    losing = fit_calibrator([Resolved(0.4, BUY, i % 4 == 0) for i in range(80)], min_outcomes=30)
    signal = build_signal("SPY", as_of, make_narrative(0.3), make_price(-0.2, -0.3, -0.1, as_of), timedelta(hours=24),
                          calibrator=losing)
    assert signal.direction is BUY and signal.probability < 0.5
    assert "TRACK_RECORD_AGAINST" in signal.reason_codes and risk_units(signal.probability) == 0.0
