"""A loopback fake of Polymarket's public Gamma API: GET /markets and GET /events, as the real one answers.

Shapes follow the documented schema and real answers (docs.polymarket.com's Gamma OpenAPI for
/markets and /events; real payloads quoted in public code, e.g. the "bitcoin-above-on-november-10"
event with market 662278): a JSON list per page; `outcomes`, `outcomePrices` and `clobTokenIds`
as JSON arrays inside strings; `volume` and `liquidity` as strings beside `volumeNum` and
`liquidityNum`; ISO `endDate`s in UTC; events carrying their `markets` and `tags`. Honoured:
limit/offset paging, active, closed, tag_slug, tag_id, end_date_min/max, id (repeated), order
with ascending. Modes: "ok", "down" (HTTP 503), "garbage" (200 with an HTML page), "slow" (answers
after `delay` seconds, past a client's read timeout).
"""
from __future__ import annotations

import asyncio
import json
import math
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from tests.feed_server import LoopbackServer, OnLoopback

TAGS = {"crypto": 21, "crypto-prices": 1312, "stocks": 604, "politics": 2}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def gamma_market(market_id: str, question: str, prices: tuple[float, float], end: datetime, *,
                 outcomes: tuple[str, str] = ("Yes", "No"), volume: float = 250_000.0, liquidity: float = 40_000.0,
                 closed: bool = False, slug: str | None = None, **override: Any) -> dict[str, Any]:
    """One market as Gamma returns it (the fields a client meets, quirks included)."""
    item: dict[str, Any] = {
        "id": market_id,
        "question": question,
        "conditionId": "0x" + market_id.rjust(64, "0"),
        "slug": slug or question.lower().replace("$", "").replace(",", "").replace("?", "").replace(" ", "-")[:80],
        "endDate": iso(end),
        "startDate": iso(end - timedelta(days=7)),
        "liquidity": f"{liquidity:.4f}",
        "volume": f"{volume:.6f}",
        "outcomes": json.dumps(list(outcomes)),
        "outcomePrices": json.dumps([f"{p:g}" for p in prices]),
        "clobTokenIds": json.dumps([str(10**70 + int(market_id) * 2), str(10**70 + int(market_id) * 2 + 1)]),
        "active": True,
        "closed": closed,
        "archived": False,
        "volumeNum": volume,
        "liquidityNum": liquidity,
        "volume24hr": volume / 7,
        "bestBid": max(prices[0] - 0.005, 0.0),
        "bestAsk": min(prices[0] + 0.005, 1.0),
        "lastTradePrice": prices[0],
        "orderPriceMinTickSize": 0.001,
        "orderMinSize": 5,
        "umaResolutionStatus": "resolved" if closed else None,
        "negRisk": False,
    }
    item.update(override)
    return item


def gamma_event(event_id: str, title: str, slug: str, end: datetime, markets: list[dict[str, Any]],
                tags: tuple[str, ...] = ("crypto",), closed: bool = False) -> dict[str, Any]:
    return {
        "id": event_id, "ticker": slug, "slug": slug, "title": title, "endDate": iso(end),
        "startDate": iso(end - timedelta(days=7)), "active": True, "closed": closed, "archived": False,
        "liquidity": sum(m.get("liquidityNum", 0) for m in markets), "volume": sum(m.get("volumeNum", 0) for m in markets),
        "tags": [{"id": str(TAGS.get(t, 999)), "label": t.title(), "slug": t} for t in tags],
        "markets": markets,
    }


@dataclass
class FakeGamma(OnLoopback):
    events: list[dict[str, Any]] = field(default_factory=list)
    markets: list[dict[str, Any]] = field(default_factory=list)  # answered by /markets besides the events' markets
    mode: str = "ok"  # ok | down | garbage | slow
    delay: float = 0.0
    max_limit: int = 100  # like the real API, a page is never longer than this, whatever `limit` asks
    requests: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server = LoopbackServer(self._dispatch)
        self._lock = threading.Lock()

    def calls(self, path: str) -> list[dict[str, list[str]]]:
        with self._lock:
            found = []
            for seen, query in self.requests:
                if seen == path:
                    grouped: dict[str, list[str]] = {}
                    for key, value in query:
                        grouped.setdefault(key, []).append(value)
                    found.append(grouped)
            return found

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            self.requests.append((request.path, list(request.query.items())))
            mode, delay = self.mode, self.delay
        if mode == "slow":
            await asyncio.sleep(delay)
        if mode == "down":
            return web.json_response({"error": "service unavailable"}, status=503)
        if mode == "garbage":
            return web.Response(text="<html><body>Cloudflare: checking your browser</body></html>",
                                content_type="text/html")
        if request.method != "GET":
            return web.json_response({"error": "method not allowed"}, status=405)
        query = request.query
        try:
            limit = min(int(query.get("limit", "20")), self.max_limit)
            offset = int(query.get("offset", "0"))
        except ValueError:
            return web.json_response({"error": "limit and offset must be integers"}, status=422)
        if request.path == "/events":
            rows = [e for e in self.events if _event_matches(e, query)]
        elif request.path == "/markets":
            rows = [m for m in self._all_markets() if _market_matches(m, query, self._event_of(m))]
        else:
            return web.json_response({"error": "not found"}, status=404)
        order = query.get("order")
        if order:
            key = "volumeNum" if order in ("volume", "volumeNum") else order
            rows.sort(key=lambda r: float(r.get(key) or 0), reverse=query.get("ascending", "true") == "false")
        return web.json_response(rows[offset:offset + limit])

    def _all_markets(self) -> list[dict[str, Any]]:
        return [m for e in self.events for m in e["markets"]] + list(self.markets)

    def _event_of(self, market: dict[str, Any]) -> dict[str, Any] | None:
        return next((e for e in self.events if any(m is market for m in e["markets"])), None)


