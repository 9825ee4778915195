"""Bootstrap intervals for scores that are means of per-signal losses, resampled by cluster.

Signals made on the same day share the market's move (nine coins in one cycle, or overlapping
24-hour windows from hourly cycles), so they are not independent draws. Resampling whole days
instead of single signals keeps that dependence, and the interval widens honestly when a sample
is really a handful of days. Every forecaster is scored on the same resampled days (paired), so
a difference between two of them has its own interval.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Hashable, Sequence

import numpy as np

RESAMPLES = 2000
LEVEL = 0.95
SEED = 20240601  # fixed: the same inputs give the same interval in every run and every artifact


@dataclass(frozen=True)
class Interval:
    point: float
    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise ValueError(f"interval low {self.low} is above high {self.high}")


class ClusterResampler:
    """Draws the same resampled clusters for every statistic: the basis of paired comparisons."""

    def __init__(self, clusters: Sequence[Hashable], resamples: int = RESAMPLES, seed: int = SEED):
        if not clusters:
            raise ValueError("nothing to resample")
        if resamples < 1:
            raise ValueError("resamples must be at least 1")
        labels: dict[Hashable, int] = {}
        self._codes = np.array([labels.setdefault(c, len(labels)) for c in clusters])
        self.size = len(self._codes)
        self.cluster_count = len(labels)
        # weights[r, k] = how often cluster k is drawn in resample r; a drawn cluster brings all its signals.
        draws = np.random.default_rng(seed).integers(0, self.cluster_count, size=(resamples, self.cluster_count))
        self._weights = np.zeros((resamples, self.cluster_count))
        np.add.at(self._weights, (np.repeat(np.arange(resamples), self.cluster_count), draws.ravel()), 1.0)
        self._totals = self._weights @ np.bincount(self._codes, minlength=self.cluster_count)

    def means(self, values: np.ndarray) -> np.ndarray:
        """The mean of `values` (one per signal) in every resample."""
        values = np.asarray(values, dtype=float)
        if values.shape != (self.size,):
            raise ValueError(f"expected {self.size} values, got shape {values.shape}")
        sums = np.bincount(self._codes, weights=values, minlength=self.cluster_count)
        return self._weights @ sums / self._totals

    def interval(self, point: float, resampled: np.ndarray, level: float = LEVEL) -> Interval:
        """Percentile interval, widened to include the point estimate when sampling noise puts it outside.

        With a handful of clusters the percentile bounds can sit a hair off the estimate they are
        built around; an interval that excludes its own estimate would only confuse the reader.
        """
        finite = resampled[np.isfinite(resampled)]
        if finite.size == 0:
            return Interval(point, point, point)
        tail = (1 - level) / 2
        low, high = np.quantile(finite, [tail, 1 - tail])
        return Interval(point, float(min(low, point)), float(max(high, point)))


def mean_interval(resampler: ClusterResampler, values: np.ndarray, level: float = LEVEL) -> Interval:
    return resampler.interval(float(np.mean(values)), resampler.means(values), level)


def skill_interval(resampler: ClusterResampler, losses: np.ndarray, reference_losses: np.ndarray,
                   level: float = LEVEL) -> Interval | None:
    """Interval for 1 - mean(losses)/mean(reference): Brier skill on the same resampled days."""
    reference = float(np.mean(reference_losses))
    if reference <= 0:
        return None
    point = 1.0 - float(np.mean(losses)) / reference
    resampled_reference = resampler.means(reference_losses)
    with np.errstate(divide="ignore", invalid="ignore"):
        resampled = 1.0 - resampler.means(losses) / resampled_reference
    return resampler.interval(point, np.where(resampled_reference > 0, resampled, np.nan), level)
