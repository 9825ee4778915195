"""OHLCV bars from CSV files, and the embedded market-data provider that serves them point in time.

Accepted formats (detected by header, case-insensitively): Binance `timestamp,open,high,low,close,volume`,
Tiingo `date,Close,High,Low,Open,Volume,AdjClose,...`, Yahoo `date,open,...` and `Date,...,Adj Close,Volume`.
Raw (unadjusted) prices are used so that open, high, low and close stay consistent with each other.
Timestamps are ISO 8601; one without an offset is read as UTC (the convention of every source we
ship: Binance klines are UTC, daily files carry a calendar date). A bar's timestamp is its open time.
"""
from __future__ import annotations

import csv
import math
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, TextIO

from intelligence.price import describe_duration, format_time, max_normal_step
from intelligence.types import Bar, BarSeries, Problem

TIME_COLUMNS = ("timestamp", "date", "datetime", "time", "open_time")
PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
FILE_PATTERNS = ("{}USDT_1h.csv", "{}_1d.csv", "{}.csv")
MAX_PROBLEMS = 20  # a file with hundreds of gaps says so in a summary line, not in hundreds of lines
WHERE = "bars"


class BarsError(ValueError):
    """A bar file that cannot be trusted; the message names the file, the line and what is wrong."""


def read_bars(path: Path, symbol: str) -> BarSeries:
    return _read(Path(path), symbol)[0]


def _read(path: Path, symbol: str) -> tuple[BarSeries, list[tuple[datetime, Problem]]]:
    bars = _parse(path)
    interval = _infer_interval(bars, path)
    dated = _spacing_problems(symbol, bars, interval)
    return BarSeries(symbol, interval, tuple(bars), _capped(symbol, [p for _, p in dated])), dated


def _parse(path: Path) -> list[Bar]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            return _parse_rows(path, handle)
    except FileNotFoundError:
        raise BarsError(f"{path}: no such bar file") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BarsError(f"{path}: not a readable CSV file ({exc})") from None


def _parse_rows(path: Path, handle: TextIO) -> list[Bar]:
    reader = csv.reader(handle)
    header = next(reader, None)
    if not header:
        raise BarsError(f"{path}: line 1: empty file, expected a header row")
    columns = _columns(path, header)
    bars: list[Bar] = []
    previous_line = 1
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        bar = _parse_row(path, line, row, columns, len(header))
        # Rows must strictly increase, so a duplicate can only repeat the row just before it.
        if bars and bar.start == bars[-1].start:
            raise BarsError(f"{path}: line {line}: duplicated timestamp {format_time(bar.start)} "
                            f"(first on line {previous_line})")
        if bars and bar.start < bars[-1].start:
            raise BarsError(f"{path}: line {line}: timestamp {format_time(bar.start)} is earlier than the "
                            f"previous row's {format_time(bars[-1].start)}; rows must be in increasing time order")
        previous_line = line
        bars.append(bar)
    if not bars:
        raise BarsError(f"{path}: no bars after the header")
    return bars


def _columns(path: Path, header: list[str]) -> dict[str, int]:
    names = [cell.strip().lower() for cell in header]
    found: dict[str, int] = {}
    time_index = next((names.index(n) for n in TIME_COLUMNS if n in names), None)
    if time_index is not None:
        found["time"] = time_index
    for name in PRICE_COLUMNS:
        if name in names:
            found[name] = names.index(name)
    missing = [n for n in ("time", *PRICE_COLUMNS) if n not in found]
    if missing:
        wanted = " or ".join(TIME_COLUMNS) if missing == ["time"] else ", ".join(missing)
        raise BarsError(f"{path}: line 1: missing column(s) {wanted} (header is: {','.join(header)})")
    return found


def _parse_row(path: Path, line: int, row: list[str], columns: dict[str, int], width: int) -> Bar:
    where = f"{path}: line {line}"
    if len(row) != width:  # an extra field is as suspect as a missing one: "1,234.5" shifts every column
        raise BarsError(f"{where}: expected {width} fields like the header, found {len(row)}")
    start = _parse_time(where, row[columns["time"]])
    o, h, l, c, v = (_parse_number(where, name, row[columns[name]]) for name in PRICE_COLUMNS)
    for name, price in (("open", o), ("high", h), ("low", l), ("close", c)):
        if price <= 0:
            raise BarsError(f"{where}: {name} must be positive, got {price:g}")
    if v < 0:
        raise BarsError(f"{where}: negative volume {v:g}")
    if h < l:
        raise BarsError(f"{where}: high {h:g} is below low {l:g}")
    for name, price in (("open", o), ("close", c)):
        if not l <= price <= h:
            raise BarsError(f"{where}: {name} {price:g} is outside the bar's range (low {l:g}, high {h:g})")
    return Bar(start=start, open=o, high=h, low=l, close=c, volume=v)