def _flag(query: Any, name: str) -> bool | None:
    value = query.get(name)
    return None if value is None else value == "true"


def _in_window(end_text: Any, query: Any) -> bool:
    if not isinstance(end_text, str):
        return False
    end = datetime.fromisoformat(end_text.replace("Z", "+00:00"))
    low, high = query.get("end_date_min"), query.get("end_date_max")
    if low and end < datetime.fromisoformat(low.replace("Z", "+00:00")):
        return False
    return not (high and end > datetime.fromisoformat(high.replace("Z", "+00:00")))


def _tagged(event: dict[str, Any] | None, query: Any) -> bool:
    slug, tag_ids = query.get("tag_slug"), query.getall("tag_id", [])
    if not slug and not tag_ids:
        return True
    tags = event["tags"] if event is not None else []
    return any(t["slug"] == slug or t["id"] in tag_ids for t in tags)


def _event_matches(event: dict[str, Any], query: Any) -> bool:
    active, closed = _flag(query, "active"), _flag(query, "closed")
    return ((active is None or event["active"] == active) and (closed is None or event["closed"] == closed)
            and _in_window(event["endDate"], query) and _tagged(event, query))


def _market_matches(market: dict[str, Any], query: Any, event: dict[str, Any] | None) -> bool:
    ids = query.getall("id", [])
    if ids and str(market.get("id")) not in ids:
        return False
    active, closed = _flag(query, "active"), _flag(query, "closed")
    if active is not None and market.get("active") != active:
        return False
    if closed is not None and market.get("closed") != closed:
        return False
    if (query.get("end_date_min") or query.get("end_date_max")) and not _in_window(market.get("endDate"), query):
        return False
    return _tagged(event, query)



_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_EASTERN = timedelta(hours=-5)  # the titles speak New York time; winter offset is enough for test data


def _day_words(moment: datetime) -> str:
    return f"{_MONTHS[moment.month - 1]} {moment.day}"


def _clock_words(moment: datetime, minutes: bool = False) -> str:
    local = moment + _EASTERN
    hour = local.hour % 12 or 12
    return f"{hour}:{local.minute:02d}{'PM' if local.hour >= 12 else 'AM'}" if minutes else \
        f"{hour}{'PM' if local.hour >= 12 else 'AM'}"


def ladder_probability(close: float, level: float, hours: float, daily_vol: float = 0.03) -> float:
    """P(price above `level` after `hours`) for a driftless lognormal: how a real ladder is priced, roughly."""
    spread = daily_vol * math.sqrt(max(hours, 0.25) / 24)
    z = math.log(close / level) / spread
    return round(min(max(0.5 * (1 + math.erf(z / math.sqrt(2))), 0.001), 0.999), 3)


def _step(close: float) -> float:
    """The ladder's spacing: about one to two per cent of the price, a round number (2000 at 90k, 100 at 3k)."""
    magnitude = 10 ** (math.floor(math.log10(close)) - 1)
    return magnitude * (2 if close / magnitude >= 60 else 1)


