from __future__ import annotations

import csv
import math
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intelligence.price import InsufficientBars, PriceScore, score_price
from intelligence.types import Bar
from providers.bars import EmbeddedMarketData, read_bars

EMBEDDED = Path(__file__).resolve().parent.parent / "providers" / "embedded" / "bars"
DAILY = Path(__file__).resolve().parent / "data" / "bars"
HOUR = timedelta(hours=1)
T0 = datetime(2025, 11, 1, tzinfo=timezone.utc)
MARKET = EmbeddedMarketData()
# The embedded coins' hourly bars (the embedded stocks, COIN and MSTR, are daily: tests/test_cycle_rhythms.py).
COINS = [s for s in MARKET.symbols() if s not in ("COIN", "MSTR")]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def make_bars(closes, volumes=None, start: datetime = T0, interval: timedelta = HOUR) -> list[Bar]:
    volumes = [100.0] * len(closes) if volumes is None else volumes
    return [
        Bar(start=start + i * interval, open=c, high=c, low=c, close=c, volume=v)
        for i, (c, v) in enumerate(zip(closes, volumes))
    ]


def end_of(bars: list[Bar], interval: timedelta = HOUR) -> datetime:
    return bars[-1].start + interval


def csv_closes(symbol: str) -> dict[datetime, float]:
    """Closes keyed by bar start, read straight from the CSV: an independent check on the reader."""
    with (EMBEDDED / f"{symbol}USDT_1h.csv").open() as handle:
        return {
            datetime.fromisoformat(row["timestamp"][:19]).replace(tzinfo=timezone.utc): float(row["close"])
            for row in csv.DictReader(handle)
        }


# --- real BTC windows ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "sign"),
    [
        (utc(2025, 11, 21, 10), -1),  # the slide from ~92k to ~82k in the week to 21 November
        (utc(2025, 12, 9, 18), 1),  # the 9 December push from ~89k back above 94k
    ],
)
def test_known_btc_moves_score_with_their_sign(as_of: datetime, sign: int) -> None:
    closes = csv_closes("BTC")
    last = closes[as_of - HOUR]  # the bar that closed at as_of
    expected = {name: math.log(last / closes[as_of - HOUR - h * HOUR]) for name, h in
                (("short", 4), ("mid", 24), ("long", 72))}
    assert all(math.copysign(1, r) == sign for r in expected.values())  # the window is what we think

    series = MARKET.bars_until("BTC", as_of)
    result = score_price(series.bars, as_of, series.interval)
    assert math.copysign(1, result.score) == sign and abs(result.score) > 0.5
    assert all(math.copysign(1, s) == sign for s in result.timescales.values())
    assert result.returns == pytest.approx(expected)
    assert result.aligned and result.problems == ()
    assert result.last_close == last and result.last_bar_end == as_of


def test_the_latest_embedded_bar_is_scored_without_problems() -> None:
    as_of = utc(2025, 12, 13, 12, 30)
    for symbol in COINS:
        series = MARKET.bars_until(symbol, as_of)
        result = score_price(series.bars, as_of, series.interval)
        assert set(result.timescales) == {"short", "mid", "long"}
        assert result.problems == ()
        assert result.bars_used >= 72 and result.volatility > 0 and result.volume_ratio > 0


def test_changing_bars_after_as_of_does_not_change_the_score(tmp_path: Path) -> None:
    as_of = utc(2025, 12, 5, 7)
    lines = (EMBEDDED / "BTCUSDT_1h.csv").read_text().splitlines(keepends=True)
    altered = [lines[0]]
    for line in lines[1:]:
        stamp, *numbers = line.strip().split(",")
        if datetime.fromisoformat(stamp) + HOUR > as_of:  # closes after as_of: double prices, 10x volume
            numbers = [f"{float(x) * 2:g}" for x in numbers[:4]] + [f"{float(numbers[4]) * 10:g}"]
        altered.append(",".join([stamp, *numbers]) + "\n")
    (tmp_path / "BTCUSDT_1h.csv").write_text("".join(altered))
    original = MARKET.bars_until("BTC", as_of)
    changed = EmbeddedMarketData(tmp_path).bars_until("BTC", as_of)
    assert changed.bars == original.bars
    assert score_price(changed.bars, as_of, HOUR) == score_price(original.bars, as_of, HOUR)


# --- synthetic series ----------------------------------------------------------------------------


