"""Which headlines speak about which asset, and how directly.

Two kinds of evidence: a name (alias, ticker, cashtag or the publisher's symbol tag) in the title or
summary, and a semantic score that says how much the text is about the asset without naming it. The
semantic score comes from a `SemanticScorer`; the default scores the asset's context terms (the
catalogue's `context` column). A sentence encoder can replace it by implementing the same protocol:
`similarity(asset, text) -> [0, 1]`.

One matcher reads every name of every asset at once: all aliases, ambiguous aliases, exclusions and
context terms of a universe are compiled into one pattern (a trie, so the regex engine follows one
branch per character) and all tickers into another. A text is scanned once per pattern whatever the
number of assets, and only the assets something was found for are scored: relevance costs grow with
the headlines, not with headlines x assets.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping, Protocol, Sequence

from intelligence.term_index import TermIndex, bounded_pattern
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
# A company whose name is an ordinary word ("Target", "Visa", "Block") is also named when the text
# speaks of it as a listed company: its shares, its stock, its results.
COMPANY_WORDS = (
    "shares", "stock", "stockholders", "shareholders", "earnings", "quarterly", "profit", "revenue", "sales",
    "ceo", "chief executive", "dividend", "buyback", "takeover", "merger", "acquisition", "ipo",
)
# Where a symbol counts even when it is not a bare ticker of its asset: after "$" or an exchange.
_TAGGED_SYMBOL = re.compile(
    r"(?:\$|(?<![A-Za-z0-9])(?:NYSE|NASDAQ|Nasdaq|NYSE American|NYSE Arca|NYSEArca|AMEX|Cboe|CBOE|BATS)\s?:\s?)"
    r"([A-Z][A-Z0-9]*(?:[.\-][A-Z])?)(?![A-Za-z0-9])"
)
MEMO_SIZE = 32768  # texts remembered per matcher: a serve cycle sees mostly what the last one saw


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


class ContextTermScorer:
    """Weighted context terms per asset: score = 1 - exp(-sum of the weights of the distinct terms found).

    A term listed for several assets is split between them (weight / number of assets), the
    inverse-document-frequency idea applied to the catalogue's descriptions. (The catalogue splits its
    own terms when it is built; this scorer is for terms given here, e.g. an experiment's.)
    """

    name = "context-terms"

    def __init__(self, terms: Mapping[str, Mapping[str, float]]):
        spread = Counter(t.lower() for by_asset in terms.values() for t in by_asset)
        self._weights = {
            symbol: {t.lower(): w / spread[t.lower()] for t, w in by_asset.items()} for symbol, by_asset in terms.items()
        }
        self._patterns = {
            symbol: re.compile(bounded_pattern(weights), re.IGNORECASE) for symbol, weights in self._weights.items() if weights
        }

    def similarity(self, asset: Asset, text: str) -> float:
        pattern = self._patterns.get(asset.symbol)
        if pattern is None:
            return 0.0
        found = {m.lower().lstrip("$") for m in pattern.findall(text)}
        weights = self._weights[asset.symbol]
        return 1.0 - math.exp(-sum(weights.get(t, 0.0) for t in found))


# --- the one matcher for all names of all assets -----------------------------------------------------

_ALIAS, _AMBIGUOUS, _EXCLUSION, _CONTEXT, _COMPANY = range(5)


@dataclass(frozen=True)
class TextMatch:
    """What one text says about one asset: how it names it and how much it is about it."""

    naming: str  # "strong": an alias, ticker or tag; "ambiguous": only an ambiguous alias; "" neither
    semantic: float  # the asset's context terms found, as 1 - exp(-sum of weights), in [0, 1)
    company_words: bool = False  # the text speaks of a listed company (its shares, its results)

    def named(self, company: bool) -> bool:
        """Named outright, or by an ambiguous alias the text confirms (context, or company words for a stock)."""
        if self.naming == "strong":
            return True
        return self.naming == "ambiguous" and (self.semantic >= AMBIGUOUS_CONTEXT_MIN or (company and self.company_words))


_NOTHING = TextMatch("", 0.0)
class Matcher:
    """All names and context terms of some assets, compiled once; `analyse(text)` reads a text once."""

    def __init__(self, assets: Iterable[Asset]) -> None:
        self.assets = {a.symbol: a for a in assets}
        # term (lower case) -> (symbol, kind, weight, where its capital is or -1), for every asset that lists it
        table: dict[str, list[tuple[str, int, float, int]]] = {}
        tickers: dict[str, list[str]] = {}
        for asset in self.assets.values():
            ambiguous = set(asset.ambiguous)
            entries = [(a, _ALIAS, 0.0) for a in asset.aliases if a not in ambiguous]
            entries += [(a, _AMBIGUOUS, 0.0) for a in asset.ambiguous]
            entries += [(e, _EXCLUSION, 0.0) for e in asset.exclusions]
            entries += [(t, _CONTEXT, w) for t, w in asset.context]
            for term, kind, weight in entries:
                for spelling in _spellings(term) if kind != _CONTEXT else (term,):
                    table.setdefault(spelling.lower(), []).append((asset.symbol, kind, weight, _capital_at(term)))
            for ticker in asset.tickers:
                tickers.setdefault(ticker, []).append(asset.symbol)
        for word in COMPANY_WORDS:
            table.setdefault(word, []).append(("", _COMPANY, 0.0, -1))
        self._table = table
        self._tickers = tickers
        self._terms = TermIndex(table, fold=True)
        self._ticker_index = TermIndex(tickers, fold=False)
        self.analyse = lru_cache(maxsize=MEMO_SIZE)(self._analyse)

    def _lookup(self, text: str) -> list[tuple[int, int, list[tuple[str, int, float, int]]]]:
        return [(start, end, self._table[key]) for start, end, key in self._terms.find(text)]

    def _analyse(self, text: str) -> Mapping[str, TextMatch]:
        """What the text says about each asset it names or describes (assets it says nothing of are absent)."""
        names: dict[str, list[tuple[int, int, int]]] = {}  # symbol -> (start, end, kind) of its names
        exclusions: dict[str, list[tuple[int, int]]] = {}
        context: dict[str, list[tuple[int, int, str, float]]] = {}
        company_words = False
        for start, end, entries in self._lookup(text):
            for symbol, kind, weight, capital_at in entries:
                if capital_at >= 0 and not text[start + capital_at].isupper():
                    continue
                if kind == _COMPANY:
                    company_words = True
                elif kind == _EXCLUSION:
                    exclusions.setdefault(symbol, []).append((start, end))
                elif kind == _CONTEXT:
                    context.setdefault(symbol, []).append((start, end, text[start:end].lower(), weight))
                else:
                    names.setdefault(symbol, []).append((start, end, kind))
        for start, end, ticker in self._ticker_index.find(text):
            for symbol in self._tickers[ticker]:
                names.setdefault(symbol, []).append((start, end, _ALIAS))
        for match in _TAGGED_SYMBOL.finditer(text):
            if match.group(1) in self.assets:
                names.setdefault(match.group(1), []).append((match.start(1), match.end(1), _ALIAS))
        # In a Title Case headline every word looks like a name: "Trump Moves To Block Takeover" is no
        # company called Block, so company words confirm an ambiguous name only in ordinary text.
        company_words = company_words and not _capitalised(text)
        result: dict[str, TextMatch] = {}
        for symbol in names.keys() | context.keys():
            result[symbol] = TextMatch(_naming(names.get(symbol, ()), exclusions.get(symbol, ())),
                                       _semantic(context.get(symbol, ())), company_words)
        return result

    def match(self, asset: Asset, text: str) -> TextMatch:
        return self.analyse(text).get(asset.symbol, _NOTHING)

    def relevance(self, asset: Asset, headline: Headline, scorer: SemanticScorer | None = None) -> Mention | None:
        title = self._scored(asset, headline.title, scorer)
        company = asset.asset_class == "us_equity"
        if title.named(company):
            return Mention(headline, TITLE_WEIGHT, in_title=True, semantic=title.semantic)
        if (headline.summary and self._scored(asset, headline.summary, scorer).named(company)) \
                or asset.symbol in headline.symbols:
            weight = SUMMARY_WEIGHT + (TITLE_WEIGHT - SUMMARY_WEIGHT) * SUMMARY_SEMANTIC_BONUS * title.semantic
            return Mention(headline, weight, in_title=False, semantic=title.semantic)
        if title.semantic >= SEMANTIC_MIN:
            return Mention(headline, SEMANTIC_WEIGHT * title.semantic, in_title=True, semantic=title.semantic, named=False)
        return None

    def _scored(self, asset: Asset, text: str, scorer: SemanticScorer | None) -> TextMatch:
        found = self.match(asset, text)
        if scorer is None or scorer is DEFAULT_SCORER:
            return found
        return TextMatch(found.naming, scorer.similarity(asset, text), found.company_words)

    def mentions(self, headlines: Sequence[Headline], assets: Iterable[Asset] | None = None,
                 scorer: SemanticScorer | None = None) -> dict[str, list[Mention]]:
        """Mentions per symbol of `assets` (default: all of this matcher's), each headline read once."""
        wanted = list(self.assets.values()) if assets is None else list(assets)
        by_symbol = {a.symbol: a for a in wanted}
        found: dict[str, list[Mention]] = {a.symbol: [] for a in wanted}
        custom = scorer is not None and scorer is not DEFAULT_SCORER
        for headline in headlines:
            if custom:  # a scorer of its own may find any asset in any text: ask it for each
                candidates: Iterable[Asset] = wanted
            else:  # only the assets the texts say something about; in headline order for each
                touched = set(self.analyse(headline.title))
                if headline.summary:
                    touched.update(self.analyse(headline.summary))
                touched.update(headline.symbols)
                candidates = [by_symbol[s] for s in sorted(touched) if s in by_symbol]
            for asset in candidates:
                mention = self.relevance(asset, headline, scorer)
                if mention is not None:
                    found[asset.symbol].append(mention)
        return found


def _capital_at(term: str) -> int:
    """Where the term's first letter is, when it is a capital the text must have too ("Target", "3M"); else -1."""
    first = next((i for i, c in enumerate(term) if c.isalpha()), -1)
    return first if first >= 0 and term[first].isupper() else -1


def _spellings(term: str) -> tuple[str, ...]:
    """A name with an apostrophe is written with either kind ("McDonald's", "McDonald’s")."""
    if "'" in term:
        return term, term.replace("'", "\u2019")
    if "\u2019" in term:
        return term, term.replace("\u2019", "'")
    return (term,)


_WORD = re.compile(r"[A-Za-z]{4,}")


def _capitalised(text: str) -> bool:
    """Title Case or capitals throughout: a capital letter then says nothing about a proper name."""
    words = _WORD.findall(text)
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.75 * len(words)


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start < b and a < end for a, b in spans)


