"""Evidence lines: a few plain sentences per signal, built from its own facts, with no numbers in them.

What leans which way and who says so, the story it rests on (quoted), how the tape reads on each
timescale and where it disagrees with the story, what weakens the case (a hype cascade, echoes,
one voice), and what would prove the call wrong. Numbers stay in the stored signal and the run's
artifact; chat gets words a trader can check against the tape.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Sequence

from intelligence.narrative import Contribution, NarrativeScore
from intelligence.signal import VOLUME_HIGH, VOLUME_LOW, Signal
from intelligence.types import Direction

if TYPE_CHECKING:  # annotations only: the digest (status, chat) must not load numpy
    from intelligence.price import PriceScore

_DIGIT = re.compile(r"\d")
# A number in a quoted title, with its currency sign, unit or suffix ("$5K", "260%", "11,000"): the
# quote keeps the words and shows "…" where a number was, since the numbers live in the artifact.
_NUMBER = re.compile(r"[$€£¥]?\d[\d,.]*(?:\s?(?:%|percent\b|bn\b|mn\b|[kKmMbBtTxX]\b|st\b|nd\b|rd\b|th\b))?")
MAX_ELIDED = 2  # more numbers than this and the title is mostly figures: not quoted
MAX_QUOTE_LENGTH = 110
# A headline quoted as the lead story must itself lean this far: a near-neutral title
# quoted under a bullish call would misrepresent the case.
LEAD_MIN_POLARITY = 0.2
_NAMED_WORDS = {"short": "in recent hours", "mid": "over the day", "long": "over the past few days"}
_ORDER = ("mid", "long", "short")


def has_number(text: str) -> bool:
    return bool(_DIGIT.search(text))


def join_names(names: Sequence[str]) -> str:
    names = [n for n in names if not has_number(n)]
    if not names:
        return ""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def span_words(name: str, span: timedelta | None, daily: bool) -> str:
    """A timescale in words: 'over the last session', 'over the past week', 'in recent hours'."""
    if span is None:
        return _NAMED_WORDS.get(name, f"on the {name} timescale")
    if daily:
        if span <= timedelta(days=1):
            return "over the last session"
        return "over the past week" if span <= timedelta(days=8) else "over the past month"
    if span <= timedelta(hours=6):
        return "in recent hours"
    return "over the day" if span <= timedelta(days=1) else "over the past few days"


def _is_daily(price: PriceScore) -> bool:
    return bool(price.horizons) and min(price.horizons.values()) >= timedelta(days=1)


def _move(score: float) -> str:
    size = abs(score)
    if size < 0.15:
        return "flat"
    verb = ("edging up", "rising", "rallying hard") if score > 0 else ("edging down", "slipping", "selling off hard")
    return verb[0] if size < 0.4 else verb[1] if size < 0.75 else verb[2]


def _span(price: PriceScore, name: str) -> str:
    return span_words(name, price.horizons.get(name), _is_daily(price))


def describe_tape(price: PriceScore) -> str:
    """'the tape is slipping over the past week and the past month but flat over the last session, near the
    bottom of its range, on heavy volume': every timescale, grouped by how it moves."""
    names = [n for n in (*_ORDER, *sorted(set(price.timescales) - set(_ORDER))) if n in price.timescales]
    if not names:
        return "the tape has too little history to read"
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(_move(price.timescales[name]), []).append(_span(price, name))
    phrases = [f"{move} {_join_spans(spans)}" for move, spans in groups.items()]
    text = "the tape is " + (phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + " but " + phrases[-1])
    text += _range_words(price)
    if price.volume_ratio >= VOLUME_HIGH:
        return text + " on heavy volume"
    if price.volume_ratio <= VOLUME_LOW:
        return text + " on light volume"
    return text + " on ordinary volume"


def _join_spans(spans: list[str]) -> str:
    """'over the last session', 'over the past week' -> 'over the last session and the past week'."""
    if len(spans) == 1:
        return spans[0]
    shared = "over " if all(s.startswith("over ") for s in spans) else ""
    parts = [s.removeprefix(shared) if i else s for i, s in enumerate(spans)]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _range_words(price: PriceScore) -> str:
    position = price.range_position
    if position is None or not price.horizons:
        return ""
    longest = max(price.horizons, key=price.horizons.__getitem__)
    span = _span(price, longest).removeprefix("over ").removeprefix("in ")
    if position >= 0.85:
        return f", near the top of its range for {span},"
    if position <= 0.15:
        return f", near the bottom of its range for {span},"
    return ""


