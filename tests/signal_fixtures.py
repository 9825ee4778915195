"""Builders for the engine's score objects, for tests that need a PriceScore or NarrativeScore by hand."""
from __future__ import annotations

from datetime import datetime, timedelta

from intelligence.narrative import Contribution, NarrativeScore
from intelligence.price import PriceScore

DAY = timedelta(days=1)
DAILY_SPANS = {"short": DAY, "mid": 7 * DAY, "long": 28 * DAY}


def make_price(short: float, mid: float, long: float, as_of: datetime, volume_ratio: float = 1.0,
               spans: dict[str, timedelta] | None = None) -> PriceScore:
    scores = {"short": short, "mid": mid, "long": long}
    return PriceScore(
        score=0.25 * short + 0.4 * mid + 0.35 * long, timescales=scores, returns=dict(scores), volatility=0.01,
        volume_ratio=volume_ratio, aligned=len({s > 0 for s in scores.values()}) == 1 and 0 not in scores.values(),
        last_close=100.0, last_bar_end=as_of, bars_used=60, problems=(), horizons=dict(spans or {}),
    )


def make_narrative(score: float, titles: tuple[str, ...] = ("Wall Street roars back as trade war fears fade",),
                   sources: tuple[str, ...] = ("Reuters",), mass: float = 2.0) -> NarrativeScore:
    sign = 0.8 if score > 0 else -0.8
    contributions = tuple(Contribution(f"h{i}", sources[i % len(sources)], t, sign, 0.5) for i, t in enumerate(titles))
    lean = tuple(dict.fromkeys(sources))
    return NarrativeScore(score, score, mass, len(titles), 0, lean if score > 0 else (), lean if score < 0 else (),
                          contributions, mean=score, headlines_seen=len(titles), effective_sources=float(len(lean)))