@pytest.mark.parametrize("sign", [1, -1])
def test_monotonic_ramps_are_aligned_with_the_right_sign(sign: int) -> None:
    rng = np.random.default_rng(7)
    # Noise stays well below the drift, so every window moves the same way.
    steps = sign * 0.002 + rng.normal(0, 0.0005, 200)
    bars = make_bars(list(100 * np.exp(np.cumsum(steps))))
    result = score_price(bars, end_of(bars), HOUR)
    assert result.aligned
    assert all(math.copysign(1, s) == sign for s in result.timescales.values())
    assert math.copysign(1, result.score) == sign and abs(result.score) > 0.9
    assert result.problems == ()


def test_a_noise_free_ramp_saturates_and_says_the_volatility_is_floored() -> None:
    bars = make_bars([100 * 1.001**i for i in range(100)])
    result = score_price(bars, end_of(bars), HOUR)
    assert result.score == pytest.approx(1.0) and result.aligned
    assert any("volatility is floored" in p.message for p in result.problems)


def test_flat_prices_score_zero() -> None:
    bars = make_bars([50.0] * 100)
    result = score_price(bars, end_of(bars), HOUR)
    assert result.score == 0.0 and not result.aligned


def test_disagreeing_timescales_are_damped() -> None:
    rng = np.random.default_rng(3)
    # Three days of rally, then a sharp four-hour drop: long says up, short says down.
    steps = np.concatenate([0.003 + rng.normal(0, 0.002, 196), np.full(4, -0.02)])
    bars = make_bars(list(100 * np.exp(np.cumsum(steps))))
    result = score_price(bars, end_of(bars), HOUR)
    assert result.timescales["short"] < 0 < result.timescales["long"]
    assert not result.aligned
    weights = {"short": 0.25, "mid": 0.40, "long": 0.35}
    plain = sum(weights[n] * s for n, s in result.timescales.items())
    assert abs(result.score) < abs(plain)


def test_volume_confirmation_boosts_the_score() -> None:
    rng = np.random.default_rng(11)
    closes = list(100 * np.exp(np.cumsum(0.0005 + rng.normal(0, 0.003, 200))))
    quiet = score_price(make_bars(closes), end_of(make_bars(closes)), HOUR)
    loud_volumes = [100.0] * 196 + [400.0] * 4
    loud = score_price(make_bars(closes, loud_volumes), end_of(make_bars(closes)), HOUR)
    assert loud.volume_ratio > 2 and quiet.volume_ratio == pytest.approx(1.0)
    assert loud.timescales == quiet.timescales
    assert abs(loud.score) > abs(quiet.score)


@settings(max_examples=120, deadline=None)
@given(
    steps=st.lists(st.floats(-0.3, 0.3), min_size=64, max_size=200),
    seed=st.integers(0, 2**32 - 1),
    drop=st.sets(st.integers(0, 199), max_size=40),
    late=st.integers(0, 20 * 3600),
)
def test_scores_stay_within_bounds_on_random_walks(steps, seed, drop, late) -> None:
    # Volumes from a seed: heavy-tailed, with zeros, and cheap to generate.
    volumes = np.random.default_rng(seed).pareto(1.5, len(steps)) * (np.arange(len(steps)) % 7 != 0)
    bars = make_bars(list(100 * np.exp(np.cumsum(steps))), list(volumes))
    kept = [b for i, b in enumerate(bars) if i not in drop or i == len(bars) - 1]  # gaps anywhere
    result = score_price(kept, end_of(kept) + timedelta(seconds=late), HOUR)
    assert -1.0 <= result.score <= 1.0
    assert all(-1.0 <= s <= 1.0 for s in result.timescales.values())
    assert all(math.isfinite(r) for r in result.returns.values())
    assert math.isfinite(result.volatility) and math.isfinite(result.volume_ratio)


# --- guards and degradations ---------------------------------------------------------------------


def test_a_bar_ending_after_as_of_is_look_ahead() -> None:
    bars = make_bars([100.0 + i for i in range(48)])
    with pytest.raises(ValueError, match="look-ahead"):
        score_price(bars, end_of(bars) - timedelta(minutes=1), HOUR)


def test_bad_arguments_are_refused() -> None:
    bars = make_bars([100.0 + i for i in range(48)])
    with pytest.raises(ValueError, match="UTC"):
        score_price(bars, end_of(bars).replace(tzinfo=None), HOUR)
    with pytest.raises(ValueError, match="increasing time order"):
        score_price([*bars[:10], bars[20], *bars[10:20], *bars[21:]], end_of(bars), HOUR)
    with pytest.raises(ValueError, match="positive closes"):
        score_price(make_bars([100.0] * 47 + [0.0]), end_of(bars), HOUR)


