"""Scores for probability forecasts of a yes/no event: Brier, log-loss, reliability bins, ECE, skill.

Pure numpy on two aligned arrays: `p`, the forecast probability of the event, and `y`, 1 when it
happened and 0 when it did not. Every function refuses empty or misaligned input instead of
returning a number that means nothing.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

BINS = 10
# sklearn's long-standing clip: a forecast of exactly 0 or 1 that is wrong costs about 34.5 nats,
# a large but finite penalty, so one overconfident miss dominates the mean without making it infinite.
LOG_LOSS_EPS = 1e-15


def as_arrays(p: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    probs = np.asarray(p, dtype=float)
    outcomes = np.asarray(y, dtype=float)
    if probs.shape != outcomes.shape or probs.ndim != 1:
        raise ValueError(f"forecasts and outcomes must be two flat arrays of one length, got {probs.shape} and {outcomes.shape}")
    if probs.size == 0:
        raise ValueError("no forecasts to score")
    if not np.all((probs >= 0) & (probs <= 1)):
        raise ValueError("forecast probabilities must lie in [0, 1]")
    if not np.all((outcomes == 0) | (outcomes == 1)):
        raise ValueError("outcomes must be 0 or 1")
    return probs, outcomes


def brier_losses(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-forecast squared error; the Brier score is its mean (kept separate for the bootstrap)."""
    return np.asarray((p - y) ** 2, dtype=float)


def log_losses(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
    return np.asarray(-(y * np.log(clipped) + (1 - y) * np.log(1 - clipped)), dtype=float)


def brier(p: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    probs, outcomes = as_arrays(p, y)
    return float(brier_losses(probs, outcomes).mean())


def log_loss(p: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    probs, outcomes = as_arrays(p, y)
    return float(log_losses(probs, outcomes).mean())


def brier_skill(score: float, reference: float) -> float | None:
    """1 - score/reference: 0 is no better than the reference, 1 is perfect, negative is worse.

    None when the reference is perfect (0): no forecast can be skilful against a perfect one.
    """
    if reference <= 0:
        return None
    return 1.0 - score / reference


@dataclass(frozen=True)
class CalibrationBin:
    low: float
    high: float
    count: int
    mean_probability: float | None  # None for an empty bin
    hit_rate: float | None

    @property
    def gap(self) -> float | None:
        if self.mean_probability is None or self.hit_rate is None:
            return None
        return abs(self.mean_probability - self.hit_rate)


def bin_index(p: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Bin k holds [k/bins, (k+1)/bins); the last bin also holds 1.0."""
    return np.asarray(np.minimum((p * bins).astype(int), bins - 1))


def calibration_bins(p: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, bins: int = BINS) -> list[CalibrationBin]:
    probs, outcomes = as_arrays(p, y)
    index = bin_index(probs, bins)
    result = []
    for k in range(bins):
        members = index == k
        count = int(members.sum())
        result.append(CalibrationBin(
            low=k / bins,
            high=(k + 1) / bins,
            count=count,
            mean_probability=float(probs[members].mean()) if count else None,
            hit_rate=float(outcomes[members].mean()) if count else None,
        ))
    return result


def ece(p: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, bins: int = BINS) -> float:
    """Expected calibration error: the count-weighted mean gap between what was said and what happened."""
    table = calibration_bins(p, y, bins)
    total = sum(b.count for b in table)
    return float(sum(b.count / total * b.gap for b in table if b.gap is not None))


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """95% interval for a rate that stays inside [0, 1] and is honest at small counts (unlike p ± 2se)."""
    if trials <= 0:
        raise ValueError("a rate needs at least one trial")
    if not 0 <= successes <= trials:
        raise ValueError(f"successes {successes} must lie between 0 and trials {trials}")
    rate = successes / trials
    denominator = 1 + z * z / trials
    centre = (rate + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials)) / denominator
    # min/max with the rate only absorb rounding: mathematically the interval always holds it.
    return max(0.0, min(centre - half, rate)), min(1.0, max(centre + half, rate))