def _end(market: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(market["endDate"].replace("Z", "+00:00"))


def crypto_week(now: datetime, closes: dict[str, float], names: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The crypto events Polymarket runs around `now`, in its own title shapes, for the assets in `closes`
    (symbol -> last price): the noon-ET "above" ladders of today and tomorrow, the daily, hourly and
    quarter-hour Up-or-Down candles, a "hit" event over the next days, a band, plus one market about no
    price, one thin market, two malformed ones, a politics event, and a month-long event past a week."""
    names = names or {"BTC": "Bitcoin", "ETH": "Ethereum", "SOL": "Solana", "XRP": "XRP"}
    noon = now.replace(hour=17, minute=0, second=0, microsecond=0)  # noon in New York, when the ladders settle
    today, tomorrow = (noon, noon + timedelta(days=1)) if now < noon else (noon + timedelta(days=1), noon + timedelta(days=2))
    ids = iter(range(700_000, 800_000))
    events: list[dict[str, Any]] = []

    def event(title: str, slug: str, markets: list[dict[str, Any]], tags: tuple[str, ...] = ("crypto",)) -> None:
        events.append(gamma_event(str(next(ids)), title, slug, max(_end(m) for m in markets), markets, tags))

    for symbol, close in closes.items():
        name, step = names[symbol], _step(close)
        centre = round(close / step) * step
        for end in (today, tomorrow):
            hours = (end - now).total_seconds() / 3600
            ladder = []
            for k, level in enumerate(centre + step * j for j in (-2, -1, 0, 1, 2)):
                p = ladder_probability(close, level, hours)
                ladder.append(gamma_market(str(next(ids)), f"Will the price of {name} be above ${level:,g} on "
                                           f"{_day_words(end)}?", (p, round(1 - p, 3)), end, volume=120_000 + 10_000 * k))
            event(f"{name} above ___ on {_day_words(end)}?", f"{name.lower()}-above-on-{end:%m-%d}", ladder)
        event(f"{name} Up or Down on {_day_words(tomorrow)}?", f"{name.lower()}-up-or-down-on-{tomorrow:%m-%d}",
              [gamma_market(str(next(ids)), f"{name} Up or Down on {_day_words(tomorrow)}?", (0.47, 0.53), tomorrow,
                            outcomes=("Up", "Down"), volume=300_000)])
        hour_end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
        hourly = f"{name} Up or Down - {_day_words(hour_end)}, {_clock_words(hour_end - timedelta(hours=1))} ET"
        start = hour_end - timedelta(minutes=60)
        quarter = (f"{name} Up or Down - {_day_words(hour_end)}, {_clock_words(start, True)}-"
                   f"{_clock_words(start + timedelta(minutes=15), True)} ET")
        for question, end, volume in ((hourly, hour_end, 40_000), (quarter, start + timedelta(minutes=15), 15_000)):
            event(question, f"{symbol.lower()}-updown-{end:%H%M}", [gamma_market(
                str(next(ids)), question, (0.52, 0.48), end, outcomes=("Up", "Down"), volume=volume, liquidity=5_000)])
        days_end = now + timedelta(days=2)
        span = f"{_day_words(now)}-{days_end.day}"
        event(f"What price will {name} hit {span}?", f"what-price-will-{name.lower()}-hit", [
            gamma_market(str(next(ids)), f"Will {name} reach ${centre + 3 * step:,g} {span}?", (0.18, 0.82), days_end,
                         volume=60_000),
            gamma_market(str(next(ids)), f"Will {name} dip to ${centre - 3 * step:,g} {span}?", (0.22, 0.78), days_end,
                         volume=55_000)])
        event(f"{name} price on {_day_words(tomorrow)}?", f"{name.lower()}-price-on-{tomorrow:%m-%d}", [
            gamma_market(str(next(ids)), f"Will the price of {name} be between ${centre:,g} and ${centre + step:,g} on "
                         f"{_day_words(tomorrow)}?", (0.31, 0.69), tomorrow, volume=45_000)])
        month_end = now + timedelta(days=20)
        month = _MONTHS[now.month - 1]
        event(f"What price will {name} hit in {month}?", f"what-price-will-{name.lower()}-hit-in-{month.lower()}", [
            gamma_market(str(next(ids)), f"Will {name} reach ${centre + 15 * step:,g} in {month}?", (0.04, 0.96),
                         month_end)])
    event("MicroStrategy buys Bitcoin this week?", "microstrategy-buys", [
        gamma_market(str(next(ids)), "Will MicroStrategy announce a new Bitcoin purchase by Monday?", (0.8, 0.2), tomorrow)])
    event("XRP above ___ (thin)", "xrp-thin", [
        gamma_market(str(next(ids)), f"Will the price of XRP be above $2.10 on {_day_words(tomorrow)}?", (0.3, 0.7),
                     tomorrow, volume=800.0, liquidity=150.0)])
    event("Broken markets", "broken", [
        gamma_market(str(next(ids)), f"Will the price of Bitcoin be above $1 on {_day_words(tomorrow)}?", (0.99, 0.01),
                     tomorrow, outcomePrices="[\"0.99\", "),
        gamma_market(str(next(ids)), f"Will the price of Bitcoin be above $2 on {_day_words(tomorrow)}?", (0.99, 0.01),
                     tomorrow, outcomePrices="[\"1.7\", \"-0.7\"]")])
    event("Russia x Ukraine", "russia-ukraine", [
        gamma_market(str(next(ids)), "Will Russia capture Pokrovsk by November 30?", (0.6, 0.4), tomorrow)],
        tags=("politics",))
    return events
