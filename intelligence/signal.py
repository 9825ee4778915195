"""Where story and tape disagree: direction, probability, conviction and reason codes per asset.

Reason codes, primary first:
- NO_NEWS, WEAK_NARRATIVE: nothing to act on.
- DIVERGENCE_BULLISH / DIVERGENCE_BEARISH: the story is ahead of the tape by at least the trigger;
  the call is that price catches up.
- CONFIRMED_BULLISH / CONFIRMED_BEARISH: story and tape lean the same way, firmly.
- PRICE_AHEAD_OF_STORY: the tape has already run further than the story supports.
- NEGATIVE_CONFIRMATION: the tape firmly confirms the opposite of the story (aligned on every
  timescale, strong or on heavy volume): the market has heard the story and disagrees; no call.
- NO_EDGE: neither far enough apart nor firmly together.
Context: DIVERGENT_SHORT/MID/LONG (timescales where the story leads the tape), ADAPTIVE_TRIGGER,
HYPE_CASCADE_BULLISH/BEARISH, VOLUME_HEAVY/LIGHT, TAPE_ALIGNED, SINGLE_SOURCE, SOURCES_SPLIT,
DUPLICATES_FOLDED, ECHOED, PRICE_DATA_ISSUES.
How far the probability of a call may rely on the engine's own read (intelligence/calibration.py):
- NO_PROVEN_EDGE: the resolved record does not show, at 95%, that the engine's claimed edges come
  true; the probability is the base rate plus at most the part of the edge the record bears out
  (the base rate itself until it shows any).
- EDGE_PROVEN: it does; the probability keeps the share of the edge the record supports.
- UNCALIBRATED: no calibrator was given (the engine's prior alone; tests and tools only).
- BASE_RATE_AGAINST: the probability is below one half because the market has moved this call's
  way less than half the time over such a horizon; it sizes to nothing.
- TRACK_RECORD_AGAINST: the record says calls like this do worse than the base rate (a negative
  weight on the claimed edge); the call stands so that its outcome keeps teaching the record.
What the story rests on, when it leans far enough to count (|narrative| >= NARRATIVE_MIN):
- ONE_STORY_CARRIES: one story carries most of the case, more than ONE_STORY_SHARE of the
  narrative's sum of |weight x polarity| (NarrativeScore.lead_share); the evidence line quotes it.
- MOSTLY_SPECULATION: questions and guesses at a price ("Can ETH reach $5K?",
  intelligence/headline_kind.py) carry more than SPECULATION_SHARE of it, after they were already
  weighed at SPECULATION_WEIGHT (intelligence/narrative.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Sequence

from intelligence.divergence import DEFAULT_TRIGGER, Divergence, Trigger, measure_divergence
from intelligence.narrative import NarrativeScore
from intelligence.types import Direction

if TYPE_CHECKING:  # annotations only: the digest (status, chat) must not load numpy
    from intelligence.calibration import Calibrator, Skill
    from intelligence.price import PriceScore

# The story must lean at least this far to be worth acting on.
NARRATIVE_MIN = 0.12
# Story ahead of the tape by at least this much (on the [-2, 2] scale of narrative - price),
# when no history adapts the trigger.
DIVERGENCE_MIN = DEFAULT_TRIGGER
# Both leaning the same way at least this far is a confirmation.
CONFIRMATION_MIN = 0.20
# The tape confirms the opposite of the story: aligned against it and this strong ...
NEGATIVE_STRONG = 0.6
# ... or at least this strong on heavy volume.
NEGATIVE_ON_VOLUME = 0.35
# Before outcomes exist to calibrate against, never claim more than this edge over a coin flip.
MAX_PRIOR_EDGE = 0.15
# Evidence mass at which the probability keeps half of its edge.
PROBABILITY_HALF_MASS = 2.0
VOLUME_HIGH = 1.25
VOLUME_LOW = 0.8
# "Most" of a narrative: more than half of its sum of |weight x polarity|.
ONE_STORY_SHARE = 0.5
SPECULATION_SHARE = 0.5


@dataclass(frozen=True)
class Signal:
    symbol: str
    as_of: datetime
    direction: Direction
    probability: float | None  # P(direction is right over the horizon); None for HOLD
    conviction: float  # in [0, 1], what the digest ranks by
    divergence: float  # narrative - price, in [-2, 2]
    horizon: timedelta
    narrative: NarrativeScore
    price: PriceScore
    reason_codes: tuple[str, ...]
    divergences: dict[str, float] = field(default_factory=dict)  # per timescale
    trigger: Trigger | None = None
    prior: float | None = None  # the uncalibrated probability, for the artifact
    # "prior" (no calibrator), "base_rate" (the record keeps none of the claimed edge) or "shrunk".
    probability_method: str = "prior"
    calibration_count: int = 0  # resolved calls the calibrator had seen
    base_rate: float | None = None  # the base rate of the call's side; None for a HOLD or without a calibrator
    edge: Skill | None = None  # what the record shows about the engine's edge, for this call's cohort

    @property
    def edge_status(self) -> str | None:
        """'proven' or 'none yet' for a call judged against a record; None for a HOLD or without one."""
        return self.edge.status if self.edge is not None and self.actionable else None

    @property
    def actionable(self) -> bool:
        return self.direction is not Direction.HOLD


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def classify(narrative: float, price: float, threshold: float = DIVERGENCE_MIN) -> tuple[Direction, str]:
    """Direction and the primary reason code from the two scores and the divergence trigger."""
    divergence = narrative - price
    lean = _sign(narrative)
    side = Direction.BUY if lean > 0 else Direction.SELL
    if abs(narrative) < NARRATIVE_MIN:
        return Direction.HOLD, "WEAK_NARRATIVE"
    if abs(divergence) >= threshold:
        if _sign(divergence) == lean:
            return side, "DIVERGENCE_BULLISH" if lean > 0 else "DIVERGENCE_BEARISH"
        # The tape has run further than the story: nothing left for the price to catch up on.
        return Direction.HOLD, "PRICE_AHEAD_OF_STORY"
    if _sign(price) == lean and abs(price) >= CONFIRMATION_MIN:
        return side, "CONFIRMED_BULLISH" if lean > 0 else "CONFIRMED_BEARISH"
    return Direction.HOLD, "NO_EDGE"


def negative_confirmation(narrative: float, price: PriceScore) -> bool:
    """The tape firmly says the opposite of the story on every timescale."""
    against = _sign(price.score) == -_sign(narrative) != 0
    strong = abs(price.score) >= NEGATIVE_STRONG or (
        abs(price.score) >= NEGATIVE_ON_VOLUME and price.volume_ratio >= VOLUME_HIGH
    )
    return against and price.aligned and strong


def _context_codes(narrative: NarrativeScore, price: PriceScore, divergence: Divergence) -> list[str]:
    codes = []
    if abs(narrative.score) >= NARRATIVE_MIN:
        codes += [f"DIVERGENT_{name.upper()}" for name in divergence.diverging(_sign(narrative.score))]
    if divergence.trigger.adaptive:
        codes.append("ADAPTIVE_TRIGGER")
    if narrative.hype is not None and narrative.hype.flagged:
        codes.append("HYPE_CASCADE_BULLISH" if narrative.hype.side > 0 else "HYPE_CASCADE_BEARISH")
    if price.volume_ratio >= VOLUME_HIGH:
        codes.append("VOLUME_HEAVY")
    elif price.volume_ratio <= VOLUME_LOW:
        codes.append("VOLUME_LIGHT")
    if price.aligned:
        codes.append("TAPE_ALIGNED")
    if narrative.source_count == 1:
        codes.append("SINGLE_SOURCE")
    if narrative.sources_positive and narrative.sources_negative:
        codes.append("SOURCES_SPLIT")
    if narrative.duplicates_folded:
        codes.append("DUPLICATES_FOLDED")
    if narrative.echoes:
        codes.append("ECHOED")
    if price.problems:
        codes.append("PRICE_DATA_ISSUES")
    if abs(narrative.score) >= NARRATIVE_MIN:
        if narrative.lead_share > ONE_STORY_SHARE:
            codes.append("ONE_STORY_CARRIES")
        if narrative.speculative_share > SPECULATION_SHARE:
            codes.append("MOSTLY_SPECULATION")
    return codes


def conviction(narrative: NarrativeScore, divergence: float, direction: Direction,
               threshold: float = DIVERGENCE_MIN) -> float:
    """In [0, 1]: story strength, how far past the trigger the disagreement is, how many voices carry it."""
    reach = min(1.0, abs(divergence) / (2.0 * threshold))
    if direction is Direction.HOLD:
        # Still ranked, so an asset where story and tape nearly split shows above a quiet one.
        return 0.5 * abs(narrative.score) * reach
    # One voice is one reading: a story carried by several outlets earns the full strength.
    voices = 0.75 + 0.25 * min(1.0, max(0.0, narrative.effective_sources - 1.0)) if narrative.effective_sources else 1.0
    return min(1.0, abs(narrative.score) * (0.5 + 0.5 * reach) * 2.0 * voices)


def prior_probability(strength: float, mass: float) -> float:
    """Uncalibrated probability: strength maps to an edge, shrunk toward the base rate on thin evidence."""
    shrink = mass / (mass + PROBABILITY_HALF_MASS)
    return 0.5 + MAX_PRIOR_EDGE * math.tanh(2.0 * strength) * shrink


def build_signal(
    symbol: str,
    as_of: datetime,
    narrative: NarrativeScore,
    price: PriceScore,
    horizon: timedelta,
    history: Sequence[float] = (),
    calibrator: Calibrator | None = None,
) -> Signal:
    """`history`: this asset's recent divergences (adapts the trigger); `calibrator`: fitted on past outcomes."""
    divergence = measure_divergence(narrative.score, price.score, price.timescales, history)
    threshold = divergence.trigger.threshold
    if narrative.headline_count == 0:
        direction, primary = Direction.HOLD, "NO_NEWS"
    else:
        direction, primary = classify(narrative.score, price.score, threshold)
        if primary.startswith("DIVERGENCE") and negative_confirmation(narrative.score, price):
            direction, primary = Direction.HOLD, "NEGATIVE_CONFIRMATION"
    strength = conviction(narrative, divergence.combined, direction, threshold)
    codes = [primary, *_context_codes(narrative, price, divergence)]
    probability = prior = base = None
    skill = None
    method = "prior"
    if direction is not Direction.HOLD:
        prior = probability = prior_probability(strength, narrative.mass)
        if calibrator is None:
            codes.append("UNCALIBRATED")
        else:
            judged = calibrator.assess(prior, direction, symbol, primary)
            probability, base, skill = judged.probability, judged.base, judged.skill
            method = "shrunk" if skill.weight != 0 else "base_rate"
            codes.append("EDGE_PROVEN" if skill.proven else "NO_PROVEN_EDGE")
            # The call stands either way, so that its outcome keeps teaching the record (a veto would
            # freeze what it knows); below one half it is flagged and sizes to nothing.
            if skill.weight < 0:
                codes.append("TRACK_RECORD_AGAINST")
            elif probability < 0.5:
                codes.append("BASE_RATE_AGAINST")
    return Signal(
        symbol=symbol,
        as_of=as_of,
        direction=direction,
        probability=probability,
        conviction=strength,
        divergence=divergence.combined,
        horizon=horizon,
        narrative=narrative,
        price=price,
        reason_codes=tuple(codes),
        divergences=divergence.per_timescale,
        trigger=divergence.trigger,
        prior=prior,
        probability_method=method,
        calibration_count=calibrator.count if calibrator else 0,
        base_rate=base,
        edge=skill,
    )