def quote_text(title: str) -> str:
    """The title as it can be quoted in a number-free line, numbers shown as "…"; '' when it cannot be."""
    if "\u201c" in title:
        return ""
    elided, count = _NUMBER.subn("\u2026", title)
    elided = re.sub(r"\u2026(?:[\s\u2026-]*\u2026)+", "\u2026", elided)
    if count > MAX_ELIDED or has_number(elided) or len(elided) > MAX_QUOTE_LENGTH:
        return ""
    return elided


def _quotable(c: Contribution) -> bool:
    return bool(quote_text(c.title))


def _story(narrative: NarrativeScore, wanted: int) -> Contribution | None:
    for c in narrative.contributions:
        lean = (c.polarity >= LEAD_MIN_POLARITY) - (c.polarity <= -LEAD_MIN_POLARITY)
        if lean and (wanted == 0 or lean == wanted) and _quotable(c):
            return c
    return None


def _kind_words(c: Contribution) -> str:
    if not c.speculation:
        return ""
    return ", a question rather than a report" if c.speculation.endswith("?") else ", a guess rather than a report"


def _lead_story(signal: Signal, direction: Direction) -> str:
    narrative, as_of = signal.narrative, signal.as_of
    wanted = {Direction.BUY: 1, Direction.SELL: -1}.get(direction, 0)
    # When one story carries the case, that story is the one to show, quotable or not.
    carrier = narrative.contributions[0] if "ONE_STORY_CARRIES" in signal.reason_codes else None
    lead = carrier or _story(narrative, wanted)
    if lead is None or has_number(lead.source):
        return ""
    echo = f", echoed by {join_names(lead.echoes)}" if lead.echoes and join_names(lead.echoes) else ""
    # How fresh the lead is: a story from the last day and one from last week carry different weight.
    when = f" {_age_words(as_of - lead.published)}" if lead.published else ""
    opening = "one story carries it" if carrier else "lead story"
    quoted = quote_text(lead.title)
    text = f"{opening}, from {lead.source}{when}" if carrier else f"{opening} from {lead.source}{when}"
    if quoted:
        text += f": \u201c{quoted}\u201d"
    return text + _kind_words(lead) + echo


def _age_words(age: timedelta) -> str:
    if age < timedelta(days=1):
        return "within the last day"
    if age < timedelta(days=7):
        return "earlier in the week"
    return "last week" if age < timedelta(days=14) else "weeks ago"


def _last_story(narrative: NarrativeScore, as_of: datetime) -> str:
    last = narrative.previous
    if last is None or has_number(last.source):
        return ""
    when = f" {_age_words(as_of - last.published)}" if last.published else ""
    if _quotable(last):
        return f"; the last story, from {last.source}{when}, was \u201c{quote_text(last.title)}\u201d"
    return f"; the last story came from {last.source}{when}"


def _counter_story(narrative: NarrativeScore, lean: int) -> str:
    against = _story(narrative, -lean) if lean else None
    if against is None:
        return ""
    return f" Against it, {against.source} runs \u201c{quote_text(against.title)}\u201d{_kind_words(against)}."


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


def _disagreement(signal: Signal) -> str:
    """Where the story leads the tape, per timescale: the part of the case a trader can check."""
    lean = 1 if signal.narrative.score > 0 else -1
    spans = [_span(signal.price, n) for n in signal.price.timescales
             if f"DIVERGENT_{n.upper()}" in signal.reason_codes]
    if not spans:
        return ""
    ahead = "more upbeat" if lean > 0 else "gloomier"
    return f"The story is {ahead} than the tape {join_names(spans)}."


def _caveats(narrative: NarrativeScore, codes: Sequence[str]) -> str:
    notes = []
    if "MOSTLY_SPECULATION" in codes:
        notes.append("most of the case is questions and guesses rather than reports, and they count for less")
    if narrative.hype is not None and narrative.hype.flagged:
        mood = "bullish" if narrative.hype.side > 0 else "bearish"
        notes.append(f"a sudden burst of {mood} headlines looks like a cascade and counts for less")
    if narrative.echoes:
        notes.append("other outlets repeating a story add little to it")
    if narrative.source_count == 1 and narrative.contributions:
        notes.append(f"only {narrative.contributions[0].source} carries it")
    return (" " + _capital("; ".join(notes)) + ".") if notes else ""


