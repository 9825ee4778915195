"""Alpaca market data through alpaca-py: bars (stocks and crypto) and news, behind circuit breakers.

alpaca-py sets no timeout and sleeps through its own retries on 429; here every request gets the
configured timeouts and the quiet retries are off: a rate limit or an outage becomes a Problem in
this cycle and a count on the breaker, and the next cycle tries again. Crypto symbols are asked
for as "BTC/USD" (bars) and "BTCUSD" (news); the keys go in headers only and never into a message.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo

import requests
from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, DataFeed
from alpaca.data.historical import CryptoHistoricalDataClient, NewsClient, StockHistoricalDataClient
from alpaca.data.requests import CryptoBarsRequest, NewsRequest, StockBarsRequest
from alpaca.data.timeframe import TimeFrame, TimeFrameUnit
from pydantic import ValidationError
from providers.alpaca_http import prepare_client

from intelligence.price import format_time
from intelligence.types import Bar, BarSeries, Headline, Problem, normalize_text
from providers.bars import BarsError, _capped, _require_utc, _spacing_problems
from providers.circuit import CircuitBreaker, CircuitOpen
from providers.feeds import FeedBatch

TIMEFRAMES = {
    "1Min": (1, TimeFrameUnit.Minute), "5Min": (5, TimeFrameUnit.Minute), "15Min": (15, TimeFrameUnit.Minute),
    "30Min": (30, TimeFrameUnit.Minute), "1Hour": (1, TimeFrameUnit.Hour), "4Hour": (4, TimeFrameUnit.Hour),
    "1Day": (1, TimeFrameUnit.Day),
}
_UNIT = {TimeFrameUnit.Minute: timedelta(minutes=1), TimeFrameUnit.Hour: timedelta(hours=1),
         TimeFrameUnit.Day: timedelta(days=1)}
# Stories in one narrative window across the universe; more is a flood the narrative would damp anyway.
MAX_NEWS_ITEMS = 500
NEW_YORK = ZoneInfo("America/New_York")
MAX_DETAIL_CHARS = 200


@dataclass(frozen=True)
class AlpacaAccess:
    key: str = field(repr=False)
    secret: str = field(repr=False)
    url: str | None  # TB_ALPACA_DATA_URL; None is Alpaca's
    connect_timeout: float
    read_timeout: float

    def redact(self, text: str) -> str:
        for secret in (self.key, self.secret):
            if secret:
                text = text.replace(secret, "[redacted]")
        return text


class AlpacaDataError(BarsError):
    """Bars could not be had from Alpaca; the cycle reports it like a broken bar file and carries on."""


def _prepared(client: Any, access: AlpacaAccess) -> Any:
    # alpaca-py would sleep 3 s per 429; the breaker and the next cycle do better.
    return prepare_client(client, (access.connect_timeout, access.read_timeout))


def timeframe_interval(name: str) -> tuple[TimeFrame, timedelta]:
    amount, unit = TIMEFRAMES[name]
    return TimeFrame(amount, unit), amount * _UNIT[unit]


def describe_failure(exc: Exception, access: AlpacaAccess) -> str:
    """Plain words for what went wrong with a call to Alpaca, with any key or secret blanked out."""
    if isinstance(exc, APIError):
        try:
            detail = str(json.loads(str(exc)).get("message", "")) or str(exc)
        except (ValueError, AttributeError):
            detail = str(exc)
        text = f"Alpaca answered HTTP {exc.status_code}: {detail[:MAX_DETAIL_CHARS]}"
    elif isinstance(exc, requests.Timeout):
        text = f"no answer from Alpaca in time ({access.connect_timeout:g} s to connect, {access.read_timeout:g} s to read)"
    elif isinstance(exc, requests.RequestException):
        text = f"could not reach Alpaca: {exc.__class__.__name__}"
    elif isinstance(exc, (ValidationError, ValueError, KeyError, TypeError)):
        text = f"malformed answer from Alpaca ({exc.__class__.__name__}: {str(exc).splitlines()[0][:MAX_DETAIL_CHARS]})"
    else:
        text = f"{exc.__class__.__name__}: {exc}"[:MAX_DETAIL_CHARS]
    return access.redact(text)


class AlpacaMarketData:
    """Bars served point in time like EmbeddedMarketData: only bars closed by as-of, fetched when asked."""

    def __init__(self, access: AlpacaAccess, timeframe: str, lookback: timedelta, stock_feed: str,
                 is_crypto: Callable[[str], bool], breaker: CircuitBreaker) -> None:
        self._access = access
        self._timeframe, self.interval = timeframe_interval(timeframe)
        self._lookback = lookback
        self._stock_feed = DataFeed(stock_feed)
        self._is_crypto = is_crypto
        self.breaker = breaker
        self._stocks = _prepared(StockHistoricalDataClient(access.key, access.secret, url_override=access.url), access)
        self._crypto = _prepared(CryptoHistoricalDataClient(access.key, access.secret, url_override=access.url), access)
        # One cycle asks twice for the same window (scoring, then the calibrator's outcomes): ask Alpaca once.
        self._cache: dict[tuple[str, datetime, datetime], BarSeries | AlpacaDataError] = {}

    def bars_until(self, symbol: str, as_of: datetime) -> BarSeries:
        """The bars that closed at or before `as_of` within the look-back: nothing later leaks."""
        _require_utc(as_of, "as_of")
        return self._window(symbol.strip().upper(), as_of - self._lookback, as_of)

    def bars_between(self, symbol: str, start: datetime, end: datetime) -> BarSeries:
        """The bars that opened at or after `start` and closed at or before `end`."""
        _require_utc(start, "start")
        _require_utc(end, "end")
        if end < start:
            raise ValueError(f"end {format_time(end)} is before start {format_time(start)}")
        return self._window(symbol.strip().upper(), start, end)

    def _window(self, symbol: str, start: datetime, end: datetime) -> BarSeries:
        key = (symbol, start, end)
        if key not in self._cache:
            if len(self._cache) > 256:
                self._cache.clear()
            try:
                self._cache[key] = self._fetch(symbol, start, end)
            except AlpacaDataError as exc:
                self._cache[key] = exc
        found = self._cache[key]
        if isinstance(found, AlpacaDataError):
            raise found
        return found

    def _fetch(self, symbol: str, start: datetime, end: datetime) -> BarSeries:
        crypto = self._is_crypto(symbol)
        wanted = f"{symbol}/USD" if crypto else symbol
        if crypto:
            request: Any = CryptoBarsRequest(symbol_or_symbols=wanted, timeframe=self._timeframe, start=start, end=end)
            get = lambda: self._crypto.get_crypto_bars(request)  # noqa: E731
        else:
            request = StockBarsRequest(symbol_or_symbols=wanted, timeframe=self._timeframe, start=start, end=end,
                                       feed=self._stock_feed, adjustment=Adjustment.RAW)
            get = lambda: self._stocks.get_stock_bars(request)  # noqa: E731
        try:
            # Converting inside the breaker: a malformed answer is a failing provider like a 500 is.
            every = self.breaker.call(lambda: _converted(symbol, get().data.get(wanted, [])))  # type: ignore[no-untyped-call]
        except CircuitOpen as exc:
            raise AlpacaDataError(f"{symbol} bars not fetched: Alpaca data {exc}") from None
        except AlpacaDataError:
            raise
        except Exception as exc:  # noqa: BLE001  (whatever alpaca-py raises is a failed provider, said in words)
            raise AlpacaDataError(f"{symbol} bars from Alpaca: {describe_failure(exc, self._access)}") from None
        bars = [b for b in every if b.start >= start and b.start + self.interval <= end]
        if not bars:
            raise AlpacaDataError(f"Alpaca has no {self._timeframe} bars for {symbol} closed between "
                                  f"{format_time(start)} and {format_time(end)}")
        return BarSeries(symbol, self.interval, tuple(bars), self._spacing(symbol, bars, crypto))

    def _spacing(self, symbol: str, bars: list[Bar], crypto: bool) -> tuple[Problem, ...]:
        if crypto or self.interval >= timedelta(days=1):
            return _capped(symbol, [p for _, p in _spacing_problems(symbol, bars, self.interval)])
        # Intraday stock bars stop every night: only a hole inside one New York trading day is a gap.
        problems: list[Problem] = []
        day: list[Bar] = []
        for bar in bars:
            if day and bar.start.astimezone(NEW_YORK).date() != day[-1].start.astimezone(NEW_YORK).date():
                problems += [p for _, p in _spacing_problems(symbol, day, self.interval)]
                day = []
            day.append(bar)
        problems += [p for _, p in _spacing_problems(symbol, day, self.interval)]
        return _capped(symbol, problems)


def _converted(symbol: str, raw: Sequence[Any]) -> list[Bar]:
    """Alpaca's bars as ours, checked like a bar file: a bar that cannot be true makes the series untrusted."""
    bars: list[Bar] = []
    for item in raw:
        start = item.timestamp.astimezone(timezone.utc)
        where = f"{symbol} bar at {format_time(start)} from Alpaca"
        o, h, l, c, v = (float(x) for x in (item.open, item.high, item.low, item.close, item.volume))
        if not all(math.isfinite(x) for x in (o, h, l, c, v)) or min(o, h, l, c) <= 0 or v < 0:
            raise AlpacaDataError(f"{where}: prices must be positive and finite, volume not negative")
        if not l <= min(o, c) <= max(o, c) <= h:
            raise AlpacaDataError(f"{where}: open or close outside the low-high range")
        if bars and start <= bars[-1].start:
            raise AlpacaDataError(f"{where}: not after the previous bar ({format_time(bars[-1].start)})")
        bars.append(Bar(start=start, open=o, high=h, low=l, close=c, volume=v))
    return bars


