"""The story per asset: what the recent, relevant, distinct headlines say, weighted by age and source."""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping, Sequence

from intelligence.relevance import Mention
from intelligence.types import Polarity, normalize_text

# Evidence mass at which the narrative keeps half of its raw strength (about one fresh,
# opinionated, title-level headline): one headline should not speak for a whole news cycle.
EVIDENCE_HALF_MASS = 1.0
# A source whose weighted lean is smaller than this is said to lean neither way.
LEAN_EPSILON = 0.02


@dataclass(frozen=True)
class Contribution:
    headline_id: str
    source: str
    title: str
    polarity: float
    weight: float


@dataclass(frozen=True)
class NarrativeScore:
    score: float  # in [-1, 1]; 0 with no evidence
    raw: float  # weighted mean polarity before shrinking by evidence mass
    mass: float  # sum of weights
    headline_count: int  # distinct headlines used
    duplicates_folded: int
    sources_positive: tuple[str, ...]  # sources whose net lean is positive
    sources_negative: tuple[str, ...]
    contributions: tuple[Contribution, ...]  # strongest first

    @property
    def source_count(self) -> int:
        return len({c.source for c in self.contributions})


def decay(age: timedelta, half_life: timedelta) -> float:
    return 0.5 ** (age / half_life)


def fold_duplicates(mentions: Sequence[Mention]) -> tuple[list[Mention], int]:
    """Keep the earliest telling of each story (same normalised title); later copies add nothing new."""
    earliest: dict[str, Mention] = {}
    for m in sorted(mentions, key=lambda m: m.headline.published):
        key = normalize_text(m.headline.title).lower()
        earliest.setdefault(key, m)
    return list(earliest.values()), len(mentions) - len(earliest)


def narrative_score(
    mentions: Sequence[Mention],
    polarity: Mapping[str, Polarity],
    as_of: datetime,
    half_life: timedelta,
    window: timedelta,
) -> NarrativeScore:
    """`polarity` is keyed by Headline.content_hash. Headlines after as_of or older than the window are ignored."""
    in_window = [m for m in mentions if as_of - window <= m.headline.published <= as_of]
    distinct, folded = fold_duplicates(in_window)
    per_source: dict[str, int] = defaultdict(int)
    for m in distinct:
        per_source[m.headline.source] += 1

    contributions = []
    for m in distinct:
        p = polarity[m.headline.content_hash]
        # One loud source should not outvote several quiet ones: its weight grows with sqrt(count).
        diversity = 1.0 / math.sqrt(per_source[m.headline.source])
        # Neutral coverage is attention, not opinion: counted fully it would drown the
        # headlines that take a side, so it weighs at most half.
        weight = m.relevance * decay(as_of - m.headline.published, half_life) * diversity * (1.0 - p.neutral * 0.5)
        contributions.append(Contribution(m.headline.id, m.headline.source, m.headline.title, p.score, weight))

    mass = sum(c.weight for c in contributions)
    raw = sum(c.weight * c.polarity for c in contributions) / mass if mass > 0 else 0.0
    score = raw * mass / (mass + EVIDENCE_HALF_MASS)
    lean = _source_lean(contributions)
    return NarrativeScore(
        score=score,
        raw=raw,
        mass=mass,
        headline_count=len(contributions),
        duplicates_folded=folded,
        sources_positive=tuple(s for s, v in lean if v > LEAN_EPSILON),
        sources_negative=tuple(s for s, v in lean if v < -LEAN_EPSILON),
        contributions=tuple(sorted(contributions, key=lambda c: -abs(c.weight * c.polarity))),
    )


def _source_lean(contributions: Sequence[Contribution]) -> list[tuple[str, float]]:
    lean: dict[str, float] = defaultdict(float)
    for c in contributions:
        lean[c.source] += c.weight * c.polarity
    return sorted(lean.items(), key=lambda kv: -abs(kv[1]))
