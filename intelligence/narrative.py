"""The story per asset: what the recent, relevant, distinct stories say, weighted by age and source.

Steps: keep the headlines inside the window; fold exact and near duplicates into stories
(intelligence/novelty.py); weigh each story by relevance, freshness (half-life decay from its first
telling to as-of), how opinionated it is, its source's share of the coverage and a small bonus for
other outlets echoing it, and down for speculation (a question or a guess at a price,
intelligence/headline_kind.py); damp a hype cascade (intelligence/hype.py); aggregate with a Huber
M-estimate so one extreme story cannot carry the mean; shrink by evidence mass. How much of the
case the strongest story and the speculative stories carry is kept beside the score
(`lead_share`, `speculative_share`), so the signal can say when one story or a guess is the case.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping, Sequence

from intelligence.headline_kind import classify_headline
from intelligence.hype import HypeCheck, detect_hype
from intelligence.novelty import Story, fold_stories
from intelligence.relevance import Mention
from intelligence.types import Polarity

# Evidence mass at which the narrative keeps half of its raw strength (about one fresh,
# opinionated, title-level headline): one headline should not speak for a whole news cycle.
EVIDENCE_HALF_MASS = 1.0
# A source whose weighted lean is smaller than this is said to lean neither way.
LEAN_EPSILON = 0.02
# Huber's tuning constant on the polarity scale [-1, 1]: stories within this distance of the centre
# count fully, farther ones with weight falling as 1/distance.
HUBER_C = 0.5
HUBER_ITERATIONS = 20
DEFAULT_BURST_WINDOW = timedelta(hours=6)
# A question or a guess at a price ("Can ETH reach $5K?") counts half as much as a report of an
# event: it tells the reader what someone hopes or fears, not what happened. A judgement, not a fit
# (too few speculative headlines in the shared replays to fit one); the classifier that applies it
# is right about four times in five when it says "speculation" (tests/test_headline_kind.py), so a
# report it mistakes for a guess still keeps half its say.
SPECULATION_WEIGHT = 0.5


@dataclass(frozen=True)
class Contribution:
    headline_id: str
    source: str
    title: str
    polarity: float
    weight: float
    published: datetime | None = None  # first telling
    echoes: tuple[str, ...] = ()  # other outlets that told the same story
    hyped: bool = False  # part of a damped cascade
    speculation: str = ""  # the words that make the title a question or a guess; empty for a report


@dataclass(frozen=True)
class NarrativeScore:
    score: float  # in [-1, 1]; 0 with no evidence
    raw: float  # robust weighted centre of polarity before shrinking by evidence mass
    mass: float  # sum of weights
    headline_count: int  # distinct stories used
    duplicates_folded: int  # headlines folded into an earlier telling (exact + near)
    sources_positive: tuple[str, ...]  # sources whose net lean is positive
    sources_negative: tuple[str, ...]
    contributions: tuple[Contribution, ...]  # strongest first
    mean: float = 0.0  # plain weighted mean, for comparison with the robust centre
    headlines_seen: int = 0  # relevant headlines in the window before folding
    exact_duplicates: int = 0
    near_duplicates: int = 0
    echoes: int = 0  # repeats by other outlets across all stories
    effective_sources: float = 0.0  # exp(entropy) of the weight per source
    hype: HypeCheck | None = None
    previous: Contribution | None = None  # the newest relevant headline older than the window, if given
    # Shares of the case, sum |weight * polarity| over the stories: the strongest story's, and the speculative ones'.
    lead_share: float = 0.0
    speculative_share: float = 0.0

    @property
    def source_count(self) -> int:
        return len({c.source for c in self.contributions})


def decay(age: timedelta, half_life: timedelta) -> float:
    return float(0.5 ** (age / half_life))


def fold_duplicates(mentions: Sequence[Mention]) -> tuple[list[Mention], int]:
    """Keep the earliest telling of each story; later copies, exact or re-worded, add nothing new."""
    stories = fold_stories(mentions)
    return [s.first for s in stories], len(mentions) - len(stories)


def huber_center(values: Sequence[float], weights: Sequence[float], c: float = HUBER_C) -> float:
    """Weighted Huber M-estimate of location, iteratively reweighted from the weighted mean.

    From the mean, not the median: when two camps sit further apart than 2c the minimum is a flat
    interval, and starting from the mean lands on the balanced point of it rather than an end.
    """
    pairs = [(v, w) for v, w in zip(values, weights) if w > 0]
    if not pairs:
        return 0.0
    center = sum(v * w for v, w in pairs) / sum(w for _, w in pairs)
    for _ in range(HUBER_ITERATIONS):
        scaled = [(v, w * min(1.0, c / abs(v - center)) if v != center else w) for v, w in pairs]
        total = sum(w for _, w in scaled)
        new = sum(v * w for v, w in scaled) / total
        if abs(new - center) < 1e-9:
            return new
        center = new
    return center


def _story_polarity(story: Story, polarity: Mapping[str, Polarity]) -> Polarity:
    """The mean reading over the story's tellings: different wordings average out model noise."""
    scores = [polarity[m.headline.content_hash] for m in story.tellings]
    n = len(scores)
    return Polarity(sum(p.positive for p in scores) / n, sum(p.negative for p in scores) / n,
                    sum(p.neutral for p in scores) / n)


