"""Polymarket's public Gamma API (no key), read only: GET /markets and GET /events, behind a circuit breaker.

The Gamma API answers a page of markets (or of events, each with its markets) as a JSON list; the
page is chosen with `limit` and `offset`, and the filters are query parameters (active, closed,
tag_id / tag_slug, end_date_min / end_date_max, id). Its answers have quirks this module absorbs:
`outcomes`, `outcomePrices` and `clobTokenIds` are JSON arrays *inside strings*, prices are strings
("0.965"), volume and liquidity come as numbers (`volumeNum`, `liquidityNum`) or strings (`volume`,
`liquidity`), and some items are malformed. A bad item is skipped and counted with its reason; an
answer with nothing usable, a non-JSON body, an HTTP error or a timeout is a failed call, counted
by the breaker and reported as a Problem naming Polymarket. This product never trades on Polymarket.
"""
from __future__ import annotations

import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from typing import Any, Iterator, Mapping, Sequence

import httpx

from intelligence.prediction_markets import MarketQuote
from intelligence.types import Problem
from providers.circuit import CircuitBreaker, CircuitOpen
from providers.http_feeds import safe_url

NAME = "Polymarket"
BREAKER = "polymarket"
DEFAULT_BASE_URL = "https://gamma-api.polymarket.com"
USER_AGENT = "tracer-bullet/0.1 (read-only prediction-market reader)"
PAGE_SIZE = 100
MAX_PAGES = 10  # per query: a server that never stops paging must not keep a cycle waiting
MAX_PAGE_BYTES = 20_000_000
MAX_IDS_PER_CALL = 50  # resolution look-ups by id go in batches, the URL stays short


class GammaUnavailable(Exception):
    """The Gamma API could not be read this time; the message says why in plain words."""


@dataclass(frozen=True)
class Skipped:
    market_id: str  # "?" when the item had none
    reason: str


