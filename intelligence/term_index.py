"""Every occurrence of many literal terms in a text, found in one pass whatever their number.

The text machinery under the relevance matcher (intelligence/relevance.py): terms compiled into one
regex shaped as a trie (Python's engine tries every branch of a flat alternation at every position),
and an index that files terms under their first word so a text is cut into words once and each word
looks up only the terms that start with it. It knows nothing of assets.
"""
from __future__ import annotations

import re
from typing import Iterable

_EDGE = "(?<![A-Za-z0-9])"
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_Node = dict[str, "_Node"]


def trie_pattern(terms: Iterable[str]) -> str:
    """One regex for many literal terms, factored by common prefixes: Python's engine tries every branch
    of a flat alternation at every position, so a trie is many times faster on thousands of terms."""
    root: _Node = {}
    for term in set(terms):
        node = root
        for char in term:
            node = node.setdefault(char, {})
        node[""] = {}  # end of a term

    def emit(node: _Node) -> str:
        ends = "" in node
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return emit(root)


def bounded_pattern(terms: Iterable[str]) -> str:
    # (?<![A-Za-z0-9]) keeps "$BTC" matching while "WBTC" or "ETHENA" do not. The trie tries longer terms
    # first at each branch point and backtracks to shorter ones, so the boundary check below decides.
    return rf"{_EDGE}\$?(?:{trie_pattern(terms)})(?![A-Za-z0-9])"


_HEAD = re.compile(r"[A-Za-z0-9]+")


class TermIndex:
    """Every occurrence of many literal terms in a text, bounded by non-alphanumerics, nested ones too.

    Terms are filed under their first run of letters and digits ("s&p 500" under "s", "u.s. stocks"
    under "u"); a text is cut into such runs once, and each run looks up the few terms that start with
    it: a dictionary look-up per word, whatever the number of terms (one automaton over all names)."""

    def __init__(self, terms: Iterable[str], fold: bool) -> None:
        self._fold = fold
        by_head: dict[str, set[str]] = {}
        odd: set[str] = set()
        for term in terms:
            head = _HEAD.match(term.lower() if fold else term)
            if head is None:
                odd.add(term)
            else:
                by_head.setdefault(head.group(), set()).add(term)
        # Per run: whether it is a term itself (the regex below already bounds it), and the longer terms
        # that start with it ("dow jones" under "dow"), which need a look at the text.
        self._by_head = {h: (h in ts, tuple(sorted(ts - {h}, key=len, reverse=True))) for h, ts in by_head.items()}
        # The runs that start a term, found by the regex engine (one trie of words): the Python loop
        # below then only sees the few runs that can start a term, not every word of the text.
        self._heads = re.compile(f"{_EDGE}(?:{trie_pattern(by_head)})(?![A-Za-z0-9])") if by_head else None
        # Terms that start with a sign or a non-ASCII letter have no run to be filed under: one regex.
        self._odd = re.compile(f"{_EDGE}(?=((?:{trie_pattern(odd)})(?![A-Za-z0-9])))", re.IGNORECASE if fold else 0) if odd else None

    def find(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, term) of every term in `text` (the term as filed: lower case when folding)."""
        body = lower_keeping_positions(text) if self._fold else text
        size = len(body)
        found = []
        for run in self._heads.finditer(body) if self._heads is not None else ():
            start, stop = run.span()
            if start >= 2 and body[start].isdigit() and body[start - 1] in ".," and body[start - 2].isdigit():
                continue  # inside a number: the "3m" of "£10.3m" is no name (the "ADA" of "2000.ADA" is)
            head = run.group()
            whole, longer = self._by_head[head]
            if whole:
                found.append((start, stop, head))
            for term in longer:
                end = start + len(term)
                if body.startswith(term, start) and (end == size or body[end] not in _ALNUM):
                    found.append((start, end, term))
        if self._odd is not None:
            found += [(m.start(), m.start() + len(m.group(1)), m.group(1)) for m in self._odd.finditer(body)]
        return found


def lower_keeping_positions(text: str) -> str:
    """Lower case with every position kept (a few letters lower to two characters: they stay as they are)."""
    low = text.lower()
    return low if len(low) == len(text) else "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
