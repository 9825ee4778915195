"""Feeds over real HTTP (httpx) from a server on 127.0.0.1: conditional GET, timeouts, limits, breakers."""
from __future__ import annotations

import socket
from datetime import timedelta
from typing import Iterator

import pytest

from pipeline.provider_store import load_validators, save_validators
from providers.circuit import BreakerState, CircuitBreaker
from providers.feeds import EMBEDDED_FEEDS_DIR
from providers.http_feeds import FeedLimits, HttpFeeds, Validators, safe_url
from storage.db import open_store
from tests.conftest import utc
from tests.feed_server import FeedServer, Route

COINDESK = (EMBEDDED_FEEDS_DIR / "coindesk.rss").read_bytes()
THE_BLOCK = (EMBEDDED_FEEDS_DIR / "theblock.rss").read_bytes()
LIMITS = FeedLimits(connect_timeout=1.0, read_timeout=0.3, max_bytes=200_000)
NOW = utc(2025, 12, 13, 11, 0)


@pytest.fixture
def server() -> Iterator[FeedServer]:
    running = FeedServer().start()
    yield running
    running.stop()


def _feeds(server: FeedServer, paths: dict[str, str], limits: FeedLimits = LIMITS, failures: int = 3,
           validators: dict[str, Validators] | None = None) -> HttpFeeds:
    breakers = lambda name: CircuitBreaker(name, failures, timedelta(minutes=5), lambda: NOW)  # noqa: E731
    return HttpFeeds({name: server.url(path) for name, path in paths.items()}, limits, breakers, validators)


def test_etag_then_304_is_nothing_new_not_an_error(server: FeedServer) -> None:
    server.routes["/coindesk"] = Route(COINDESK, etag='"v1"')
    feeds = _feeds(server, {"CoinDesk": "/coindesk"})
    first = feeds.fetch()
    assert len(first.headlines) == 25 and first.problems == ()
    assert {h.source for h in first.headlines} == {"CoinDesk"}
    assert feeds.commit() == {server.url("/coindesk"): Validators('"v1"', None)}
    second = feeds.fetch()
    assert second.headlines == () and second.problems == ()
    assert server.requests_to("/coindesk")[-1]["If-None-Match"] == '"v1"'
    assert feeds.breakers[0].state is BreakerState.CLOSED


def test_last_modified_is_sent_back_as_if_modified_since(server: FeedServer) -> None:
    stamp = "Sat, 13 Dec 2025 11:05:41 GMT"
    server.routes["/block"] = Route(THE_BLOCK, last_modified=stamp)
    feeds = _feeds(server, {"The Block": "/block"})
    assert len(feeds.fetch().headlines) == 19
    feeds.commit()
    assert feeds.fetch().headlines == ()
    sent = server.requests_to("/block")
    assert "If-Modified-Since" not in sent[0] and sent[1]["If-Modified-Since"] == stamp


def test_uncommitted_validators_are_not_used(server: FeedServer) -> None:
    """A cycle that failed before storing the headlines must read the whole feed again next time."""
    server.routes["/coindesk"] = Route(COINDESK, etag='"v1"')
    feeds = _feeds(server, {"CoinDesk": "/coindesk"})
    feeds.fetch()
    feeds.rollback()
    assert len(feeds.fetch().headlines) == 25
    assert "If-None-Match" not in server.requests_to("/coindesk")[1]


def test_validators_survive_a_restart_through_the_store(server: FeedServer, database_url: str) -> None:
    server.routes["/coindesk"] = Route(COINDESK, etag='W/"abc"', last_modified="Sat, 13 Dec 2025 11:05:41 GMT")
    sessions = open_store(database_url)
    before = _feeds(server, {"CoinDesk": "/coindesk"})
    before.fetch()
    save_validators(sessions, before.commit(), NOW)
    after = _feeds(server, {"CoinDesk": "/coindesk"}, validators=load_validators(open_store(database_url), [server.url("/coindesk")]))
    assert after.fetch().headlines == ()
    sent = server.requests_to("/coindesk")[-1]
    assert sent["If-None-Match"] == 'W/"abc"' and sent["If-Modified-Since"] == "Sat, 13 Dec 2025 11:05:41 GMT"


