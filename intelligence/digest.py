"""The digest model: what every channel renders, in the same order with the same facts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, Sequence, TypeVar

from intelligence.assets import CATALOGUE
from intelligence.evidence import evidence_line
from intelligence.signal import Signal
from intelligence.types import Direction


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


@dataclass(frozen=True)
class Digest:
    as_of: datetime
    sentiment_backend: str
    headline_count: int
    items: tuple[DigestItem, ...]
    problems: tuple[str, ...]
    as_of_basis: str = ""  # how as-of was chosen: "now" live, the newest headline for a snapshot

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


def build_digest(
    signals: Sequence[Signal],
    as_of: datetime,
    sentiment_backend: str,
    headline_count: int,
    problems: Sequence[str] = (),
) -> Digest:
    items = tuple(
        DigestItem(
            rank=i,
            symbol=s.symbol,
            name=CATALOGUE[s.symbol].name if s.symbol in CATALOGUE else s.symbol,
            direction=s.direction,
            probability=s.probability,
            conviction=s.conviction,
            reason_codes=s.reason_codes,
            evidence=evidence_line(s),
        )
        for i, s in enumerate(rank_signals(signals), start=1)
    )
    return Digest(as_of, sentiment_backend, headline_count, items, tuple(problems))