def test_too_few_bars() -> None:
    bars = make_bars([100.0 + i for i in range(23)])
    with pytest.raises(InsufficientBars, match="at least 24 bars"):
        score_price(bars, end_of(bars), HOUR)
    assert isinstance(score_price(make_bars([100.0 + i for i in range(24)]), end_of(bars) + HOUR, HOUR), PriceScore)


def test_stale_data_is_a_problem_but_still_scores() -> None:
    bars = make_bars([100.0 + i for i in range(100)])
    assert score_price(bars, end_of(bars) + 2 * HOUR, HOUR).problems == ()
    stale = score_price(bars, end_of(bars) + 5 * HOUR, HOUR)
    assert [p.message for p in stale.problems] == ["last bar is 5 hours old"]
    assert stale.score > 0


def test_a_timescale_before_the_data_begins_is_dropped() -> None:
    bars = make_bars([100.0 * 1.001**i + (i % 3) for i in range(30)])
    result = score_price(bars, end_of(bars), HOUR)
    assert set(result.timescales) == {"short", "mid"}
    assert any("long timescale (3 days) reaches back before the data begins" in p.message for p in result.problems)


def test_a_gap_at_a_window_start_uses_the_earlier_close_and_says_so() -> None:
    as_of = utc(2025, 12, 13, 12)
    removed = {utc(2025, 12, 10, h) for h in (9, 10, 11)}  # the long window starts at 12:00 on the 10th
    bars = [b for b in MARKET.bars_until("BTC", as_of).bars if b.start not in removed]
    result = score_price(bars, as_of, HOUR)
    closes = csv_closes("BTC")
    assert result.returns["long"] == pytest.approx(math.log(closes[utc(2025, 12, 13, 11)] / closes[utc(2025, 12, 10, 8)]))
    assert [p.message for p in result.problems] == [
        "the long timescale (3 days) starts inside a gap in the bars: used the close of 2025-12-10 09:00 UTC, "
        "3 hours before 2025-12-10 12:00 UTC"
    ]
    assert -1.0 <= result.score <= 1.0 and set(result.timescales) == {"short", "mid", "long"}


# --- daily bars ----------------------------------------------------------------------------------


def test_daily_equity_bars_use_trading_day_windows() -> None:
    series = read_bars(DAILY / "AAPL_1d.csv", "AAPL")
    as_of = utc(2025, 12, 16)  # the Monday 15 December bar has just closed
    result = score_price(series.bars, as_of, series.interval)
    closes = {b.start: b.close for b in series.bars}
    # Monday's short return is measured from Friday's close: a weekend is not a gap.
    assert result.returns["short"] == pytest.approx(math.log(closes[utc(2025, 12, 15)] / closes[utc(2025, 12, 12)]))
    # A trading week back: the close of Monday 8 December.
    assert result.returns["mid"] == pytest.approx(math.log(closes[utc(2025, 12, 15)] / closes[utc(2025, 12, 8)]))
    assert result.problems == ()
    assert score_price(series.bars, utc(2025, 12, 18), series.interval).problems == ()
    assert "old" in score_price(series.bars, utc(2025, 12, 22), series.interval).problems[0].message


def test_nine_assets_score_in_milliseconds() -> None:
    as_of = utc(2025, 12, 15)
    histories = [MARKET.bars_until(s, as_of) for s in COINS]
    assert all(len(h.bars) >= 1000 for h in histories)
    began = time.perf_counter()
    for history in histories:
        score_price(history.bars, as_of, history.interval)
    assert time.perf_counter() - began < 0.5  # typically ~10 ms; the bound only catches a regression


def test_heavy_volume_into_a_counter_move_does_not_confirm_the_trend() -> None:
    # A noisy climb for a week, then four hours of selling on four times the volume.
    rng = np.random.default_rng(5)
    climb = list(100 * np.exp(np.cumsum(0.002 + rng.normal(0, 0.003, 196))))
    closes = climb + [climb[-1] * 0.997 ** k for k in range(1, 5)]
    loud = score_price(make_bars(closes, [100.0] * 196 + [400.0] * 4), end_of(make_bars(closes)), HOUR)
    quiet = score_price(make_bars(closes), end_of(make_bars(closes)), HOUR)
    assert loud.timescales["short"] < -0.15 < 0 < loud.score
    assert loud.volume_ratio > 2 and loud.score == pytest.approx(quiet.score)
