"""Hype cascades: a burst of same-direction stories in a short window, well above the usual pace.

A cascade is flagged, named in the reason codes and damped: twenty outlets cheering in one
afternoon are one mood, not twenty independent readings, and such bursts tend to mark the
moment a move is already priced. Stories (not headlines) are counted, after duplicate folding.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Sequence

# A story leans when its polarity is at least this far from neutral.
LEAN = 0.2
# At least this many leaning stories on one side inside the burst window ...
MIN_BURST = 5
# ... at least this many times the count the pace of the rest of the window predicts ...
RATE_RATIO = 2.0
# ... and at least this share of all leaning stories in the burst window on that side.
ONE_SIDED = 0.75
# A cascade at the minimum size keeps this share of its weight; larger ones keep less (by sqrt).
DAMPING = 0.6


@dataclass(frozen=True)
class HypeCheck:
    side: int  # +1 bullish cascade, -1 bearish, 0 none
    burst: int  # leaning stories on the cascade's side inside the burst window (the larger side if none)
    expected: float  # stories the pace of the earlier window predicts for the burst window
    one_sided: float  # share of leaning stories in the burst window on that side
    damping: float  # multiplier for the weights of the burst's stories; 1.0 when no cascade
    since: datetime  # start of the burst window

    @property
    def flagged(self) -> bool:
        return self.side != 0


def detect_hype(
    stories: Sequence[tuple[datetime, float]], as_of: datetime, burst_window: timedelta, window: timedelta
) -> HypeCheck:
    """`stories` are (first published, polarity) pairs, all at or before as_of and inside `window`."""
    if burst_window <= timedelta(0) or window <= burst_window:
        raise ValueError(f"need 0 < burst window < window, got {burst_window} and {window}")
    since = as_of - burst_window
    recent = [p for t, p in stories if t > since]
    earlier = [p for t, p in stories if t <= since]
    up = sum(1 for p in recent if p >= LEAN)
    down = sum(1 for p in recent if p <= -LEAN)
    side, burst = (1, up) if up >= down else (-1, down)
    leaning = up + down
    one_sided = burst / leaning if leaning else 0.0
    # The pace of leaning stories earlier in the window, scaled to the burst window's length.
    earlier_leaning = sum(1 for p in earlier if abs(p) >= LEAN)
    expected = earlier_leaning * (burst_window / (window - burst_window))
    cascade = burst >= MIN_BURST and burst >= RATE_RATIO * max(expected, 1.0) and one_sided >= ONE_SIDED
    if not cascade:
        return HypeCheck(0, burst, expected, one_sided, 1.0, since)
    return HypeCheck(side, burst, expected, one_sided, DAMPING * math.sqrt(MIN_BURST / burst), since)
