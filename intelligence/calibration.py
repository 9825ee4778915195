"""Probability that a call is right: the base rate, plus as much of the engine's edge as its record has shown.

The engine claims an edge for every call: `prior - 1/2`, from its conviction and evidence
(intelligence/signal.py). The claim is a fixed function of the call's inputs, never fitted to
outcomes, so every resolved call tests it out of sample. The stated probability is

    p = base + weight x edge

where `base` is the market's base rate for the call's side (intelligence/base_rate.py) and
`weight` is how much of the claimed edge the resolved record bears out:

- slope: the least-squares slope of (hit - base) on edge over resolved calls (through the origin).
  A slope of one says the claimed edges come true as stated, zero that calls do no better than the
  base rate, below zero that they do worse. Its standard error is taken under "no skill" (each hit a
  draw at its base rate) and counts the calls of one day as one draw (they share a market), so it
  depends on which calls were made and never on how they came out.
- empirical Bayes: with the slope's prior N(0, tau^2) and tau^2 estimated from the record itself
  (tau^2 = slope^2 - se^2, at least zero), the posterior mean is slope x (1 - se^2/slope^2) when
  |slope| > se, else zero. With no demonstrated skill the engine *is* the base rate; the weight
  grows with the evidence and never exceeds one (the claim as stated).
- per cohort (the primary reason code: divergence or confirmation, bullish or bearish), where a
  cohort has `min_outcomes` calls of its own, its slope is pulled toward the pooled one by the spread
  between cohorts (method of moments), so a cohort only stands apart when the data say it differs.
  Two cohorts cannot tell a spread from noise: it takes MIN_COHORTS with enough calls, until then
  every call takes the pooled weight.

An edge is "proven" when the slope's 95% interval lies above zero with at least `min_outcomes`
resolved calls. Pure: resolved calls and base rates come in as data; the caller decides which
outcomes were known by when (pipeline/signal_state.py, intelligence/walk_forward.py).
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Hashable, Mapping, Sequence

from intelligence.base_rate import COIN_FLIP, BaseRate
from intelligence.types import Direction

# Never claim certainty: a probability outside this range would be an error of our model, not news.
P_MIN, P_MAX = 0.02, 0.98
Z95 = 1.959964
# Claimed edges this small (a tenth of a point summed in squares over the record) test nothing.
MIN_EDGE_SQUARES = 1e-6
POOLED = "all calls"
MIN_COHORTS = 3


@dataclass(frozen=True)
class Resolved:
    direction: Direction  # BUY or SELL (a HOLD is ignored)
    hit: bool
    edge: float = 0.0  # the edge the engine claimed when it made the call: prior - 1/2
    base: float = 0.5  # the base rate of the call's side when it was made
    cohort: str = ""  # the call's primary reason code
    day: date | None = None  # calls of one day share one market move
    conviction: float = 0.0


@dataclass(frozen=True)
class Skill:
    """What the resolved record shows about the engine's claimed edge, for one cohort or for all calls."""

    cohort: str
    calls: int
    days: int
    slope: float  # after pooling toward all calls, for a cohort; 0 with no calls
    se: float  # its standard error under no skill; inf with no claimed edge to test
    weight: float  # the share of the claimed edge the probability keeps, in [-1, 1]
    proven: bool
    # Brier skill against the base rate of the engine's full claimed edge (base + edge) over the
    # record, with a 95% interval; None without calls.
    brier_skill: float | None = None
    brier_skill_low: float | None = None
    brier_skill_high: float | None = None

    @property
    def status(self) -> str:
        return "proven" if self.proven else "none yet"

    @property
    def slope_interval(self) -> tuple[float, float] | None:
        if not math.isfinite(self.se):
            return None
        return self.slope - Z95 * self.se, self.slope + Z95 * self.se


@dataclass(frozen=True)
class Assessment:
    probability: float
    base: float  # the base rate of the call's side
    edge: float  # the engine's claimed edge
    skill: Skill  # the record behind the weight


@dataclass(frozen=True)
class Calibrator:
    count: int  # resolved calls
    hits: int
    min_outcomes: int
    pooled: Skill
    cohorts: Mapping[str, Skill] = field(default_factory=dict)  # only cohorts with enough calls of their own
    base_rates: Mapping[str, BaseRate] = field(default_factory=dict)  # by symbol

    @property
    def method(self) -> str:
        """'base_rate' while no record supports any edge, 'shrunk' once some of it is kept."""
        weights = [self.pooled.weight, *(s.weight for s in self.cohorts.values())]
        return "shrunk" if any(w != 0 for w in weights) else "base_rate"

    def base_rate(self, symbol: str) -> BaseRate:
        return self.base_rates.get(symbol, COIN_FLIP)

    def assess(self, prior: float, direction: Direction, symbol: str, cohort: str = "") -> Assessment:
        """`prior` is the engine's uncalibrated probability, centred on one half."""
        if direction is Direction.HOLD:
            raise ValueError("a HOLD makes no call to put a probability on")
        base = self.base_rate(symbol).for_direction(direction)
        edge = prior - 0.5
        skill = self.cohorts.get(cohort, self.pooled)
        return Assessment(clip(base + skill.weight * edge), base, edge, skill)


