"""A feed document split into its items, so that reading a feed again parses only the items it has not seen.

Why: feedparser is pure Python and costs about a millisecond per item, and a cycle re-reads feeds that
are mostly what it read last time (the snapshot in every cycle of `serve`, a live feed whose window
moved by an item or two). expat, in C, finds the items' byte spans in a few per cent of that time.

An item's parse depends on its own bytes and on what feedparser carries into it from outside: the
bytes before the root element (declaration and encoding) and the start tags of the elements around it
(namespaces, xml:base, xml:lang, the feed version). Those make the item's key; a sibling such as the
channel's title or build date does not enter it. New items are parsed by feedparser in a document
made of the feed's own prefix and suffix around them, so they see what they would see in the whole.
Anything unusual (not well-formed for expat, a DOCTYPE, text between items, an empty-element item)
makes `split_items` return None, and the caller parses the whole document, the reference behaviour.
"""
from __future__ import annotations

import hashlib
import threading
import xml.parsers.expat
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Generic, Hashable, Sequence, TypeVar

# Elements feedparser reads as entries: RSS 0.9x/2.0 items (no namespace), RSS 0.90 and 1.0 items,
# Atom 0.3 and 1.0 entries. Should feedparser count differently, the caller sees the counts disagree.
_ITEM_NAMES = frozenset({
    "item", "entry", "http://my.netscape.com/rdf/simple/0.9/ item", "http://purl.org/rss/1.0/ item",
    "http://purl.org/atom/ns# entry", "http://www.w3.org/2005/Atom entry",
})
_SEPARATOR = " "  # expat's namespace separator: "uri local"

T = TypeVar("T")


@dataclass(frozen=True)
class Split:
    data: bytes
    spans: tuple[tuple[int, int], ...]  # byte range of each item, in document order
    keys: tuple[bytes, ...]  # per item: a digest of its context and its bytes

    def document_of(self, indices: Sequence[int]) -> bytes:
        """The feed with only these items: the same prefix and suffix, so the same context for each."""
        first, last = self.spans[0][0], self.spans[-1][1]
        middle = b"\n".join(self.data[self.spans[i][0]:self.spans[i][1]] for i in indices)
        return self.data[:first] + middle + self.data[last:]


class _Scan:
    """expat callbacks: the outermost item elements' spans and the start tags enclosing each."""

    def __init__(self, data: bytes, parser: xml.parsers.expat.XMLParserType) -> None:
        self.data, self.parser = data, parser
        self.stack: list[tuple[Any, ...]] = []  # (name, attributes, namespace declarations) of open elements
        self.declared: list[tuple[str, str]] = []  # namespace declarations waiting for their element
        self.root_at: int | None = None
        self.item_depth: int | None = None
        self.item_start = 0
        self.contexts: dict[tuple[Any, ...], bytes] = {}
        self.spans: list[tuple[int, int]] = []
        self.item_contexts: list[bytes] = []
        self.unusual = False

    def namespace(self, prefix: str | None, uri: str | None) -> None:
        self.declared.append((prefix or "", uri or ""))

    def start(self, name: str, attributes: list[str]) -> None:
        at = self.parser.CurrentByteIndex
        if self.root_at is None:
            self.root_at = at
        if self.item_depth is None and self.stack and name in _ITEM_NAMES:
            self.item_depth, self.item_start = len(self.stack), at
            ancestors = tuple(self.stack)
            if ancestors not in self.contexts:
                self.contexts[ancestors] = hashlib.sha256(repr(ancestors).encode() + b"\0"
                                                          + self.data[:self.root_at]).digest()
            self.item_contexts.append(self.contexts[ancestors])
        self.stack.append((name, tuple(attributes), tuple(self.declared)))
        self.declared = []

    def end(self, name: str) -> None:
        self.stack.pop()
        if self.item_depth is not None and len(self.stack) == self.item_depth:
            at = self.parser.CurrentByteIndex
            if self.data[at:at + 2] != b"</":  # <item/>: no end tag to measure; leave it to the whole parse
                self.unusual = True
                return
            self.spans.append((self.item_start, self.data.index(b">", at) + 1))
            self.item_depth = None


def split_items(data: bytes) -> Split | None:
    """The items of a feed document and their keys, or None when only a whole-document parse is safe."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=_SEPARATOR)
    parser.ordered_attributes = True
    scan = _Scan(data, parser)
    parser.StartNamespaceDeclHandler = scan.namespace
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    try:
        parser.Parse(data, True)
    except (xml.parsers.expat.ExpatError, ValueError):
        return None
    if scan.unusual or not scan.spans or scan.root_at is None or b"<!DOCTYPE" in data[:scan.root_at].upper():
        return None  # a DOCTYPE may declare entities that feedparser handles its own way
    spans = tuple(scan.spans)
    if any(data[end:start].strip() for (_, end), (start, _) in zip(spans, spans[1:])):
        return None  # something between two items: the document of a few items would lose it
    keys = tuple(hashlib.sha256(context + data[start:end]).digest()
                 for context, (start, end) in zip(scan.item_contexts, spans))
    return Split(data, spans, keys)


class BoundedMemo(Generic[T]):
    """Values by key, at most `capacity` of them; the least recently used go first. Thread-safe:
    `serve` runs cycles in worker threads."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[Hashable, T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[bool, T | None]:
        with self._lock:
            if key not in self._entries:
                return False, None
            self._entries.move_to_end(key)
            return True, self._entries[key]

    def put(self, key: Hashable, value: T) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
