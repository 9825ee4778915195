"""Is a headline a report (something happened, was done, decided or said) or speculation (a question,
or a guess at where a price or market goes)?

"Ether rallied last time this happened: can ETH reach $5K?" tells a reader nothing has happened yet;
"Bitcoin plunges below $90K" says something did. The narrative weighs the first less
(intelligence/narrative.py). The cues are the grammar headlines use to mark a guess, in any market:

- a question: a clause ending in "?" that opens like one ("Is…", "Can…", "Will…", "What…") or asks
  about a move ("Markets ready to hit new highs?"); "why"/"how" questions are explainers of
  something that is happening and do not count, nor do short teasers ("Bright future? …");
- "could" or "might": a possibility is a guess whatever it is about;
- a forecast verb ("may", "will", "set to", "poised to", "primed to", "on track to", "augurs",
  "forecasts") followed within a few words by a market move ("soar", "hit", "rally", "fall",
  "higher", "upside", "rebound", "peak", …), or a move said to lie ahead ("more pain ahead");
- a move said not to be over ("isn't done falling", "hasn't bottomed yet");
- a price target or prediction by name ("price target", "price prediction", "upside", "downside",
  "the 2,800 level", "predicts"), or a what-next ("what happens next", "what's next").

Measured on real headlines (tests/data/headline_kinds.csv, its rule in headline_kinds.md;
tests/test_headline_kind.py holds the figures). Pure: text in, kind out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Kind(str, Enum):
    REPORT = "report"
    SPECULATION = "speculation"


@dataclass(frozen=True)
class HeadlineKind:
    kind: Kind
    cue: str = ""  # the words that marked it as speculation; empty for a report

    @property
    def speculative(self) -> bool:
        return self.kind is Kind.SPECULATION


# Verbs that move a price or a market (any inflection), and the words for where it ends up.
_MOVE_VERBS = (
    "soar", "surge", "rall", "rebound", "recover", "climb", "rise", "rising", "rose", "jump", "gain", "hit", "reach",
    "top", "break", "double", "triple", "tank", "crash", "plunge", "tumble", "fall", "fell", "drop", "slid", "sink",
    "slump", "decline", "peak", "bottom", "overtake", "boost", "signal", "disrupt", "derail", "outperform",
    "underperform", "bounce", "spike", "collapse", "explode", "pump", "dump", "sell", "correct", "lead to", "slow down",
)
_MOVE_WORDS = (
    r"highs|lows|upside|downside|pain|gloom|boon|boom|bust|recession|pullback|sell-?off|downturn|upturn|bull run|"
    r"bull markets?|bear markets?|new highs?|record highs?|tipping point|turnaround|comeback|breakout|volatility|"
    r"moon|move|room to run|strong start|"
    # "higher" and "lower" as where a price goes ("go higher"), not as adjectives ("higher tariffs").
    r"(?:go|move|trade|head|push|drive|end|close|finish|open|climb|rise|sink|fall|send|run)\w* (?:\w+ )?(?:higher|lower)"
)
_MOVES = "|".join(f"{v}\\w*" if " " not in v else v for v in _MOVE_VERBS) + "|" + _MOVE_WORDS
_MOVE = re.compile(rf"\b(?:{_MOVES})\b")
# Possibility and forecast markers: a guess when a market move follows. "may" is matched in lower
# case only (see _modal_text). "could have been" and "might've" look back, not ahead, and do not count.
_MODAL = re.compile(
    r"\b(?:could|might|may|would|will|won't|about to|set to|looks set|poised to|primed to|ready to|"
    r"likely to|expected to|on track (?:to|for)|on course (?:to|for)|tipped to|augurs?|chance of|odds of)\b"
    r"(?! have (?:been|\w+ed)\b|'ve\b)"
)
_WINDOW = 5  # words after the marker in which the move must appear, not counting the small ones below
_FILLER = {"a", "an", "the", "to", "into", "of", "for", "its", "their", "be", "been", "even", "much", "more", "further"}
# A move said not to be over yet: "isn't done falling", "hasn't bottomed yet".
_UNFINISHED = re.compile(r"\b(?:isn't|is not|hasn't|has not|haven't|not)\b(?:\s+\S+){0,3}?\s+(?:done|yet|over)\b")
_NAMED = re.compile(
    r"\b(?:price (?:target|prediction|forecast)s?|(?:upside|downside) targets?|more (?:upside|downside)|"
    r"limited (?:upside|downside)|predicts|what'?s next|what is next|happens next|where next|if history repeats|"
    r"(?:rally|rallies|gains|losses|pain|volatility|correction|downturn|upside|downside|sell-?off) (?:is |are )?"
    r"(?:ahead|in store)|"
    # Reading the future off a chart: "charts show more upside", "charts forecast further declines".
    r"charts? (?:show|suggest|signal|indicate|point|forecast|predict)\w*|"
    r"[\d][\d,.]*k? level)\b"
)
_INTERROGATIVE = {"is", "are", "will", "would", "can", "could", "should", "shall", "do", "does",
                  "has", "have", "may", "might", "what", "where", "when", "who", "which", "whose"}
# "Why…?", "How…?" and questions about the past ("What went wrong at …?") explain what happened.
_EXPLAINER = {"why", "how"}
_PAST = {"was", "were", "did", "went", "happened", "made", "caused"}
_CLAUSE = re.compile(r"[^?!:;|\u2014\u2013]+[?!:;|\u2014\u2013]?|[?!:;|\u2014\u2013]")
_WORD = re.compile(r"[a-z0-9$][a-z0-9$',.%k]*")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def classify_headline(title: str) -> HeadlineKind:
    text = " ".join(title.translate(_QUOTES).split())
    lowered = text.lower()
    question = _question(text)
    if question:
        return HeadlineKind(Kind.SPECULATION, question)
    named = _NAMED.search(lowered)
    if named:
        return HeadlineKind(Kind.SPECULATION, named.group(0))
    modal = _modal_move(_modal_text(text))
    if modal:
        return HeadlineKind(Kind.SPECULATION, modal)
    for clause in _CLAUSE.findall(lowered):
        unfinished = _UNFINISHED.search(clause)
        if unfinished and _MOVE.search(clause):
            return HeadlineKind(Kind.SPECULATION, unfinished.group(0))
    return HeadlineKind(Kind.REPORT)


def _question(text: str) -> str:
    """The first clause that asks an open question, or ''."""
    clauses: list[str] = _CLAUSE.findall(text)
    for clause in clauses:
        if not clause.endswith("?"):
            continue
        words = _WORD.findall(clause.lower().strip(" '\""))
        if not words or words[0] in _EXPLAINER or words[0] in _PAST or (len(words) > 1 and words[1] in _PAST):
            continue
        if words[0] in _INTERROGATIVE or _MOVE.search(" ".join(words)):
            return clause.strip()
    return ""


def _modal_text(text: str) -> str:
    """Lower case, except that a capitalised "May" stays a name ("Theresa May", "May says") unless the
    headline capitalises nearly every word, as crypto and US outlets do ("Bitcoin May Drop")."""
    words = text.split()
    capitalised = sum(1 for w in words if w[:1].isupper()) / max(1, len(words))
    if capitalised >= 0.7:
        return text.lower()
    return " ".join(w if w.startswith("May") else w.lower() for w in words)


def _modal_move(text: str) -> str:
    for marker in _MODAL.finditer(text):
        # The move must belong to the same clause: "…could destabilize region, lira slide continues" does not count.
        rest = re.split(r"[,;:!?\u2014\u2013]| - ", text[marker.end():], maxsplit=1)[0]
        window = " ".join(_content_window(rest.split()))
        move = _MOVE.search(window)
        if move:
            return f"{marker.group(0)} \u2026 {move.group(0)}"
    return ""


def _content_window(words: list[str]) -> list[str]:
    """The words up to the _WINDOW-th content word, small words kept in place ("could lead to job cuts")."""
    kept: list[str] = []
    content = 0
    for word in words:
        bare = word.strip("'\"")
        kept.append(bare)
        if bare not in _FILLER:
            content += 1
            if content == _WINDOW:
                break
    return kept