def _extreme_span(signal: Signal, lean: int) -> str:
    """The timescale on which the tape moves most in `lean`'s direction, in words."""
    if not signal.price.timescales:
        return ""
    name = max(signal.price.timescales, key=lambda n: (lean * signal.price.timescales[n], n))
    return _span(signal.price, name)


def _lead_source(narrative: NarrativeScore, lean: int) -> str:
    for c in narrative.contributions:
        if c.polarity * lean > 0 and not has_number(c.source):
            return c.source
    return ""


def _invalidation(signal: Signal) -> str:
    primary = signal.reason_codes[0]
    if signal.actionable:
        lean = 1 if signal.direction is Direction.BUY else -1
        lead = _lead_source(signal.narrative, lean)
        turn = f" or {lead} turns {'sour' if lean > 0 else 'upbeat'}" if lead else ""
        if primary.startswith("CONFIRMED"):
            move = "rise" if lean > 0 else "fall"
            return f"It is wrong if the {move} {_extreme_span(signal, lean)} reverses{turn}."
        against = _extreme_span(signal, -lean)
        if lean > 0:
            return f"It is wrong if price keeps sliding {against} while the coverage stays upbeat{turn}."
        return f"It is wrong if buyers keep lifting price {against} while the coverage stays sour{turn}."
    return {
        "NO_NEWS": "No trade until the news takes a side.",
        "WEAK_NARRATIVE": "No trade until the coverage takes a side.",
        "PRICE_AHEAD_OF_STORY": "No trade: the move the story supports has already happened.",
        "NEGATIVE_CONFIRMATION": "No trade while the tape contradicts the story this firmly.",
    }.get(primary, "No trade: it would take the story pulling further ahead of the tape.")


def _record_words(signal: Signal) -> str:
    """Why a call's probability stands below one half: its record, or the market's base rate."""
    codes = signal.reason_codes
    below = signal.probability is not None and signal.probability < 0.5
    worth = ", so it is not worth a trade." if below else "."
    if "TRACK_RECORD_AGAINST" in codes:
        return f" Calls like this have lately done worse than the market's own base rate{worth}"
    if "BASE_RATE_AGAINST" in codes:
        edge = "more than the proven edge makes up" if "EDGE_PROVEN" in codes else "and no edge is proven yet"
        return f" The market has moved this way less often than not over such a horizon, {edge}{worth}"
    return ""


def evidence_line(signal: Signal, name: str | None = None) -> str:
    """One plain sentence on the signal; `name` is the asset's display name (default: its symbol)."""
    name = name or signal.symbol
    narrative, tape = signal.narrative, describe_tape(signal.price)
    primary = signal.reason_codes[0]
    lean = Direction.BUY if narrative.score > 0 else Direction.SELL
    if primary == "NO_NEWS":
        body = f"No relevant coverage of {name} in the window{_last_story(narrative, signal.as_of)}, and {tape}"
    elif primary == "WEAK_NARRATIVE":
        sources = join_names(sorted({c.source for c in narrative.contributions}))
        body = f"Coverage of {name} from {sources or 'the feeds'} takes no clear side, and {tape}"
    elif primary == "PRICE_AHEAD_OF_STORY":
        body = f"{_capital(_sources_clause(narrative, lean, name))}, but {tape}, already past what the story supports"
    elif primary == "NEGATIVE_CONFIRMATION":
        body = f"{_capital(_sources_clause(narrative, lean, name))}, but {tape}, firmly the other way"
    elif primary == "NO_EDGE":
        body = f"{_capital(_sources_clause(narrative, lean, name))} and {tape}, neither far enough apart nor firmly together to act on"
    elif primary.startswith("CONFIRMED"):
        body = f"{_capital(_sources_clause(narrative, signal.direction, name))} and {tape}, so story and tape agree"
    else:
        body = f"{_capital(_sources_clause(narrative, signal.direction, name))} while {tape}"
    lead = _lead_story(signal, signal.direction if signal.actionable else lean)
    line = f"{body}; {lead}." if lead else f"{body}."
    if primary.startswith("DIVERGENCE"):
        disagreement = _disagreement(signal)
        line += f" {disagreement}" if disagreement else ""
        line += _counter_story(narrative, 1 if signal.direction is Direction.BUY else -1)
    line += _caveats(narrative, signal.reason_codes)
    line += _record_words(signal)
    line += " " + _invalidation(signal)
    if has_number(line):  # an asset or source name with a digit; never let a number through
        line = _DIGIT.sub("", line)
    return line


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
