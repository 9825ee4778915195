"""The term index under the relevance matcher: it finds exactly the bounded occurrences a plain search finds."""
from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from intelligence.term_index import TermIndex, bounded_pattern

WORDS = st.text("abAB", min_size=1, max_size=3)
TERMS = st.lists(st.builds(lambda a, b: a if b is None else f"{a} {b}", WORDS, st.none() | WORDS), min_size=1, max_size=6)
TEXT = st.text("abAB .,-$", max_size=40)


def _plain(terms: list[str], text: str, fold: bool) -> set[tuple[int, int, str]]:
    body = text.lower() if fold else text
    found = set()
    for term in {t.lower() if fold else t for t in terms}:
        for start in range(len(body) - len(term) + 1):
            end = start + len(term)
            if body.startswith(term, start) and (start == 0 or not body[start - 1].isalnum()) \
                    and (end == len(body) or not body[end].isalnum()):
                found.add((start, end, term))
    return found


@given(TERMS, TEXT, st.booleans())
def test_every_bounded_occurrence_is_found_nested_ones_too(terms: list[str], text: str, fold: bool) -> None:
    index = TermIndex({t.lower() if fold else t for t in terms}, fold=fold)
    assert set(index.find(text)) == _plain(terms, text, fold)


@given(TERMS, TEXT)
def test_the_trie_pattern_matches_where_a_flat_alternation_does(terms: list[str], text: str) -> None:
    flat = rf"(?<![A-Za-z0-9])\$?(?:{'|'.join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True))})(?![A-Za-z0-9])"
    assert [m.span() for m in re.finditer(bounded_pattern(terms), text)] == [m.span() for m in re.finditer(flat, text)]
