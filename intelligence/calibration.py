"""Probability that a signal's direction is right, calibrated on what earlier signals did.

Before enough outcomes exist the engine's prior (an edge that grows with conviction and evidence,
intelligence/signal.py) is centred on the base rate: the smoothed share of past calls, per side,
that were right. Once `min_outcomes` are resolved, a Platt model (logistic in conviction and side,
lightly ridge-regularised) is fitted on them and blended in with a weight that grows with the count.
Pure: the resolved outcomes come in as data; the caller decides which outcomes were known by when.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from intelligence.types import Direction

# Never claim certainty: a probability outside this range would be an error of our model, not news.
P_MIN, P_MAX = 0.02, 0.98
# The pooled base rate starts as if this many coin flips had been seen: a handful of outcomes
# should not swing it.
BASE_PRIOR_COUNT = 30.0
# Each side's base rate leans on the pooled one as if it had this many outcomes of it.
SIDE_PRIOR_COUNT = 30.0
# The fitted model's share of the probability reaches one half at this many outcomes.
BLEND_HALF = 50.0
# Ridge on the slope terms: with few points a noisy slope is worse than a flat one.
L2 = 1.0
NEWTON_STEPS = 50


@dataclass(frozen=True)
class Resolved:
    conviction: float
    direction: Direction  # BUY or SELL
    hit: bool


@dataclass(frozen=True)
class Calibrator:
    count: int
    hits: int
    base_rate: float  # pooled, smoothed toward one half
    side_rates: dict[str, float]  # per side ("BUY", "SELL"), smoothed toward the pooled rate
    coef: tuple[float, float, float] | None  # Platt: intercept, conviction, side (+1 BUY, -1 SELL)
    fit_weight: float  # share of the fitted model in the probability, 0 before min_outcomes
    min_outcomes: int

    @property
    def method(self) -> str:
        return "platt" if self.coef is not None else "prior"

    def probability(self, prior: float, conviction: float, direction: Direction) -> float:
        """`prior` is the engine's uncalibrated probability, centred on one half."""
        if direction is Direction.HOLD:
            raise ValueError("a HOLD makes no call to put a probability on")
        centred = self.side_rates[direction.value] + (prior - 0.5)
        p = centred
        if self.coef is not None:
            a, b, c = self.coef
            fitted = _sigmoid(a + b * conviction + c * _side(direction))
            p = self.fit_weight * fitted + (1.0 - self.fit_weight) * centred
        return min(P_MAX, max(P_MIN, p))


def fit_calibrator(resolved: Sequence[Resolved], min_outcomes: int) -> Calibrator:
    if min_outcomes < 1:
        raise ValueError(f"min_outcomes must be at least 1, got {min_outcomes}")
    calls = [r for r in resolved if r.direction is not Direction.HOLD]
    n, hits = len(calls), sum(r.hit for r in calls)
    base = (hits + 0.5 * BASE_PRIOR_COUNT) / (n + BASE_PRIOR_COUNT)
    side_rates = {}
    for side in (Direction.BUY, Direction.SELL):
        mine = [r for r in calls if r.direction is side]
        side_rates[side.value] = (sum(r.hit for r in mine) + SIDE_PRIOR_COUNT * base) / (len(mine) + SIDE_PRIOR_COUNT)
    coef, weight = None, 0.0
    if n >= min_outcomes:
        x = np.array([[1.0, r.conviction, _side(r.direction)] for r in calls])
        y = np.array([1.0 if r.hit else 0.0 for r in calls])
        fitted = platt_fit(x, y, L2)
        coef = (float(fitted[0]), float(fitted[1]), float(fitted[2]))
        weight = n / (n + BLEND_HALF)
    return Calibrator(n, hits, base, side_rates, coef, weight, min_outcomes)


def platt_fit(x: np.ndarray, y: np.ndarray, l2: float) -> np.ndarray:
    """Logistic regression by Newton's method; column 0 is the intercept (not penalised)."""
    penalty = np.full(x.shape[1], l2)
    penalty[0] = 0.0
    beta = np.zeros(x.shape[1])
    mean = float(np.clip(y.mean(), 1e-3, 1 - 1e-3))
    beta[0] = math.log(mean / (1 - mean))
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        gradient = x.T @ (p - y) + penalty * beta
        hessian = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hessian, gradient)
        beta = beta - step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return beta


def _side(direction: Direction) -> float:
    return 1.0 if direction is Direction.BUY else -1.0


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)
