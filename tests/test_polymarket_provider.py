"""The Gamma client against a loopback fake of the real API: paging, filters, quirks, bad items, outages."""
from __future__ import annotations

from datetime import timedelta
from typing import Iterator

import pytest

from intelligence.types import Problem
from providers.circuit import BreakerState, CircuitBreaker
from providers.polymarket import GammaClient, MarketQuery, parse_market
from tests.conftest import utc
from tests.fake_gamma import FakeGamma, crypto_week, gamma_event, gamma_market

NOW = utc(2025, 12, 13, 10, 30)
CLOSES = {"BTC": 90422.57, "ETH": 3118.19}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


@pytest.fixture
def gamma() -> Iterator[FakeGamma]:
    server = FakeGamma(events=crypto_week(NOW, CLOSES)).start()
    yield server
    server.stop()


def client(gamma: FakeGamma, clock: Clock | None = None, read_timeout: float = 2.0, page_size: int = 100,
           max_pages: int = 10) -> GammaClient:
    breaker = CircuitBreaker("polymarket", 3, timedelta(minutes=5), clock or Clock())
    return GammaClient(gamma.url, 1.0, read_timeout, breaker, page_size=page_size, max_pages=max_pages)


def test_a_real_shaped_market_is_read_with_its_json_in_json_fields() -> None:
    item = gamma_market("662278", "Will the price of Bitcoin be above $96,000 on November 10?", (0.965, 0.035),
                        utc(2025, 11, 10, 17), volume=1234.5, liquidity=99.0)
    quote = parse_market(item, "Bitcoin above ___ on November 10?")
    assert quote.outcomes == ("Yes", "No") and quote.prices == (0.965, 0.035)
    assert (quote.volume, quote.liquidity, quote.end) == (1234.5, 99.0, utc(2025, 11, 10, 17))
    assert quote.event_title == "Bitcoin above ___ on November 10?" and not quote.closed
    # Only the string fields, as older answers have them: still read.
    bare = {k: v for k, v in item.items() if k not in ("volumeNum", "liquidityNum")}
    assert parse_market(bare).volume == 1234.5
    assert parse_market({**item, "outcomes": ["Yes", "No"], "outcomePrices": ["0.5", "0.5"]}).prices == (0.5, 0.5)


@pytest.mark.parametrize("change, reason", [
    ({"outcomePrices": "[\"0.5\", "}, "outcomePrices is not JSON"),
    ({"outcomePrices": "[\"0.5\"]"}, "outcomePrices and outcomes differ in length"),
    ({"outcomePrices": "[\"1.7\", \"-0.7\"]"}, "an outcome price outside 0..1"),
    ({"outcomePrices": "[\"abc\", \"0.5\"]"}, "an outcome price is not a number"),
    ({"outcomes": "{\"a\": 1}"}, "outcomes is not a list"),
    ({"endDate": None}, "endDate is missing"),
    ({"endDate": "soon"}, "endDate is not an ISO time"),
    ({"question": ""}, "no question"),
    ({"id": None}, "no id"),
    ({"volumeNum": "lots"}, "volumeNum is not a number"),
    ({"liquidityNum": -5}, "liquidityNum is negative"),
])
def test_a_malformed_market_says_what_is_wrong(change, reason) -> None:
    item = gamma_market("1", "Will the price of Bitcoin be above $90,000 on December 14?", (0.5, 0.5), NOW)
    with pytest.raises(ValueError, match=f"^{reason}$"):
        parse_market({**item, **change})


def test_events_are_read_with_the_filters_and_the_malformed_items_counted(gamma: FakeGamma) -> None:
    gamma_client = client(gamma)
    batch = gamma_client.events(MarketQuery(active=True, closed=False, tag_slug="crypto", end_date_min=NOW,
                                            end_date_max=NOW + timedelta(days=7), order="volume", ascending=False))
    [call] = gamma.calls("/events")
    assert call == {"active": ["true"], "closed": ["false"], "ascending": ["false"], "tag_slug": ["crypto"],
                    "end_date_min": ["2025-12-13T10:30:00Z"], "end_date_max": ["2025-12-20T10:30:00Z"],
                    "order": ["volume"], "limit": ["100"], "offset": ["0"]}
    questions = [q.question for q in batch.quotes]
    assert "Will Russia capture Pokrovsk by November 30?" not in questions  # tagged politics
    assert not any("in December" in q for q in questions)  # ends past the look-ahead
    assert sorted(s.reason for s in batch.skipped) == ["an outcome price outside 0..1", "outcomePrices is not JSON"]
    assert all(s.market_id.isdigit() for s in batch.skipped)  # named, so a reader can look the market up
    assert batch.skipped_counts() == {"malformed: outcomePrices is not JSON": 1,
                                      "malformed: an outcome price outside 0..1": 1}
    assert len(batch.quotes) == 2 * 16 + 2 and not batch.problems and not batch.truncated
    assert {q.event_title for q in batch.quotes if "above $90,000 on December 14" in q.question} == {
        "Bitcoin above ___ on December 14?"}
    gamma_client.close()


