"""Where story and tape disagree: divergence, direction, probability and reason codes per asset."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from intelligence.narrative import NarrativeScore
from intelligence.price import PriceScore
from intelligence.types import Direction

# The story must lean at least this far to be worth acting on.
NARRATIVE_MIN = 0.12
# Story ahead of the tape by at least this much (on the [-2, 2] scale of narrative - price).
DIVERGENCE_MIN = 0.30
# Both leaning the same way at least this far is a confirmation.
CONFIRMATION_MIN = 0.20
# Before outcomes exist to calibrate against, never claim more than this edge over a coin flip.
MAX_PRIOR_EDGE = 0.15
# Evidence mass at which the probability keeps half of its edge.
PROBABILITY_HALF_MASS = 2.0
VOLUME_HIGH = 1.25
VOLUME_LOW = 0.8


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

    @property
    def actionable(self) -> bool:
        return self.direction is not Direction.HOLD


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def classify(narrative: float, price: float) -> tuple[Direction, str]:
    """Direction and the primary reason code from the two scores alone."""
    divergence = narrative - price
    lean = _sign(narrative)
    side = Direction.BUY if lean > 0 else Direction.SELL
    if abs(narrative) < NARRATIVE_MIN:
        return Direction.HOLD, "WEAK_NARRATIVE"
    if abs(divergence) >= DIVERGENCE_MIN:
        if _sign(divergence) == lean:
            return side, "DIVERGENCE_BULLISH" if lean > 0 else "DIVERGENCE_BEARISH"
        # The tape has run further than the story: nothing left for the price to catch up on.
        return Direction.HOLD, "PRICE_AHEAD_OF_STORY"
    if _sign(price) == lean and abs(price) >= CONFIRMATION_MIN:
        return side, "CONFIRMED_BULLISH" if lean > 0 else "CONFIRMED_BEARISH"
    return Direction.HOLD, "NO_EDGE"


def _context_codes(narrative: NarrativeScore, price: PriceScore) -> list[str]:
    codes = []
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
    if price.problems:
        codes.append("PRICE_DATA_ISSUES")
    return codes


def conviction(narrative: NarrativeScore, divergence: float, direction: Direction) -> float:
    if direction is Direction.HOLD:
        # Still ranked, so an asset where story and tape nearly split shows above a quiet one.
        return 0.5 * abs(narrative.score) * min(1.0, abs(divergence))
    return min(1.0, abs(narrative.score) * (0.5 + 0.5 * min(1.0, abs(divergence))) * 2.0)


def prior_probability(strength: float, mass: float) -> float:
    """Uncalibrated probability: strength maps to an edge, shrunk toward the base rate on thin evidence."""
    shrink = mass / (mass + PROBABILITY_HALF_MASS)
    return 0.5 + MAX_PRIOR_EDGE * math.tanh(2.0 * strength) * shrink


def build_signal(
    symbol: str, as_of: datetime, narrative: NarrativeScore, price: PriceScore, horizon: timedelta
) -> Signal:
    if narrative.headline_count == 0:
        direction, primary = Direction.HOLD, "NO_NEWS"
    else:
        direction, primary = classify(narrative.score, price.score)
    divergence = narrative.score - price.score
    strength = conviction(narrative, divergence, direction)
    probability = prior_probability(strength, narrative.mass) if direction is not Direction.HOLD else None
    return Signal(
        symbol=symbol,
        as_of=as_of,
        direction=direction,
        probability=probability,
        conviction=strength,
        divergence=divergence,
        horizon=horizon,
        narrative=narrative,
        price=price,
        reason_codes=(primary, *_context_codes(narrative, price)),
    )