def test_a_slow_feed_times_out_and_the_other_feeds_still_count(server: FeedServer) -> None:
    server.routes["/slow"] = Route(COINDESK, delay=1.0)
    server.routes["/block"] = Route(THE_BLOCK)
    batch = _feeds(server, {"Slow": "/slow", "The Block": "/block"}).fetch()
    assert len(batch.headlines) == 19
    [problem] = batch.problems
    assert problem.where == "Slow"
    assert problem.message == f"no answer from {server.url('/slow')} in time (read timeout, 0.3 s)"


def test_http_500_is_a_problem_and_opens_the_breaker_after_n(server: FeedServer) -> None:
    server.routes["/down"] = Route(b"oops", status=500)
    feeds = _feeds(server, {"Down": "/down"}, failures=2)
    for _ in range(2):
        [problem] = feeds.fetch().problems
        assert str(problem) == f"Down: HTTP 500 from {server.url('/down')}"
    [skipped] = feeds.fetch().problems
    assert skipped.message.startswith("not fetched: circuit open after 2 failure(s) in a row (last: HTTP 500")
    assert len(server.requests_to("/down")) == 2  # the open breaker kept the third request at home


def test_malformed_xml_is_a_failing_provider(server: FeedServer) -> None:
    server.routes["/broken"] = Route(b"<rss><channel><item><title>cut off", etag='"bad"')
    feeds = _feeds(server, {"Broken": "/broken"})
    batch = feeds.fetch()
    assert batch.headlines == ()
    assert batch.problems[0].where == "Broken" and "malformed feed" in batch.problems[0].message
    assert feeds.breakers[0].snapshot().failures == 1
    assert feeds.commit() == {}  # no validators for a body we could not use: the next fetch reads it again


def test_an_oversized_body_is_refused_with_or_without_content_length(server: FeedServer) -> None:
    big = COINDESK * 8  # about 260 kB against a 200 kB limit
    server.routes["/big"] = Route(big)
    server.routes["/drip"] = Route(big, send_length=False)
    batch = _feeds(server, {"Big": "/big", "Drip": "/drip"}).fetch()
    assert batch.headlines == ()
    big_problem, drip_problem = batch.problems
    assert big_problem.message == f"{server.url('/big')} announces {len(big):,} bytes, more than the limit of 200,000"
    assert drip_problem.message == f"{server.url('/drip')} sent more than the limit of 200,000 bytes"


def test_a_chunked_feed_within_the_limit_is_read(server: FeedServer) -> None:
    server.routes["/chunked"] = Route(COINDESK, send_length=False)
    assert len(_feeds(server, {"CoinDesk": "/chunked"}).fetch().headlines) == 25


def test_a_redirect_is_followed_and_validators_stay_with_the_configured_url(server: FeedServer) -> None:
    server.routes["/old"] = Route(redirect_to="/new")
    server.routes["/new"] = Route(COINDESK, etag='"n1"')
    feeds = _feeds(server, {"CoinDesk": "/old"})
    assert len(feeds.fetch().headlines) == 25
    assert list(feeds.commit()) == [server.url("/old")]
    assert feeds.fetch().headlines == ()
    assert server.requests_to("/new")[-1]["If-None-Match"] == '"n1"'


def test_a_redirect_loop_is_a_problem(server: FeedServer) -> None:
    server.routes["/a"] = Route(redirect_to="/b")
    server.routes["/b"] = Route(redirect_to="/a")
    [problem] = _feeds(server, {"Loop": "/a"}).fetch().problems
    assert problem.message == f"more than 5 redirects from {server.url('/a')}"


def test_nothing_listening_is_a_problem_not_a_crash() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nobody listens there
    breakers = lambda name: CircuitBreaker(name, 3, timedelta(minutes=5), lambda: NOW)  # noqa: E731
    batch = HttpFeeds({"Gone": f"http://127.0.0.1:{port}/rss"}, LIMITS, breakers).fetch()
    assert batch.problems[0].message == f"could not read http://127.0.0.1:{port}/rss: ConnectError"


def test_tokens_in_feed_urls_stay_out_of_problems(server: FeedServer) -> None:
    server.routes["/private"] = Route(b"", status=503)
    breakers = lambda name: CircuitBreaker(name, 3, timedelta(minutes=5), lambda: NOW)  # noqa: E731
    url = server.url("/private").replace("http://", "http://reader:pa55word@") + "?token=SECRET-42"
    [problem] = HttpFeeds({"Private": url}, LIMITS, breakers).fetch().problems
    assert problem.message == f"HTTP 503 from {server.url('/private')}"
    assert safe_url("https://u:p@example.com:8443/feed.xml?key=abc") == "https://example.com:8443/feed.xml"
