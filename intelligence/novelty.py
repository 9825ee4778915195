"""Novelty: the same story told twice is one story. Exact and near-duplicate folding across sources.

Titles are compared on word bigrams ("shingles") of a normalised form, by Jaccard similarity.
Bigrams rather than single words because headlines about the same day share vocabulary
("Wall Street ends higher on trade hopes" / "Wall Street ends lower on trade fears" share most
words but say opposite things); bigrams keep those apart and still join re-wordings of one story.
Two titles about different names are different stories however alike their wording ("Goldman Sachs
pay gap reveals men paid twice as much as women" / "HSBC pay gap reveals ..."): when both name
someone and the names do not meet, they are not folded.
"""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from intelligence.relevance import Mention

# Two titles sharing at least this share of their bigrams tell the same story (measured on real
# wire re-writes: "Stocks fall as trade worries weigh" / "Stocks fall as trade worries mount" = 0.67).
NEAR_DUPLICATE_JACCARD = 0.5
# Each other outlet that repeats a story adds this share of what is left of ECHO_GAIN: corroboration
# is worth a little, an echo chamber is not worth a second story.
ECHO_GAIN = 0.25

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def title_words(title: str) -> list[str]:
    text = unicodedata.normalize("NFKC", title).translate(_QUOTES).lower()
    return _WORD.findall(text)


def title_key(title: str) -> str:
    """Exact-duplicate key: case, punctuation and spacing do not make a new story."""
    return " ".join(title_words(title))


def shingles(title: str) -> frozenset[str]:
    words = title_words(title)
    if len(words) < 2:
        return frozenset(words)
    return frozenset(f"{a} {b}" for a, b in zip(words, words[1:]))


def entities(title: str) -> frozenset[str]:
    """Capitalised words: the names a story is about ("Goldman Sachs", "HSBC", "U.S."). The first word
    counts too: a sentence-case title's capital first word is shared by its re-wordings as often as not."""
    words = unicodedata.normalize("NFKC", title).translate(_QUOTES).split()
    return frozenset(w.strip(".,:;!?'\"()").lower() for w in words if w[:1].isupper())


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


@dataclass(frozen=True)
class Story:
    tellings: tuple[Mention, ...]  # earliest first; the first is the story
    exact_copies: int  # tellings with the same normalised title as an earlier one
    near_copies: int  # re-worded tellings

    @property
    def first(self) -> Mention:
        return self.tellings[0]

    @property
    def sources(self) -> tuple[str, ...]:
        """Distinct sources in the order they told it."""
        return tuple(dict.fromkeys(m.headline.source for m in self.tellings))

    @property
    def echoes(self) -> int:
        """Other outlets that repeated the story (the first teller's own repeats are not echoes)."""
        return len(self.sources) - 1

    @property
    def echo_multiplier(self) -> float:
        return 1.0 + ECHO_GAIN * (1.0 - 0.5 ** self.echoes)


def fold_stories(mentions: Sequence[Mention], threshold: float = NEAR_DUPLICATE_JACCARD) -> list[Story]:
    """Group mentions into stories, earliest telling first. Order-independent: input order does not matter."""
    ordered = sorted(mentions, key=lambda m: (m.headline.published, m.headline.source, m.headline.title, m.headline.url))
    groups: list[list[Mention]] = []
    exact: list[int] = []
    near: list[int] = []
    by_key: dict[str, int] = {}
    members: list[list[tuple[frozenset[str], frozenset[str]]]] = []
    index: dict[str, set[int]] = defaultdict(set)  # shingle -> stories holding it
    for m in ordered:
        key, grams, names = _title_features(m.headline.title)
        story = by_key.get(key)
        if story is not None:
            exact[story] += 1
        else:
            story = _closest(grams, names, index, members, threshold)
            if story is not None:
                near[story] += 1
                by_key[key] = story
        if story is None:
            story = len(groups)
            groups.append([])
            exact.append(0)
            near.append(0)
            members.append([])
            by_key[key] = story
        groups[story].append(m)
        members[story].append((grams, names))
        for gram in grams:
            index[gram].add(story)
    return [Story(tuple(g), e, n) for g, e, n in zip(groups, exact, near)]


# A title is folded again in every cycle (and every replay session) whose window holds it: its key,
# bigrams and names are remembered rather than re-derived (Unicode normalisation and a regex each time).
TITLE_MEMO_SIZE = 16384


@lru_cache(maxsize=TITLE_MEMO_SIZE)
def _title_features(title: str) -> tuple[str, frozenset[str], frozenset[str]]:
    return title_key(title), shingles(title), entities(title)


def _closest(grams: frozenset[str], names: frozenset[str], index: dict[str, set[int]],
             members: list[list[tuple[frozenset[str], frozenset[str]]]], threshold: float) -> int | None:
    candidates = sorted({s for gram in grams for s in index.get(gram, ())})
    best, best_score = None, threshold
    for story in candidates:
        score = max((jaccard(grams, g) for g, n in members[story] if not (names and n and not names & n)),
                    default=0.0)
        if score >= best_score and (best is None or score > best_score):
            best, best_score = story, score
    return best
