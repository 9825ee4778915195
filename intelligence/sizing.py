"""A size suggestion for a signal: confidence to risk units, normalised by how much the asset moves.

Risk units: the share of the per-trade risk budget a call uses, from its edge over a coin flip.
Below MIN_EDGE nothing (not worth the fees); from there at least MIN_UNITS (a position too small
to matter is noise in the book); a full unit at FULL_EDGE and never more. The stop sits
STOP_SIGMAS horizon-sized standard deviations away, so a calm asset gets a larger notional than a
wild one for the same risk; the stop is kept between MIN_STOP and MAX_STOP so a frozen feed or a
crash bar cannot make the size absurd, and one suggestion never exceeds MAX_POSITION_FRACTION of equity.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from intelligence.signal import MAX_PRIOR_EDGE, Signal

STOP_SIGMAS = 2.0
MAX_POSITION_FRACTION = 0.2
MIN_EDGE = 0.01
MIN_UNITS = 0.1
FULL_EDGE = MAX_PRIOR_EDGE
MIN_STOP = 0.002
MAX_STOP = 0.25


@dataclass(frozen=True)
class SizeSuggestion:
    risk_units: float  # in [0, 1]: share of the per-trade risk budget used
    notional: float
    quantity: float
    stop_distance: float  # fraction of price


def risk_units(probability: float | None) -> float:
    if probability is None:
        return 0.0
    edge = probability - 0.5
    if edge < MIN_EDGE:
        return 0.0
    return min(1.0, max(MIN_UNITS, edge / FULL_EDGE))


def stop_distance(volatility: float, bars_per_horizon: float) -> float:
    return min(MAX_STOP, max(MIN_STOP, STOP_SIGMAS * volatility * math.sqrt(max(1.0, bars_per_horizon))))


def suggest_size(signal: Signal, equity: float, risk_per_trade: float, bars_per_horizon: float) -> SizeSuggestion:
    units = risk_units(signal.probability)
    if units == 0.0 or signal.price.last_close <= 0:
        return SizeSuggestion(0.0, 0.0, 0.0, 0.0)
    stop = stop_distance(signal.price.volatility, bars_per_horizon)
    notional = min(equity * risk_per_trade * units / stop, equity * MAX_POSITION_FRACTION)
    return SizeSuggestion(units, notional, notional / signal.price.last_close, stop)


def bracket_prices(price: float, side: str, stop_distance: float, take_profit_ratio: float) -> tuple[float, float]:
    """(stop, target) around an entry at `price`: the stop `stop_distance` against the trade, the target
    `take_profit_ratio` times as far in its favour. One formula for the order and for what the trader reads."""
    sign = 1 if side == "buy" else -1
    return price * (1 - sign * stop_distance), price * (1 + sign * stop_distance * take_profit_ratio)
