"""Directional reading of financial news: "operating profit rose", "net loss narrowed", "cuts jobs".

A tweet-trained model learns words ("soars", "downgrade") but not the grammar of a results sentence:
that a *loss* which *narrowed* is good news, or that costs falling is. This module finds such
statements with hand-written word lists (written for this project, no third-party lexicon) and
returns evidence for each direction. Only general grammar of financial news lives here, each kind
tested on a real headline from the shared data (tests/test_sentiment_rules.py); nothing shaped for
one corpus's figure format or currencies. No threshold here decides a label: the embedded
model gives each kind of evidence the weight it carries in the training data (its log-likelihood
ratio per class, counted by scripts/train_embedded_sentiment.py; see embedded.Stack).

Pure and cheap: one regex pass and a few list scans per text.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

import numpy as np

# Measures where more is better for an owner, and the multi-word ones first (longest match wins).
GOOD_METRICS: tuple[str, ...] = (
    "operating profit", "net profit", "pre-tax profit", "pretax profit", "gross profit", "net income",
    "operating income", "net earnings", "net sales", "net revenue", "order intake", "order book", "order backlog",
    "cash flow", "market share", "share price", "stock price", "earnings per share", "comparable sales",
    "same-store sales", "like-for-like sales", "operating result", "operating margin", "gross margin",
    "profit", "profits", "profitability", "earnings", "sales", "revenue", "revenues", "turnover", "income",
    "ebit", "ebitda", "eps", "margin", "margins", "orders", "backlog", "dividend", "dividends", "result",
    "results", "shares", "stock", "stocks", "demand", "deliveries", "bookings", "subscribers", "traffic",
    "volumes", "output", "production", "growth", "outlook", "guidance", "valuation", "price", "prices",
    "index", "market", "markets", "economy", "rating", "ratings",
)
# Measures where more is worse for an owner.
BAD_METRICS: tuple[str, ...] = (
    "operating loss", "net loss", "pre-tax loss", "pretax loss", "loss", "losses", "costs", "cost", "expenses",
    "debt", "debts", "deficit", "unemployment", "layoffs", "write-downs", "impairment", "impairments",
    "charges", "provisions", "churn", "arrears", "defaults",
)
UP_WORDS = frozenset("""
rose rise rises rising risen increase increased increases increasing grew grow grows growing grown higher
climb climbed climbs climbing jump jumped jumps jumping surge surged surges surging soar soared soars soaring
gain gained gains gaining advance advanced advances improve improved improves improving improvement
rebound rebounded rebounds recover recovered recovers rally rallied rallies double doubled doubles tripled
boost boosted boosts strengthen strengthened strengthens expand expanded expands widen widened widens widening
improving strengthening expanding
beat beats tops topped exceed exceeded exceeds outperformed picked accelerated accelerates
""".split())
DOWN_WORDS = frozenset("""
fell fall falls falling fallen drop dropped drops dropping decrease decreased decreases decreasing decline
declined declines declining lower slump slumped slumps plunge plunged plunges plunging tumble tumbled tumbles
slide slid slides sliding sink sank sinks sunk weaken weakened weakens shrink shrank shrinks shrunk
contracted dip dipped dips slip slipped slips slipping miss missed misses plummet plummeted
plummets halved halves deteriorate deteriorated deteriorates worsen worsened worsens slowed slows slowing
shrinking weakening deteriorating worsening
eased eases narrowed narrows narrowing reduced reduce reduces cut cuts slashed slashes trimmed
""".split())
# "widened" raises a loss (bad) but is also used of margins (good): it is an UP word, the metric decides.
# Words that only mark direction when a number or "from" follows: "up 5%", "down from", not "set up".
UP_IF_NUMBER = frozenset({"up", "plus", "+"})
# ... or a word that leads to a quantity: "down more than 1 percent", "up nearly 3%".
QUANTITY_WORDS = frozenset({"from", "by", "more", "nearly", "almost", "about", "over", "some", "sharply"})
DOWN_IF_NUMBER = frozenset({"down", "minus"})
# Events that carry a direction on their own, with no measure named.
NEGATIVE_EVENTS = (
    r"\blaid off\b", r"\blay(?:s|ing)? off\b", r"\blay-?offs?\b", r"\bjob cuts?\b", r"\bcut(?:s|ting)? (?:\S+ ){0,3}jobs\b",
    r"\bredundanc(?:y|ies)\b", r"\bbankrupt(?:cy)?\b", r"\binsolven(?:t|cy)\b", r"\bprofit warning\b",
    r"\bsw(?:ung|ings?|inging) to (?:a |an )?(?:\w+ ){0,3}(?:net |operating |pre-?tax )?loss\b",
    r"\bdowngrad(?:e|es|ed|ing)\b",
    r"\b(?:below|missed|misses|miss) (?:\S+ ){0,2}(?:expectations|estimates|forecasts?)\b",
    r"\bclass action\b", r"\bfined\b", r"\bplant closures?\b", r"\bto close\b.*\b(?:plant|factory|mill|unit)\b",
    # "extends losses" is a share price falling further, not a loss account.
    r"\bextend(?:s|ed|ing)? (?:its |their )?(?:early |earlier |premarket )?losses\b",
)
POSITIVE_EVENTS = (
    r"\bsw(?:ung|ings?|inging) to (?:a )?(?:\w+ ){0,3}(?:net |operating |pre-?tax )?profit\b",
    # An upgrade of a forecast or a rating, not of software or a railway (most "upgrades" in the news).
    r"\b(?:forecast|rating|outlook|guidance) upgrade\b", r"\bupgraded? (?:\S+ ){0,3}to (?:buy|outperform|overweight)\b",
    r"\b(?:above|beat|beats|tops|topped|exceeded) (?:\S+ ){0,2}(?:expectations|estimates|forecasts?|views?)\b",
    r"\brecord (?:high|profit|sales|revenue|results?|earnings|quarter|year)\b",
    r"\b(?:wins?|won|awarded|secures?|secured) (?:a |an |the )?(?:\w+ ){0,3}(?:contract|order|deal)s?\b",
)
_NEGATIVE_EVENTS = tuple(re.compile(p) for p in NEGATIVE_EVENTS)
_POSITIVE_EVENTS = tuple(re.compile(p) for p in POSITIVE_EVENTS)
# Words that are news for an owner by themselves, good or bad; written for this project.
# Direction words (rose, fell, beat, cut) are left out: alone they say little, next to a measure the
# statements above read them.
GOOD_NEWS = frozenset("""
win wins won award awarded awards contract contracts approval approved approves clearance
breakthrough milestone record strong stronger strongest robust solid upbeat optimistic optimism
bullish success successful successfully profitable outperform outperformed outperforms favourable favorable
buyback buybacks premium recovery boom booming thrive thrives thriving surpass surpassed surpasses
accretive expansion
""".split())
BAD_NEWS = frozenset("""
lawsuit lawsuits sue sues sued litigation probe probes investigation investigating investigates subpoena
subpoenas fined penalty penalties scandal fraud fraudulent collapse collapsed collapses bankrupt bankruptcy
insolvency insolvent crisis strike strikes layoffs layoff redundancies recall recalls halt halted halts
suspend suspended suspends banned crash crashed warning warns warned flaw flaws flawed default defaults
defaulted downgrade downgraded downgrades shortfall weak weaker weakness weakest fear fears worries worry
worried concern concerns antitrust guilty conspiracy damages breach hack hacked hacks exploit outage closure
closures delay delayed delays cancel cancelled canceled setback setbacks disappoint disappointing
disappointed disappoints bearish pessimistic sanctions tariff tariffs dispute disputes revolt boycott
impairment writedown write-down downturn recession slowdown struggle struggles struggling woes troubled
unprofitable loss-making
""".split())
NEGATORS = frozenset({"not", "no", "never", "without", "nor", "didn't", "don't", "doesn't", "won't", "wasn't"})
CLAUSE_BREAKS = frozenset({";", "but", "while", "whereas", "although", "though", "despite", "however", "yet"})
LOOK_BACK, LOOK_AHEAD = 7, 4
_TOKEN = re.compile(r"(?P<num>(?<![\w.])-?(?:\d[\d,]*(?:\.\d+)?|\.\d+))|[a-z]+(?:[-'][a-z]+)*|[;+]")


@dataclass(frozen=True)
class Token:
    text: str
    number: bool = False


@dataclass(frozen=True)
class RuleEvidence:
    """Counts of what was found in one text; all zero when nothing was."""

    moves_up: int = 0  # a measure moved the way an owner likes: "profit rose", "loss narrowed"
    moves_down: int = 0
    events_good: int = 0  # an event that is good news by itself: "wins order", "swung to a profit"
    events_bad: int = 0
    tone_good: int = 0  # words of good or bad news in general: "lawsuit", "breakthrough"
    tone_bad: int = 0
    cues: tuple[str, ...] = ()  # what fired, for tests and debugging

    def vector(self) -> tuple[float, ...]:
        """Features in FEATURE_NAMES order; counts past a few add nothing ("up, up and up" is one story)."""
        return tuple(float(min(getattr(self, name), MAX_COUNT)) for name in FEATURE_NAMES)


FEATURE_NAMES = ("moves_up", "moves_down", "events_good", "events_bad", "tone_good", "tone_bad")
_KIND = {"moves": ("moves_down", "moves_up"), "events": ("events_bad", "events_good"), "tone": ("tone_bad", "tone_good")}
MAX_COUNT = 3


def tokenize(text: str, max_chars: int = 1000) -> list[Token]:
    text = unicodedata.normalize("NFKC", text[: max_chars * 2])[:max_chars].lower()
    text = text.replace("\u2019", "'").replace("\u2013", "-").replace("\u2014", "-")
    return [Token(m.group(0), number=m.group("num") is not None) for m in _TOKEN.finditer(text)]


def _metric_spans(words: list[str]) -> dict[int, tuple[str, int]]:
    """Start position -> (metric, +1 good / -1 bad); longest phrase first, no overlaps."""
    found: dict[int, tuple[str, int]] = {}
    taken: set[int] = set()
    phrases = sorted(((m, 1) for m in GOOD_METRICS), key=lambda x: -len(x[0]))
    phrases += sorted(((m, -1) for m in BAD_METRICS), key=lambda x: -len(x[0]))
    for phrase, sign in sorted(phrases, key=lambda x: -len(x[0].split())):
        parts = phrase.split()
        for i in range(len(words) - len(parts) + 1):
            span = set(range(i, i + len(parts)))
            if words[i : i + len(parts)] == parts and not span & taken:
                # Anchor the metric at its last word: "operating profit rose" -> next to the verb.
                found[i + len(parts) - 1] = (phrase, sign)
                taken |= span
    return found


def _direction(tokens: list[Token], i: int) -> int:
    word = tokens[i].text
    if word in UP_WORDS:
        return 1
    if word in DOWN_WORDS:
        return -1
    following = tokens[i + 1] if i + 1 < len(tokens) else None
    numeric = following is not None and (following.number or following.text in QUANTITY_WORDS)
    if word in UP_IF_NUMBER and numeric and not (following and following.text == "to"):
        return 1
    if word in DOWN_IF_NUMBER and numeric:
        return -1
    return 0


def _negated(words: list[str], i: int) -> bool:
    return any(w in NEGATORS for w in words[max(0, i - 3) : i])


def _nearest_metric(words: list[str], metrics: dict[int, tuple[str, int]], i: int) -> tuple[str, int] | None:
    # A direction word right before a measure qualifies it ("widening loss", "higher net sales"),
    # and so does one followed by "in"/"of" ("drop in revenue", "increase of operating profit").
    starts = {anchor - len(phrase.split()) + 1: (phrase, sign) for anchor, (phrase, sign) in metrics.items()}
    if i + 1 in starts:
        return starts[i + 1]
    if i + 1 < len(words) and words[i + 1] in ("in", "of"):
        for j in range(i + 2, min(len(words), i + 5)):  # "drop in 2020 revenue", "rise in its net sales"
            if j in starts:
                return starts[j]
    for j in range(i - 1, max(-1, i - 1 - LOOK_BACK), -1):
        if words[j] in CLAUSE_BREAKS:
            break
        if j in metrics:
            return metrics[j]
    # Nominal forms: "increase in net sales", "higher profit", "lower costs".
    for j in range(i + 1, min(len(words), i + 1 + LOOK_AHEAD)):
        if words[j] in CLAUSE_BREAKS:
            break
        if j in metrics:
            return metrics[j]
    return None


def read_evidence(text: str, max_chars: int = 1000) -> RuleEvidence:
    tokens = tokenize(text, max_chars)
    words = [t.text for t in tokens]
    metrics = _metric_spans(words)
    counts = dict.fromkeys(FEATURE_NAMES, 0)
    cues: list[str] = []

    def add(kind: str, sign: int, cue: str) -> None:
        counts[_KIND[kind][sign > 0]] += 1
        cues.append(("+" if sign > 0 else "-") + cue)

    for i in range(len(tokens)):
        direction = _direction(tokens, i)
        if not direction or _negated(words, i):
            continue
        found = _nearest_metric(words, metrics, i)
        if found is not None:
            metric, sign = found
            add("moves", direction * sign, f"{metric} {words[i]}")
    joined = " ".join(words)
    for sign, patterns in ((1, _POSITIVE_EVENTS), (-1, _NEGATIVE_EVENTS)):
        for pattern in patterns:
            if pattern.search(joined):
                add("events", sign, pattern.pattern)
    for i, word in enumerate(words):
        sign = 1 if word in GOOD_NEWS else -1 if word in BAD_NEWS else 0
        if sign and not _negated(words, i):
            add("tone", sign, word)
    return RuleEvidence(**counts, cues=tuple(cues))


def features(texts: Sequence[str], max_chars: int = 1000) -> np.ndarray:
    """(n, len(FEATURE_NAMES)) rule features, one row per text."""
    return np.asarray([read_evidence(t, max_chars).vector() for t in texts], dtype=np.float64).reshape(-1, len(FEATURE_NAMES))


def _fingerprint() -> str:
    # Every list and pattern above: editing one changes the version, so a stack fitted on the old
    # rules refuses to load instead of quietly mis-weighing the new ones.
    parts = (GOOD_METRICS, BAD_METRICS, sorted(UP_WORDS), sorted(DOWN_WORDS), sorted(UP_IF_NUMBER), sorted(QUANTITY_WORDS),
             sorted(DOWN_IF_NUMBER), NEGATIVE_EVENTS, POSITIVE_EVENTS, sorted(GOOD_NEWS), sorted(BAD_NEWS),
             sorted(NEGATORS), sorted(CLAUSE_BREAKS), LOOK_BACK, LOOK_AHEAD, MAX_COUNT, FEATURE_NAMES, _TOKEN.pattern)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:10]


# Bump the number when the logic (not only a list) changes.
RULES_VERSION = f"fin-rules-3.{_fingerprint()}"
