"""RSS/Atom feeds over HTTP: conditional GET, timeouts, a size limit, one circuit breaker per feed.

Each feed is fetched with If-None-Match / If-Modified-Since from the validators of its last good
answer; 304 means nothing new (the store already holds what was read before), not an error. The
body is read as a stream and cut off past the size limit, then parsed by feedparser through
providers/feeds.parse_feed, the same parser as the embedded snapshots.

New validators stay pending until the caller has stored the headlines they came with (`commit`):
a crash between reading a feed and storing its items must not turn the next fetch into a 304
that hides those items for good.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Mapping
from urllib.parse import urlsplit

import httpx

from intelligence.types import Headline, Problem
from providers.circuit import CircuitBreaker, CircuitOpen
from providers.feeds import FeedBatch, parse_feed

ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
USER_AGENT = "tracer-bullet/0.1 (news reader; conditional GET)"
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class Validators:
    """What the server said identifies the version we read: sent back so it can answer 304."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        found = {}
        if self.etag:
            found["If-None-Match"] = self.etag
        if self.last_modified:
            found["If-Modified-Since"] = self.last_modified
        return found


@dataclass(frozen=True)
class FeedLimits:
    connect_timeout: float
    read_timeout: float
    max_bytes: int


class FeedUnavailable(Exception):
    """The feed could not be read this time; the message says why in plain words, without secrets."""


@dataclass(frozen=True)
class _Answer:
    batch: FeedBatch
    validators: Validators | None  # None: 304, keep what we had


def safe_url(url: str) -> str:
    """The URL without credentials or query string: those may carry a token and end up in chat."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


class HttpFeeds:
    """The configured feeds (name -> URL) as one news source."""

    name = "rss"

    def __init__(self, feeds: Mapping[str, str], limits: FeedLimits, breaker_for: Callable[[str], CircuitBreaker],
                 validators: Mapping[str, Validators] | None = None, transport: httpx.BaseTransport | None = None) -> None:
        self._feeds = dict(feeds)
        self._limits = limits
        self._breakers = {name: breaker_for(f"rss:{name}") for name in self._feeds}
        self._validators: dict[str, Validators] = dict(validators or {})
        self._pending: dict[str, Validators] = {}
        self._client = httpx.Client(
            timeout=httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout),
            follow_redirects=True, max_redirects=MAX_REDIRECTS, transport=transport,
            headers={"User-Agent": USER_AGENT, "Accept": ACCEPT},
        )

    @property
    def breakers(self) -> tuple[CircuitBreaker, ...]:
        return tuple(self._breakers.values())

    def validators(self) -> dict[str, Validators]:
        """Committed validators by feed URL."""
        return dict(self._validators)

    def fetch(self, since: datetime | None = None, until: datetime | None = None) -> FeedBatch:
        """Every feed once; a feed that fails becomes a Problem named after it, the others still count."""
        headlines: list[Headline] = []
        problems: list[Problem] = []
        for name, url in self._feeds.items():
            batch = self._fetch_one(name, url)
            headlines.extend(batch.headlines)
            problems.extend(batch.problems)
        return FeedBatch(tuple(headlines), tuple(problems))

    def commit(self) -> dict[str, Validators]:
        """The headlines of the last fetch are stored: their validators may be used from now on."""
        self._validators.update(self._pending)
        self._pending.clear()
        return dict(self._validators)

    def rollback(self) -> None:
        self._pending.clear()

    def close(self) -> None:
        self._client.close()

    def _fetch_one(self, name: str, url: str) -> FeedBatch:
        try:
            answer = self._breakers[name].call(lambda: self._get(name, url))
        except CircuitOpen as exc:
            return FeedBatch((), (Problem(name, f"not fetched: {exc}"),))
        except FeedUnavailable as exc:
            return FeedBatch((), (Problem(name, str(exc)),))
        if answer.validators is not None:
            self._pending[url] = answer.validators
        return answer.batch

    def _get(self, name: str, url: str) -> _Answer:
        shown = safe_url(url)
        known = self._validators.get(url, Validators())
        try:
            with self._client.stream("GET", url, headers=known.headers()) as response:
                if response.status_code == 304:
                    return _Answer(FeedBatch((), ()), None)
                if response.status_code != 200:
                    raise FeedUnavailable(f"HTTP {response.status_code} from {shown}")
                body = self._read_body(response, shown)
                validators = Validators(response.headers.get("ETag"), response.headers.get("Last-Modified"))
        except httpx.TimeoutException as exc:
            raise FeedUnavailable(f"no answer from {shown} in time ({self._timeout_kind(exc)})") from None
        except httpx.TooManyRedirects:
            raise FeedUnavailable(f"more than {MAX_REDIRECTS} redirects from {shown}") from None
        except httpx.HTTPError as exc:
            raise FeedUnavailable(f"could not read {shown}: {exc.__class__.__name__}") from None
        batch = parse_feed(name, body)
        if not batch.headlines:
            # Nothing usable in a full answer (malformed, empty, undated items) is a failing provider.
            raise FeedUnavailable("; ".join(p.message for p in batch.problems) or "no usable items")
        return _Answer(batch, validators)

    def _timeout_kind(self, exc: httpx.TimeoutException) -> str:
        if isinstance(exc, httpx.ConnectTimeout):
            return f"connect timeout, {self._limits.connect_timeout:g} s"
        if isinstance(exc, httpx.ReadTimeout):
            return f"read timeout, {self._limits.read_timeout:g} s"
        return exc.__class__.__name__

    def _read_body(self, response: httpx.Response, shown: str) -> bytes:
        limit = self._limits.max_bytes
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FeedUnavailable(f"{shown} announces {int(declared):,} bytes, more than the limit of {limit:,}")
        # A server dripping bytes never trips the read timeout; the whole body gets one deadline too.
        deadline = time.monotonic() + self._limits.connect_timeout + self._limits.read_timeout
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise FeedUnavailable(f"{shown} sent more than the limit of {limit:,} bytes")
            if time.monotonic() > deadline:
                raise FeedUnavailable(f"{shown} took longer than "
                                      f"{self._limits.connect_timeout + self._limits.read_timeout:g} s to send its feed")
            chunks.append(chunk)
        return b"".join(chunks)
