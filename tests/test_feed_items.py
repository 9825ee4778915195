"""Re-reading a feed parses only its new items (providers/feed_items.py) and gives what a whole parse gives."""
from __future__ import annotations

import calendar
import re
from datetime import datetime, timezone
from pathlib import Path

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import providers.feeds as feeds
from intelligence.types import Headline, Problem, normalize_text
from providers.feed_items import BoundedMemo, split_items
from providers.feeds import EMBEDDED_FEEDS_DIR, FeedBatch, parse_feed

_ITEM = re.compile(rb"<item\b.*?</item>", re.S)
SMALL = EMBEDDED_FEEDS_DIR / "theblock.rss"  # 19 items, mixed-offset dates


def whole_parse(source: str, document: bytes) -> FeedBatch:
    """The parse of providers/feeds.py before the memo, verbatim: the reference every read must equal."""
    parsed = feedparser.parse(document)
    headlines = []
    for entry in parsed.entries:
        title = normalize_text(entry.get("title", ""))
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        if not title or stamp is None:
            continue
        summary = normalize_text(feeds._strip_tags(entry.get("summary", "")))
        headlines.append(Headline(source=source, title=title, url=entry.get("link", ""), summary=summary,
                                  published=datetime.fromtimestamp(calendar.timegm(stamp), tz=timezone.utc)))
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


@pytest.fixture(autouse=True)
def empty_memos() -> None:
    feeds._items.clear()
    feeds._documents.clear()


def edited(document: bytes, keep: list[int], retitle: set[int], undate: set[int], channel: bool) -> bytes:
    """The feed with only the kept items (in that order), some retitled or stripped of their date."""
    spans = [m.span() for m in _ITEM.finditer(document)]
    items = []
    for i in keep:
        item = document[spans[i][0]:spans[i][1]]
        if i in retitle:
            item = re.sub(rb"(<title>(?:<!\[CDATA\[)?)", rb"\1Breaking: ", item, count=1)
        if i in undate:
            item = re.sub(rb"<pubDate>.*?</pubDate>", b"", item, count=1, flags=re.S)
        items.append(item)
    head, tail = document[:spans[0][0]], document[spans[-1][1]:]
    if channel:  # the channel's own title and build date change with every publication
        head = head.replace(b"<title>", b"<title>Updated ", 1)
    return head + b"\n".join(items) + tail


@pytest.mark.parametrize("path", sorted(EMBEDDED_FEEDS_DIR.iterdir()), ids=lambda p: p.name)
def test_every_snapshot_feed_reads_as_a_whole_parse_first_and_again(path: Path) -> None:
    document = path.read_bytes()
    split = split_items(document)
    assert split is not None and len(split.spans) == len(feedparser.parse(document).entries)
    reference = whole_parse(path.stem, document)
    assert parse_feed(path.stem, path) == reference
    assert parse_feed(path.stem, document) == reference  # from the memo this time


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_feed_read_again_after_any_change_equals_a_whole_parse(data: st.DataObject) -> None:
    document = SMALL.read_bytes()
    count = len(_ITEM.findall(document))
    parse_feed("The Block", document)  # what an earlier cycle read
    keep = data.draw(st.lists(st.integers(0, count - 1), min_size=count // 2, max_size=count + 3))
    retitle = set(data.draw(st.lists(st.sampled_from(keep), max_size=4)))
    undate = set(data.draw(st.lists(st.sampled_from(keep), max_size=2)))
    again = edited(document, keep, retitle, undate, data.draw(st.booleans()))
    assert parse_feed("The Block", again) == whole_parse("The Block", again)


def test_the_same_item_in_another_feed_is_parsed_for_that_feed() -> None:
    document = SMALL.read_bytes()
    first, second = parse_feed("The Block", document), parse_feed("Mirror", document)
    assert {h.source for h in second.headlines} == {"Mirror"}
    assert [h.title for h in first.headlines] == [h.title for h in second.headlines]


@pytest.mark.parametrize("document", [
    b"<rss><channel><item><title>unterminated",  # malformed
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY co "Co">]><rss version="2.0"><channel>'
    b"<item><title>&co; rallies</title><pubDate>Fri, 12 Dec 2025 10:00:00 +0000</pubDate></item></channel></rss>",
    b'<rss version="2.0"><channel><item><title>A</title><pubDate>Fri, 12 Dec 2025 10:00:00 +0000</pubDate></item>'
    b"<image><url>x</url></image><item><title>B</title><pubDate>Fri, 12 Dec 2025 11:00:00 +0000</pubDate></item>"
    b"</channel></rss>",  # something between two items
    b'<rss version="2.0"><channel><item/><item><title>B</title>'
    b"<pubDate>Fri, 12 Dec 2025 11:00:00 +0000</pubDate></item></channel></rss>",  # an empty-element item
    b"not a feed at all {",
])
def test_unusual_documents_are_left_to_the_whole_parse(document: bytes) -> None:
    assert split_items(document) is None
    assert parse_feed("Odd", document) == whole_parse("Odd", document)
    assert parse_feed("Odd", document) == whole_parse("Odd", document)  # remembered, still the same


def test_atom_entries_and_namespaced_feeds_are_split_too() -> None:
    atom = (b'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://ex.org/">'
            b"<title>Ex</title>"
            b"<entry><title>Ether climbs</title><updated>2025-12-12T10:00:00Z</updated><link href=\"/a\"/></entry>"
            b"<entry><title>Solana slips</title><updated>2025-12-12T11:00:00Z</updated><link href=\"b\"/></entry>"
            b"</feed>")
    split = split_items(atom)
    assert split is not None and len(split.spans) == 2
    reference = whole_parse("Ex", atom)
    assert [h.url for h in reference.headlines] == ["https://ex.org/a", "https://ex.org/b"]
    assert parse_feed("Ex", atom) == reference
    changed = atom.replace(b"Solana slips", b"Solana slides")
    assert parse_feed("Ex", changed) == whole_parse("Ex", changed)
    rebased = atom.replace(b"https://ex.org/", b"https://other.org/")  # context changed: items parsed anew
    assert parse_feed("Ex", rebased) == whole_parse("Ex", rebased)


def test_bounded_memo_forgets_the_least_recently_used() -> None:
    memo: BoundedMemo[int] = BoundedMemo(2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == (True, 1)  # "b" is now the least recently used
    memo.put("c", 3)
    assert memo.get("b") == (False, None) and memo.get("a") == (True, 1) and memo.get("c") == (True, 3)
