"""The market's base rate over a horizon, from the bars known at as-of, by the outcome rules."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intelligence.base_rate import PRIOR_HORIZONS, up_rate
from intelligence.outcomes import resolve_outcome
from intelligence.types import Bar, Direction
from providers.bars import read_bars
from tests.conftest import utc

SPY = read_bars(Path(__file__).resolve().parent / "data" / "bars" / "SPY.csv", "SPY")
DAY, HOUR = timedelta(days=1), timedelta(hours=1)


def test_on_daily_bars_a_day_is_open_to_close_of_one_session() -> None:
    bars, as_of = SPY.bars, SPY.bars[-1].start + DAY
    rate = up_rate(bars, SPY.interval, timedelta(hours=24), as_of)
    ups = sum(b.close > b.open for b in bars)
    assert rate.windows == rate.effective == len(bars)
    assert rate.up == pytest.approx((ups + 0.5 * PRIOR_HORIZONS) / (len(bars) + PRIOR_HORIZONS))


def test_it_agrees_with_the_outcome_of_a_buy_at_every_entry() -> None:
    bars, as_of = SPY.bars, SPY.bars[-1].start + DAY
    horizon = timedelta(days=3)
    hits = [resolve_outcome(b.start, Direction.BUY, horizon, bars, SPY.interval) for b in bars]
    known = [o for o in hits if o is not None and o.exit_time <= as_of]
    rate = up_rate(bars, SPY.interval, horizon, as_of)
    share = sum(o.hit for o in known) / len(known)
    assert rate.windows == len(known) and rate.effective == pytest.approx(len(known) / 3)  # three-day windows overlap
    assert rate.up == pytest.approx((share * rate.effective + 0.5 * PRIOR_HORIZONS) / (rate.effective + PRIOR_HORIZONS))


def test_overlapping_hourly_windows_count_as_the_horizons_they_span() -> None:
    start = utc(2025, 11, 1)
    # Ten days of hourly bars, rising every hour: 217 overlapping day windows, all up, worth about nine days.
    bars = [Bar(start + i * HOUR, 100.0 + i, 101.0 + i, 99.5 + i, 100.5 + i, 1.0) for i in range(240)]
    rate = up_rate(bars, HOUR, timedelta(hours=24), start + 240 * HOUR)
    assert rate.windows == 217 and rate.effective == pytest.approx(217 / 24)
    assert rate.up == pytest.approx((217 / 24 + 0.5 * PRIOR_HORIZONS) / (217 / 24 + PRIOR_HORIZONS))
    assert rate.up < 0.65  # nine straight up days do not make a sure thing


def test_nothing_after_as_of_counts() -> None:
    bars = SPY.bars
    as_of = bars[10].start  # the tenth session has not closed yet
    assert up_rate(bars, SPY.interval, timedelta(hours=24), as_of).windows == 10


def test_no_history_is_a_coin_flip() -> None:
    rate = up_rate([], HOUR, timedelta(hours=24), utc(2025, 12, 1))
    assert rate.up == 0.5 and rate.windows == 0
    assert rate.for_direction(Direction.SELL) == 0.5
    with pytest.raises(ValueError, match="HOLD"):
        rate.for_direction(Direction.HOLD)
    with pytest.raises(ValueError, match="positive"):
        up_rate([], timedelta(0), timedelta(hours=24), utc(2025, 12, 1))


@given(st.lists(st.tuples(st.floats(1, 100), st.floats(1, 100)), max_size=60), st.integers(1, 48))
def test_the_rate_is_a_probability_and_sides_add_up(prices, hours) -> None:
    start = utc(2025, 11, 1)
    bars = [Bar(start + i * HOUR, o, max(o, c), min(o, c), c, 1.0) for i, (o, c) in enumerate(prices)]
    rate = up_rate(bars, HOUR, timedelta(hours=hours), start + len(bars) * HOUR)
    assert 0 < rate.up < 1
    assert rate.for_direction(Direction.BUY) + rate.for_direction(Direction.SELL) == pytest.approx(1.0)
