"""The digest model: what every channel renders, in the same order with the same facts."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping, Protocol, Sequence, TypeVar

from intelligence.evidence import evidence_line
from intelligence.features import signal_features
from intelligence.prediction_markets import PredictionMarketsSection
from intelligence.signal import Signal
from intelligence.types import Direction


@dataclass(frozen=True)
class Story:
    """A headline as a digest quotes it: who said it, what, and when."""

    source: str
    title: str
    published: datetime | None


@dataclass(frozen=True)
class Move:
    """A simple return over a span of hours, ending at the last close."""

    hours: float
    change: float


@dataclass(frozen=True)
class DigestItem:
    rank: int
    symbol: str
    name: str
    direction: Direction
    probability: float | None
    conviction: float
    reason_codes: tuple[str, ...]
    evidence: str
    last_price: float | None = None
    moves: tuple[Move, ...] = ()  # longest span first
    lead: Story | None = None  # the story the call rests on most (or, for a hold, the loudest)
    # For a call: "proven" when its record shows the engine's edge at 95%, "none yet" while it does not
    # (the probability is then the base rate, or close to it); None for a hold or without a record.
    edge: str | None = None


@dataclass(frozen=True)
class Digest:
    as_of: datetime
    sentiment_backend: str
    headline_count: int
    items: tuple[DigestItem, ...]
    problems: tuple[str, ...]
    as_of_basis: str = ""  # how as-of was chosen: "now" live, the newest headline for a snapshot
    # The read-only Polymarket section after the ranked assets (TB_POLYMARKET=on); None when it is off.
    prediction_markets: PredictionMarketsSection | None = None

    @property
    def degraded(self) -> bool:
        return bool(self.problems)


class Rankable(Protocol):
    @property
    def actionable(self) -> bool: ...

    @property
    def conviction(self) -> float: ...

    @property
    def symbol(self) -> str: ...


R = TypeVar("R", bound=Rankable)


def rank_signals(signals: Sequence[R]) -> list[R]:
    """Signals to act on first, strongest first; then the rest by how close they came."""
    return sorted(signals, key=lambda s: (not s.actionable, -s.conviction, s.symbol))


# A story is quoted beside the lead only if it pushes at least this share as hard as the lead does.
LEAD_SHARE = 1 / 3


def lead_stories(features: Mapping[str, Any], sign: int, limit: int = 1) -> tuple[Story, ...]:
    """The headlines that push the narrative hardest the way `sign` says (+1 up, -1 down, 0 either way)."""
    def pushes(story: Mapping[str, Any]) -> bool:
        polarity = story.get("polarity", 0.0)
        return bool(polarity) if sign == 0 else sign * polarity > 0

    pushing = [h for h in features.get("narrative", {}).get("headlines", []) if pushes(h)]
    def push(story: Mapping[str, Any]) -> float:
        return abs(float(story.get("polarity", 0.0)) * float(story.get("weight", 0.0)))

    pushing.sort(key=lambda h: -push(h))
    pushing = [h for h in pushing if push(h) >= LEAD_SHARE * push(pushing[0])]
    return tuple(Story(h.get("source", "?"), h.get("title", ""),
                       datetime.fromisoformat(h["published"]) if h.get("published") else None) for h in pushing[:limit])


def price_moves(features: Mapping[str, Any]) -> tuple[float | None, tuple[Move, ...]]:
    """The last close and the simple return over each timescale, longest first."""
    price = features.get("price", {})
    spans, returns = price.get("timescale_hours", {}), price.get("returns", {})
    moves = sorted((Move(float(spans[name]), math.expm1(value)) for name, value in returns.items()
                    if name in spans and value is not None and math.isfinite(value)), key=lambda m: -m.hours)
    return price.get("last_close"), tuple(moves)


def digest_item(rank: int, symbol: str, name: str, direction: Direction, probability: float | None, conviction: float,
                reason_codes: tuple[str, ...], evidence: str, features: Mapping[str, Any]) -> DigestItem:
    """One row, with the price and the lead story taken from the signal's stored numbers."""
    last, moves = price_moves(features)
    sign = {Direction.BUY: 1, Direction.SELL: -1}.get(direction, 0)
    lead = lead_stories(features, sign)
    return DigestItem(rank, symbol, name, direction, probability, conviction, reason_codes, evidence, last, moves,
                      lead[0] if lead else None, edge_status(features, direction))


def edge_status(features: Mapping[str, Any], direction: Direction) -> str | None:
    """'proven' or 'none yet' as the call's stored numbers say (intelligence/features.py); None for a hold
    or a signal stored before its features kept it."""
    if direction is Direction.HOLD:
        return None
    edge = (features.get("probability") or {}).get("edge")
    return edge.get("status") if isinstance(edge, Mapping) else None


def build_digest(
    signals: Sequence[Signal],
    as_of: datetime,
    sentiment_backend: str,
    headline_count: int,
    problems: Sequence[str] = (),
    names: Mapping[str, str] | None = None,
) -> Digest:
    """The digest of a cycle's signals; `names` are the assets' display names by symbol (the catalogue's)."""
    names = names or {}
    items = tuple(
        digest_item(i, s.symbol, names.get(s.symbol, s.symbol), s.direction, s.probability, s.conviction,
                    s.reason_codes, evidence_line(s, names.get(s.symbol)), signal_features(s, 1.0))
        for i, s in enumerate(rank_signals(signals), start=1)
    )
    return Digest(as_of, sentiment_backend, headline_count, items, tuple(problems))
