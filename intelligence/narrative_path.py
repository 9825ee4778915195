"""The narrative score over time, and the headlines that moved it most: what a chart of one asset shows.

Pure: the narrative of intelligence/narrative.py evaluated at given times, from the mentions and
polarities the caller read. A headline's move is the change of the score at the moment it became
known (the score just after it, with it, minus the score just before it, without it); headlines
published at the same moment share one move, credited to the one that weighs most in it.
"""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping, Sequence

from intelligence.narrative import DEFAULT_BURST_WINDOW, NarrativeScore, narrative_score
from intelligence.relevance import Mention
from intelligence.types import Polarity

JUST_BEFORE = timedelta(microseconds=1)


@dataclass(frozen=True)
class NarrativeParams:
    half_life: timedelta
    window: timedelta
    burst_window: timedelta = DEFAULT_BURST_WINDOW


@dataclass(frozen=True)
class Mover:
    headline_id: str
    source: str
    title: str
    published: datetime
    polarity: float  # the headline's own reading, in [-1, 1]
    move: float  # narrative score just after it minus just before it
    score: float  # the narrative score just after it


class _Scorer:
    """narrative_score at any time, over only the mentions its window can see (sorted once)."""

    def __init__(self, mentions: Sequence[Mention], polarity: Mapping[str, Polarity], params: NarrativeParams):
        self.mentions = sorted(mentions, key=lambda m: (m.headline.published, m.headline.id))
        self.published = [m.headline.published for m in self.mentions]
        self.polarity, self.params = polarity, params

    def at(self, when: datetime) -> float:
        return self.narrative(when).score

    def narrative(self, when: datetime) -> NarrativeScore:
        p = self.params
        first, last = bisect_left(self.published, when - p.window), bisect_right(self.published, when)
        return narrative_score(self.mentions[first:last], self.polarity, when, p.half_life, p.window, p.burst_window)


def narrative_path(mentions: Sequence[Mention], polarity: Mapping[str, Polarity], times: Sequence[datetime],
                   params: NarrativeParams) -> list[float]:
    """The narrative score at each of `times`, as a cycle at that moment would have computed it."""
    scorer = _Scorer(mentions, polarity, params)
    return [scorer.at(t) for t in times]


def movers(mentions: Sequence[Mention], polarity: Mapping[str, Polarity], start: datetime, end: datetime,
           params: NarrativeParams, count: int = 3) -> list[Mover]:
    """The `count` headlines published in [start, end] whose arrival moved the score most, oldest first."""
    scorer = _Scorer(mentions, polarity, params)
    found = []
    for when in sorted({m.headline.published for m in scorer.mentions if start <= m.headline.published <= end}):
        after = scorer.narrative(when)
        move = after.score - scorer.at(when - JUST_BEFORE)
        arrived = {m.headline.id for m in scorer.mentions if m.headline.published == when}
        # The arriving story that weighs most; a re-telling of an older story has no contribution of its own.
        credited = next((c for c in after.contributions if c.headline_id in arrived), None)
        if credited is None:
            mention = next(m for m in scorer.mentions if m.headline.published == when)
            reading = polarity.get(mention.headline.content_hash)
            found.append(Mover(mention.headline.id, mention.headline.source, mention.headline.title, when,
                               reading.score if reading else 0.0, move, after.score))
        else:
            found.append(Mover(credited.headline_id, credited.source, credited.title, when, credited.polarity, move,
                               after.score))
    strongest = sorted(found, key=lambda m: (-abs(m.move), m.published, m.headline_id))[:count]
    return sorted(strongest, key=lambda m: (m.published, m.headline_id))
