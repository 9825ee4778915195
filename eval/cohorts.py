"""Win rate by cohort: confidence tier, asset, reason code and news source, each with its interval."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from eval.metrics import wilson_interval
from eval.tiers import confidence_tier
from eval.resolve import Resolution

DIMENSIONS = ("confidence", "asset", "reason", "source")


@dataclass(frozen=True)
class CohortRow:
    dimension: str  # one of DIMENSIONS
    value: str
    count: int
    hits: int
    win_rate: float
    win_low: float  # Wilson 95% interval
    win_high: float
    mean_probability: float  # what was said, to hold the win rate against
    mean_return: float  # mean log return in the signals' direction


_KEYS: dict[str, Callable[[Resolution], Iterable[str]]] = {
    "confidence": lambda r: (confidence_tier(r.signal.probability or 0.0),),
    "asset": lambda r: (r.signal.symbol,),
    "reason": lambda r: r.signal.reason_codes or ("(none)",),
    # A signal counts once for every source behind it; one without news counts as "(no news)".
    "source": lambda r: r.signal.sources or ("(no news)",),
}


def cohorts(resolved: Sequence[Resolution]) -> list[CohortRow]:
    """Rows for every cohort of resolved actionable signals, largest cohorts first within a dimension."""
    rows: list[CohortRow] = []
    for dimension in DIMENSIONS:
        groups: dict[str, list[Resolution]] = defaultdict(list)
        for r in resolved:
            if r.outcome is None:
                continue
            for value in dict.fromkeys(_KEYS[dimension](r)):
                groups[value].append(r)
        for value, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            rows.append(_row(dimension, value, members))
    return rows


def _row(dimension: str, value: str, members: list[Resolution]) -> CohortRow:
    hits = sum(1 for r in members if r.outcome is not None and r.outcome.hit)
    count = len(members)
    low, high = wilson_interval(hits, count)
    return CohortRow(
        dimension=dimension, value=value, count=count, hits=hits, win_rate=hits / count, win_low=low, win_high=high,
        mean_probability=sum(r.signal.probability or 0.0 for r in members) / count,
        mean_return=sum(r.outcome.realized_return for r in members if r.outcome is not None) / count,
    )
