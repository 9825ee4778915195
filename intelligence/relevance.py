"""Which headlines speak about which asset, and how directly.

Two kinds of evidence: a name (alias or ticker) in the title or summary, and a semantic score that
says how much the text is about the asset without naming it. The semantic score comes from a
`SemanticScorer`; the default scores the asset's context terms (intelligence/assets.py). A sentence
encoder can replace it by implementing the same protocol: `similarity(asset, text) -> [0, 1]`.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping, Protocol, Sequence

from intelligence.assets import ALIAS_EXCLUSIONS, AMBIGUOUS_ALIASES, CONTEXT_TERMS
from intelligence.types import Asset, Headline

# A mention in the title is the story; a mention only in the summary is context.
TITLE_WEIGHT = 1.0
SUMMARY_WEIGHT = 0.4
# Without a name, a text must be clearly about the asset to count, and then counts at most this much:
# a Fed story moves the broad market, but less surely than a headline about the market itself.
SEMANTIC_MIN = 0.55
SEMANTIC_WEIGHT = 0.6
# A summary mention on an on-topic title is closer to a title mention than one in passing.
SUMMARY_SEMANTIC_BONUS = 0.3
# An ambiguous alias ("Wall Street") names the asset when the text has at least one context term.
AMBIGUOUS_CONTEXT_MIN = 0.2


@dataclass(frozen=True)
class Mention:
    headline: Headline
    relevance: float  # in (0, 1]
    in_title: bool
    semantic: float = 0.0  # how much the title is about the asset beyond naming it, in [0, 1]
    named: bool = True  # False when only the semantic score made it relevant


class SemanticScorer(Protocol):
    name: str

    def similarity(self, asset: Asset, text: str) -> float:
        """How much `text` is about `asset`, in [0, 1]; 0 for nothing at all."""
        ...


def _trie(terms: Iterable[str]) -> str:
    """One regex for many literal terms, factored by common prefixes: Python's engine tries every branch
    of a flat alternation at every position, so a trie is several times faster on a hundred terms."""
    root: dict[str, dict] = {}
    for term in set(terms):
        node = root
        for char in term:
            node = node.setdefault(char, {})
        node[""] = {}  # end of a term

    def emit(node: dict[str, dict]) -> str:
        ends = "" in node
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return emit(root)


def _bound(terms: Iterable[str]) -> str:
    # (?<![\w$]) keeps "$BTC" matching while "WBTC" or "ETHENA" do not. The trie tries longer terms
    # first at each branch point and backtracks to shorter ones, so the boundary check below decides.
    return rf"(?<![A-Za-z0-9])\$?(?:{_trie(terms)})(?![A-Za-z0-9])"


class ContextTermScorer:
    """Weighted context terms per asset: score = 1 - exp(-sum of the weights of the distinct terms found).

    A term listed for several assets is split between them (weight / number of assets), the
    inverse-document-frequency idea applied to the catalogue's descriptions.
    """

    name = "context-terms"

    def __init__(self, terms: Mapping[str, Mapping[str, float]]):
        spread = Counter(t.lower() for by_asset in terms.values() for t in by_asset)
        self._weights = {
            symbol: {t.lower(): w / spread[t.lower()] for t, w in by_asset.items()} for symbol, by_asset in terms.items()
        }
        self._patterns = {
            symbol: re.compile(_bound(weights), re.IGNORECASE) for symbol, weights in self._weights.items() if weights
        }

    def similarity(self, asset: Asset, text: str) -> float:
        pattern = self._patterns.get(asset.symbol)
        if pattern is None:
            return 0.0
        found = {m.lower().lstrip("$") for m in pattern.findall(text)}
        weights = self._weights[asset.symbol]
        return 1.0 - math.exp(-sum(weights.get(t, 0.0) for t in found))


DEFAULT_SCORER = ContextTermScorer(CONTEXT_TERMS)


@dataclass(frozen=True)
class _Patterns:
    strong: re.Pattern[str] | None
    ambiguous: re.Pattern[str] | None
    tickers: re.Pattern[str] | None
    exclusions: re.Pattern[str] | None


@lru_cache(maxsize=None)
def _patterns(asset: Asset) -> _Patterns:
    ambiguous = set(AMBIGUOUS_ALIASES.get(asset.symbol, ()))
    strong = [a for a in asset.aliases if a not in ambiguous]
    excluded = ALIAS_EXCLUSIONS.get(asset.symbol, ())
    return _Patterns(
        strong=re.compile(_bound(strong), re.IGNORECASE) if strong else None,
        ambiguous=re.compile(_bound(ambiguous), re.IGNORECASE) if ambiguous else None,
        tickers=re.compile(_bound(asset.tickers)) if asset.tickers else None,
        exclusions=re.compile(_bound(excluded), re.IGNORECASE) if excluded else None,
    )


def naming(asset: Asset, text: str) -> str:
    """"strong" when an alias or ticker names the asset, "ambiguous" when only an ambiguous alias does, else ""."""
    p = _patterns(asset)

    def find(body: str) -> str:
        if (p.strong and p.strong.search(body)) or (p.tickers and p.tickers.search(body)):
            return "strong"
        return "ambiguous" if p.ambiguous and p.ambiguous.search(body) else ""

    found = find(text)
    if found and p.exclusions is not None and p.exclusions.search(text):
        # Only a text that names the asset can name it by mistake; blank the look-alikes and look again.
        found = find(p.exclusions.sub(" ", text))
    return found


def mentions(asset: Asset, text: str) -> bool:
    return bool(naming(asset, text))


# A cycle of `serve` sees mostly the texts the previous cycle saw, for every asset of the universe: the
# regular expressions behind the answer are most of a warm cycle's relevance work. A scorer is a
# function of (asset, text), so its answers can be remembered as the patterns' are.
NAMED_MEMO_SIZE = 16384


def _named(asset: Asset, text: str, scorer: SemanticScorer) -> tuple[bool, float]:
    """Whether `text` names the asset (ambiguous aliases need context) and its semantic score."""
    try:
        return _named_memo(asset, text, scorer)
    except TypeError:  # an unhashable scorer cannot be part of a memo key (and a real TypeError recurs below)
        return _named_uncached(asset, text, scorer)


@lru_cache(maxsize=NAMED_MEMO_SIZE)
def _named_memo(asset: Asset, text: str, scorer: SemanticScorer) -> tuple[bool, float]:
    return _named_uncached(asset, text, scorer)


def _named_uncached(asset: Asset, text: str, scorer: SemanticScorer) -> tuple[bool, float]:
    semantic = scorer.similarity(asset, text)
    found = naming(asset, text)
    return found == "strong" or (found == "ambiguous" and semantic >= AMBIGUOUS_CONTEXT_MIN), semantic


def relevance(asset: Asset, headline: Headline, scorer: SemanticScorer = DEFAULT_SCORER) -> Mention | None:
    in_title, semantic = _named(asset, headline.title, scorer)
    if in_title:
        return Mention(headline, TITLE_WEIGHT, in_title=True, semantic=semantic)
    if headline.summary and _named(asset, headline.summary, scorer)[0]:
        weight = SUMMARY_WEIGHT + (TITLE_WEIGHT - SUMMARY_WEIGHT) * SUMMARY_SEMANTIC_BONUS * semantic
        return Mention(headline, weight, in_title=False, semantic=semantic)
    if semantic >= SEMANTIC_MIN:
        return Mention(headline, SEMANTIC_WEIGHT * semantic, in_title=True, semantic=semantic, named=False)
    return None


def relevant_headlines(
    asset: Asset, headlines: Sequence[Headline], scorer: SemanticScorer = DEFAULT_SCORER
) -> list[Mention]:
    found = (relevance(asset, h, scorer) for h in headlines)
    return [m for m in found if m is not None]
