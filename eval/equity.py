"""What following every resolved signal would have earned, after fees and slippage, as a trader reckons it.

The capital is split into as many equal slices as signals were ever open at the same time, so
overlapping calls (hourly signals with a 24-hour horizon) never use more than the capital and
nothing is leveraged. Each signal trades one slice at its entry open and exit close: bought (or
sold short) at the price moved against it by the slippage, with the fee paid on both legs. Its
simple return in its direction, net of those costs, is added to the curve at its exit time as its
slice's share of the capital; nothing is reinvested. The always-long line trades the same windows
long at the same costs: what the market's drift alone paid for taking those trades.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from config import Settings
from eval.resolve import Resolution
from intelligence.types import Direction

BPS = 1e-4


@dataclass(frozen=True)
class Costs:
    """Per leg, in basis points of the traded value (default: the simulated broker's, TB_SIM_FEE_BPS and
    TB_SIM_SLIPPAGE_BPS)."""

    fee_bps: float = 10.0
    slippage_bps: float = 5.0

    @property
    def per_side(self) -> float:
        return (self.fee_bps + self.slippage_bps) * BPS


def trading_costs(settings: Settings) -> Costs:
    """The costs the curve pays: the simulated broker's settings, which stand in for the real broker's."""
    return Costs(settings.sim_fee_bps, settings.sim_slippage_bps)


@dataclass(frozen=True)
class EquityPoint:
    time: datetime
    signals: float  # cumulative simple return of the capital, after costs, following every signal
    long_only: float  # the same slices and windows, always long, after the same costs


@dataclass(frozen=True)
class EquityCurve:
    points: tuple[EquityPoint, ...]
    slices: int  # the capital is split into this many equal parts: the most signals open at once
    trades: int
    costs: Costs

    @property
    def final(self) -> float:
        return self.points[-1].signals if self.points else 0.0

    @property
    def final_long_only(self) -> float:
        return self.points[-1].long_only if self.points else 0.0


def trade_return(entry: float, exit: float, long: bool, costs: Costs) -> float:
    """Simple return on the stake of one round trip: slippage moves both fills against the trade and
    the fee is paid on the value of each leg."""
    if entry <= 0 or exit <= 0:
        raise ValueError(f"prices must be positive, got entry {entry} and exit {exit}")
    slip, fee = costs.slippage_bps * BPS, costs.fee_bps * BPS
    if long:
        bought, sold = entry * (1 + slip), exit * (1 - slip)
        back = sold / bought  # value of the exit leg per unit staked
        return back - 1 - fee * (1 + back)
    sold, bought = entry * (1 - slip), exit * (1 + slip)
    back = bought / sold  # what buying back costs per unit staked
    return 1 - back - fee * (1 + back)


def most_open(windows: Sequence[tuple[datetime, datetime]]) -> int:
    """The most (entry, exit) windows open at one time; one exiting when another enters is not overlap."""
    events = sorted([(start, 1) for start, _ in windows] + [(end, -1) for _, end in windows],
                    key=lambda event: (event[0], event[1]))  # at the same time, exits (-1) come first
    most = current = 0
    for _, change in events:
        current += change
        most = max(most, current)
    return most


def equity_curve(resolved: Sequence[Resolution], costs: Costs = Costs()) -> EquityCurve:
    """The curve over resolved signals (an outcome in their direction and the market's over the same window)."""
    trades = [r for r in resolved if r.outcome is not None and r.market is not None]
    if not trades:
        return EquityCurve((), 0, 0, costs)
    slices = most_open([(r.outcome.entry_time, r.outcome.exit_time) for r in trades])  # type: ignore[union-attr]
    by_exit: dict[datetime, list[Resolution]] = {}
    for r in trades:
        by_exit.setdefault(r.outcome.exit_time, []).append(r)  # type: ignore[union-attr]
    start = min(r.outcome.entry_time for r in trades)  # type: ignore[union-attr]
    points, signals, long_only = [EquityPoint(start, 0.0, 0.0)], 0.0, 0.0
    for time in sorted(by_exit):
        for r in by_exit[time]:
            o, m = r.outcome, r.market
            assert o is not None and m is not None
            signals += trade_return(o.entry_price, o.exit_price, r.signal.direction is Direction.BUY, costs) / slices
            long_only += trade_return(m.entry_price, m.exit_price, True, costs) / slices
        points.append(EquityPoint(time, signals, long_only))
    return EquityCurve(tuple(points), slices, len(trades), costs)
