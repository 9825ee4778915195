"""Confidence tiers on a stated probability: how the evaluation's cohorts and the proposal's track record
group comparable calls (light to import: chat shows a proposal's tier without loading the evaluation)."""
from __future__ import annotations

# The engine's prior never strays more than 15 points from a coin flip, so the tiers split that range;
# a calibrated engine may also say less than 50%.
TIERS = ((0.60, "high (60%+)"), (0.55, "medium (55-60%)"), (0.50, "low (50-55%)"), (0.0, "below 50%"))


def confidence_tier(probability: float) -> str:
    return next(name for floor, name in TIERS if probability >= floor)
