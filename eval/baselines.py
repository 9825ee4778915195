"""Three forecasts the engine must beat to be worth following, made for the very same signals.

All three forecast the same event, "the market closes above its entry over the signal's horizon"
(P(up)), and are turned into P(the signal's direction is right) for scoring: P(up) for a BUY,
1 - P(up) for a SELL. Each is walk-forward: at a signal made at time t it knows only the market
moves whose horizon had closed by t (a move is known at its exit bar's close), so no fit ever
sees the outcome it is scored on, or any later one.

- climatology: the base rate of up moves known so far, (ups + 1) / (moves + 2) (Laplace's rule,
  so the first forecasts are 1/2 rather than 0 or 1). It knows the drift of the market and
  nothing else.
- price_only: P(up) = sigmoid(a + b * price_score), a logistic fit of past moves on the price
  score alone (the engine's multi-timescale tape reading, without the news).
- sentiment_only: the same fit on the narrative score alone (the news, without the tape).

The fits are ridge-penalised toward "the score says nothing" (b = 0), and until MIN_FIT moves are
known they are not made at all: the forecast is the climatology, which is what a score with no
track record deserves. The engine gets no such fit: its probabilities are scored as it stated them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

import numpy as np

NAMES = ("climatology", "price_only", "sentiment_only")
MIN_FIT = 30
# Penalty on the slope (scores live in [-1, 1]): with 30 moves the data must speak clearly to move b.
SLOPE_PENALTY = 1.0
# A whisper on the intercept, so a run of only-up (or only-down) moves keeps a finite fit.
INTERCEPT_PENALTY = 1e-3
NEWTON_STEPS = 50
TOLERANCE = 1e-10


@dataclass(frozen=True)
class KnownMove:
    """A past market move and the scores that stood before it, usable from `known_at` on."""

    known_at: datetime
    up: bool
    price_score: float
    narrative_score: float


@dataclass(frozen=True)
class Target:
    as_of: datetime
    price_score: float
    narrative_score: float


@dataclass(frozen=True)
class BaselineForecasts:
    up: dict[str, np.ndarray]  # P(up) by baseline name, aligned with the targets
    fitted: int  # targets at which the score fits were made (the others used the climatology)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # the tanh form never overflows


def fit_logistic(x: np.ndarray, y: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """[a, b] minimising log-loss of sigmoid(a + b x) plus the ridge penalties (Newton's method)."""
    design = np.column_stack([np.ones_like(x), x])
    penalty = np.array([INTERCEPT_PENALTY, SLOPE_PENALTY])
    theta = np.zeros(2) if start is None else start.copy()
    for _ in range(NEWTON_STEPS):
        p = sigmoid(design @ theta)
        gradient = design.T @ (p - y) + penalty * theta
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if float(np.max(np.abs(step))) < TOLERANCE:
            break
    return theta


def walk_forward(targets: Sequence[Target], history: Sequence[KnownMove]) -> BaselineForecasts:
    """P(up) from each baseline at each target, from the moves known strictly by the target's time."""
    moves = sorted(history, key=lambda m: m.known_at)
    known_at = [m.known_at for m in moves]
    ups = np.array([m.up for m in moves], dtype=float)
    scores = {
        "price_only": np.array([m.price_score for m in moves], dtype=float),
        "sentiment_only": np.array([m.narrative_score for m in moves], dtype=float),
    }
    out = {name: np.empty(len(targets)) for name in NAMES}
    fits: dict[str, np.ndarray] = {}
    fitted_at = -1
    fitted = 0
    order = sorted(range(len(targets)), key=lambda i: targets[i].as_of)
    seen = 0
    for i in order:
        target = targets[i]
        while seen < len(moves) and known_at[seen] <= target.as_of:
            seen += 1
        climatology = (ups[:seen].sum() + 1.0) / (seen + 2.0)
        out["climatology"][i] = climatology
        if seen < MIN_FIT:
            out["price_only"][i] = out["sentiment_only"][i] = climatology
            continue
        if seen != fitted_at:  # refit only when a new move has become known; warm start from the last fit
            fits = {name: fit_logistic(x[:seen], ups[:seen], fits.get(name)) for name, x in scores.items()}
            fitted_at = seen
        fitted += 1
        out["price_only"][i] = float(sigmoid(fits["price_only"][0] + fits["price_only"][1] * np.array(target.price_score)))
        out["sentiment_only"][i] = float(
            sigmoid(fits["sentiment_only"][0] + fits["sentiment_only"][1] * np.array(target.narrative_score)))
    return BaselineForecasts(out, fitted)


def direction_probability(p_up: np.ndarray, is_buy: np.ndarray) -> np.ndarray:
    """P(the signal's direction is right) from P(up): a flat close is neither, and is rare enough to ignore."""
    return np.where(is_buy, p_up, 1.0 - p_up)
