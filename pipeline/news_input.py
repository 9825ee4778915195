"""The headlines a cycle reads and the as-of they fix.

Snapshot: the feed files, as of their newest headline. Live: what the providers return now plus
the headlines the store already holds from the narrative window (a feed that answers 304 has
nothing new, but its earlier stories still count), as of now. A headline dated after as-of is
never scored; it is stored so that a later cycle, once its time has come, can use it.

A misdated item (a feed saying 2099) must not date the run: a snapshot's headlines dated after the
wall clock, or newest ones alone far after all the others (more than a narrative window), are set
aside; so are live headlines more than a narrative window ahead. Each is named under DEGRADED.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import Settings
from intelligence.cycle import latest_time
from intelligence.price import describe_duration, format_time
from intelligence.types import Headline, Problem
from providers.feeds import FeedBatch, read_feed_directory
from storage.db import Sessions
from storage.models import HeadlineRow

if TYPE_CHECKING:
    from pipeline.data_sources import DataSources


@dataclass(frozen=True)
class NewsInput:
    batch: FeedBatch  # headlines published at or before as-of, and what went wrong reading them
    as_of: datetime | None  # None: a snapshot without headlines has no as-of
    as_of_basis: str = "newest headline in the snapshot"  # how as-of was chosen, said in the digest
    held_back: tuple[Headline, ...] = ()  # dated after as-of: stored now, scored by a later cycle


def read_news(settings: Settings, sessions: Sessions, sources: "DataSources | None", now: datetime) -> NewsInput:
    window = timedelta(hours=settings.narrative_window_hours)
    if sources is None or not sources.live:
        batch = read_feed_directory(settings.feeds_dir) if sources is None else sources.fetch_news(now, now)
        kept, aside = snapshot_outliers(batch.headlines, now, window)
        problems = [*batch.problems, *_set_aside(aside, "dated after the clock or far after the other headlines")]
        return NewsInput(FeedBatch(tuple(kept), tuple(problems)), latest_time(kept) if kept else None)
    since = now - window
    fetched = sources.fetch_news(since, now)
    known = [h for h in fetched.headlines if h.published <= now]
    later = tuple(h for h in fetched.headlines if now < h.published <= now + window)
    aside = [h for h in fetched.headlines if h.published > now + window]
    problems = [*fetched.problems, *_set_aside(aside, f"more than {describe_duration(window)} after now")]
    if later:
        ahead = max(h.published for h in later) - now
        problems.append(Problem("news", f"{len(later)} headline(s) dated after as-of {format_time(now)} (up to "
                                        f"{describe_duration(ahead)} ahead) kept for a later cycle: {_name(later)}"))
    with sessions() as session:
        recalled = recent_headlines(session, since, now)
    return NewsInput(FeedBatch(tuple(_unique([*known, *recalled])), tuple(problems)), now, "now", later)


def snapshot_outliers(headlines: Sequence[Headline], now: datetime, window: timedelta) -> tuple[list[Headline], list[Headline]]:
    """(kept, set aside) of a snapshot, each in the given order: aside go the headlines dated after
    `now`, then the newest few (at most a tenth) that stand more than `window` after every other one."""
    times = sorted(h.published for h in headlines if h.published <= now)
    last = now
    for cut in range(max(1, len(times) - max(1, len(times) // 10)), len(times)):
        if times[cut] - times[cut - 1] > window:
            last = times[cut - 1]
            break
    return [h for h in headlines if h.published <= last], [h for h in headlines if h.published > last]


def _set_aside(headlines: Sequence[Headline], why: str) -> list[Problem]:
    if not headlines:
        return []
    return [Problem("news", f"{len(headlines)} headline(s) {why} set aside, not used: {_name(headlines)}")]


def _name(headlines: Sequence[Headline], shown: int = 3) -> str:
    """The culprits, newest first: source, date and the start of the title."""
    newest = sorted(headlines, key=lambda h: h.published, reverse=True)
    named = [f"{h.source} dated {format_time(h.published)} ({_short(h.title)})" for h in newest[:shown]]
    more = f" and {len(newest) - shown} more" if len(newest) > shown else ""
    return "; ".join(named) + more


def _short(title: str, length: int = 60) -> str:
    return f"“{title}”" if len(title) <= length else f"“{title[:length - 1]}…”"


def recent_headlines(session: Session, since: datetime, until: datetime) -> list[Headline]:
    """Stored headlines published in [since, until], oldest first."""
    rows = session.scalars(
        select(HeadlineRow).where(HeadlineRow.published_at >= since, HeadlineRow.published_at <= until)
        .order_by(HeadlineRow.published_at, HeadlineRow.id)
    )
    return [Headline(source=r.source, title=r.title, published=r.published_at, url=r.url, summary=r.summary,
                     symbols=tuple(r.symbols or ())) for r in rows]


def _unique(headlines: Sequence[Headline]) -> list[Headline]:
    seen: dict[str, Headline] = {}
    for h in headlines:
        seen.setdefault(h.id, h)
    return list(seen.values())