def narrative_score(
    mentions: Sequence[Mention],
    polarity: Mapping[str, Polarity],
    as_of: datetime,
    half_life: timedelta,
    window: timedelta,
    burst_window: timedelta = DEFAULT_BURST_WINDOW,
) -> NarrativeScore:
    """`polarity` is keyed by Headline.content_hash. Headlines after as_of or older than the window are ignored."""
    in_window = [m for m in mentions if as_of - window <= m.headline.published <= as_of]
    older = [m for m in mentions if m.headline.published < as_of - window]
    stories = fold_stories(in_window)
    readings = [_story_polarity(s, polarity) for s in stories]
    hype = detect_hype([(s.first.headline.published, p.score) for s, p in zip(stories, readings)], as_of,
                       min(burst_window, window / 2), window)
    per_source: dict[str, int] = defaultdict(int)
    for s in stories:
        per_source[s.first.headline.source] += 1

    contributions = []
    for story, p in zip(stories, readings):
        first = story.first.headline
        # One loud source should not outvote several quiet ones: its weight grows with sqrt(count).
        diversity = 1.0 / math.sqrt(per_source[first.source])
        # Neutral coverage is attention, not opinion: counted fully it would drown the
        # headlines that take a side, so it weighs at most half.
        opinion = 1.0 - p.neutral * 0.5
        relevance = max(m.relevance for m in story.tellings)
        weight = relevance * decay(as_of - first.published, half_life) * diversity * opinion * story.echo_multiplier
        hyped = hype.flagged and first.published > hype.since and p.score * hype.side >= 0.2
        if hyped:
            weight *= hype.damping
        kind = classify_headline(first.title)
        if kind.speculative:
            weight *= SPECULATION_WEIGHT
        contributions.append(Contribution(first.id, first.source, first.title, p.score, weight, first.published,
                                          story.sources[1:], hyped, kind.cue))

    mass = sum(c.weight for c in contributions)
    mean = sum(c.weight * c.polarity for c in contributions) / mass if mass > 0 else 0.0
    raw = huber_center([c.polarity for c in contributions], [c.weight for c in contributions])
    score = raw * mass / (mass + EVIDENCE_HALF_MASS)
    lean = _source_lean(contributions)
    ordered = sorted(contributions, key=lambda c: (-abs(c.weight * c.polarity), c.headline_id))
    return NarrativeScore(
        score=score,
        raw=raw,
        mass=mass,
        headline_count=len(contributions),
        duplicates_folded=len(in_window) - len(stories),
        sources_positive=tuple(s for s, v in lean if v > LEAN_EPSILON),
        sources_negative=tuple(s for s, v in lean if v < -LEAN_EPSILON),
        contributions=tuple(ordered),
        mean=mean,
        headlines_seen=len(in_window),
        exact_duplicates=sum(s.exact_copies for s in stories),
        near_duplicates=sum(s.near_copies for s in stories),
        echoes=sum(s.echoes for s in stories),
        effective_sources=_effective_sources(contributions),
        hype=hype,
        previous=_previous(older, polarity),
        lead_share=_share(ordered, ordered[:1]),
        speculative_share=_share(ordered, [c for c in ordered if c.speculation]),
    )


def _share(contributions: Sequence[Contribution], part: Sequence[Contribution]) -> float:
    """The part's share of the case: of sum |weight * polarity|, so a story pulling the other way counts too."""
    total = sum(abs(c.weight * c.polarity) for c in contributions)
    return sum(abs(c.weight * c.polarity) for c in part) / total if total > 0 else 0.0


def _previous(older: Sequence[Mention], polarity: Mapping[str, Polarity]) -> Contribution | None:
    """What the asset's news said last, before the window: context when the window is empty."""
    if not older:
        return None
    last = max(older, key=lambda m: (m.headline.published, m.headline.id)).headline
    reading = polarity.get(last.content_hash)
    return Contribution(last.id, last.source, last.title, reading.score if reading else 0.0, 0.0, last.published)


def _source_lean(contributions: Sequence[Contribution]) -> list[tuple[str, float]]:
    lean: dict[str, float] = defaultdict(float)
    for c in contributions:
        lean[c.source] += c.weight * c.polarity
    return sorted(lean.items(), key=lambda kv: (-abs(kv[1]), kv[0]))


def _effective_sources(contributions: Sequence[Contribution]) -> float:
    """exp(entropy) of each source's share of the weight: 1 for one voice, n for n equal voices."""
    per: dict[str, float] = defaultdict(float)
    for c in contributions:
        per[c.source] += c.weight
    total = sum(per.values())
    if total <= 0:
        return 0.0
    shares = [w / total for w in per.values() if w > 0]
    return math.exp(-sum(s * math.log(s) for s in shares))
