"""Outcome resolution on real SPY daily bars and Binance hourly bars."""
from __future__ import annotations

import csv
import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intelligence.outcomes import resolve_outcome
from intelligence.types import Bar, Direction
from providers.bars import read_bars
from tests.conftest import utc

DATA = Path(__file__).resolve().parent / "data" / "bars"
EMBEDDED = Path(__file__).resolve().parent.parent / "providers" / "embedded" / "bars"
DAY, HOUR = timedelta(days=1), timedelta(hours=1)
SPY = read_bars(DATA / "SPY.csv", "SPY")
BTC = read_bars(EMBEDDED / "BTCUSDT_1h.csv", "BTC")


def spy_row(date: str) -> dict[str, float]:
    """The CSV row itself, read without our reader: an independent check."""
    with (DATA / "SPY.csv").open() as handle:
        row = next(r for r in csv.DictReader(handle) if r["Date"] == date)
    return {k: float(v) for k, v in row.items() if k != "Date"}


def test_friday_after_the_close_enters_at_the_next_session_open_across_a_holiday() -> None:
    # 16:30 ET on Friday 22 December 2017; Monday 25 December the market was shut.
    outcome = resolve_outcome(utc(2017, 12, 22, 21, 30), Direction.BUY, DAY, SPY.bars, SPY.interval)
    tuesday = spy_row("2017-12-26")
    assert outcome is not None
    assert outcome.entry_time == utc(2017, 12, 26) and outcome.entry_price == tuesday["Open"]
    assert outcome.exit_time == utc(2017, 12, 27) and outcome.exit_price == tuesday["Close"]
    assert outcome.realized_return == pytest.approx(math.log(tuesday["Close"] / tuesday["Open"]))
    assert outcome.hit is (tuesday["Close"] > tuesday["Open"])


def test_a_signal_before_the_session_is_judged_open_to_close_of_that_session() -> None:
    friday = spy_row("2017-12-29")  # opened 268.53, closed 266.86: a down day
    sell = resolve_outcome(utc(2017, 12, 29), Direction.SELL, DAY, SPY.bars, SPY.interval)
    buy = resolve_outcome(utc(2017, 12, 29), Direction.BUY, DAY, SPY.bars, SPY.interval)
    assert sell is not None and buy is not None
    assert sell.hit and not buy.hit
    assert sell.realized_return == pytest.approx(math.log(friday["Open"] / friday["Close"]))
    assert buy.realized_return == pytest.approx(-sell.realized_return)
    # Excursions from the high and the low of the day, each seen from the side taken.
    assert sell.max_favorable == pytest.approx(math.log(friday["Open"] / friday["Low"]))
    assert sell.max_adverse == pytest.approx(math.log(friday["Open"] / friday["High"]))
    assert buy.max_favorable == pytest.approx(math.log(friday["High"] / friday["Open"]))


def test_a_horizon_ending_on_a_weekend_exits_at_the_last_close_before_it() -> None:
    friday = spy_row("2017-12-29")
    outcome = resolve_outcome(utc(2017, 12, 29), Direction.BUY, 2 * DAY, SPY.bars, SPY.interval)
    assert outcome is not None and outcome.exit_price == friday["Close"] and outcome.exit_time == utc(2017, 12, 30)
    # Until a later bar shows the weekend has passed, the two-day outcome is not known yet.
    up_to_friday = [b for b in SPY.bars if b.start <= utc(2017, 12, 29)]
    assert resolve_outcome(utc(2017, 12, 29), Direction.BUY, 2 * DAY, up_to_friday, SPY.interval) is None
    assert resolve_outcome(utc(2017, 12, 29), Direction.BUY, DAY, up_to_friday, SPY.interval) is not None


def test_a_multi_day_horizon_spans_several_sessions() -> None:
    outcome = resolve_outcome(utc(2018, 1, 2), Direction.BUY, 3 * DAY, SPY.bars, SPY.interval)
    assert outcome is not None
    assert outcome.entry_price == spy_row("2018-01-02")["Open"]
    assert outcome.exit_price == spy_row("2018-01-04")["Close"]
    held = [spy_row(d) for d in ("2018-01-02", "2018-01-03", "2018-01-04")]
    assert outcome.max_favorable == pytest.approx(math.log(max(r["High"] for r in held) / held[0]["Open"]))