def _parse_number(where: str, name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise BarsError(f"{where}: non-numeric {name} {text.strip()!r}") from None
    if not math.isfinite(value):
        raise BarsError(f"{where}: {name} is not a finite number ({text.strip()!r})")
    return value


def _parse_time(where: str, text: str) -> datetime:
    try:
        ts = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BarsError(f"{where}: unparseable timestamp {text.strip()!r} "
                        f"(expected ISO 8601 like 2025-11-01 00:00:00+0000 or 2025-11-03)") from None
    if ts.tzinfo is None:
        return ts.replace(tzinfo=timezone.utc)
    return ts.astimezone(timezone.utc)


def _infer_interval(bars: list[Bar], path: Path) -> timedelta:
    if len(bars) < 2:
        raise BarsError(f"{path}: only one bar, cannot infer the bar interval")
    steps = Counter(b.start - a.start for a, b in zip(bars, bars[1:]))
    # The most common spacing; on a tie the shorter one, since gaps only ever lengthen a spacing.
    return min(steps, key=lambda step: (-steps[step], step))


def _spacing_problems(symbol: str, bars: list[Bar], interval: timedelta) -> list[tuple[datetime, Problem]]:
    """Gaps and off-grid bars, each dated when it becomes visible: when the bar after it has closed."""
    normal = max_normal_step(interval, [b.start for b in bars])
    dated: list[tuple[datetime, Problem]] = []
    for prev, bar in zip(bars, bars[1:]):
        step = bar.start - prev.start
        if step == interval or (interval < step <= normal and step % interval == timedelta(0)):
            continue
        if step > interval and step % interval == timedelta(0):
            text = (f"{symbol} bars have a gap of {describe_duration(step - interval)} after "
                    f"{format_time(prev.start + interval)} (next bar starts {format_time(bar.start)})")
        else:
            text = (f"{symbol} bars are off the {describe_duration(interval)} grid: the bar at "
                    f"{format_time(bar.start)} starts {describe_duration(step)} after the previous one")
        dated.append((bar.start + interval, Problem(WHERE, text)))
    return dated


def _capped(symbol: str, problems: list[Problem]) -> tuple[Problem, ...]:
    if len(problems) <= MAX_PROBLEMS:
        return tuple(problems)
    more = len(problems) - MAX_PROBLEMS
    return (*problems[:MAX_PROBLEMS], Problem(WHERE, f"{symbol} bars have {more} more gaps or irregular bars"))


@dataclass(frozen=True)
class _Loaded:
    series: BarSeries
    ends: tuple[datetime, ...]
    starts: tuple[datetime, ...]
    dated: tuple[tuple[datetime, Problem], ...]


class EmbeddedMarketData:
    """Bars from CSV files in one directory, served point in time; each file is read once."""

    def __init__(self, directory: Path | None = None):
        self.directory = Path(directory) if directory is not None else Path(__file__).parent / "embedded" / "bars"
        self._cache: dict[str, _Loaded] = {}
        self._files: dict[str, Path] | None = None

    def symbols(self) -> list[str]:
        if not self.directory.is_dir():
            raise BarsError(f"bar directory {self.directory} does not exist")
        found = set()
        for path in self.directory.iterdir():
            name = path.name.upper()
            for suffix in (p.format("").upper() for p in FILE_PATTERNS):
                if name.endswith(suffix) and len(name) > len(suffix) and path.is_file():
                    found.add(name[: -len(suffix)])
                    break
        return sorted(found)

    def bars_until(self, symbol: str, as_of: datetime) -> BarSeries:
        """The bars that have closed at or before `as_of` (start + interval <= as_of): nothing later leaks."""
        _require_utc(as_of, "as_of")
        loaded = self._load(symbol)
        count = bisect_right(loaded.ends, as_of)
        return self._subset(loaded, 0, count, lambda seen: seen <= as_of)

    def bars_between(self, symbol: str, start: datetime, end: datetime) -> BarSeries:
        """The bars that opened at or after `start` and closed at or before `end`."""
        _require_utc(start, "start")
        _require_utc(end, "end")
        if end < start:
            raise ValueError(f"end {format_time(end)} is before start {format_time(start)}")
        loaded = self._load(symbol)
        first = bisect_left(loaded.starts, start)
        last = bisect_right(loaded.ends, end)
        return self._subset(loaded, first, max(first, last), lambda seen: start < seen <= end)

    def _subset(self, loaded: _Loaded, first: int, last: int, visible: Callable[[datetime], bool]) -> BarSeries:
        series = loaded.series
        problems = _capped(series.symbol, [p for seen, p in loaded.dated if visible(seen)])
        return BarSeries(series.symbol, series.interval, series.bars[first:last], problems)

    def _load(self, symbol: str) -> _Loaded:
        key = symbol.strip().upper()
        if key not in self._cache:
            series, dated = _read(self._find(key), key)
            self._cache[key] = _Loaded(
                series=series,
                ends=tuple(b.start + series.interval for b in series.bars),
                starts=tuple(b.start for b in series.bars),
                dated=tuple(dated),
            )
        return self._cache[key]

    def _find(self, symbol: str) -> Path:
        names = [pattern.format(symbol) for pattern in FILE_PATTERNS]
        # The directory is listed once, not once per symbol (hundreds of symbols are hundreds of listings);
        # a symbol it lacks lists it again, so a file added since is found.
        for fresh in (False, True):
            present = self._listing(fresh)
            for name in names:
                if name.upper() in present:
                    return present[name.upper()]
        raise BarsError(f"no bars for symbol {symbol!r} in {self.directory} (looked for {', '.join(names)})")

    def _listing(self, fresh: bool) -> dict[str, Path]:
        # Case-insensitive, so `spy_daily.csv` serves SPY_DAILY as symbols() lists it.
        if fresh or self._files is None:
            self._files = ({p.name.upper(): p for p in self.directory.iterdir() if p.is_file()}
                           if self.directory.is_dir() else {})
        return self._files


def _require_utc(ts: datetime, what: str) -> None:
    if ts.tzinfo is None or ts.utcoffset() != timedelta(0):
        raise ValueError(f"{what} must be a timezone-aware UTC datetime, got {ts!r}")