@dataclass(frozen=True)
class MarketQuery:
    """The Gamma filters this product uses; None leaves a filter out."""

    active: bool | None = None
    closed: bool | None = None
    tag_slug: str | None = None
    tag_ids: tuple[int, ...] = ()
    end_date_min: datetime | None = None
    end_date_max: datetime | None = None
    ids: tuple[str, ...] = ()
    order: str | None = None
    ascending: bool | None = None

    def params(self) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for name, value in (("active", self.active), ("closed", self.closed), ("ascending", self.ascending)):
            if value is not None:
                found.append((name, "true" if value else "false"))
        if self.tag_slug:
            found.append(("tag_slug", self.tag_slug))
        found += [("tag_id", str(t)) for t in self.tag_ids]
        for name, moment in (("end_date_min", self.end_date_min), ("end_date_max", self.end_date_max)):
            if moment is not None:
                found.append((name, moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")))
        found += [("id", i) for i in self.ids]
        if self.order:
            found.append(("order", self.order))
        return found


@dataclass
class GammaBatch:
    quotes: list[MarketQuote] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    pages: int = 0
    truncated: bool = False  # MAX_PAGES reached with more to read

    def skipped_counts(self) -> Counter[str]:
        return Counter(f"malformed: {s.reason}" for s in self.skipped)


def _json_list(value: Any, what: str) -> list[Any]:
    """A list given as a list or as a JSON string holding one (Gamma's usual way)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ValueError(f"{what} is not JSON") from None
    if not isinstance(value, list):
        raise ValueError(f"{what} is not a list")
    return value


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{what} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} is not finite")
    return number


def _amount(item: Mapping[str, Any], exact: str, loose: str) -> float:
    """Volume or liquidity: the numeric field when there, else the string one; absent is nothing traded."""
    for key in (exact, loose):
        if item.get(key) not in (None, ""):
            value = _number(item[key], key)
            if value < 0:
                raise ValueError(f"{key} is negative")
            return value
    return 0.0


def _time(value: Any, what: str) -> datetime:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} is missing")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{what} is not an ISO time") from None
    if moment.tzinfo is None:  # Gamma's dates are UTC; a bare one is read as UTC rather than dropped
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def parse_market(item: Any, event_title: str = "") -> MarketQuote:
    """One Gamma market as a quote; ValueError says what is wrong with it."""
    if not isinstance(item, dict):
        raise ValueError("not an object")
    if item.get("id") in (None, ""):
        raise ValueError("no id")
    question = item.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("no question")
    outcomes = _json_list(item.get("outcomes"), "outcomes")
    prices = [_number(p, "an outcome price") for p in _json_list(item.get("outcomePrices"), "outcomePrices")]
    if not outcomes or not all(isinstance(o, str) for o in outcomes):
        raise ValueError("outcomes are not names")
    if len(prices) != len(outcomes):
        raise ValueError("outcomePrices and outcomes differ in length")
    if any(not 0.0 <= p <= 1.0 for p in prices):
        raise ValueError("an outcome price outside 0..1")
    end = _time(item.get("endDate") or item.get("endDateIso"), "endDate")
    return MarketQuote(
        market_id=str(item["id"]), question=" ".join(question.split()), outcomes=tuple(outcomes), prices=tuple(prices),
        volume=_amount(item, "volumeNum", "volume"), liquidity=_amount(item, "liquidityNum", "liquidity"), end=end,
        closed=item.get("closed") is True, slug=str(item.get("slug") or ""), event_title=event_title,
    )


def _market_id(item: Any) -> str:
    return str(item.get("id")) if isinstance(item, dict) and item.get("id") not in (None, "") else "?"


class GammaClient:
    """Pages through /markets and /events; every HTTP call goes through the one Polymarket breaker."""

    def __init__(self, base_url: str, connect_timeout: float, read_timeout: float, breaker: CircuitBreaker,
                 transport: httpx.BaseTransport | None = None, page_size: int = PAGE_SIZE,
                 max_pages: int = MAX_PAGES) -> None:
        self._base = base_url.rstrip("/")
        self._connect, self._read = connect_timeout, read_timeout
        self.breaker = breaker
        self._page_size, self._max_pages = page_size, max_pages
        self._client = httpx.Client(timeout=httpx.Timeout(read_timeout, connect=connect_timeout), transport=transport,
                                    follow_redirects=True, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})

    def close(self) -> None:
        self._client.close()

    def markets(self, query: MarketQuery) -> GammaBatch:
        """Every market the filters select (GET /markets), page by page."""
        return self._collect("/markets", query, lambda item: [(item, "")])

    def events(self, query: MarketQuery) -> GammaBatch:
        """The markets of every event the filters select (GET /events), each with its event's title."""
        def markets_of(event: Any) -> list[tuple[Any, str]]:
            if not isinstance(event, dict) or not isinstance(event.get("markets"), list):
                raise ValueError("an event without a markets list")
            title = str(event.get("title") or "")
            return [(m, title) for m in event["markets"]]
        return self._collect("/events", query, markets_of)

    def markets_by_id(self, ids: Sequence[str]) -> GammaBatch:
        """The markets with these ids, open or closed (to learn how the ones we saw resolved)."""
        total = GammaBatch()
        for start in range(0, len(ids), MAX_IDS_PER_CALL):
            batch = self.markets(MarketQuery(ids=tuple(ids[start:start + MAX_IDS_PER_CALL])))
            total.quotes += batch.quotes
            total.skipped += batch.skipped
            total.problems += batch.problems
            total.pages += batch.pages
            if batch.problems:
                break
        return total

    def _collect(self, path: str, query: MarketQuery, items: Any) -> GammaBatch:
        batch, seen = GammaBatch(), set()
        for offset in self._offsets():
            try:
                # Reading the items inside the breaker: an answer with nothing usable is a failing provider.
                quotes, skipped, size = self.breaker.call(partial(self._read_page, path, query, offset, items))
            except CircuitOpen as exc:
                batch.problems.append(Problem(NAME, f"not fetched: {exc}"))
                return batch
            except GammaUnavailable as exc:
                batch.problems.append(Problem(NAME, str(exc)))
                return batch
            batch.pages += 1
            batch.skipped += skipped
            for quote in quotes:
                if quote.market_id not in seen:  # a market in two events is one market
                    seen.add(quote.market_id)
                    batch.quotes.append(quote)
            if size < self._page_size:
                return batch
        batch.truncated = True
        return batch

    def _read_page(self, path: str, query: MarketQuery, offset: int,
                   items: Any) -> tuple[list[MarketQuote], list[Skipped], int]:
        page = self._page(path, query, offset)
        quotes: list[MarketQuote] = []
        skipped: list[Skipped] = []
        for entry in page:
            try:
                pairs = items(entry)
            except ValueError as exc:
                skipped.append(Skipped(_market_id(entry), str(exc)))
                continue
            for market, title in pairs:
                try:
                    quotes.append(parse_market(market, title))
                except ValueError as exc:
                    skipped.append(Skipped(_market_id(market), str(exc)))
        if skipped and not quotes:
            raise GammaUnavailable(f"none of the {len(skipped)} market(s) on a page of {path.strip('/')} could be read "
                                   f"(first: {skipped[0].reason})")
        return quotes, skipped, len(page)

    def _offsets(self) -> Iterator[int]:
        return (page * self._page_size for page in range(self._max_pages))

    def _page(self, path: str, query: MarketQuery, offset: int) -> list[Any]:
        url = f"{self._base}{path}"
        params = httpx.QueryParams([*query.params(), ("limit", str(self._page_size)), ("offset", str(offset))])
        shown = safe_url(url)
        try:
            with self._client.stream("GET", url, params=params) as response:
                if response.status_code != 200:
                    raise GammaUnavailable(f"HTTP {response.status_code} from {shown}")
                body = self._read_body(response, shown)
        except httpx.TimeoutException as exc:
            kind = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read"
            limit = self._connect if kind == "connect" else self._read
            raise GammaUnavailable(f"no answer from {shown} in time ({kind} timeout, {limit:g} s)") from None
        except httpx.HTTPError as exc:
            raise GammaUnavailable(f"could not reach {shown}: {exc.__class__.__name__}") from None
        try:
            document = json.loads(body)
        except ValueError:
            raise GammaUnavailable(f"{shown} answered with something that is not JSON") from None
        if isinstance(document, dict) and isinstance(document.get("data"), list):
            document = document["data"]  # the keyset variant wraps the page
        if not isinstance(document, list):
            raise GammaUnavailable(f"{shown} answered JSON that is not a list of {path.strip('/')}")
        return document

    def _read_body(self, response: httpx.Response, shown: str) -> bytes:
        # A server dripping bytes never trips the read timeout; the whole page gets one deadline too.
        deadline = time.monotonic() + self._connect + self._read
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_PAGE_BYTES:
                raise GammaUnavailable(f"{shown} sent more than {MAX_PAGE_BYTES:,} bytes for one page")
            if time.monotonic() > deadline:
                raise GammaUnavailable(f"{shown} took longer than {self._connect + self._read:g} s to send a page")
            chunks.append(chunk)
        return b"".join(chunks)
