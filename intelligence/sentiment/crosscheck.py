"""The LLM polarity cross-check, the pure half: which headlines to ask about, what a valid answer is,
and how the answer is blended with the model's score.

The LLM never decides anything here: it nudges a headline's polarity by a configured weight, and a
reply that is not exactly the agreed shape is refused as a whole (no partial trust).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from intelligence.relevance import Mention
from intelligence.sentiment.base import LABELS
from intelligence.types import Headline, Polarity

# What the reply must look like; sent to the API as the structured-output schema and checked here.
REPLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["items"],
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "label", "polarity"],
                "properties": {
                    "id": {"type": "string"},
                    "label": {"type": "string", "enum": list(LABELS)},
                    "polarity": {"type": "number", "minimum": -1, "maximum": 1},
                },
            },
        }
    },
}


class ReplyError(ValueError):
    """The reply is not the agreed shape; the message says where, never quotes more than a field name."""


@dataclass(frozen=True)
class LlmVerdict:
    label: str
    polarity: float  # in [-1, 1]: -1 clearly bad news for an owner, +1 clearly good

    def distribution(self) -> Polarity:
        """The verdict as a distribution whose net score is `polarity`: |polarity| of the mass is polar."""
        p = self.polarity
        return Polarity(positive=max(p, 0.0), negative=max(-p, 0.0), neutral=1.0 - abs(p))


def select_headlines(
    mentions: Mapping[str, Sequence[Mention]],
    polarity: Mapping[str, Polarity],
    as_of: datetime,
    half_life: timedelta,
    top_n: int,
) -> dict[str, list[Headline]]:
    """Per asset, the `top_n` headlines that move its narrative most: |model score| x relevance x decay.

    Ties break on the content hash, so the choice does not depend on feed order.
    """
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1, got {top_n}")
    chosen: dict[str, list[Headline]] = {}
    for symbol, found in mentions.items():
        ranked = []
        for mention in found:
            headline = mention.headline
            score = polarity.get(headline.content_hash)
            if score is None:
                continue
            age = max((as_of - headline.published) / half_life, 0.0)
            weight = abs(score.score) * mention.relevance * 0.5**age
            ranked.append((-weight, headline.content_hash, headline))
        ranked.sort(key=lambda item: item[:2])
        unique: dict[str, Headline] = {}
        for _, content_hash, headline in ranked:
            unique.setdefault(content_hash, headline)
        chosen[symbol] = list(unique.values())[:top_n]
    return chosen


def parse_reply(reply: Any, expected_ids: Sequence[str]) -> dict[str, LlmVerdict]:
    """Verdicts by id; raises ReplyError unless the reply has exactly one valid item per expected id."""
    if not isinstance(reply, dict) or set(reply) != {"items"}:
        raise ReplyError("the reply must be an object with exactly the key 'items'")
    items = reply["items"]
    if not isinstance(items, list):
        raise ReplyError("'items' must be a list")
    verdicts: dict[str, LlmVerdict] = {}
    for number, item in enumerate(items):
        if not isinstance(item, dict) or set(item) != {"id", "label", "polarity"}:
            raise ReplyError(f"item {number} must have exactly the keys id, label, polarity")
        ident, label, value = item["id"], item["label"], item["polarity"]
        if not isinstance(ident, str) or ident not in expected_ids:
            raise ReplyError(f"item {number} has an id that was not asked about")
        if ident in verdicts:
            raise ReplyError(f"item {number} repeats an id")
        if label not in LABELS:
            raise ReplyError(f"item {number} has a label outside {', '.join(LABELS)}")
        # bool is an int in Python; JSON true is not a number.
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or abs(value) > 1:
            raise ReplyError(f"item {number} has a polarity that is not a number in [-1, 1]")
        if (label == "positive" and value <= 0) or (label == "negative" and value >= 0):
            raise ReplyError(f"item {number} has a label that contradicts its polarity")
        verdicts[ident] = LlmVerdict(label, float(value))
    missing = [i for i in expected_ids if i not in verdicts]
    if missing:
        raise ReplyError(f"the reply lacks {len(missing)} of the {len(expected_ids)} headlines asked about")
    return verdicts


def blend(model: Polarity, verdict: LlmVerdict, weight: float) -> Polarity:
    """(1 - weight) x model + weight x verdict, as distributions; the net score blends the same way."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be in [0, 1], got {weight}")
    other = verdict.distribution()
    return Polarity(
        positive=(1 - weight) * model.positive + weight * other.positive,
        negative=(1 - weight) * model.negative + weight * other.negative,
        neutral=(1 - weight) * model.neutral + weight * other.neutral,
    )
