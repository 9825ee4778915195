from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

from intelligence.types import Polarity

LABELS = ("positive", "negative", "neutral")


@runtime_checkable
class SentimentBackend(Protocol):
    """Scores texts; loading weights is the shell's job, scoring is pure."""

    name: str  # "finbert" or "embedded": shown in the digest and /status
    version: str  # changes whenever the scores could change; part of the score cache key

    def score(self, texts: Sequence[str]) -> list[Polarity]:
        """One Polarity per text, in order."""
        ...
