"""RSS/Atom news through feedparser: the embedded snapshots by default, any file or URL the same way."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

import feedparser

from intelligence.types import Headline, Problem, normalize_text

EMBEDDED_FEEDS_DIR = Path(__file__).parent / "embedded" / "feeds"

FEED_SUFFIXES = (".rss", ".xml", ".atom")
# Display names of the snapshot files; any other file is named after its stem.
SOURCE_NAMES = {
    "coindesk.rss": "CoinDesk",
    "coingtelegraph-all.rss": "Cointelegraph",
    "decrypt.rss": "Decrypt",
    "prnews-news-releases-list.rss": "PR Newswire",
    "theblock.rss": "The Block",
}


@dataclass(frozen=True)
class FeedBatch:
    headlines: tuple[Headline, ...]
    problems: tuple[Problem, ...]


def parse_feed(source: str, document: str | bytes | Path) -> FeedBatch:
    """Headlines of one feed document; whatever is wrong with it comes back as Problems."""
    if isinstance(document, Path) and not document.is_file():
        return FeedBatch((), (Problem(source, f"feed file {document} does not exist"),))
    parsed = feedparser.parse(str(document) if isinstance(document, Path) else document)
    headlines = [h for h in (_headline(source, e) for e in parsed.entries) if h is not None]
    skipped = len(parsed.entries) - len(headlines)
    if parsed.bozo and not headlines:
        reason = parsed.get("bozo_exception") or "unreadable document"
        return FeedBatch((), (Problem(source, f"malformed feed, nothing usable could be read ({reason})"),))
    if not parsed.entries:
        return FeedBatch((), (Problem(source, "feed has no items"),))
    problems = []
    if parsed.bozo:
        problems.append(Problem(source, f"feed is not well-formed ({parsed.bozo_exception}); kept the items that parsed"))
    if skipped:
        problems.append(Problem(source, f"skipped {skipped} item(s) without a title or a publication time"))
    return FeedBatch(tuple(headlines), tuple(problems))


def _headline(source: str, entry: Mapping) -> Headline | None:
    title = normalize_text(entry.get("title", ""))
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if not title or stamp is None:
        # Without a publication time a headline cannot be placed before or after as-of.
        return None
    published = datetime.fromtimestamp(calendar.timegm(stamp), tz=timezone.utc)
    summary = normalize_text(_strip_tags(entry.get("summary", "")))
    return Headline(source=source, title=title, published=published, url=entry.get("link", ""), summary=summary)


def _strip_tags(html: str) -> str:
    # feedparser already sanitises summaries; what is left is markup we do not want to score.
    out, depth = [], 0
    for ch in html:
        if ch == "<":
            depth += 1
        elif ch == ">" and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
    return "".join(out)


def read_feed_directory(directory: Path | None = None) -> FeedBatch:
    """Every feed file in `directory` (default: the snapshots shipped with the project)."""
    directory = EMBEDDED_FEEDS_DIR if directory is None else directory
    if not directory.is_dir():
        return FeedBatch((), (Problem("feeds", f"feed directory {directory} does not exist"),))
    paths = sorted(p for p in directory.iterdir() if p.suffix in FEED_SUFFIXES)
    if not paths:
        return FeedBatch((), (Problem("feeds", f"no feed files ({', '.join(FEED_SUFFIXES)}) in {directory}"),))
    headlines: list[Headline] = []
    problems: list[Problem] = []
    for path in paths:
        batch = parse_feed(SOURCE_NAMES.get(path.name, path.stem), path)
        headlines.extend(batch.headlines)
        problems.extend(batch.problems)
    return FeedBatch(tuple(headlines), tuple(problems))
