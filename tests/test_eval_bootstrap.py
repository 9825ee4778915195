"""Day-clustered bootstrap: reference widths, the effect of clustering, determinism, containment."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eval.bootstrap import ClusterResampler, mean_interval, skill_interval


def test_independent_coin_flips_give_the_textbook_width() -> None:
    values = np.array([1.0, 0.0] * 200)  # 400 outcomes, mean one half: standard error 0.025
    interval = mean_interval(ClusterResampler(list(range(400))), values)
    assert interval.point == 0.5
    assert interval.low == pytest.approx(0.5 - 1.96 * 0.025, abs=0.01)
    assert interval.high == pytest.approx(0.5 + 1.96 * 0.025, abs=0.01)


def test_copies_inside_one_day_do_not_narrow_the_interval() -> None:
    # The same 40 outcomes, each told five times on its own day (five coins moving together):
    # resampling days must give the interval of the 40, not of 200 independent draws.
    base = np.array([1.0, 0.0, 0.0, 1.0, 1.0] * 8)
    days = list(range(40))
    single = mean_interval(ClusterResampler(days), base)
    repeated = mean_interval(ClusterResampler([d for d in days for _ in range(5)]), np.repeat(base, 5))
    naive = mean_interval(ClusterResampler(list(range(200))), np.repeat(base, 5))
    assert repeated.point == pytest.approx(single.point)
    assert repeated.high - repeated.low == pytest.approx(single.high - single.low, rel=0.15)
    assert naive.high - naive.low < 0.6 * (repeated.high - repeated.low)


def test_the_same_input_gives_the_same_interval() -> None:
    values = np.array([0.1, 0.4, 0.35, 0.8, 0.05, 0.6])
    first = mean_interval(ClusterResampler([1, 1, 2, 3, 3, 4]), values)
    again = mean_interval(ClusterResampler([1, 1, 2, 3, 3, 4]), values)
    assert first == again


def test_skill_interval_is_paired_and_none_against_a_perfect_reference() -> None:
    losses = np.array([0.16, 0.09, 0.25, 0.04, 0.36, 0.01, 0.2, 0.3])
    reference = np.full(8, 0.25)
    interval = skill_interval(ClusterResampler(list(range(8))), losses, reference)
    assert interval is not None
    assert interval.point == pytest.approx(1 - losses.mean() / 0.25)
    assert interval.low <= interval.point <= interval.high
    # Scored against itself on the same draws, the skill is exactly zero in every resample.
    itself = skill_interval(ClusterResampler(list(range(8))), losses, losses)
    assert itself is not None and itself.low == itself.high == 0.0
    assert skill_interval(ClusterResampler(list(range(8))), losses, np.zeros(8)) is None


def test_misaligned_values_are_refused() -> None:
    with pytest.raises(ValueError, match="expected 3 values"):
        ClusterResampler([1, 2, 3]).means(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="nothing to resample"):
        ClusterResampler([])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(min_value=0, max_value=1, allow_nan=False), st.integers(0, 6)), min_size=1,
                max_size=40))
def test_the_interval_contains_the_point_estimate(rows: list[tuple[float, int]]) -> None:
    values = np.array([v for v, _ in rows])
    interval = mean_interval(ClusterResampler([d for _, d in rows], resamples=300), values)
    assert interval.point == pytest.approx(values.mean())
    assert interval.low <= interval.point <= interval.high
    assert values.min() - 1e-12 <= interval.low and interval.high <= values.max() + 1e-12
