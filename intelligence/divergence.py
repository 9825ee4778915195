"""Divergence between story and tape, per timescale and combined, with a trigger that adapts.

Divergence = narrative score - price score, on [-2, 2]; positive when the story is more bullish
than the tape. The trigger is the size a divergence must reach to count as "story ahead of tape".
A fixed bar fires too often when the narrative is noisy and too rarely when it is calm, so the
bar follows the recent dispersion of divergences for the asset (passed in as data: the previous
cycles' values from the store or the replay), blended with the default by how much history there is.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Mapping, Sequence

# The bar with no history: story ahead of the tape by this much on the combined scale.
DEFAULT_TRIGGER = 0.30
# The adaptive bar stays inside these bounds: below the floor everything is noise, above the cap
# nothing would ever fire.
TRIGGER_FLOOR = 0.15
TRIGGER_CAP = 0.90
# "Unusual" = this many robust standard deviations above the median size of recent divergences.
TRIGGER_Z = 1.0
# History needed before the adaptive bar has any say, and the count at which it has half of it.
MIN_HISTORY = 10
HISTORY_HALF = 20
MAD_TO_SIGMA = 1.4826  # a normal distribution's MAD times this is its standard deviation


@dataclass(frozen=True)
class Trigger:
    threshold: float
    adaptive: bool  # history had a say
    history: int  # divergences the bar was computed from
    recent_median: float | None  # median size of recent divergences, when history exists


@dataclass(frozen=True)
class Divergence:
    combined: float  # narrative - combined price score, in [-2, 2]
    per_timescale: dict[str, float]  # narrative - each timescale's price score
    trigger: Trigger

    @property
    def fired(self) -> bool:
        return abs(self.combined) >= self.trigger.threshold

    def diverging(self, lean: int) -> tuple[str, ...]:
        """Timescales on which the story is ahead of the tape by at least the trigger, in `lean`'s direction."""
        return tuple(name for name, d in self.per_timescale.items()
                     if d * lean >= self.trigger.threshold)


def adaptive_trigger(history: Sequence[float]) -> Trigger:
    """The divergence size that counts as unusual, given recent divergences of the same asset."""
    sizes = [abs(d) for d in history]
    if len(sizes) < MIN_HISTORY:
        return Trigger(DEFAULT_TRIGGER, False, len(sizes), statistics.median(sizes) if sizes else None)
    median = statistics.median(sizes)
    mad = statistics.median(abs(s - median) for s in sizes)
    from_history = median + TRIGGER_Z * MAD_TO_SIGMA * mad
    weight = len(sizes) / (len(sizes) + HISTORY_HALF)
    blended = weight * from_history + (1.0 - weight) * DEFAULT_TRIGGER
    return Trigger(min(TRIGGER_CAP, max(TRIGGER_FLOOR, blended)), True, len(sizes), median)


def measure_divergence(narrative: float, price: float, timescales: Mapping[str, float],
                       history: Sequence[float] = ()) -> Divergence:
    return Divergence(
        combined=narrative - price,
        per_timescale={name: narrative - score for name, score in timescales.items()},
        trigger=adaptive_trigger(history),
    )
