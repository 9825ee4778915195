"""Who forecasts better: the crowd, the engine and the base rate, scored on the same resolved market questions.

A pair is a resolved prediction market with a snapshot where the engine's call was comparable
(intelligence/prediction_markets.py: same asset, a direction event, a market ending within half a
horizon of the horizon's end, seen when the call was made). For each market the earliest such
snapshot is used, so the three forecasts are made at one moment and each market counts once:

- the market: its implied P(Yes) at that snapshot;
- the engine: its P(Yes) then (P(up) for Up and Above markets, 1 - P(up) for Below);
- the climatology: the walk-forward base rate of up moves known before that moment, (ups+1)/(moves+2),
  turned into P(Yes) the same way (eval/baselines.py's climatology, on the same history).

The outcome is the market's own resolution. Brier and log-loss are computed with eval/metrics.py.
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime
from typing import Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from eval import metrics
from eval.baselines import KnownMove
from storage.market_models import MarketSnapshotRow, PredictionMarketRow

FORECASTERS = ("market", "engine", "climatology")
LABELS = {"market": "the crowd", "engine": "the engine", "climatology": "the base rate"}
# Fewer resolved pairs than this and the comparison says, in a sentence, that it cannot judge yet.
MIN_PAIRS = 30
DEFINITION = ("resolved prediction markets whose earliest snapshot had a comparable engine call (same asset, direction "
              "event, market end within half a horizon of the horizon's end); each scored once on its own resolution: "
              "market = implied P(Yes), engine = its P(Yes), climatology = walk-forward up-move base rate as P(Yes)")


@dataclass(frozen=True)
class MarketPair:
    market_id: str
    symbol: str
    kind: str
    seen_at: datetime
    market: float  # the crowd's P(Yes)
    engine: float  # the engine's P(Yes)
    outcome: bool  # resolved Yes (Up)


@dataclass(frozen=True)
class ForecastScore:
    brier: float
    log_loss: float


@dataclass(frozen=True)
class MarketComparison:
    count: int
    scores: dict[str, ForecastScore]  # by forecaster; empty when nothing has resolved
    by_symbol: dict[str, int]
    markets_seen: int  # markets in the store, resolved or not
    note: str | None
    pairs: list[MarketPair] = field(default_factory=list)

    @property
    def best(self) -> str | None:
        if not self.scores:
            return None
        return min(self.scores, key=lambda name: (self.scores[name].brier, FORECASTERS.index(name)))


def load_pairs(session: Session) -> tuple[list[MarketPair], int]:
    """Every resolved market with a comparable snapshot (its earliest), and how many markets the store holds."""
    markets = {row.market_id: row for row in session.scalars(select(PredictionMarketRow))}
    rows = session.execute(
        select(MarketSnapshotRow.market_id, MarketSnapshotRow.seen_at, MarketSnapshotRow.implied_probability,
               MarketSnapshotRow.engine_probability)
        .join(PredictionMarketRow, PredictionMarketRow.market_id == MarketSnapshotRow.market_id)
        .where(MarketSnapshotRow.comparable.is_(True), MarketSnapshotRow.engine_probability.is_not(None),
               PredictionMarketRow.outcome.is_not(None))
        .order_by(MarketSnapshotRow.seen_at, MarketSnapshotRow.id))
    pairs: dict[str, MarketPair] = {}
    for market_id, seen_at, implied, engine in rows:
        if market_id in pairs:
            continue
        market = markets[market_id]
        assert market.outcome is not None and engine is not None
        pairs[market_id] = MarketPair(market_id, market.symbol, market.kind, seen_at, implied, engine, market.outcome)
    return sorted(pairs.values(), key=lambda p: (p.seen_at, p.market_id)), len(markets)


def climatology_yes(pairs: Sequence[MarketPair], history: Sequence[KnownMove]) -> np.ndarray:
    """The base rate of up moves known strictly before each pair's moment, as P(Yes) of its market."""
    moves = sorted(history, key=lambda m: m.known_at)
    known_at = [m.known_at for m in moves]
    ups = np.cumsum([0, *(m.up for m in moves)])
    found = []
    for pair in pairs:
        seen = bisect_left(known_at, pair.seen_at)  # known strictly before the snapshot
        up = (ups[seen] + 1.0) / (seen + 2.0)
        found.append(1.0 - up if pair.kind == "below" else up)
    return np.array(found, dtype=float)


def compare_forecasters(pairs: Sequence[MarketPair], history: Sequence[KnownMove], markets_seen: int) -> MarketComparison:
    by_symbol: dict[str, int] = {}
    for pair in pairs:
        by_symbol[pair.symbol] = by_symbol.get(pair.symbol, 0) + 1
    if not pairs:
        return MarketComparison(0, {}, {}, markets_seen,
                                "No prediction market set beside an engine call has resolved yet.")
    y = np.array([p.outcome for p in pairs], dtype=float)
    forecasts = {"market": np.array([p.market for p in pairs]), "engine": np.array([p.engine for p in pairs]),
                 "climatology": climatology_yes(pairs, history)}
    scores = {name: ForecastScore(metrics.brier(p, y), metrics.log_loss(p, y)) for name, p in forecasts.items()}
    note = None
    if len(pairs) < MIN_PAIRS:
        note = (f"Only {len(pairs)} market{'s' if len(pairs) != 1 else ''} set beside an engine call "
                f"{'have' if len(pairs) != 1 else 'has'} resolved, too few to say who forecasts better "
                f"(at least {MIN_PAIRS} are needed); read these numbers as provisional.")
    return MarketComparison(len(pairs), scores, by_symbol, markets_seen, note, list(pairs))


def market_comparison(session: Session, history: Sequence[KnownMove]) -> MarketComparison | None:
    """The comparison from the store; None when it has never seen a prediction market (TB_POLYMARKET off)."""
    pairs, seen = load_pairs(session)
    if not seen:
        return None
    return compare_forecasters(pairs, history, seen)


def comparison_document(comparison: MarketComparison | None) -> dict[str, object] | None:
    if comparison is None:
        return None
    return {
        "count": comparison.count,
        "markets_seen": comparison.markets_seen,
        "brier": {name: s.brier for name, s in comparison.scores.items()},
        "log_loss": {name: s.log_loss for name, s in comparison.scores.items()},
        "best_by_brier": comparison.best,
        "by_symbol": comparison.by_symbol,
        "note": comparison.note,
        "definition": DEFINITION,
    }


def comparison_lines(comparison: MarketComparison | None) -> tuple[str, ...]:
    """The weekly summary's "who forecasts better" sentences (empty when no market was ever seen)."""
    if comparison is None:
        return ()
    if not comparison.scores:
        return (comparison.note or "",)
    s = comparison.scores
    lines = [f"On {comparison.count} resolved market question{'s' if comparison.count != 1 else ''} asked the engine's "
             f"way: Brier {s['market'].brier:.3f} for the crowd, {s['engine'].brier:.3f} for the engine, "
             f"{s['climatology'].brier:.3f} for the base rate (lower is better); log-loss {s['market'].log_loss:.3f}, "
             f"{s['engine'].log_loss:.3f}, {s['climatology'].log_loss:.3f}."]
    lines.append(comparison.note or f"Best so far: {LABELS[comparison.best or 'market']}.")
    return tuple(lines)
