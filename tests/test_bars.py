from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.bars import BarsError, EmbeddedMarketData, read_bars

EMBEDDED = Path(__file__).resolve().parent.parent / "providers" / "embedded" / "bars"
DAILY = Path(__file__).resolve().parent / "data" / "bars"
NINE = ["ADA", "AVAX", "BNB", "BTC", "DOGE", "ETH", "LINK", "SOL", "XRP"]
HOUR = timedelta(hours=1)
FIRST = datetime(2025, 11, 1, tzinfo=timezone.utc)
LAST = datetime(2025, 12, 31, 23, tzinfo=timezone.utc)
HEADER = "timestamp,open,high,low,close,volume\n"

# Shared across tests (and hypothesis examples) so each embedded file is parsed once per session.
MARKET = EmbeddedMarketData()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def hourly_rows(count: int, start: datetime = FIRST) -> list[str]:
    return [f"{start + i * HOUR:%Y-%m-%d %H:%M:%S}+0000,100,101,99,100.5,10\n" for i in range(count)]


def write(tmp_path: Path, text: str, name: str = "TESTUSDT_1h.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- the embedded files ---------------------------------------------------------------------------


def test_embedded_provider_lists_the_nine_coins_and_two_stocks() -> None:
    assert MARKET.symbols() == sorted([*NINE, "COIN", "MSTR"])


@pytest.mark.parametrize("symbol", ["COIN", "MSTR"])
def test_the_embedded_stocks_are_daily_by_session_in_both_formats(symbol: str) -> None:
    # COIN is Tiingo-style (Close first, adjusted columns beside), MSTR Yahoo-style: both read the same way.
    series = read_bars(EMBEDDED / f"{symbol}_1d.csv", symbol)
    assert series.interval == timedelta(days=1) and series.problems == ()
    assert len(series.bars) == 41 and all(b.start.weekday() < 5 for b in series.bars)
    assert series.bars[0].start == utc(2025, 11, 3) and series.bars[-1].start == utc(2025, 12, 31)
    assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in series.bars)


@pytest.mark.parametrize("symbol", NINE)
def test_each_embedded_file_is_hourly_complete_and_clean(symbol: str) -> None:
    series = read_bars(EMBEDDED / f"{symbol}USDT_1h.csv", symbol)
    assert series.symbol == symbol
    assert series.interval == HOUR
    assert series.problems == ()
    assert len(series.bars) == 61 * 24
    assert series.bars[0].start == FIRST and series.bars[-1].start == LAST
    # Both timestamp spellings in the shipped files (with and without +0000) end up in UTC.
    assert all(b.start.utcoffset() == timedelta(0) for b in series.bars)


def test_bars_until_is_inclusive_of_a_bar_that_closes_exactly_at_as_of() -> None:
    as_of = utc(2025, 12, 13, 12)
    series = MARKET.bars_until("BTC", as_of)
    assert series.bars[-1].start == utc(2025, 12, 13, 11)
    assert MARKET.bars_until("BTC", as_of - timedelta(seconds=1)).bars[-1].start == utc(2025, 12, 13, 10)
    assert MARKET.bars_until("btc", FIRST + HOUR / 2).bars == ()


@settings(max_examples=200, deadline=None)
@given(offset=st.integers(min_value=-3600, max_value=62 * 86400), symbol=st.sampled_from(NINE))
def test_bars_until_never_returns_a_bar_that_closes_after_as_of(offset: int, symbol: str) -> None:
    as_of = FIRST + timedelta(seconds=offset)
    series = MARKET.bars_until(symbol, as_of)
    assert all(b.start + series.interval <= as_of for b in series.bars)
    everything = MARKET.bars_until(symbol, LAST + HOUR).bars
    # ... and it withholds nothing that had closed: it is exactly the prefix that closed by as_of.
    assert series.bars == everything[: len(series.bars)]
    if len(series.bars) < len(everything):
        assert everything[len(series.bars)].start + series.interval > as_of


def test_bars_between_returns_the_bars_inside_the_window() -> None:
    series = MARKET.bars_between("ETH", utc(2025, 12, 1), utc(2025, 12, 2))
    assert [b.start for b in series.bars] == [utc(2025, 12, 1) + i * HOUR for i in range(24)]
    assert MARKET.bars_between("ETH", utc(2025, 12, 1, 0, 30), utc(2025, 12, 1, 3)).bars[0].start == utc(2025, 12, 1, 1)
    with pytest.raises(ValueError, match="before start"):
        MARKET.bars_between("ETH", utc(2025, 12, 2), utc(2025, 12, 1))