def _naming(names: Iterable[tuple[int, int, int]], excluded: Sequence[tuple[int, int]]) -> str:
    # A name inside a look-alike ("S&P" in "S&P Global") does not count: the look-alike is blanked.
    kinds = {kind for start, end, kind in names if not _overlaps(start, end, excluded)}
    return "strong" if _ALIAS in kinds else "ambiguous" if _AMBIGUOUS in kinds else ""


def _semantic(found: Sequence[tuple[int, int, str, float]]) -> float:
    # As a scan would read them: from the left, the longest term at each place, none inside another.
    chosen: dict[str, float] = {}
    reached = -1
    for start, end, term, weight in sorted(found, key=lambda f: (f[0], -f[1])):
        if start >= reached:
            chosen[term] = weight
            reached = end
    return 1.0 - math.exp(-sum(chosen.values()))


@lru_cache(maxsize=8)
def matcher_for(assets: tuple[Asset, ...]) -> Matcher:
    """The compiled matcher of a universe, built once per distinct set of assets."""
    return _single(assets[0]) if len(assets) == 1 else Matcher(assets)


@lru_cache(maxsize=4096)
def _single(asset: Asset) -> Matcher:
    # The one-asset functions below are called asset by asset over a whole catalogue: each keeps its own.
    return Matcher((asset,))