def clip(p: float) -> float:
    return min(P_MAX, max(P_MIN, p))


def fit_calibrator(resolved: Sequence[Resolved], min_outcomes: int,
                   base_rates: Mapping[str, BaseRate] | None = None) -> Calibrator:
    if min_outcomes < 1:
        raise ValueError(f"min_outcomes must be at least 1, got {min_outcomes}")
    calls = [r for r in resolved if r.direction is not Direction.HOLD]
    pooled = _skill(POOLED, calls, min_outcomes, None)
    groups: dict[str, list[Resolved]] = defaultdict(list)
    for r in calls:
        groups[r.cohort].append(r)
    raw = {k: _slope(v) for k, v in groups.items() if k and len(v) >= min_outcomes}
    if len(raw) < MIN_COHORTS:
        raw = {}
    tau2 = _between_cohorts(pooled.slope, raw)
    cohorts = {k: _skill(k, groups[k], min_outcomes, (pooled, tau2)) for k in raw}
    return Calibrator(len(calls), sum(r.hit for r in calls), min_outcomes, pooled, cohorts, dict(base_rates or {}))


def shrink_weight(slope: float, se: float) -> float:
    """Empirical-Bayes posterior mean of the slope under N(0, tau^2), tau^2 = max(0, slope^2 - se^2),
    clipped to [-1, 1]: zero until the slope stands out of its own noise, then growing with it."""
    if not math.isfinite(se):
        return 0.0
    if slope * slope <= se * se:
        return 0.0
    return max(-1.0, min(1.0, slope - se * se / slope))


def _slope(calls: Sequence[Resolved]) -> tuple[float, float]:
    """Slope of (hit - base) on edge through the origin, and its standard error under no skill with
    the calls of one day counted as one draw (their edges add up, as if their outcomes moved together)."""
    sxx = sum(r.edge * r.edge for r in calls)
    if sxx <= MIN_EDGE_SQUARES:
        return 0.0, math.inf
    sxy = sum(r.edge * ((1.0 if r.hit else 0.0) - r.base) for r in calls)
    per_day: dict[Hashable, float] = defaultdict(float)
    for i, r in enumerate(calls):
        per_day[r.day if r.day is not None else i] += abs(r.edge) * math.sqrt(r.base * (1.0 - r.base))
    variance = sum(v * v for v in per_day.values()) / (sxx * sxx)
    return sxy / sxx, math.sqrt(variance)


def _between_cohorts(pooled: float, raw: Mapping[str, tuple[float, float]]) -> float:
    """Method-of-moments spread of the cohorts' true slopes around the pooled one."""
    finite = [(s, se) for s, se in raw.values() if math.isfinite(se)]
    if len(finite) < 2:
        return 0.0
    return max(0.0, sum((s - pooled) ** 2 - se * se for s, se in finite) / len(finite))


def _skill(cohort: str, calls: Sequence[Resolved], min_outcomes: int, pooled: tuple[Skill, float] | None) -> Skill:
    slope, se = _slope(calls)
    if pooled is not None:
        whole, tau2 = pooled
        pull = tau2 / (tau2 + se * se) if math.isfinite(se) and tau2 + se * se > 0 else 0.0
        slope = whole.slope + pull * (slope - whole.slope)
        se = math.sqrt(pull * se * se + (1.0 - pull) ** 2 * whole.se * whole.se) if math.isfinite(whole.se) else math.inf
    enough = len(calls) >= min_outcomes
    weight = shrink_weight(slope, se) if enough else 0.0
    proven = enough and math.isfinite(se) and slope - Z95 * se > 0
    days = len({r.day for r in calls if r.day is not None} | {i for i, r in enumerate(calls) if r.day is None})
    skill, low, high = _brier_skill(calls)
    return Skill(cohort, len(calls), days, slope, se, weight, proven, skill, low, high)


def _brier_skill(calls: Sequence[Resolved]) -> tuple[float | None, float | None, float | None]:
    """1 - Brier(base + edge) / Brier(base) over the calls, with a 95% interval by the delta method,
    the calls of one day summed into one term."""
    if not calls:
        return None, None, None
    ys = [1.0 if r.hit else 0.0 for r in calls]
    reference = [(r.base - y) ** 2 for r, y in zip(calls, ys)]
    engine = [(clip(r.base + r.edge) - y) ** 2 for r, y in zip(calls, ys)]
    total = sum(reference)
    if total <= 0:
        return None, None, None
    ratio = sum(engine) / total
    per_day: dict[Hashable, float] = defaultdict(float)
    for i, (r, e, b) in enumerate(zip(calls, engine, reference)):
        per_day[r.day if r.day is not None else i] += e - ratio * b
    half = Z95 * math.sqrt(sum(v * v for v in per_day.values())) / total
    return 1.0 - ratio, 1.0 - ratio - half, 1.0 - ratio + half
