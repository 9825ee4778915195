"""Which headlines speak about which asset, and how directly."""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from intelligence.types import Asset, Headline

# A mention in the title is the story; a mention only in the summary is context.
TITLE_WEIGHT = 1.0
SUMMARY_WEIGHT = 0.4


@dataclass(frozen=True)
class Mention:
    headline: Headline
    relevance: float  # in (0, 1]
    in_title: bool


@lru_cache(maxsize=None)
def _patterns(asset: Asset) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    def words(terms: Iterable[str]) -> str:
        return "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))

    # (?<![\w$]) keeps "$BTC" matching while "WBTC" or "ETHENA" do not.
    bound = r"(?<![A-Za-z0-9])\$?(?:{})(?![A-Za-z0-9])"
    aliases = re.compile(bound.format(words(asset.aliases)), re.IGNORECASE) if asset.aliases else None
    tickers = re.compile(bound.format(words(asset.tickers))) if asset.tickers else None
    return aliases, tickers


def mentions(asset: Asset, text: str) -> bool:
    aliases, tickers = _patterns(asset)
    return bool((aliases and aliases.search(text)) or (tickers and tickers.search(text)))


def relevance(asset: Asset, headline: Headline) -> Mention | None:
    if mentions(asset, headline.title):
        return Mention(headline, TITLE_WEIGHT, in_title=True)
    if headline.summary and mentions(asset, headline.summary):
        return Mention(headline, SUMMARY_WEIGHT, in_title=False)
    return None


def relevant_headlines(asset: Asset, headlines: Sequence[Headline]) -> list[Mention]:
    found = (relevance(asset, h) for h in headlines)
    return [m for m in found if m is not None]
