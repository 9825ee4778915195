"""A size suggestion for a signal: confidence to risk, normalised by how much the asset moves."""
from __future__ import annotations

import math
from dataclasses import dataclass

from intelligence.signal import MAX_PRIOR_EDGE, Signal

# A stop this many horizon-sized standard deviations away defines the risk of one unit.
STOP_SIGMAS = 2.0
# Never more than this share of equity in one suggestion, however calm the asset.
MAX_POSITION_FRACTION = 0.2
# Below this edge over a coin flip the suggestion is zero: not worth the fees.
MIN_EDGE = 0.01


@dataclass(frozen=True)
class SizeSuggestion:
    risk_units: float  # in [0, 1]: share of the per-trade risk budget used
    notional: float
    quantity: float
    stop_distance: float  # fraction of price


def suggest_size(signal: Signal, equity: float, risk_per_trade: float, bars_per_horizon: float) -> SizeSuggestion:
    if signal.probability is None or signal.price.last_close <= 0:
        return SizeSuggestion(0.0, 0.0, 0.0, 0.0)
    edge = signal.probability - 0.5
    units = 0.0 if edge < MIN_EDGE else min(1.0, edge / MAX_PRIOR_EDGE)
    stop = max(1e-4, STOP_SIGMAS * signal.price.volatility * math.sqrt(max(1.0, bars_per_horizon)))
    notional = min(equity * risk_per_trade * units / stop, equity * MAX_POSITION_FRACTION)
    return SizeSuggestion(units, notional, notional / signal.price.last_close, stop)
