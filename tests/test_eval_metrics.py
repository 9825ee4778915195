"""Brier, log-loss, reliability bins, ECE, skill and Wilson intervals against values worked out by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from eval import metrics

probabilities = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
pairs = st.lists(st.tuples(probabilities, st.booleans()), min_size=1, max_size=60)


def split(rows: list[tuple[float, bool]]) -> tuple[list[float], list[float]]:
    return [p for p, _ in rows], [float(y) for _, y in rows]


def test_a_perfect_forecast_scores_zero_and_a_coin_flip_a_quarter() -> None:
    y = [1, 0, 0, 1, 1]
    assert metrics.brier(y, y) == 0.0
    assert metrics.brier([0.5] * 5, y) == pytest.approx(0.25)
    assert metrics.log_loss([0.5] * 5, y) == pytest.approx(math.log(2))


def test_brier_and_log_loss_match_hand_computed_values() -> None:
    # (0.2^2 + 0.3^2 + 0.6^2) / 3 = (0.04 + 0.09 + 0.36) / 3
    assert metrics.brier([0.8, 0.3, 0.6], [1, 0, 0]) == pytest.approx(0.49 / 3)
    # -(ln 0.8 + ln 0.7) / 2
    assert metrics.log_loss([0.8, 0.3], [1, 0]) == pytest.approx((0.2231435513 + 0.3566749439) / 2)


def test_a_certain_wrong_forecast_costs_a_large_but_finite_log_loss() -> None:
    loss = metrics.log_loss([1.0], [0])
    assert math.isfinite(loss) and loss == pytest.approx(-math.log(metrics.LOG_LOSS_EPS), rel=1e-4)


def test_reliability_bins_and_ece_by_hand() -> None:
    p, y = [0.15, 0.15, 0.85, 0.85], [0, 1, 1, 1]
    bins = metrics.calibration_bins(p, y)
    assert len(bins) == 10 and [b.count for b in bins] == [0, 2, 0, 0, 0, 0, 0, 0, 2, 0]
    assert bins[1].mean_probability == pytest.approx(0.15) and bins[1].hit_rate == 0.5
    assert bins[8].hit_rate == 1.0 and bins[0].mean_probability is None and bins[0].gap is None
    # half the forecasts are 0.35 off, half 0.15 off
    assert metrics.ece(p, y) == pytest.approx(0.25)


def test_bin_edges_lower_inclusive_and_one_in_the_last_bin() -> None:
    index = metrics.bin_index(np.array([0.0, 0.1, 0.0999, 0.5, 0.95, 1.0]))
    assert index.tolist() == [0, 1, 0, 5, 9, 9]


def test_a_constant_forecast_at_the_base_rate_is_calibrated() -> None:
    y = [1, 1, 1, 0]
    assert metrics.ece([0.75] * 4, y) == pytest.approx(0.0)


def test_brier_skill_against_a_reference() -> None:
    assert metrics.brier_skill(0.2, 0.25) == pytest.approx(0.2)
    assert metrics.brier_skill(0.25, 0.25) == 0.0
    assert metrics.brier_skill(0.3, 0.25) == pytest.approx(-0.2)
    assert metrics.brier_skill(0.1, 0.0) is None


def test_wilson_interval_matches_the_textbook_value() -> None:
    low, high = metrics.wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    assert metrics.wilson_interval(0, 5)[0] == 0.0 and metrics.wilson_interval(5, 5)[1] == 1.0


@pytest.mark.parametrize("p, y, message", [
    ([], [], "no forecasts"),
    ([0.5, 0.5], [1], "one length"),
    ([1.5], [1], "in \\[0, 1\\]"),
    ([0.5], [2], "0 or 1"),
])
def test_bad_input_is_refused_with_a_reason(p: list[float], y: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        metrics.brier(p, y)


@given(pairs)
def test_brier_lies_in_the_unit_interval(rows: list[tuple[float, bool]]) -> None:
    assert 0.0 <= metrics.brier(*split(rows)) <= 1.0


@given(pairs)
def test_ece_lies_in_the_unit_interval_and_bins_hold_every_forecast(rows: list[tuple[float, bool]]) -> None:
    p, y = split(rows)
    assert 0.0 <= metrics.ece(p, y) <= 1.0
    assert sum(b.count for b in metrics.calibration_bins(p, y)) == len(rows)


@given(pairs)
def test_log_loss_is_never_below_zero_and_brier_of_the_truth_is_zero(rows: list[tuple[float, bool]]) -> None:
    p, y = split(rows)
    assert metrics.log_loss(p, y) >= 0.0
    assert metrics.brier(y, y) == 0.0


@given(st.integers(min_value=1, max_value=500), st.data())
def test_wilson_interval_holds_the_observed_rate(trials: int, data: st.DataObject) -> None:
    successes = data.draw(st.integers(min_value=0, max_value=trials))
    low, high = metrics.wilson_interval(successes, trials)
    assert 0.0 <= low <= successes / trials <= high <= 1.0
