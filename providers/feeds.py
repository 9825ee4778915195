"""RSS/Atom news through feedparser: the embedded snapshots by default, any file or URL the same way.

Items already parsed in an earlier read (same feed, same bytes, same context) are not parsed again
(providers/feed_items.py); the result is the same as parsing the whole document, only sooner.
"""
from __future__ import annotations

import calendar
import hashlib
import io
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

import feedparser

from intelligence.types import Headline, Problem, normalize_text
from providers.feed_items import BoundedMemo, Split, split_items

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


# Items remembered across reads: a few cycles of a few dozen feeds; a headline is well under a kilobyte.
ITEM_MEMO_CAPACITY = 8192
# Parsing a document of the new items alone pays off while they are a minority of the feed.
PARTIAL_PARSE_SHARE = 0.5
_items: BoundedMemo[Headline | None] = BoundedMemo(ITEM_MEMO_CAPACITY)
# Whole documents read before, by feed name and content digest: an unchanged snapshot file or feed
# body costs a hash instead of a scan. A few per feed of a few dozen feeds.
DOCUMENT_MEMO_CAPACITY = 128
_documents: BoundedMemo[FeedBatch] = BoundedMemo(DOCUMENT_MEMO_CAPACITY)


def parse_feed(source: str, document: str | bytes | Path) -> FeedBatch:
    """Headlines of one feed document; whatever is wrong with it comes back as Problems."""
    if isinstance(document, Path) and not document.is_file():
        return FeedBatch((), (Problem(source, f"feed file {document} does not exist"),))
    data = _bytes(document)
    digest = hashlib.sha256(data).digest() if data is not None else None
    if digest is not None:
        known, batch = _documents.get((source, digest))
        if known and batch is not None:
            return batch
    batch = _parse(source, document, data)
    if digest is not None:
        _documents.put((source, digest), batch)  # a function of the bytes alone, malformed or not
    return batch


def _parse(source: str, document: str | bytes | Path, data: bytes | None) -> FeedBatch:
    split = split_items(data) if data is not None else None
    if split is not None:
        known = _from_items(source, split)
        if known is not None:
            return known
    parsed = feedparser.parse(str(document) if isinstance(document, Path) else document)
    entries = [_headline(source, e) for e in parsed.entries]
    if split is not None and not parsed.bozo and len(entries) == len(split.keys):
        for key, entry in zip(split.keys, entries):
            _items.put((source, key), entry)
    return _batch(source, entries, parsed.bozo, parsed.get("bozo_exception"))


def _batch(source: str, entries: Sequence[Headline | None], bozo: bool, exception: object) -> FeedBatch:
    """The headlines of the parsed entries (None: an item without a title or a time) and the problems."""
    headlines = [h for h in entries if h is not None]
    skipped = len(entries) - len(headlines)
    if bozo and not headlines:
        reason = exception or "unreadable document"
        return FeedBatch((), (Problem(source, f"malformed feed, nothing usable could be read ({reason})"),))
    if not entries:
        return FeedBatch((), (Problem(source, "feed has no items"),))
    problems = []
    if bozo:
        problems.append(Problem(source, f"feed is not well-formed ({exception}); kept the items that parsed"))
    if skipped:
        problems.append(Problem(source, f"skipped {skipped} item(s) without a title or a publication time"))
    return FeedBatch(tuple(headlines), tuple(problems))


def _bytes(document: str | bytes | Path) -> bytes | None:
    """The document's bytes, when we know them; None leaves reading to feedparser, as before."""
    if isinstance(document, Path):
        try:
            return document.read_bytes()
        except OSError:  # feedparser gets the path and reports it its own way
            return None
    # A str may be a path or a URL to feedparser; only bytes are certainly the document itself.
    return document if isinstance(document, bytes) else None


def _from_items(source: str, split: Split) -> FeedBatch | None:
    """The batch from remembered items plus a parse of the new ones alone; None: parse the whole document."""
    found = [_items.get((source, key)) for key in split.keys]
    new = [i for i, (known, _) in enumerate(found) if not known]
    entries = [entry for _, entry in found]
    if len(new) > PARTIAL_PARSE_SHARE * len(entries):
        return None
    if new:
        parsed = feedparser.parse(io.BytesIO(split.document_of(new)))
        if parsed.bozo or len(parsed.entries) != len(new):
            return None  # the part does not parse like the whole would: let the whole decide
        for i, entry in zip(new, parsed.entries):
            entries[i] = _headline(source, entry)
            _items.put((source, split.keys[i]), entries[i])
    # The whole document is well-formed (expat read all of it), so feedparser would not flag it.
    return _batch(source, entries, False, None)


def _headline(source: str, entry: Mapping[str, Any]) -> Headline | None:
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