def test_pages_are_followed_until_a_short_page_and_capped(gamma: FakeGamma) -> None:
    gamma.markets = [gamma_market(str(10 + i), f"Will the price of Bitcoin be above ${80 + i},000 on December 14?",
                                  (0.5, 0.5), NOW + timedelta(days=1)) for i in range(45)]
    gamma.events = []
    batch = client(gamma, page_size=20).markets(MarketQuery(closed=False))
    assert [c["offset"] for c in gamma.calls("/markets")] == [["0"], ["20"], ["40"]]
    assert len(batch.quotes) == 45 and batch.pages == 3 and not batch.truncated
    capped = client(gamma, page_size=20, max_pages=2).markets(MarketQuery(closed=False))
    assert len(capped.quotes) == 40 and capped.truncated


def test_markets_by_id_finds_resolved_ones_and_a_market_in_two_events_is_one(gamma: FakeGamma) -> None:
    settled = gamma_market("555", "Bitcoin Up or Down on December 12?", (1.0, 0.0), utc(2025, 12, 12, 17),
                           outcomes=("Up", "Down"), closed=True)
    gamma.markets = [settled]
    batch = client(gamma).markets_by_id(["555", "700002"])
    assert gamma.calls("/markets")[0]["id"] == ["555", "700002"]
    assert {q.market_id: q.closed for q in batch.quotes} == {"555": True, "700002": False}
    shared = gamma_market("777", "Will the price of Bitcoin be above $90,000 on December 14?", (0.5, 0.5), NOW)
    gamma.events = [gamma_event("1", "A", "a", NOW, [shared]), gamma_event("2", "B", "b", NOW, [shared])]
    assert [q.market_id for q in client(gamma).events(MarketQuery()).quotes] == ["777"]


@pytest.mark.parametrize("mode, message", [
    ("down", "HTTP 503 from {url}/events"),
    ("garbage", "{url}/events answered with something that is not JSON"),
    ("slow", "no answer from {url}/events in time (read timeout, 0.3 s)"),
])
def test_an_outage_is_a_problem_naming_polymarket_and_opens_the_breaker(gamma: FakeGamma, mode, message) -> None:
    gamma.mode, gamma.delay = mode, 1.0
    clock = Clock()
    gamma_client = client(gamma, clock, read_timeout=0.3)
    for _ in range(3):
        batch = gamma_client.events(MarketQuery(active=True))
        assert batch.problems == [Problem("Polymarket", message.format(url=gamma.url))] and not batch.quotes
    assert gamma_client.breaker.state is BreakerState.OPEN
    calls = len(gamma.requests)
    batch = gamma_client.events(MarketQuery(active=True))
    assert len(gamma.requests) == calls  # left alone while open
    assert batch.problems[0].where == "Polymarket" and "not fetched: circuit open after 3 failure(s)" in batch.problems[0].message
    gamma.mode = "ok"
    clock.now = NOW + timedelta(minutes=6)  # after the cool-down one trial goes through and closes it
    assert gamma_client.events(MarketQuery(active=True)).quotes and gamma_client.breaker.state is BreakerState.CLOSED


@pytest.mark.parametrize("body", [{"error": "nope"}, [1, 2, 3], [{"id": "1", "question": "q"}]])
def test_json_with_nothing_usable_is_a_failure_too(gamma: FakeGamma, body) -> None:
    gamma.events = []
    gamma.markets = body if isinstance(body, list) else []
    if isinstance(body, dict):
        gamma.mode = "garbage"
    batch = client(gamma).markets(MarketQuery())
    assert batch.problems and batch.problems[0].where == "Polymarket" and not batch.quotes


def test_markets_filters_by_tag_id_closed_and_end_dates(gamma: FakeGamma) -> None:
    settled = gamma_market("555", "Bitcoin Up or Down on December 12?", (1.0, 0.0), utc(2025, 12, 12, 17),
                           outcomes=("Up", "Down"), closed=True)
    gamma.events.append(gamma_event("9", "Bitcoin Up or Down on December 12?", "btc-12", utc(2025, 12, 12, 17),
                                    [settled], tags=("crypto-prices",)))
    found = client(gamma).markets(MarketQuery(closed=True, tag_ids=(1312,), end_date_max=NOW))
    assert [q.market_id for q in found.quotes] == ["555"] and found.quotes[0].closed
    assert gamma.calls("/markets")[0]["tag_id"] == ["1312"] and gamma.calls("/markets")[0]["closed"] == ["true"]
    assert not client(gamma).markets(MarketQuery(closed=True, tag_ids=(21,))).quotes