def test_as_of_must_be_aware_utc() -> None:
    with pytest.raises(ValueError, match="UTC"):
        MARKET.bars_until("BTC", datetime(2025, 12, 1))


def test_missing_symbol_names_the_symbol_and_the_directory(tmp_path: Path) -> None:
    with pytest.raises(BarsError, match="'NOPE'") as info:
        MARKET.bars_until("NOPE", utc(2025, 12, 1))
    assert str(EMBEDDED) in str(info.value)
    with pytest.raises(BarsError, match="does not exist"):
        EmbeddedMarketData(tmp_path / "absent").symbols()


def test_files_are_read_once_per_instance(tmp_path: Path) -> None:
    shutil.copy(EMBEDDED / "SOLUSDT_1h.csv", tmp_path / "SOLUSDT_1h.csv")
    market = EmbeddedMarketData(tmp_path)
    first = market.bars_until("SOL", utc(2025, 12, 1))
    (tmp_path / "SOLUSDT_1h.csv").unlink()
    assert market.bars_until("SOL", utc(2025, 12, 1)) == first


# --- malformed files ------------------------------------------------------------------------------


def test_a_bad_number_names_the_file_and_the_line(tmp_path: Path) -> None:
    rows = hourly_rows(10)
    rows[3] = rows[3].replace(",101,", ",abc,")  # data row 4 is line 5 of the file
    path = write(tmp_path, HEADER + "".join(rows))
    with pytest.raises(BarsError, match=r"line 5: non-numeric high 'abc'") as info:
        read_bars(path, "TEST")
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda row: row.replace(",99,", ",102,"), r"line 4: high 101 is below low 102"),
        (lambda row: row.replace(",10\n", ",-3\n"), r"line 4: negative volume -3"),
        (lambda row: row.replace("2025-11-01 02:00:00+0000", "yesterday"), r"line 4: unparseable timestamp 'yesterday'"),
        (lambda row: row.replace(",100.5,", ",,"), r"line 4: non-numeric close ''"),
        (lambda row: row.replace(",100.5,", ",nan,"), r"line 4: close is not a finite number"),
        (lambda row: row.replace(",100.5,", ",105,"), r"line 4: close 105 is outside the bar's range"),
        (lambda row: row.replace(",10\n", "\n"), r"line 4: expected 6 fields like the header, found 5"),
        (lambda row: row.replace(",100.5,", ",1,100.5,"), r"line 4: expected 6 fields like the header, found 7"),
    ],
)
def test_malformed_rows_are_refused_with_the_line(tmp_path: Path, change, expected: str) -> None:
    rows = hourly_rows(6)
    rows[2] = change(rows[2])
    with pytest.raises(BarsError, match=expected):
        read_bars(write(tmp_path, HEADER + "".join(rows)), "TEST")


def test_missing_column(tmp_path: Path) -> None:
    text = "timestamp,open,high,low,close\n" + "".join(r.rsplit(",", 1)[0] + "\n" for r in hourly_rows(5))
    with pytest.raises(BarsError, match=r"line 1: missing column\(s\) volume"):
        read_bars(write(tmp_path, text), "TEST")


def test_missing_time_column(tmp_path: Path) -> None:
    with pytest.raises(BarsError, match=r"missing column\(s\) timestamp or date"):
        read_bars(write(tmp_path, "when,open,high,low,close,volume\nx,1,1,1,1,1\n"), "TEST")


def test_duplicated_timestamp(tmp_path: Path) -> None:
    rows = hourly_rows(6)
    rows.insert(4, rows[3])
    with pytest.raises(BarsError, match=r"line 6: duplicated timestamp 2025-11-01 03:00 UTC \(first on line 5\)"):
        read_bars(write(tmp_path, HEADER + "".join(rows)), "TEST")


def test_timestamps_going_backwards(tmp_path: Path) -> None:
    rows = hourly_rows(6)
    rows[2], rows[3] = rows[3], rows[2]
    with pytest.raises(BarsError, match=r"line 5: timestamp 2025-11-01 02:00 UTC is earlier"):
        read_bars(write(tmp_path, HEADER + "".join(rows)), "TEST")


