"""Choosing the data sources from the settings: validation that names the variable, and the wiring of `run`."""
from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Iterator

import pytest

import tracer_bullet
from pipeline.data_sources import EmbeddedNews, build_data_sources, data_secrets
from pipeline.provider_store import provider_health, save_breakers
from config import ConfigError, load_settings
from providers.alpaca_data import AlpacaMarketData, AlpacaNews
from providers.circuit import BreakerSnapshot, BreakerState
from providers.feeds import EMBEDDED_FEEDS_DIR
from providers.http_feeds import HttpFeeds
from storage.db import open_store
from tests.conftest import utc
from tests.feed_server import FeedServer, Route

NOW = utc(2026, 3, 2, 9)


@pytest.mark.parametrize("env, expected", [
    ({"TB_NEWS_SOURCES": "rs"}, "TB_NEWS_SOURCES: Input should be 'embedded', 'rss' or 'alpaca' (got 'rs')"),
    ({"TB_NEWS_SOURCES": "embedded,rss"}, "TB_NEWS_SOURCES: Value error, embedded (the snapshot, as of its newest "
                                          "headline) cannot be mixed with live sources"),
    ({"TB_NEWS_SOURCES": " , "}, "TB_NEWS_SOURCES: Value error, no news source; allowed: embedded, or rss and/or alpaca"),
    ({"TB_NEWS_SOURCES": "alpaca"}, "TB_NEWS_SOURCES: Value error, alpaca needs TB_ALPACA_KEY and TB_ALPACA_SECRET"),
    ({"TB_MARKET_DATA": "alpaca"}, "TB_MARKET_DATA: Value error, alpaca needs TB_ALPACA_KEY and TB_ALPACA_SECRET"),
    ({"TB_MARKET_DATA": "yahoo"}, "TB_MARKET_DATA: Input should be 'embedded' or 'alpaca' (got 'yahoo')"),
    ({"TB_NEWS_SOURCES": "rss", "TB_FEEDS": '{"Mine": "file:///etc/passwd"}'},
     "TB_NEWS_SOURCES: Value error, rss needs http(s) URLs in TB_FEEDS; not one: Mine"),
    ({"TB_NEWS_SOURCES": "rss", "TB_FEEDS": "{}"}, "rss needs at least one feed in TB_FEEDS"),
    ({"TB_FEEDS": '{"CoinDesk": https://x}'}, "TB_FEEDS: Value error, expected a JSON object of feed name to URL"),
    ({"TB_ALPACA_BAR_TIMEFRAME": "2Hour"}, "TB_ALPACA_BAR_TIMEFRAME: Input should be '1Min', '5Min'"),
    ({"TB_FEED_MAX_BYTES": "10"}, "TB_FEED_MAX_BYTES: Input should be greater than or equal to 1024"),
    ({"TB_BREAKER_FAILURES": "0"}, "TB_BREAKER_FAILURES: Input should be greater than or equal to 1"),
    ({"TB_PROVIDER_READ_TIMEOUT_SECONDS": "-1"}, "TB_PROVIDER_READ_TIMEOUT_SECONDS: Input should be greater than 0"),
])
def test_bad_live_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert expected in str(err.value)


def test_live_settings_are_read_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TB_NEWS_SOURCES", " RSS, alpaca ,rss")
    monkeypatch.setenv("TB_MARKET_DATA", "alpaca")
    monkeypatch.setenv("TB_ALPACA_KEY", "k-123")
    monkeypatch.setenv("TB_ALPACA_SECRET", "s-456")
    settings = load_settings()
    assert settings.news_sources == ["rss", "alpaca"] and settings.market_data == "alpaca"
    sources = build_data_sources(settings, open_store("sqlite://"), lambda: NOW)
    try:
        assert sources.live
        assert [type(s) for s in sources.news] == [HttpFeeds, AlpacaNews]
        assert isinstance(sources.market, AlpacaMarketData)
        assert {b.name for b in sources.breakers} >= {"rss:CoinDesk", "alpaca:news", "alpaca:bars"}
        assert "s-456" not in repr(sources)
    finally:
        sources.close()


def test_snapshot_news_with_alpaca_bars_stays_dated_by_its_newest_headline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TB_MARKET_DATA", "alpaca")
    monkeypatch.setenv("TB_ALPACA_KEY", "k")
    monkeypatch.setenv("TB_ALPACA_SECRET", "s")
    sources = build_data_sources(load_settings(), open_store("sqlite://"), lambda: NOW)
    assert not sources.live and [type(s) for s in sources.news] == [EmbeddedNews]
    assert isinstance(sources.market, AlpacaMarketData)


def test_health_shows_an_open_breaker_turning_half_open(database_url: str) -> None:
    sessions = open_store(database_url)
    opened = NOW - timedelta(minutes=3)
    save_breakers(sessions, [
        BreakerSnapshot("rss:Dead", BreakerState.OPEN, 3, opened, None, "HTTP 500 from http://x/rss", opened, None),
        BreakerSnapshot("rss:Fine", BreakerState.CLOSED, 0, None, None, None, None, NOW),
    ], NOW)
    health = provider_health(sessions, timedelta(minutes=5), NOW)
    assert [(h.name, h.state) for h in health] == [("rss:Dead", BreakerState.OPEN), ("rss:Fine", BreakerState.CLOSED)]
    assert health[0].retry_at == opened + timedelta(minutes=5) and health[0].last_error == "HTTP 500 from http://x/rss"
    later = provider_health(sessions, timedelta(minutes=5), NOW + timedelta(minutes=2))
    assert later[0].state is BreakerState.HALF_OPEN


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer().start()
    server.routes["/decrypt"] = Route((EMBEDDED_FEEDS_DIR / "decrypt.rss").read_bytes(), etag='"d"')
    yield server
    server.stop()


def test_secrets_for_the_log_filter() -> None:
    settings = load_settings(news_sources="rss", alpaca_key="AK-1", alpaca_secret="AS-2", feeds={
        "Plain": "https://example.com/rss", "Private": "https://reader:pw-77@example.com/feed?token=T0K3N&lang=en"})
    assert data_secrets(settings) == ["AK-1", "AS-2", "reader", "pw-77", "T0K3N", "en"]


def test_run_once_on_a_live_feed_says_what_is_missing(feeds: FeedServer, monkeypatch, capsys, caplog, database_url) -> None:
    """The command line wiring: `run --once` with TB_NEWS_SOURCES=rss reads the feeds over HTTP, as of now."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("TB_DATABASE_URL", database_url)
    monkeypatch.setenv("TB_SENTIMENT_BACKEND", "embedded")
    monkeypatch.setenv("TB_NEWS_SOURCES", "rss")
    monkeypatch.setenv("TB_FEEDS", json.dumps({"Decrypt": feeds.url("/decrypt"), "Gone": feeds.url("/gone?key=S3CR3T")}))
    assert tracer_bullet.main(["-v", "run", "--once"]) == 0
    out = capsys.readouterr().out
    assert "58 headlines read" in out and "DEGRADED" in out
    assert f"Gone: HTTP 404 from {feeds.url('/gone')}" in out and "S3CR3T" not in out + caplog.text
    assert tracer_bullet.main(["status", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["degraded"] is True and any(p.startswith("Gone: HTTP 404") for p in status["problems"])
    assert feeds.requests_to("/decrypt")  # read over HTTP, not from the snapshot files
