"""The asset catalogue as data types: entries from their fields, company aliases by rule, lookups.

The catalogue itself is a file (providers/embedded/catalogue/assets.csv, read by providers/catalogue.py);
this module turns one row's fields into an `Asset` and a list of assets into a `Catalogue`, with no
file in sight. Names carry no digits where avoidable: they appear in number-free evidence lines.
"""
from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from dataclasses import replace
from typing import Iterable, Iterator, Mapping

from intelligence.types import ASSET_CLASSES, ROUND_THE_CLOCK, Asset

COLUMNS = ("symbol", "name", "asset_class", "calendar", "aliases", "tickers", "ambiguous", "exclusions", "context")
REQUIRED = ("symbol", "name", "asset_class")
LIST_SEPARATOR = "|"
# US stocks and funds trade NYSE's sessions (Nasdaq keeps the same hours and holidays).
DEFAULT_CALENDAR = {"crypto": ROUND_THE_CLOCK, "us_equity": "XNYS", "etf": "XNYS"}
_SYMBOL = re.compile(r"[A-Z0-9][A-Z0-9.\-/]{0,19}")
_CALENDAR = re.compile(r"24/7|[A-Z0-9]{2,8}")

# The legal form says nothing a headline repeats: "Apple Inc." is "Apple" in the news.
_PARENTHESES = re.compile(r"\s*\((?:the|class [a-z]|series [a-z0-9]+)\)\s*", re.IGNORECASE)
_LEGAL_FORM = re.compile(
    r"(?:,?\s+(?:inc\.?|incorporated|corp\.?|corporation|company|companies|co\.|& co\.?|& company|plc|ltd\.?|limited"
    r"|n\.v\.|s\.a\.|ag|se"
    r"|holdings?|group|class [a-z]|common stock|ordinary shares|american depositary shares|ads|units?"
    r"|series [a-z0-9]+))+\s*$",
    re.IGNORECASE,
)


class CatalogueFieldError(ValueError):
    """A field of a catalogue row that cannot be used; the loader adds the file and the line."""


def company_alias(name: str) -> str:
    """The name a headline uses for a company: the display name without its legal form or share class.

    "Apple Inc." -> "Apple", "Alphabet Inc. (Class A)" -> "Alphabet", "Coca-Cola Company (The)" ->
    "Coca-Cola", "SoFi Technologies, Inc. Common Stock" -> "SoFi Technologies". Capitals are kept:
    an alias that starts with one needs it in the text."""
    text = _PARENTHESES.sub(" ", name).strip()
    stripped = _LEGAL_FORM.sub("", text).strip(" ,")
    return stripped or text


def _items(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()))


def _context(value: str) -> tuple[tuple[str, float], ...]:
    terms: dict[str, float] = {}
    for item in _items(value):
        term, sep, weight_text = item.rpartition("=")
        if not sep:
            term, weight = item, 1.0
        else:
            try:
                weight = float(weight_text)
            except ValueError:
                raise CatalogueFieldError(f"context term {item!r}: the weight after '=' is not a number") from None
        term = term.strip()
        if not term:
            raise CatalogueFieldError(f"context term {item!r} has no term before '='")
        if not (math.isfinite(weight) and 0 < weight <= 1):
            raise CatalogueFieldError(f"context term {term!r}: weight {weight_text.strip()} is not in (0, 1]")
        terms[term] = weight
    return tuple(terms.items())


def asset_from_fields(fields: Mapping[str, str]) -> Asset:
    """One catalogue row (column name -> text; missing or empty optional columns take their defaults).

    Empty `aliases`: the company alias of the name (crypto: the name itself). Empty `calendar`: the
    asset class's (24/7 for crypto, XNYS otherwise). Lists are separated by "|"; context terms are
    "term=weight" with the weight in (0, 1] (a bare term weighs 1)."""
    get = {k: (v or "").strip() for k, v in fields.items()}
    symbol = get.get("symbol", "").upper()
    if not _SYMBOL.fullmatch(symbol):
        raise CatalogueFieldError(f"symbol {get.get('symbol', '')!r} is not a ticker (letters, digits, '.', '-', '/')")
    name = get.get("name", "")
    if not name:
        raise CatalogueFieldError(f"{symbol}: the name is empty")
    asset_class = get.get("asset_class", "").lower()
    if asset_class not in ASSET_CLASSES:
        raise CatalogueFieldError(f"{symbol}: asset_class {get.get('asset_class', '')!r} is not one of "
                                  f"{', '.join(ASSET_CLASSES)}")
    calendar = get.get("calendar", "").upper() or DEFAULT_CALENDAR[asset_class]
    if not _CALENDAR.fullmatch(calendar):
        raise CatalogueFieldError(f"{symbol}: calendar {calendar!r} is neither 24/7 nor an exchange code such as XNYS")
    if (calendar == ROUND_THE_CLOCK) != (asset_class == "crypto"):
        raise CatalogueFieldError(f"{symbol}: a {asset_class} asset cannot trade on the {calendar} calendar")
    aliases = _items(get.get("aliases", "")) or (company_alias(name) if asset_class != "crypto" else name.lower(),)
    return Asset(
        symbol=symbol, name=name, aliases=aliases, tickers=_items(get.get("tickers", "")), asset_class=asset_class,
        calendar=calendar, ambiguous=_items(get.get("ambiguous", "")), exclusions=_items(get.get("exclusions", "")),
        context=_context(get.get("context", "")),
    )