@pytest.mark.parametrize("text", ["", HEADER, HEADER + hourly_rows(1)[0]])
def test_files_too_short_to_be_a_series(tmp_path: Path, text: str) -> None:
    with pytest.raises(BarsError, match="TESTUSDT_1h.csv"):
        read_bars(write(tmp_path, text), "TEST")


def test_missing_file_is_a_bars_error(tmp_path: Path) -> None:
    with pytest.raises(BarsError, match="no such bar file"):
        read_bars(tmp_path / "absent.csv", "TEST")


# --- gaps ----------------------------------------------------------------------------------------


def _btc_without(tmp_path: Path, drop: set[str]) -> Path:
    lines = (EMBEDDED / "BTCUSDT_1h.csv").read_text().splitlines(keepends=True)
    kept = [line for line in lines if line[:13] not in drop]
    return write(tmp_path, "".join(kept), "BTCUSDT_1h.csv")


def test_removed_rows_are_a_gap_problem_in_plain_words(tmp_path: Path) -> None:
    drop = {f"2025-11-03 {h:02d}" for h in range(11, 16)}
    series = read_bars(_btc_without(tmp_path, drop), "BTC")
    assert series.interval == HOUR
    assert len(series.bars) == 61 * 24 - 5
    assert [p.message for p in series.problems] == [
        "BTC bars have a gap of 5 hours after 2025-11-03 11:00 UTC (next bar starts 2025-11-03 16:00 UTC)"
    ]


def test_a_gap_is_only_reported_once_it_is_in_the_past(tmp_path: Path) -> None:
    market = EmbeddedMarketData(_btc_without(tmp_path, {"2025-12-01 05"}).parent)
    assert market.bars_until("BTC", utc(2025, 12, 1, 6)).problems == ()
    assert market.bars_until("BTC", utc(2025, 12, 1, 7)).problems[0].message.startswith("BTC bars have a gap of 1 hour")
    assert market.bars_between("BTC", utc(2025, 12, 2), utc(2025, 12, 3)).problems == ()


def test_off_grid_bar_is_a_problem(tmp_path: Path) -> None:
    rows = hourly_rows(6)
    rows[3] = rows[3].replace("03:00:00", "03:30:00")
    series = read_bars(write(tmp_path, HEADER + "".join(rows)), "TEST")
    assert any("off the 1 hour grid" in p.message for p in series.problems)


# --- daily formats -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "first", "close"),
    [
        ("AAPL_1d.csv", utc(2025, 11, 3), 269.05),  # Tiingo: raw Close, not AdjClose 268.536...
        ("MSTR_1d.csv", utc(2025, 11, 3), 264.670013),  # Yahoo, lowercase
        ("SPY.csv", utc(2017, 12, 18), 268.20001220703125),  # Yahoo with Adj Close, date only
    ],
)
def test_daily_formats_parse_and_weekends_are_not_gaps(name: str, first: datetime, close: float) -> None:
    series = read_bars(DAILY / name, name.split("_")[0].split(".")[0])
    assert series.interval == timedelta(days=1)
    assert len(series.bars) == 30
    assert series.bars[0].start == first
    assert series.bars[0].close == pytest.approx(close)
    assert series.problems == ()


def test_daily_provider_finds_each_file_pattern() -> None:
    market = EmbeddedMarketData(DAILY)
    assert market.symbols() == ["AAPL", "MSTR", "SPY"]
    # A Friday bar has closed by Saturday 00:00 UTC (after the US close); the Monday bar has not.
    assert market.bars_until("SPY", utc(2018, 1, 8, 12)).bars[-1].start == utc(2018, 1, 5)


def test_a_three_week_hole_in_a_daily_series_is_a_gap(tmp_path: Path) -> None:
    lines = (DAILY / "SPY.csv").read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(("2018-01-0", "2018-01-1"))]
    series = read_bars(write(tmp_path, "".join(kept), "SPY.csv"), "SPY")
    assert [p.message for p in series.problems] == [
        "SPY bars have a gap of 23 days after 2017-12-30 00:00 UTC (next bar starts 2018-01-22 00:00 UTC)"
    ]
