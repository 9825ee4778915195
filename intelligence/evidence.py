"""Evidence lines: one plain sentence per signal, built from its own facts, with no numbers in it.

Numbers stay in the stored signal; chat gets words a trader can check against the tape.
"""
from __future__ import annotations

import re
from typing import Sequence

from intelligence.assets import CATALOGUE
from intelligence.narrative import NarrativeScore
from intelligence.price import PriceScore
from intelligence.signal import Signal, VOLUME_HIGH, VOLUME_LOW
from intelligence.types import Direction

_DIGIT = re.compile(r"\d")
MAX_QUOTE_LENGTH = 90
# A headline quoted as the lead story must itself lean this far: a near-neutral title
# quoted under a bullish call would misrepresent the case.
LEAD_MIN_POLARITY = 0.2
_TIMESCALE_WORDS = {"short": "in recent hours", "mid": "over the day", "long": "over the past few days"}


def has_number(text: str) -> bool:
    return bool(_DIGIT.search(text))


def join_names(names: Sequence[str]) -> str:
    names = [n for n in names if not has_number(n)]
    if not names:
        return ""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _move(score: float) -> str:
    size = abs(score)
    if size < 0.15:
        return "flat"
    verb = ("edging up", "rising", "rallying hard") if score > 0 else ("edging down", "slipping", "selling off hard")
    return verb[0] if size < 0.4 else verb[1] if size < 0.75 else verb[2]


def describe_tape(price: PriceScore) -> str:
    """'has been rising over the day but flat in recent hours' — each timescale that says something new."""
    phrases: list[str] = []
    seen: set[str] = set()
    for name in ("mid", "long", "short"):
        if name not in price.timescales:
            continue
        move = _move(price.timescales[name])
        if move in seen:
            continue
        seen.add(move)
        phrases.append(f"{move} {_TIMESCALE_WORDS[name]}")
    if not phrases:
        return "the tape has too little history to read"
    text = "the tape is " + (phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " but " + phrases[-1])
    if price.volume_ratio >= VOLUME_HIGH:
        text += " on heavy volume"
    elif price.volume_ratio <= VOLUME_LOW:
        text += " on light volume"
    return text


def _lead_story(narrative: NarrativeScore, direction: Direction) -> str:
    wanted = {Direction.BUY: 1, Direction.SELL: -1}.get(direction, 0)
    for c in narrative.contributions:
        lean = (c.polarity >= LEAD_MIN_POLARITY) - (c.polarity <= -LEAD_MIN_POLARITY)
        if lean and (wanted == 0 or lean == wanted) and not has_number(c.title) and len(c.title) <= MAX_QUOTE_LENGTH:
            return f"lead story: \u201c{c.title}\u201d"
    return ""


def _sources_clause(narrative: NarrativeScore, direction: Direction, name: str) -> str:
    bulls, bears = join_names(narrative.sources_positive), join_names(narrative.sources_negative)
    if direction is Direction.SELL:
        main, other, lean = bears, bulls, "bearish"
    else:
        main, other, lean = bulls, bears, "bullish"
    verb = "leans" if main and " and " not in main else "lean"
    clause = f"{main} {verb} {lean} on {name}" if main else f"coverage of {name} leans {lean}"
    if other:
        clause += f" though {other} {'leans' if ' and ' not in other else 'lean'} the other way"
    return clause


def _invalidation(signal: Signal) -> str:
    if signal.direction is Direction.BUY:
        return "It is wrong if price keeps sliding while the coverage stays upbeat."
    if signal.direction is Direction.SELL:
        return "It is wrong if buyers lift price while the coverage stays sour."
    return "No trade."


def evidence_line(signal: Signal) -> str:
    name = CATALOGUE[signal.symbol].name if signal.symbol in CATALOGUE else signal.symbol
    narrative, tape = signal.narrative, describe_tape(signal.price)
    primary = signal.reason_codes[0]
    if primary == "NO_NEWS":
        body = f"No relevant coverage of {name} in the window, and {tape}"
    elif primary == "WEAK_NARRATIVE":
        sources = join_names(sorted({c.source for c in narrative.contributions}))
        body = f"Coverage of {name} from {sources or 'the feeds'} takes no clear side, and {tape}"
    elif primary == "PRICE_AHEAD_OF_STORY":
        lean = Direction.BUY if narrative.score > 0 else Direction.SELL
        body = f"{_capital(_sources_clause(narrative, lean, name))}, but {tape}, already past what the story supports"
    elif primary == "NO_EDGE":
        lean = Direction.BUY if narrative.score > 0 else Direction.SELL
        body = f"{_capital(_sources_clause(narrative, lean, name))} and {tape}, neither far enough apart nor firmly together to act on"
    elif primary.startswith("CONFIRMED"):
        body = f"{_capital(_sources_clause(narrative, signal.direction, name))} and {tape}, so story and tape agree"
    else:
        body = f"{_capital(_sources_clause(narrative, signal.direction, name))} while {tape}"
    lead = _lead_story(narrative, signal.direction)
    line = f"{body}; {lead}. {_invalidation(signal)}" if lead else f"{body}. {_invalidation(signal)}"
    if has_number(line):  # an asset or source name with a digit; never let a number through
        line = _DIGIT.sub("", line)
    return line


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