class AssetContextScorer:
    """The default semantic score: the asset's own context terms from the catalogue."""

    name = "context-terms"

    def similarity(self, asset: Asset, text: str) -> float:
        return _single(asset).match(asset, text).semantic


DEFAULT_SCORER = AssetContextScorer()


def naming(asset: Asset, text: str) -> str:
    """"strong" when an alias or ticker names the asset, "ambiguous" when only an ambiguous alias does, else ""."""
    return _single(asset).match(asset, text).naming


def mentions(asset: Asset, text: str) -> bool:
    return bool(naming(asset, text))


def _named(asset: Asset, text: str, scorer: SemanticScorer) -> tuple[bool, float]:
    """Whether `text` names the asset (ambiguous aliases need context) and its semantic score."""
    found = _single(asset)._scored(asset, text, scorer)
    return found.named(asset.asset_class == "us_equity"), found.semantic


_named_uncached = _named  # the matcher remembers texts itself; kept for callers that compare the two


def relevance(asset: Asset, headline: Headline, scorer: SemanticScorer = DEFAULT_SCORER) -> Mention | None:
    return _single(asset).relevance(asset, headline, scorer)


def relevant_headlines(
    asset: Asset, headlines: Sequence[Headline], scorer: SemanticScorer = DEFAULT_SCORER
) -> list[Mention]:
    return _single(asset).mentions(headlines, (asset,), scorer)[asset.symbol]
