"""A loopback fake of Alpaca's market-data API, the endpoints alpaca-py's data clients call:
GET /v2/stocks/bars, GET /v1beta3/crypto/us/bars, GET /v1beta1/news. Shapes follow alpaca-py's
models (alpaca/data/models/bars.py, news.py) and the API's: bars keyed by symbol with the short
field names (t, o, h, l, c, v, n, vw), `next_page_token` for the next page, errors as
{"code": ..., "message": ...}. Like the real API it returns a bar by its open time, so the bar
still forming at `end` comes back too. Faults: an HTTP status or a slow answer, per path.
"""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp import web

from intelligence.types import Bar
from tests.feed_server import LoopbackServer, OnLoopback

KEY, SECRET = "data-key-7Hq", "data-secret-Zk91"
STEPS = {"Min": timedelta(minutes=1), "Hour": timedelta(hours=1), "Day": timedelta(days=1)}
CRYPTO_BARS, STOCK_BARS, NEWS = "/v1beta3/crypto/us/bars", "/v2/stocks/bars", "/v1beta1/news"


@dataclass
class DataFault:
    path: str
    status: int = 500
    delay: float = 0.0  # seconds before answering (a timeout when longer than the client waits)
    times: int = 1  # how many requests it answers; then the path works again
    body: Any = None  # a 200 answer with this JSON instead of the real one (malformed data)


@dataclass
class Article:
    headline: str
    created_at: datetime
    source: str = "benzinga"
    symbols: tuple[str, ...] = ("BTCUSD",)
    summary: str = ""
    url: str = ""


@dataclass
class FakeAlpacaData(OnLoopback):
    bars: dict[str, list[Bar]] = field(default_factory=dict)  # by Alpaca symbol: "BTC/USD", "SPY"
    news: list[Article] = field(default_factory=list)
    page_size: int = 100  # the API's pages are at most `limit` long; smaller here to exercise paging
    faults: list[DataFault] = field(default_factory=list)
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (path, query)
    headers_seen: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server = LoopbackServer(self._dispatch)
        self._lock = threading.Lock()

    def calls(self, path: str) -> list[dict[str, str]]:
        with self._lock:
            return [query for seen, query in self.requests if seen == path]

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            self.requests.append((request.path, dict(request.query)))
            self.headers_seen.append(dict(request.headers))
            fault = self._take_fault(request.path)
        if request.headers.get("APCA-API-KEY-ID") != KEY or request.headers.get("APCA-API-SECRET-KEY") != SECRET:
            return _error(401, 40110000, "request is not authorized")
        if fault is not None:
            await asyncio.sleep(fault.delay)
            if fault.body is not None:
                return web.json_response(fault.body)
            if fault.status != 200:
                message = "too many requests" if fault.status == 429 else "internal server error"
                return _error(fault.status, fault.status * 100_000, message)
        if request.path in (CRYPTO_BARS, STOCK_BARS):
            return self._bars(request.query)
        if request.path == NEWS:
            return self._news(request.query)
        return _error(404, 40410000, "endpoint not found")

    def _take_fault(self, path: str) -> DataFault | None:
        for fault in self.faults:
            if fault.path == path and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def _bars(self, query: Any) -> web.Response:
        symbols = query["symbols"].split(",")
        start, end = _time(query["start"]), _time(query["end"])
        timeframe = query["timeframe"]
        if not any(timeframe.endswith(unit) for unit in STEPS):
            return _error(422, 42210000, f"invalid timeframe {timeframe}")
        rows = [(s, b) for s in symbols for b in self.bars.get(s, []) if start <= b.start <= end]
        page, token = self._page(rows, query)
        out: dict[str, list[dict[str, Any]]] = {}
        for symbol, bar in page:
            out.setdefault(symbol, []).append({
                "t": bar.start.strftime("%Y-%m-%dT%H:%M:%SZ"), "o": bar.open, "h": bar.high, "l": bar.low,
                "c": bar.close, "v": bar.volume, "n": 10, "vw": (bar.high + bar.low) / 2,
            })
        return web.json_response({"bars": out, "next_page_token": token})

    def _news(self, query: Any) -> web.Response:
        start, end = _time(query["start"]), _time(query["end"])
        wanted = set(query.get("symbols", "").split(","))
        found = sorted((a for a in self.news if start <= a.created_at <= end and wanted & set(a.symbols)),
                       key=lambda a: a.created_at, reverse=True)  # the API's default: newest first
        page, token = self._page(found, query)
        return web.json_response({"news": [_article(i, a) for i, a in enumerate(page)], "next_page_token": token})

    def _page(self, rows: list[Any], query: Any) -> tuple[list[Any], str | None]:
        offset = int(query.get("page_token") or 0)
        size = min(self.page_size, int(query.get("limit") or self.page_size))
        page = rows[offset:offset + size]
        return page, (str(offset + size) if offset + size < len(rows) else None)


def _article(index: int, a: Article) -> dict[str, Any]:
    stamp = a.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"id": 1000 + index, "headline": a.headline, "source": a.source, "url": a.url, "summary": a.summary,
            "created_at": stamp, "updated_at": stamp, "symbols": list(a.symbols), "author": "Staff",
            "content": "", "images": []}


def _time(text: str) -> datetime:
    stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message}, status=status)
