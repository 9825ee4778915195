"""A live cycle end to end: feeds over HTTP from 127.0.0.1 and alpaca-py against a fake Alpaca, into SQLite."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Iterator

import pytest
from sqlalchemy import select

from pipeline.cycle import CycleError, run_once
from pipeline.data_sources import build_data_sources
from service.composition import build_app
from bot.message_model import plain
from bot.messages import digest_doc
from service.chat_ops import DigestSnapshot
from config import EMBEDDED_UNIVERSE, load_settings
from providers.bars import EmbeddedMarketData
from providers.circuit import BreakerState
from providers.feeds import EMBEDDED_FEEDS_DIR, SOURCE_NAMES
from providers.sentiment_models import load_backend
from storage.db import open_store
from storage.models import HeadlineRow, Run
from tests.conftest import utc
from tests.fake_alpaca_data import CRYPTO_BARS, KEY, NEWS, SECRET, Article, DataFault, FakeAlpacaData
from tests.feed_server import FeedServer, Route

NOW = utc(2025, 12, 13, 11, 0)  # the newest snapshot headline is 10:14; the 10:00 bar has just closed
EMBEDDED = EmbeddedMarketData()
COINS = [s for s in EMBEDDED_UNIVERSE if s not in ("COIN", "MSTR")]  # the embedded tapes that are hourly
PATHS = {SOURCE_NAMES[p.name]: f"/{p.stem}" for p in sorted(EMBEDDED_FEEDS_DIR.glob("*.rss"))}
ALPACA_NEWS = [
    Article("Bitcoin miners add hash rate as price steadies", utc(2025, 12, 13, 9, 30)),
    Article("Solana network upgrade draws developer interest", utc(2025, 12, 12, 15), symbols=("SOLUSD",)),
]


@pytest.fixture(scope="module")
def backend():
    return load_backend("embedded", "unused").backend


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    server = FeedServer().start()
    for path in sorted(EMBEDDED_FEEDS_DIR.glob("*.rss")):
        server.routes[f"/{path.stem}"] = Route(path.read_bytes(), etag=f'"{path.stem}-1"')
    yield server
    server.stop()


@pytest.fixture
def alpaca() -> Iterator[FakeAlpacaData]:
    tapes = {f"{s}/USD": list(EMBEDDED.bars_until(s, utc(2025, 12, 31)).bars) for s in COINS}
    server = FakeAlpacaData(bars=tapes, news=list(ALPACA_NEWS), page_size=1000).start()
    yield server
    server.stop()


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self):
        return self.now


@pytest.fixture
def live(feeds: FeedServer, alpaca: FakeAlpacaData, database_url: str):
    settings = load_settings(
        database_url=database_url, news_sources="rss,alpaca", market_data="alpaca",
        feeds={name: feeds.url(path) for name, path in PATHS.items()},
        alpaca_key=KEY, alpaca_secret=SECRET, alpaca_data_url=alpaca.url,
        provider_read_timeout_seconds=1.0, breaker_failures=3,
        universe=",".join(COINS),  # the fake serves the coins' tapes; stocks read in their sessions elsewhere
    )
    return settings, open_store(database_url), Clock()


def _cycle(live, backend, check_secrets: bool = True):
    settings, sessions, clock = live
    sources = build_data_sources(settings, sessions, clock)
    try:
        report = run_once(settings, sessions, backend, (), sources.market, clock(), sources)
    finally:
        sources.close()
    if check_secrets:
        assert not any(KEY in p or SECRET in p for p in report.digest.problems)
    return report


def _close_before(symbol: str, as_of):
    return EMBEDDED.bars_until(symbol, as_of).bars[-1].close


def test_live_cycle_reads_feeds_and_alpaca_as_of_now_and_rereads_nothing(live, backend, feeds) -> None:
    report = _cycle(live, backend)
    digest = report.digest
    assert digest.as_of == NOW and not digest.degraded, digest.problems
    assert digest.headline_count == 152 + 2 and len(report.signals) == 9
    for signal in report.signals:  # the tape is Alpaca's, up to the last bar closed by now
        assert signal.price.last_bar_end == NOW and signal.price.last_close == _close_before(signal.symbol, NOW)
    _, sessions, clock = live
    with sessions() as session:
        assert session.get_one(Run, report.run_id).status == "ok"
        assert session.scalar(select(HeadlineRow.source).where(HeadlineRow.title.like("Solana network%"))) == "Benzinga"

    clock.now = NOW + timedelta(hours=1)
    again = _cycle(live, backend)
    assert all(feeds.requests_to(path)[-1].get("If-None-Match") == f'"{path[1:]}-1"' for path in PATHS.values())
    # Every feed said 304; the stories of the narrative window come back from the store.
    with sessions() as session:
        recent = session.scalars(select(HeadlineRow).where(HeadlineRow.published_at >= clock.now - timedelta(hours=72)))
        assert again.digest.headline_count == len(list(recent)) > 2
    assert again.digest.as_of == clock.now and again.digest.as_of_basis == "now" and not again.digest.degraded


def test_a_provider_down_degrades_the_digest_and_the_rest_is_scored(live, backend, feeds, alpaca, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    feeds.routes["/theblock"].status = 500
    alpaca.faults.append(DataFault(NEWS, status=503))
    report = _cycle(live, backend)
    problems = report.digest.problems
    assert report.digest.degraded and len(report.signals) == 9
    assert f"The Block: HTTP 500 from {feeds.url('/theblock')}" in problems
    assert "Alpaca news: Alpaca answered HTTP 503: internal server error" in problems
    assert report.digest.headline_count == 152 - 19  # The Block's 19 are missing, the rest counted
    text = plain(digest_doc(DigestSnapshot(report.run_id, report.digest, None)))
    assert "DEGRADED" in text and "The Block: HTTP 500" in text
    settings, sessions, clock = live
    status = build_app(settings, sessions=sessions, clock=clock).service.status()
    assert status.degraded and "The Block: HTTP 500 from " + feeds.url("/theblock") in status.problems
    assert KEY not in caplog.text and SECRET not in caplog.text and SECRET not in text


def test_an_open_breaker_survives_a_restart_and_keeps_alpaca_alone(live, backend, alpaca) -> None:
    alpaca.faults.append(DataFault(CRYPTO_BARS, status=500, times=100))
    first = _cycle(live, backend)
    assert first.signals == () and first.digest.degraded
    assert sum("bars from Alpaca: Alpaca answered HTTP 500" in p for p in first.digest.problems) == 3
    assert any("not fetched: Alpaca data circuit open after 3 failure(s)" in p for p in first.digest.problems)
    assert len(alpaca.calls(CRYPTO_BARS)) == 3
    settings, sessions, clock = live
    operator = build_app(settings, sessions=sessions, clock=clock).service
    health = {b.name: b for b in operator.data_providers()}
    assert health["alpaca:bars"].state is BreakerState.OPEN and health["rss:CoinDesk"].state is BreakerState.CLOSED
    assert health["alpaca:bars"].retry_at == NOW + timedelta(seconds=settings.breaker_cooldown_seconds)

    clock.now = NOW + timedelta(minutes=2)  # a restart inside the cool-down: still open, nothing asked
    _cycle(live, backend)
    assert len(alpaca.calls(CRYPTO_BARS)) == 3

    alpaca.faults.clear()
    clock.now = NOW + timedelta(minutes=10)  # past the cool-down: one trial, it works, the breaker closes
    healed = _cycle(live, backend)
    assert len(healed.signals) == 9
    assert {b.name: b.state for b in operator.data_providers()}["alpaca:bars"] is BreakerState.CLOSED


def test_no_news_and_no_bars_fails_with_a_reason(live, backend, feeds, alpaca) -> None:
    for route in feeds.routes.values():
        route.status = 502
    alpaca.faults += [DataFault(NEWS, status=500), DataFault(CRYPTO_BARS, status=500, times=100)]
    with pytest.raises(CycleError, match="no headlines and no bars could be read: CoinDesk: HTTP 502 from"):
        _cycle(live, backend)
    _, sessions, _ = live
    with sessions() as session:
        run = session.scalars(select(Run)).one()
    assert run.status == "failed" and "Alpaca news: Alpaca answered HTTP 500" in run.problems[0]


def test_a_headline_from_the_future_waits_for_its_time(live, backend, feeds) -> None:
    item = "<item><title>{}</title><link>https://example.com/{}</link><pubDate>{}</pubDate></item>"
    feeds.routes["/coindesk"].body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        + item.format("Bitcoin rallies as ETF inflows return", "a", "Sat, 13 Dec 2025 10:30:00 +0000")
        + item.format("Bitcoin ETF sees record day", "b", "Sat, 13 Dec 2025 13:00:00 +0000")
        + "</channel></rss>").encode()
    first = _cycle(live, backend)
    assert ("news: 1 headline(s) dated after as-of 2025-12-13 11:00 UTC (up to 2 hours ahead) kept for a later cycle: "
            "CoinDesk dated 2025-12-13 13:00 UTC (“Bitcoin ETF sees record day”)") in first.digest.problems
    assert first.digest.headline_count == 152 - 25 + 1 + 2
    _, sessions, clock = live
    with sessions() as session:  # stored when seen, so a 304 later does not lose it
        assert session.scalar(select(HeadlineRow.title).where(HeadlineRow.url == "https://example.com/b"))
    clock.now = utc(2025, 12, 13, 14)
    later = _cycle(live, backend)
    assert feeds.requests_to("/coindesk")[-1].get("If-None-Match")  # answered 304
    with sessions() as session:
        in_window = session.scalars(select(HeadlineRow.id).where(HeadlineRow.published_at >= clock.now - timedelta(hours=72),
                                                                 HeadlineRow.published_at <= clock.now))
        assert later.digest.headline_count == len(list(in_window))
    assert not any("dated after as-of" in p for p in later.digest.problems)


def test_the_default_sources_are_the_snapshot_exactly(backend, database_url: str) -> None:
    settings = load_settings(database_url=database_url)
    sessions = open_store(database_url)
    sources = build_data_sources(settings, sessions, lambda: NOW)
    assert not sources.live and sources.breakers == () and isinstance(sources.market, EmbeddedMarketData)
    report = run_once(settings, sessions, backend, (), sources.market, NOW + timedelta(days=400), sources)
    assert report.digest.as_of == utc(2025, 12, 13, 10, 14) and report.digest.headline_count == 152
    assert not report.digest.degraded