def test_a_horizon_shorter_than_a_bar_uses_the_entry_bars_close() -> None:
    outcome = resolve_outcome(utc(2018, 1, 3), Direction.BUY, timedelta(hours=6), SPY.bars, SPY.interval)
    day = spy_row("2018-01-03")
    assert outcome is not None and (outcome.entry_price, outcome.exit_price) == (day["Open"], day["Close"])


def test_hourly_bars_enter_at_the_next_full_hour_and_hold_twenty_four_bars() -> None:
    with (EMBEDDED / "BTCUSDT_1h.csv").open() as handle:
        rows = {r["timestamp"][:16]: r for r in csv.DictReader(handle)}
    outcome = resolve_outcome(utc(2025, 11, 20, 9, 30), Direction.SELL, DAY, BTC.bars, BTC.interval)
    assert outcome is not None
    assert outcome.entry_time == utc(2025, 11, 20, 10) and outcome.entry_price == float(rows["2025-11-20 10:00"]["open"])
    # The last bar ending by 10:00 the next day is the one starting at 09:00.
    assert outcome.exit_time == utc(2025, 11, 21, 10) and outcome.exit_price == float(rows["2025-11-21 09:00"]["close"])
    assert outcome.realized_return == pytest.approx(-math.log(outcome.exit_price / outcome.entry_price))
    # A signal made exactly on the hour trades that hour's open.
    on_the_hour = resolve_outcome(utc(2025, 11, 20, 10), Direction.SELL, DAY, BTC.bars, BTC.interval)
    assert on_the_hour == outcome


def test_unresolved_hold_and_out_of_range_give_none() -> None:
    assert resolve_outcome(utc(2018, 1, 2), Direction.HOLD, DAY, SPY.bars, SPY.interval) is None
    assert resolve_outcome(utc(2018, 2, 1), Direction.BUY, DAY, SPY.bars, SPY.interval) is None  # after the data
    last_start = BTC.bars[-1].start
    assert resolve_outcome(last_start - 2 * HOUR, Direction.BUY, DAY, BTC.bars, BTC.interval) is None


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="UTC"):
        resolve_outcome(datetime(2018, 1, 2), Direction.BUY, DAY, SPY.bars, SPY.interval)
    with pytest.raises(ValueError, match="horizon"):
        resolve_outcome(utc(2018, 1, 2), Direction.BUY, timedelta(0), SPY.bars, SPY.interval)
    with pytest.raises(ValueError, match="order"):
        resolve_outcome(utc(2018, 1, 2), Direction.BUY, DAY, list(reversed(SPY.bars)), SPY.interval)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=0, max_value=len(BTC.bars) - 1),
    st.integers(min_value=0, max_value=3599),
    st.integers(min_value=1, max_value=96),
    st.sampled_from([Direction.BUY, Direction.SELL]),
)
def test_outcome_invariants_on_real_hourly_bars(index: int, second: int, hours: int, direction: Direction) -> None:
    as_of = BTC.bars[index].start + timedelta(seconds=second)
    horizon = timedelta(hours=hours)
    outcome = resolve_outcome(as_of, direction, horizon, BTC.bars, BTC.interval)
    if outcome is None:
        return
    assert outcome.entry_time >= as_of and outcome.exit_time <= outcome.entry_time + horizon
    assert outcome.max_adverse <= min(0.0, outcome.realized_return) + 1e-12
    assert outcome.realized_return <= outcome.max_favorable + 1e-12
    assert outcome.hit == (outcome.realized_return > 0)
    # Bars after the exit cannot change it: the outcome only reads what it needs.
    known = [b for b in BTC.bars if b.start + BTC.interval <= outcome.entry_time + horizon + BTC.interval]
    assert resolve_outcome(as_of, direction, horizon, known, BTC.interval) == outcome


def test_synthetic_gap_inside_the_horizon_keeps_the_last_close_before_the_deadline() -> None:
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    bars = [Bar(start + i * HOUR, 100 + i, 101 + i, 99 + i, 100.5 + i, 1.0) for i in (0, 1, 2, 10)]
    outcome = resolve_outcome(start, Direction.BUY, 5 * HOUR, bars, HOUR)
    assert outcome is not None and outcome.exit_price == 102.5 and outcome.exit_time == start + 3 * HOUR