class AlpacaNews:
    """Alpaca's news API (Benzinga and others) for the universe, over the narrative window."""

    name = "alpaca"

    def __init__(self, access: AlpacaAccess, symbols: Sequence[str] | Callable[[], Sequence[str]],
                 is_crypto: Callable[[str], bool], breaker: CircuitBreaker) -> None:
        self._access = access
        # A callable is asked each fetch: the watchlist an operator changes between cycles.
        self._symbols = symbols
        self._is_crypto = is_crypto
        self.breaker = breaker
        self._client = _prepared(NewsClient(access.key, access.secret, url_override=access.url), access)

    def _wanted(self) -> str:
        symbols = self._symbols() if callable(self._symbols) else self._symbols
        return ",".join(f"{s}USD" if self._is_crypto(s) else s for s in symbols)

    def _ours(self, tag: str) -> str:
        """Alpaca tags crypto stories "BTCUSD"; ours is "BTC"."""
        tag = tag.strip().upper().replace("/", "")
        return tag[:-3] if tag.endswith("USD") and len(tag) > 3 and self._is_crypto(tag[:-3]) else tag

    def fetch(self, since: datetime, until: datetime) -> FeedBatch:
        request = NewsRequest(symbols=self._wanted(), start=since, end=until, limit=MAX_NEWS_ITEMS)
        try:
            news = self.breaker.call(lambda: self._client.get_news(request))
        except CircuitOpen as exc:
            return FeedBatch((), (Problem("Alpaca news", f"not fetched: {exc}"),))
        except Exception as exc:  # noqa: BLE001  (a failed provider, said in words; the cycle carries on)
            return FeedBatch((), (Problem("Alpaca news", describe_failure(exc, self._access)),))
        headlines, skipped = [], 0
        for article in news.data.get("news", []):
            title = normalize_text(article.headline or "")
            if not title:
                skipped += 1
                continue
            headlines.append(Headline(
                source=normalize_text(article.source or "Alpaca").title(), title=title,
                published=article.created_at.astimezone(timezone.utc), url=article.url or "",
                summary=normalize_text(article.summary or ""),
                # The publisher's tags name the story's assets as surely as a name in the text does.
                symbols=tuple(dict.fromkeys(self._ours(t) for t in (article.symbols or ()) if t.strip())),
            ))
        problems = (Problem("Alpaca news", f"skipped {skipped} article(s) without a headline"),) if skipped else ()
        return FeedBatch(tuple(headlines), problems)
