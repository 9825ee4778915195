"""Which news and bars a cycle reads, chosen from the settings: the embedded snapshot or live providers.

Snapshot (TB_NEWS_SOURCES=embedded, the default): the shipped feed files, run as of their newest
headline, exactly as before. Live (rss and/or alpaca): the providers are asked each cycle and the
run is as of now. Every live provider sits behind its own circuit breaker; breaker states and feed
validators are kept in the store so a restart neither forgets a dead provider nor re-reads a feed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

from config import ConfigError, Settings
from intelligence.types import BarSource, Headline, Problem
from providers.bars import EmbeddedMarketData
from providers.feeds import FeedBatch, read_feed_directory
from storage.db import Sessions

if TYPE_CHECKING:
    from providers.alpaca_data import AlpacaAccess
    from providers.circuit import BreakerSnapshot, CircuitBreaker
    from providers.http_feeds import HttpFeeds

Clock = Callable[[], datetime]


class NewsSource(Protocol):
    name: str

    def fetch(self, since: datetime, until: datetime) -> FeedBatch: ...


class EmbeddedNews:
    """The feed files of a directory (default: the shipped snapshot); times do not narrow a snapshot."""

    name = "embedded"

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory

    def fetch(self, since: datetime, until: datetime) -> FeedBatch:
        return read_feed_directory(self._directory)


@dataclass
class DataSources:
    news: tuple[NewsSource, ...]
    market: BarSource
    live: bool  # as of now (live providers) or as of the newest headline (snapshot)
    sessions: Sessions | None = None
    clock: Clock | None = None
    breakers: tuple["CircuitBreaker", ...] = ()
    feeds: "HttpFeeds | None" = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    def fetch_news(self, since: datetime, until: datetime) -> FeedBatch:
        headlines: list[Headline] = []
        problems: list[Problem] = []
        for source in self.news:
            batch = source.fetch(since, until)
            headlines.extend(batch.headlines)
            problems.extend(batch.problems)
        return FeedBatch(tuple(headlines), tuple(problems))

    def settle(self, ok: bool) -> None:
        """After a cycle: keep the feeds' new validators only if its headlines were stored; keep every breaker."""
        if self.sessions is None or self.clock is None:
            return
        from pipeline.provider_store import save_breakers, save_validators

        now = self.clock()
        if self.feeds is not None:
            if ok:
                save_validators(self.sessions, self.feeds.commit(), now)
            else:
                self.feeds.rollback()
        save_breakers(self.sessions, (b.snapshot() for b in self.breakers), now)

    def health(self) -> list["BreakerSnapshot"]:
        return [b.snapshot() for b in self.breakers]

    def close(self) -> None:
        for close in self.closers:
            close()


def build_data_sources(settings: Settings, sessions: Sessions, clock: Clock) -> DataSources:
    """The providers the settings ask for (validated in config.py: keys present, feed URLs http(s))."""
    market: BarSource = EmbeddedMarketData(settings.bars_dir)
    if settings.news_sources == ["embedded"] and settings.market_data == "embedded":
        return DataSources((EmbeddedNews(settings.feeds_dir),), market, live=False)
    from pipeline.provider_store import load_breakers, load_validators
    from providers.circuit import CircuitBreaker

    remembered = load_breakers(sessions)
    cooldown = timedelta(seconds=settings.breaker_cooldown_seconds)

    def breaker(name: str) -> CircuitBreaker:
        return CircuitBreaker(name, settings.breaker_failures, cooldown, clock, remembered.get(name))

    sources = DataSources((), market, live=settings.news_sources != ["embedded"], sessions=sessions, clock=clock)
    news: list[NewsSource] = []
    breakers: list[CircuitBreaker] = []
    if "embedded" in settings.news_sources:
        news.append(EmbeddedNews(settings.feeds_dir))
    if "rss" in settings.news_sources:
        from providers.http_feeds import FeedLimits, HttpFeeds

        limits = FeedLimits(settings.provider_connect_timeout_seconds, settings.provider_read_timeout_seconds,
                            settings.feed_max_bytes)
        sources.feeds = HttpFeeds(settings.feeds, limits, breaker, load_validators(sessions, settings.feeds.values()))
        sources.closers.append(sources.feeds.close)
        news.append(sources.feeds)
        breakers.extend(sources.feeds.breakers)
    if "alpaca" in settings.news_sources or settings.market_data == "alpaca":
        from providers.alpaca_data import AlpacaMarketData, AlpacaNews
        from trading.market_hours import is_crypto  # the catalogue's asset class (providers/catalogue.py)

        access = _alpaca_access(settings)
        if "alpaca" in settings.news_sources:
            from pipeline.universe import watchlist

            alpaca_news = AlpacaNews(access, lambda: watchlist(settings, sessions), is_crypto, breaker("alpaca:news"))
            news.append(alpaca_news)
            breakers.append(alpaca_news.breaker)
        if settings.market_data == "alpaca":
            lookback = timedelta(days=settings.alpaca_bar_lookback_days)
            alpaca_bars = AlpacaMarketData(access, settings.alpaca_bar_timeframe, lookback, settings.alpaca_stock_feed,
                                           is_crypto, breaker("alpaca:bars"))
            sources.market = alpaca_bars
            breakers.append(alpaca_bars.breaker)
    sources.news, sources.breakers = tuple(news), tuple(breakers)
    return sources


def data_secrets(settings: Settings) -> list[str]:
    """What must never reach a log line: the Alpaca keys, and a feed URL's password and query values
    (httpx logs every URL it fetches at INFO; problems already show feed URLs without them)."""
    from urllib.parse import parse_qsl, urlsplit

    found = [s.get_secret_value() for s in (settings.alpaca_key, settings.alpaca_secret) if s is not None]
    if "rss" in settings.news_sources:
        for url in settings.feeds.values():
            parts = urlsplit(url)
            found += [p for p in (parts.username, parts.password) if p]
            found += [value for _, value in parse_qsl(parts.query) if value]
    return found


def _alpaca_access(settings: Settings) -> "AlpacaAccess":
    from providers.alpaca_data import AlpacaAccess

    if settings.alpaca_key is None or settings.alpaca_secret is None:  # config.py refuses this; say it plainly anyway
        raise ConfigError("Alpaca data needs TB_ALPACA_KEY and TB_ALPACA_SECRET, which are not set")
    return AlpacaAccess(settings.alpaca_key.get_secret_value(), settings.alpaca_secret.get_secret_value(),
                        settings.alpaca_data_url, settings.provider_connect_timeout_seconds,
                        settings.provider_read_timeout_seconds)