def split_shared_context(assets: Iterable[Asset]) -> list[Asset]:
    """A context term listed for several assets is split between them (its weight over their number):
    the inverse-document-frequency idea applied to the catalogue's descriptions."""
    assets = list(assets)
    spread = Counter(term.lower() for a in assets for term, _ in a.context)
    return [replace(a, context=tuple((t, w / spread[t.lower()]) for t, w in a.context)) if a.context else a
            for a in assets]


def _edits(a: str, b: str) -> int:
    """Optimal string alignment distance: insertions, deletions, substitutions and neighbour swaps."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


class Catalogue(Mapping[str, Asset]):
    """Every asset the product can read news for and trade, by symbol; immutable once built.

    Built from raw entries in order of precedence (later entries replace earlier ones with the same
    symbol: the shipped file, then lookups remembered from the broker, then the user's own file),
    then shared context terms are split over the whole catalogue, whatever the universe is."""

    def __init__(self, entries: Iterable[Asset], sources: Mapping[str, str] | None = None) -> None:
        merged: dict[str, Asset] = {}
        for asset in entries:
            merged[asset.symbol] = asset
        self._assets = {a.symbol: a for a in split_shared_context(merged.values())}
        self.sources: Mapping[str, str] = dict(sources or {})  # symbol -> where its entry came from

    def __getitem__(self, symbol: str) -> Asset:
        return self._assets[symbol]

    def __iter__(self) -> Iterator[str]:
        return iter(self._assets)

    def __len__(self) -> int:
        return len(self._assets)

    def __hash__(self) -> int:  # a catalogue is a value: compiled matchers are kept per catalogue
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def name(self, symbol: str) -> str:
        asset = self._assets.get(symbol)
        return asset.name if asset is not None else symbol

    def names(self) -> dict[str, str]:
        return {s: a.name for s, a in self._assets.items()}

    def nearest(self, symbol: str, count: int = 3) -> list[str]:
        """Known symbols closest to a mistyped one ("APPL" -> APP, AAPL, ...), closest first: fewest edits
        (a swap of two neighbours is one), then the longest common start, then the same length."""
        wanted = symbol.strip().upper()

        def score(known: str) -> tuple[int, int, int, float, str]:
            start = next((i for i, (a, b) in enumerate(zip(wanted, known)) if a != b), min(len(wanted), len(known)))
            return (_edits(wanted, known), -start, abs(len(known) - len(wanted)),
                    -difflib.SequenceMatcher(None, wanted, known).ratio(), known)

        ranked = sorted(self._assets, key=score)
        return [s for s in ranked[:count] if _edits(wanted, s) <= max(2, len(wanted) // 2)]

    def search(self, text: str) -> list[Asset]:
        """Assets whose symbol, name or an alias contains `text` (any case); exact symbols first."""
        wanted = text.strip().lower()
        if not wanted:
            return list(self._assets.values())

        def rank(asset: Asset) -> tuple[int, str] | None:
            if asset.symbol.lower() == wanted:
                return (0, asset.symbol)
            names = (asset.name, *asset.aliases, *asset.ambiguous)
            if any(n.lower() == wanted for n in names):
                return (1, asset.symbol)
            if wanted in asset.symbol.lower() or any(wanted in n.lower() for n in names):
                return (2, asset.symbol)
            return None

        ranked = [(r, a) for a in self._assets.values() if (r := rank(a)) is not None]
        return [a for _, a in sorted(ranked, key=lambda item: item[0])]
